"""The distractor generator is reproducible and yields the number of chunks asked for."""

from __future__ import annotations

from pathlib import Path

from bench.distractors import generate
from ingest.chunk import chunk_document
from ingest.loaders import load_document


def test_same_seed_same_papers_and_chunk_count(tmp_path: Path) -> None:
    generate(tmp_path / "a", 200, seed=3)
    generate(tmp_path / "b", 200, seed=3)
    files = sorted((tmp_path / "a").iterdir())
    assert [f.read_text() for f in files] == [f.read_text() for f in sorted((tmp_path / "b").iterdir())]
    chunks = [c for f in files for c in chunk_document(load_document(f), 380)]
    assert len(chunks) == 200
    assert {c.language for c in chunks} == {"en", "zh"}
