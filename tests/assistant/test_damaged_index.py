"""A damaged BM25 file beside the index: the assistant refuses with the command that fixes it,
and that command heals the file from the stored passages without embedding anything again."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.core import Assistant
from ingest.pipeline import ingest
from ingest.settings import PROJECT_ROOT
from ingest.store import StoreError
from tests.ingest.test_pipeline import small_corpus


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def overwrite(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


@pytest.mark.parametrize("damage", [truncate, overwrite])
def test_a_damaged_bm25_file_is_reported_with_the_fix_and_healed_by_ingest(
        make_settings, tmp_path: Path, damage: Callable[[Path], None]) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(corpus_dir=small_corpus(tmp_path / "c", n=2))
    assert ingest(None, settings).ok
    damage(settings.lexical_path)

    with pytest.raises(StoreError, match=r"BM25 index .* run `npt-assistant ingest`"):
        Assistant(settings)
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "hotlines?"],
                          env={**os.environ, "NPT_DATA_DIR": str(settings.data_dir),
                               "NPT_MODEL_CACHE": str(settings.models_dir)},
                          capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT)
    assert proc.returncode == 2 and "npt-assistant ingest" in proc.stderr
    assert "Traceback" not in proc.stderr

    healed = ingest(None, settings)
    assert healed.ok and healed.chunks_embedded == 0
    answer = Assistant(settings).ask("Which documents mention hotlines?")
    assert answer.retrieved and any("bm25" in r.signals for r in answer.retrieved)
