"""Several app servers on one Chroma server (issue #20): each host has its own data dir, Chroma
is the one source of truth, and the side files follow it.

Host A ingests; host B is a real `npt-assistant chat` process that never ran an ingest. Both talk
to a real `chroma run` on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.catalog import Catalog
from ingest.lease import chroma_lease
from ingest.lexical import LexicalIndex
from ingest.lock import LockTimeout
from ingest.pipeline import ingest
from ingest.settings import Settings
from ingest.store import Store
from tests.conftest import MODEL_CACHE, USER_DOCS, seconds_until

ACCORD = ("# Zorbian Accord\n\n## Article 1\n\nThe Zorbian Accord sets a ceiling of seventeen "
          "warheads for each party.\n")
QUESTION = "What ceiling of warheads does the Zorbian Accord set?"
DEADLINE_S = 5.0


def host(root: Path, name: str, url: str, corpus: Path) -> Settings:
    return Settings(data_dir=root / name, model_cache=MODEL_CACHE, corpus_dir=corpus,
                    chroma_url=url)


def env_of(settings: Settings) -> dict[str, str]:
    return {**os.environ, "NPT_DATA_DIR": str(settings.data_dir),
            "NPT_MODEL_CACHE": str(settings.models_dir), "NPT_CORPUS_DIR": str(settings.corpus_dir),
            "NPT_CHROMA_URL": str(settings.chroma_url), "NPT_RELOAD_SECONDS": "0.25"}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("hotlines.md", "antarctic.md"):
        (folder / name).write_text(USER_DOCS[name], encoding="utf-8")
    return folder


@pytest.fixture
def app_b(tmp_path: Path, chroma_server, corpus: Path) -> Iterator[tuple[Settings, object]]:  # type: ignore[no-untyped-def]
    """Host A's first ingest done; host B serving, started after it with an empty data dir."""
    a = host(tmp_path, "host-a", chroma_server.url, corpus)
    assert ingest(None, a).ok
    b = host(tmp_path, "host-b", chroma_server.url, corpus)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    cli = Path(sys.executable).with_name("npt-assistant")
    proc = subprocess.Popen([str(cli), "chat", "--port", str(port)], env=env_of(b),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        client = connect(f"http://127.0.0.1:{port}/", proc)
        yield b, client
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def connect(url: str, proc: subprocess.Popen[str]):  # type: ignore[no-untyped-def]
    from gradio_client import Client

    for _ in range(600):
        if proc.poll() is not None:
            pytest.fail(f"host B stopped: {proc.stdout.read() if proc.stdout else ''}")
        try:
            return Client(url, verbose=False)
        except Exception:  # not listening yet
            time.sleep(0.2)
    pytest.fail("host B never answered")


def cited(client, question: str) -> list[str]:  # type: ignore[no-untyped-def]
    answer = client.predict(question, None, api_name="/ask")
    return [] if answer["abstained"] else [c["doc_title"] for c in answer["citations"]]



def test_a_second_host_answers_at_start_and_follows_every_ingest_of_the_first(
        app_b, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    b, client = app_b
    # B never ingested: it fetched the side files A published and answers at once.
    assert "Crisis hotlines" in cited(client, "Which hotlines lower the risk of nuclear use?")
    assert (b.data_dir / "lexical.npz").is_file() and (b.data_dir / "catalog.npz").is_file()

    a = host(tmp_path, "host-a", str(b.chroma_url), b.corpus_dir)
    docs = tmp_path / "a-docs"
    docs.mkdir()
    (docs / "zorbian.md").write_text(ACCORD, encoding="utf-8")
    assert ingest([docs], a).ok
    assert seconds_until(lambda: "Zorbian Accord" in cited(client, QUESTION)) <= DEADLINE_S

    (docs / "zorbian.md").unlink()
    assert ingest(None, a, prune=True).pruned == ["zorbian"]
    assert seconds_until(lambda: "Zorbian Accord" not in cited(client, QUESTION)) <= DEADLINE_S


def test_ingests_started_on_two_hosts_at_once_take_turns_and_leave_both_hosts_identical(
        tmp_path: Path, chroma_server, corpus: Path) -> None:  # type: ignore[no-untyped-def]
    a = host(tmp_path, "host-a", chroma_server.url, corpus)
    b = host(tmp_path, "host-b", chroma_server.url, corpus)
    assert ingest(None, a).ok
    runs = []
    for settings, name in ((a, "alpha"), (b, "beta")):
        docs = tmp_path / f"{name}-docs"
        docs.mkdir()
        (docs / f"{name}.md").write_text(ACCORD.replace("Zorbian", name.title()), encoding="utf-8")
        cli = Path(sys.executable).with_name("npt-assistant")
        runs.append(subprocess.Popen([str(cli), "ingest", str(docs)], env=env_of(settings),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    # (whether they overlapped depends on start-up times; the lease test below forces it)

    store = Store(a)
    col = store.collection(create=False)
    stamp = store.stamp(col)
    truth = set(store.ids(col))
    assert {c.split("#")[0] for c in truth} >= {"alpha", "beta", "hotlines", "antarctic"}
    from ingest.pipeline import sync_side_files

    for settings in (a, b):  # what each app server does at start and on every new stamp
        assert sync_side_files(settings, Store(settings), col) == stamp
        assert LexicalIndex.load(settings.lexical_path).stamp == stamp
        catalog = Catalog.current(settings.catalog_path, stamp)
        assert catalog is not None and set(catalog.ids) == truth
        assert set(LexicalIndex.load(settings.lexical_path).ids) == truth
    assert (a.data_dir / "lexical.npz").read_bytes() == (b.data_dir / "lexical.npz").read_bytes()
    assert (a.data_dir / "catalog.npz").read_bytes() == (b.data_dir / "catalog.npz").read_bytes()


def test_with_nothing_published_a_host_rebuilds_its_side_files_from_chroma(
        tmp_path: Path, chroma_server, corpus: Path) -> None:  # type: ignore[no-untyped-def]
    a = host(tmp_path, "host-a", chroma_server.url, corpus)
    assert ingest(None, a).ok
    store = Store(a)
    store.drop_side("files")  # an index from before publishing
    b = host(tmp_path, "host-b", chroma_server.url, corpus)
    from assistant.core import Assistant

    answer = Assistant(b).ask("Which hotlines lower the risk of nuclear use?")
    assert not answer.abstained and answer.citations[0].doc_title == "Crisis hotlines"
    assert LexicalIndex.load(b.lexical_path).ids == LexicalIndex.load(a.lexical_path).ids


def test_the_lease_admits_one_writer_and_a_killed_holders_lease_expires(
        tmp_path: Path, chroma_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ingest import lease

    store = Store(Settings(data_dir=tmp_path / "d", chroma_url=chroma_server.url))
    holders: list[int] = []
    inside = threading.Lock()
    overlaps: list[int] = []

    def writer(n: int) -> None:
        with chroma_lease(store, timeout=60):
            if not inside.acquire(blocking=False):
                overlaps.append(n)
                return
            holders.append(n)
            time.sleep(0.3)
            inside.release()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == [] and sorted(holders) == [0, 1, 2, 3]

    # A holder killed mid-ingest: its lease is left behind, unrenewed.
    monkeypatch.setattr(lease, "TTL_S", 1.0)
    records = store.side(lease.SIDE)
    records.add(lease.LEASE_ID, {"token": "dead", "holder": "pid 1 on gone", "expires": time.time() + 1})
    with pytest.raises(LockTimeout, match="pid 1 on gone"):
        with chroma_lease(store, timeout=0.2):
            pass
    time.sleep(1.1)
    with chroma_lease(store, timeout=5):
        assert lease._current(records)["holder"] != "pid 1 on gone"
    assert lease._current(records) is None


def test_a_host_never_removes_or_takes_over_a_document_whose_file_is_on_another_host(
        tmp_path: Path, chroma_server, corpus: Path) -> None:  # type: ignore[no-untyped-def]
    a = host(tmp_path, "host-a", chroma_server.url, corpus)
    b = host(tmp_path, "host-b", chroma_server.url, corpus)
    a_docs, b_docs = tmp_path / "a-docs", tmp_path / "b-docs"
    for folder, text in ((a_docs, ACCORD), (b_docs, ACCORD.replace("seventeen", "nine"))):
        folder.mkdir()
        (folder / "zorbian.md").write_text(text, encoding="utf-8")
    assert ingest([a_docs], a).ok
    # On B's machine A's file does not exist (hidden here, since both hosts share one disk):
    # to B it is not "gone", it is elsewhere.
    a_docs.rename(tmp_path / "on-host-a-only")
    report = ingest(None, b, prune=True)
    assert report.pruned == [] and report.ok
    taken = ingest([b_docs], b, prune=True)
    assert taken.added == [] and any("zorbian" in e for e in taken.errors)
    store = Store(a)
    texts = store.collection(create=False).get(where={"doc_id": "zorbian"})["documents"]
    assert texts and all("seventeen" in t for t in texts)
    # A, which holds the file, still removes it.
    (tmp_path / "on-host-a-only").rename(a_docs)
    (a_docs / "zorbian.md").unlink()
    assert ingest(None, a, prune=True).pruned == ["zorbian"]
