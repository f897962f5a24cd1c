"""Filters on the Chroma query path: an index of user documents is searched in Chroma (the
bundled corpus is scored in memory), so `--doc`, the UI's document filter, `--lang` and
`--kind` reach Chroma as a `where` clause. Nothing outside the filter may come back."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assistant.core import Assistant
from assistant.retrieve import Filters
from ingest.pipeline import ingest
from ingest.settings import PROJECT_ROOT, Settings
from tests.conftest import MODEL_CACHE, USER_DOCS

DOCS = USER_DOCS
QUESTION = "Which crisis hotlines between capitals are proposed?"


@pytest.fixture(scope="module")
def user_index(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Settings and an Assistant over three user documents only: every search asks Chroma."""
    root = tmp_path_factory.mktemp("filters")
    corpus = root / "docs"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    (root / "no-bundled-corpus").mkdir()
    settings = Settings(data_dir=root / "data", model_cache=MODEL_CACHE,
                        corpus_dir=root / "no-bundled-corpus")
    assert ingest([corpus], settings).ok  # added by a user, from outside the bundled corpus
    assistant = Assistant(settings)
    assert assistant.retriever.reference_ids == []  # nothing is scored in memory
    return settings, assistant


def docs_of(answer) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.chunk_id.split("#")[0] for r in answer.retrieved}


def test_without_a_filter_every_document_can_answer(user_index) -> None:  # type: ignore[no-untyped-def]
    _, assistant = user_index
    answer = assistant.ask(QUESTION)
    assert answer.error is None and docs_of(answer) == {"hotlines", "antarctic", "rexian"}


@pytest.mark.parametrize("filters,allowed", [
    (Filters(docs=["antarctic"]), {"antarctic"}),
    (Filters(docs=["antarctic", "rexian"]), {"antarctic", "rexian"}),
    (Filters(lang="zh"), {"rexian"}),
    (Filters(kinds=["note"]), set()),
    (Filters(docs=["hotlines", "antarctic"], lang="en", kinds=["user"]), {"hotlines", "antarctic"}),
])
def test_a_filter_keeps_everything_else_out_of_chroma_results(user_index, filters: Filters,
                                                              allowed: set[str]) -> None:  # type: ignore[no-untyped-def]
    _, assistant = user_index
    answer = assistant.ask(QUESTION, filters=filters)
    assert answer.error is None, answer.error
    assert docs_of(answer) == allowed
    # What came back was found by Chroma's vector search under the filter, not only by BM25.
    assert all("dense" in r.signals for r in answer.retrieved)


def test_ask_doc_on_the_command_line_filters_through_chroma(user_index) -> None:  # type: ignore[no-untyped-def]
    settings, _ = user_index
    env = {**os.environ, "NPT_DATA_DIR": str(settings.data_dir),
           "NPT_MODEL_CACHE": str(settings.models_dir)}
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "--json", "--doc",
                           "antarctic", QUESTION], env=env, capture_output=True, text=True,
                          timeout=300, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr
    retrieved = json.loads(proc.stdout)["retrieved"]
    assert retrieved and {r["chunk_id"].split("#")[0] for r in retrieved} == {"antarctic"}


def test_filters_name_their_chroma_clause() -> None:
    assert Filters().where() is None
    assert Filters(docs=["a"]).where() == {"doc_id": {"$in": ["a"]}}
    assert Filters(docs=["a"], lang="zh", kinds=["user"]).where() == {"$and": [
        {"doc_id": {"$in": ["a"]}}, {"language": "zh"}, {"doc_kind": {"$in": ["user"]}}]}
