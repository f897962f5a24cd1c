"""One writer at a time, and an index whose three parts disagree is noticed and healed.

Issue #15, item 3: `ingest A & ingest B &` both exited 0, Chroma held 407 passages while the
catalog and BM25 held 289 under a matching stamp, B's documents were never retrieved, and
`ingest --prune` saw nothing to mend."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.retrieve import Retriever
from ingest.catalog import Catalog
from ingest.lexical import LexicalIndex
from ingest.lock import LockTimeout, writer_lock
from ingest.pipeline import ingest
from ingest.settings import Settings
from ingest.store import Store
from tests.conftest import PROJECT_ROOT
from tests.ingest.test_faults import cli_env


def folder_of(folder: Path, name: str, n: int) -> Path:
    """n small documents with their own words, so each can be found by BM25."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{name}{i}.md").write_text(
            f"# {name} {i}\n\n## Hotlines\n\nDocument {name}{i} says hotlines reduce risk.\n\n"
            f"## Testing\n\nDocument {name}{i} supports the test-ban treaty.\n", encoding="utf-8")
    return folder


def agree(settings: Settings) -> set[str]:
    """Assert that Chroma, the catalog and BM25 hold the same passages; return their ids."""
    stored = set(Store(settings).ids(Store(settings).collection(create=False)))
    catalog = Catalog.load(settings.catalog_path)
    assert catalog is not None and set(catalog.ids) == stored
    assert set(LexicalIndex.load(settings.lexical_path).ids) == stored
    return stored


def test_two_ingests_at_once_take_turns_and_lose_nothing(tmp_path: Path) -> None:
    a = folder_of(tmp_path / "a", "alpha", 10)
    b = folder_of(tmp_path / "b", "beta", 10)
    data = tmp_path / "data"
    runs = [subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", str(folder)],
                             env=cli_env(data, tmp_path / "none"), cwd=PROJECT_ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for folder in (a, b)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert any("waiting for it to finish" in err for _, err in outputs)  # one told it waited
    settings = Settings(data_dir=data, model_cache=PROJECT_ROOT / "data" / "models",
                        corpus_dir=tmp_path / "none")
    stored = agree(settings)
    assert len(stored) == 40  # 20 documents x 2 passages, none lost
    retriever = Retriever(settings)
    for name in ("alpha3", "beta7"):  # both runs' documents are found
        hits = retriever.lexical.scores({name: 1.0})
        assert retriever.lexical.ids[int(np.argmax(hits))].startswith(name)


def test_a_second_ingest_gives_up_after_waiting_and_changes_nothing(make_settings,
                                                                     tmp_path: Path) -> None:
    settings = make_settings(corpus_dir=folder_of(tmp_path / "c", "doc", 2))
    heard: list[str] = []
    with writer_lock(settings.data_dir):
        with pytest.raises(LockTimeout, match=r"still writing to .*nothing was changed"):
            ingest(None, settings, wait=1.0, notice=heard.append)
    assert len(heard) == 1 and f"pid {__import__('os').getpid()}" in heard[0]
    assert not Store(settings).exists()
    assert ingest(None, settings).added == ["doc0", "doc1"]  # free again once released


def test_a_store_holding_passages_the_catalog_does_not_list_is_noticed_and_healed(
        make_settings, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(corpus_dir=folder_of(tmp_path / "c", "doc", 3))
    ingest(None, settings)
    # Another writer (an older version, a host sharing the Chroma server) adds passages and
    # leaves the stamp as it was: the stamp alone says the files are current.
    store = Store(settings)
    col = store.collection(create=False)
    got = col.get(ids=["doc0#hotlines"], include=["embeddings", "metadatas", "documents"])
    meta = {**got["metadatas"][0], "doc_id": "stray", "id": "stray#hotlines", "path": "/gone"}
    col.add(ids=["stray#hotlines"], embeddings=got["embeddings"], metadatas=[meta],
            documents=["A stray passage on hotlines."])
    with caplog.at_level(logging.WARNING):
        retriever = Retriever(settings)
    assert "stray#hotlines" in retriever.chunks  # served from the store, not the stale file
    assert any("lists 6 passages but the vector store holds 7" in r.message
               for r in caplog.records)
    assert any("BM25 index lacks 1 passages" in r.message for r in caplog.records)
    report = ingest(None, settings)  # the next ingest heals both files
    assert report.chunks_embedded == 0 and report.missing == ["stray"]
    assert "stray#hotlines" in agree(settings)
