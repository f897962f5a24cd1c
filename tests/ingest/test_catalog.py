"""The passage catalog and BM25 file beside the index: faithful, and trusted only when current.

A start reads these two files instead of paging every passage out of Chroma (24 s at 100k
passages, docs/SCALE.md); so they must hold exactly what Chroma holds, or not be used."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.retrieve import Retriever
from ingest.catalog import Catalog
from ingest.lexical import LexicalIndex
from ingest.pipeline import ingest
from ingest.store import Store, StoreError
from tests.conftest import RAW_PAPER
from tests.ingest.test_pipeline import small_corpus, snapshot


def test_catalog_gives_back_every_field_of_every_chunk(bundled_settings, tmp_path: Path) -> None:
    chunks = Store(bundled_settings).all_chunks()
    assert any(c.renders for c in chunks) and any(c.refs for c in chunks)  # the sparse fields
    path = tmp_path / "catalog.npz"
    Catalog.from_chunks(chunks, "s1").save(path)
    loaded = Catalog.load(path)
    assert loaded is not None and loaded.stamp == "s1"
    assert [loaded[c.id] for c in chunks] == chunks  # dataclass equality: every field
    assert list(loaded) == [c.id for c in chunks]  # document order
    kinds = {c.id: c.doc_kind for c in chunks}
    assert loaded.where("doc_kind", "rendering") == [c for c in loaded if kinds[c] == "rendering"]


def test_damaged_files_are_not_used(bundled_settings, tmp_path: Path) -> None:
    for name in ("catalog.npz", "lexical.npz"):
        whole = (bundled_settings.data_dir / name).read_bytes()
        for damaged in (b"PK\x03\x04 not really a zip file", whole[: len(whole) // 2]):
            (tmp_path / name).write_bytes(damaged)
            if name == "catalog.npz":
                assert Catalog.load(tmp_path / name) is None
            else:  # an empty index: the assistant then asks for an ingest (test_ask.py)
                assert len(LexicalIndex.load(tmp_path / name)) == 0


def test_saved_bm25_scores_like_the_index_it_was_built_from(bundled_settings, tmp_path) -> None:
    built = LexicalIndex()
    for chunk in Store(bundled_settings).all_chunks():
        built.add(chunk.id, chunk.embed_text)
    built.save(tmp_path / "lexical.npz", "s1")
    loaded = LexicalIndex.load(tmp_path / "lexical.npz")
    assert loaded.stamp == "s1" and loaded.ids == built.ids
    query = {"hotlin": 1.0, "risk": 1.0, "热线": 0.5, "transpar": 0.4}
    assert np.allclose(loaded.scores(query), built.scores(query), rtol=1e-6)
    some = built.ids[::7]
    sub = loaded.subset(some)
    fresh = LexicalIndex({cid: built.docs[cid] for cid in some})
    assert sub.ids == fresh.ids and np.allclose(sub.scores(query), fresh.scores(query))
    assert loaded.docs == built.docs  # what ingest edits is rebuilt faithfully from the file


def test_assistant_starts_from_the_files_without_reading_every_passage_from_chroma(
        make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(corpus_dir=small_corpus(tmp_path / "c"))
    ingest(None, settings)
    expected = snapshot(settings)

    def refuse(self):  # type: ignore[no-untyped-def]
        raise AssertionError("read every passage from Chroma")

    monkeypatch.setattr(Store, "all_chunks", refuse)
    retriever = Retriever(settings)
    assert {cid: retriever.chunks[cid].hash for cid in retriever.chunks} == expected
    # and an incremental ingest tells what changed and keeps the catalog up to date without
    # reading every passage's metadata back
    monkeypatch.setattr(Store, "doc_states", refuse)
    (settings.corpus_dir / "doc1.md").write_text("# Document 1\n\n## Only\n\nNew text on FMCT.\n",
                                                 encoding="utf-8")
    (settings.corpus_dir / "doc2.md").unlink()
    report = ingest(None, settings)
    assert report.ok and report.updated == ["doc1"] and report.missing == ["doc2"]
    assert report.unchanged == ["doc0"] and report.chunks_embedded == 1
    report = ingest(None, settings, prune=True)
    assert report.pruned == ["doc2"] and report.chunks_embedded == 0
    monkeypatch.undo()
    assert {cid: c.hash for cid, c in Retriever(settings).chunks.items()} == snapshot(settings)
    catalog = Catalog.load(settings.catalog_path)
    truth = Store(settings).doc_states()  # from Chroma's chunk metadata
    assert catalog is not None and catalog.documents == {
        d: (st.path, st.expected) for d, st in truth.items()}


def test_a_catalog_older_than_the_store_is_ignored(make_settings, tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "c")
    shutil.copy(RAW_PAPER, corpus / RAW_PAPER.name)
    settings = make_settings(corpus_dir=corpus)
    ingest(None, settings)
    old_catalog = tmp_path / "old.npz"
    shutil.copy(settings.catalog_path, old_catalog)
    (corpus / "doc0.md").write_text("# Document 0\n\n## Only\n\nVerification of warheads.\n",
                                    encoding="utf-8")
    ingest(None, settings)
    shutil.copy(old_catalog, settings.catalog_path)  # e.g. a data dir restored file by file

    retriever = Retriever(settings)
    assert {cid: c.hash for cid, c in retriever.chunks.items()} == snapshot(settings)
    assert "doc0#only" in retriever.chunks and "doc0#hotlines" not in retriever.chunks
    # the next ingest writes a current catalog again, and leaves the rest of the index alone
    report = ingest(None, settings)
    assert report.ok and report.chunks_embedded == 0
    catalog = Catalog.load(settings.catalog_path)
    assert catalog is not None and catalog.stamp == Store(settings).stamp(
        Store(settings).collection(create=False))
    assert {cid: catalog[cid].hash for cid in catalog} == snapshot(settings)


def test_a_missing_bm25_file_asks_for_an_ingest_that_embeds_nothing(make_settings,
                                                                    tmp_path: Path) -> None:
    settings = make_settings(corpus_dir=small_corpus(tmp_path / "c"))
    ingest(None, settings)
    settings.lexical_path.unlink()
    with pytest.raises(StoreError, match=r"lexical\.npz.*npt-assistant ingest"):
        Retriever(settings)
    report = ingest(None, settings)
    assert report.chunks_embedded == 0 and settings.lexical_path.exists()
    assert len(Retriever(settings).lexical) == len(snapshot(settings))
