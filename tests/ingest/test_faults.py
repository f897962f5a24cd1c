"""Faults while writing the index: a killed ingest, a read-only data dir, a full disk.

In every case the next ingest (once the cause is gone) must equal a clean ingest, chunk for
chunk, and nothing that was in the index before the fault may be lost."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.retrieve import Retriever
from ingest.catalog import Catalog
from ingest.lexical import LexicalIndex
from ingest.pipeline import ingest
from ingest.store import Store, StoreError
from tests.conftest import MODEL_CACHE, PROJECT_ROOT, RAW_PAPER
from tests.ingest.test_pipeline import small_corpus, snapshot

KILLS = 5  # SIGKILLs in a row on the same data dir, each at a random point


def _why_no_namespaces() -> str | None:
    """Return why private mount namespaces are unavailable here (None: they work).

    These tests mount a read-only bind and a full tmpfs over the data dir, which needs root
    and util-linux's unshare; CI runs as root. The reason is printed in the skip line."""
    if not shutil.which("unshare"):
        return "util-linux `unshare` is not installed (apt-get install util-linux)"
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                           capture_output=True, text=True)
    if probe.returncode:
        return (f"`unshare -m` failed as uid {os.getuid()}: {probe.stderr.strip()[:200]} "
                "(these fault tests need root; CI runs as root)")
    return None


NO_NAMESPACES = _why_no_namespaces()
needs_mounts = pytest.mark.skipif(
    NO_NAMESPACES is not None,
    reason=f"NOT TESTED here, no private mount namespace: {NO_NAMESPACES}")


def cli_env(data: Path, corpus: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "NPT_DATA_DIR": str(data), "NPT_MODEL_CACHE": str(MODEL_CACHE)}
    if corpus:
        env["NPT_CORPUS_DIR"] = str(corpus)
    return env


def test_ingest_killed_at_random_points_is_completed_by_the_next_run(
        make_settings, tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "c", n=12)
    shutil.copy(RAW_PAPER, corpus / RAW_PAPER.name)
    data = tmp_path / "killed"
    rng = random.Random(20261124)
    killed = 0
    for round_ in range(KILLS):
        # Every round changes some documents, so each run has additions and replacements to
        # make, then dies after a random number of documents plus a random delay: the signal
        # lands in the model load, in Chroma writes, between documents or in the BM25 save.
        for i in rng.sample(range(12), 6):
            sections = "".join(f"## Part {s}\n\nRound {round_} text {s} on hotlines and "
                               f"verification for document {i}.\n\n"
                               for s in range(rng.randint(1, 4)))
            (corpus / f"doc{i}.md").write_text(f"# Document {i}\n\n{sections}", encoding="utf-8")
        after_docs, delay = rng.randint(0, 3), rng.uniform(0.0, 0.4)
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "-v", "ingest"],
                                env=cli_env(data, corpus), stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        indexed = 0
        deadline = time.time() + 240
        while time.time() < deadline and indexed < after_docs:
            line = proc.stderr.readline()
            if not line:
                break
            indexed += "indexed" in line
        time.sleep(delay if after_docs else rng.uniform(1.0, 6.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        killed += proc.returncode == -signal.SIGKILL
        served = _served(make_settings(corpus_dir=corpus, data_dir=data))
        # An assistant started on a half-written index serves what the store holds, never
        # an older snapshot of it.
        assert served is None or served == snapshot(make_settings(corpus_dir=corpus,
                                                                  data_dir=data))
    assert killed >= KILLS - 1, f"only {killed} of {KILLS} runs were killed before finishing"
    clean = make_settings(corpus_dir=corpus, data_dir=tmp_path / "clean")
    ingest(None, clean)
    expected = snapshot(clean)

    settings = make_settings(corpus_dir=corpus, data_dir=data)
    report = ingest(None, settings)
    assert report.ok
    after = snapshot(settings)
    assert after == expected  # no missing chunk, no stale one, same text
    assert Store(settings).collection(create=False).count() == len(expected)  # no duplicate
    assert set(LexicalIndex.load(settings.lexical_path).docs) == set(expected)  # BM25 agrees
    catalog = Catalog.load(settings.catalog_path)  # and so does the snapshot a start reads
    assert catalog is not None and {cid: catalog[cid].hash for cid in catalog} == expected
    assert _served(settings) == expected


def _served(settings) -> dict[str, str] | None:  # type: ignore[no-untyped-def]
    """Chunk id -> hash of what an assistant started now would serve (None: it refuses)."""
    try:
        retriever = Retriever(settings)
    except StoreError:
        return None  # nothing stored yet, or BM25 not written yet: a clear refusal
    return {cid: chunk.hash for cid, chunk in retriever.chunks.items()}


@needs_mounts
def test_read_only_data_dir_gives_a_clear_error_and_changes_nothing(
        make_settings, tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "c", n=2)
    settings = make_settings(corpus_dir=corpus)
    assert ingest(None, settings).ok
    before = snapshot(settings)
    (corpus / "new.md").write_text("# New\n\n## Zones\n\nA zone free of weapons.\n",
                                   encoding="utf-8")
    data = settings.data_dir

    def read_only(*args: str) -> subprocess.CompletedProcess:
        script = (f'mount --bind -o ro "{data}" "{data}" && exec "{sys.executable}" '
                  f'-m assistant.cli {" ".join(args)}')
        return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                              env=cli_env(data, corpus), capture_output=True, text=True,
                              timeout=300, cwd=PROJECT_ROOT)

    for args in (("ingest",), ("ask", "hotlines")):
        proc = read_only(*args)
        assert proc.returncode == 2, proc.stderr
        assert "read-only" in proc.stderr and str(data) in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    assert snapshot(settings) == before
    report = ingest(None, settings)  # writable again: the new document goes in
    assert report.ok and report.added == ["new"]


@needs_mounts
def test_full_disk_mid_ingest_keeps_the_old_index_and_the_next_run_completes(
        make_settings, tmp_path: Path) -> None:
    work = tmp_path / "work"
    small_corpus(work / "corpus", n=3)
    more = work / "more"
    more.mkdir()
    rng = random.Random(3)
    words = ("nuclear disarmament treaty verification hotline risk reduction transparency "
             "doctrine stockpile fissile testing safeguards").split()
    for d in range(3):  # ~60 passages of ~100 tokens: more than the disk has left
        sections = [f"## Section {s}\n\n{' '.join(rng.choice(words) for _ in range(80))}.\n"
                    for s in range(20)]
        (more / f"big{d}.md").write_text(f"# Big {d}\n\n" + "\n".join(sections), encoding="utf-8")
    proc = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-m",
                           "tests.ingest.disk_full", str(work), "400000"],
                          env=cli_env(work / "data"), capture_output=True, text=True,
                          timeout=900, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    assert out["first"]["rc"] == 0
    full = out["full"]
    assert full["rc"] == 2, "the disk did not fill up: " + full["stdout"]
    assert "disk is full" in full["stderr"] and "Traceback" not in full["stderr"]
    before, during = out["before"], out["after_full"]
    assert all(during.get(cid) == h for cid, h in before.items())  # nothing old was lost
    ask = out["ask_full"]
    assert ask["rc"] == 0 or ("error:" in ask["stderr"] and "Traceback" not in ask["stderr"])

    assert out["freed"]["rc"] == 0, out["freed"]["stderr"]
    shutil.copytree(more, work / "corpus", dirs_exist_ok=True)
    clean = make_settings(corpus_dir=work / "corpus", data_dir=tmp_path / "clean")
    ingest(None, clean)
    assert out["after_freed"] == snapshot(clean)
