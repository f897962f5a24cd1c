"""An official text a user adds (the treaty itself) is cited before our explanatory note on the
same provision, and a named part ("Article X") resolves into it; its provenance stays visible."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.core import Assistant
from ingest.pipeline import ingest
from ingest.settings import Settings

AGREEMENT = """---
title: Agreement on Test Matters
kind: official
---

# Agreement on Test Matters

## Article IX

1. This Agreement enters into force once forty signatories have deposited their instruments.

## Article X

1. A Party may leave this Agreement by written notice given ninety days in advance to every
other Party and to the depositary, explaining the extraordinary events behind its decision.

2. A conference held twenty-five years after entry into force decides how long the Agreement
stays in force.
"""


@pytest.fixture(scope="module")
def with_official(bundled_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("official")
    data = root / "data"
    shutil.copytree(bundled_settings.data_dir, data, ignore=shutil.ignore_patterns(".ingest.lock"))
    docs = root / "docs"
    docs.mkdir()
    (docs / "agreement.md").write_text(AGREEMENT, encoding="utf-8")
    settings = Settings(data_dir=data, model_cache=bundled_settings.model_cache,
                        corpus_dir=bundled_settings.corpus_dir)
    report = ingest([Path(docs)], settings)
    assert report.ok, report.errors
    return Assistant(settings)


def test_a_named_article_resolves_into_the_official_text_first(with_official: Assistant) -> None:
    answer = with_official.ask("What exactly does Article X say?")
    assert not answer.abstained
    first = answer.citations[0]
    assert first.doc_kind == "official" and first.locator.startswith("Article X")
    assert "ninety days" in first.passage
    # our note on the same article is still offered beside it
    assert any(r.chunk_id.startswith("note-npt-treaty#article-x") for r in answer.retrieved)


def test_the_official_text_goes_before_our_note_on_the_same_provision(with_official: Assistant) -> None:
    answer = with_official.ask("How much notice must a party give to withdraw under Article X?")
    assert answer.citations and answer.citations[0].doc_kind == "official"


def test_an_official_text_a_user_added_is_not_the_bundled_paper(with_official: Assistant) -> None:
    answer = with_official.ask("What exactly does Article X say?")
    chunk = with_official.retriever.chunks[answer.citations[0].chunk_id]
    assert chunk.origin != "bundled"
    assert "stepping-stones-wp" not in answer.citations[0].chunk_id


def test_without_a_user_official_text_the_note_answers(assistant: Assistant) -> None:
    answer = assistant.ask("What exactly does Article X say?")
    assert answer.citations[0].chunk_id.startswith("note-npt-treaty#article-x")
