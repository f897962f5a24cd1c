"""Chunks follow structure, carry stable ids and metadata, and respect the token bound."""

from __future__ import annotations

from pathlib import Path

from ingest.chunk import chunk_document, count_tokens, split_sentences
from ingest.documents import Document
from ingest.loaders import load_document, load_manifest
from tests.conftest import CORPUS, RAW_PAPER


def test_paper_chunks_have_stable_ids_locators_and_source_spans() -> None:
    manifest = load_manifest(CORPUS)
    doc = load_document(RAW_PAPER, manifest[RAW_PAPER.name])
    chunks = chunk_document(doc, 380)
    by_id = {c.id: c for c in chunks}
    assert len(by_id) == len(chunks)
    stone = by_id["stepping-stones-wp#ss-10"]
    assert stone.locator == "Annex, stepping stone 10"
    assert stone.doc_kind == "official" and stone.language == "zh"
    assert "热线" in doc.text[stone.span[0]:stone.span[1]]
    assert stone.tokens == count_tokens(stone.text) and stone.hash
    assert chunk_document(doc, 380) == chunks  # deterministic: same ids and hashes again


def test_rendering_chunks_name_the_original_chunk_they_render() -> None:
    manifest = load_manifest(CORPUS)
    path = CORPUS / "stepping-stones-wp.en.md"
    chunks = chunk_document(load_document(path, manifest[path.name]), 380)
    stone = next(c for c in chunks if c.id == "stepping-stones-wp.en#ss-10")
    assert stone.renders == "stepping-stones-wp#ss-10"
    assert "hotlines" in stone.text


def test_long_units_are_split_at_sentences_under_the_token_bound(tmp_path: Path) -> None:
    body = " ".join(f"Sentence number {i} talks about verification of disarmament." for i in range(120))
    path = tmp_path / "long.md"
    path.write_text(f"# Long\n\n## One section\n\n{body}\n", encoding="utf-8")
    chunks = chunk_document(load_document(path), 100)
    assert len(chunks) > 3
    assert all(c.tokens <= 100 for c in chunks)
    assert [c.id for c in chunks][:2] == ["long#one-section-part1", "long#one-section-part2"]
    assert all(c.text.endswith(".") for c in chunks)


def test_sentence_spans_cover_the_text_without_gaps() -> None:
    text = "第一句。第二句！Third one. Fourth? 最后"
    spans = split_sentences(text)
    assert "".join(text[s:e] for s, e in spans) == text
    assert len(spans) == 5


# Issue #15, item 6: a megabyte without a sentence end took 9.8 s, five > 60 s, because every
# hard cut encoded the rest of the unit again.
NO_SENTENCE_END = {
    "latin run": "abcdefghij",
    "words": "nuclear disarmament verification hotlines transparency ",
    "chinese": "核裁军的阶石推进工作文件透明度",
    "emoji": "👍🏽x",
}


def test_chunking_time_grows_with_the_text_not_its_square(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import time

    import ingest.chunk as chunk

    encoded = [0]
    real = chunk._encoding()

    class Counting:
        """The real encoding, counting the characters it is given."""

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(real, name)

        def encode(self, text: str, **kw):  # type: ignore[no-untyped-def]
            encoded[0] += len(text)
            return real.encode(text, **kw)

    monkeypatch.setattr(chunk, "_encoding", lambda: Counting())
    chunk._token_bytes()  # built once per process, not part of the measure
    for name, seed in NO_SENTENCE_END.items():
        for megabytes in (1, 4):
            text = seed * (megabytes * 1_000_000 // len(seed.encode()))
            doc = Document(id="big", title="Big", kind="user", language="en", path="big.txt",
                           text=text, format="txt")
            encoded[0] = 0
            started = time.process_time()  # this process's CPU: other jobs on the machine
            chunks = chunk_document(doc, 380)  # do not count
            seconds = time.process_time() - started
            assert all(c.tokens <= 380 for c in chunks) and len(chunks) > 100
            assert encoded[0] <= 3 * len(text), (name, megabytes, encoded[0] / len(text))
            assert seconds <= 2.0 * megabytes, (name, megabytes, seconds)
