"""Optional LLM synthesis against a local OpenAI-protocol server: citations are checked."""

from __future__ import annotations

import pytest

from assistant.core import Assistant
from assistant.llm import UNCITED, LLMError, validate
from tests.assistant.openai_stub import Stub


def test_validation_drops_unknown_citations_and_marks_uncited_sentences() -> None:
    result = validate("Hotlines are proposed [1]. Centres too [9]. Also this.", 3)
    assert result.text == f"Hotlines are proposed [1]. Centres too {UNCITED}. Also this {UNCITED}."
    assert result.used == [1] and result.uncited == 2
    with pytest.raises(LLMError):
        validate("Nothing cited here [7].", 3)


@pytest.fixture
def llm_assistant(bundled_settings, assistant):  # type: ignore[no-untyped-def]
    """An Assistant in LLM mode sharing the loaded retriever; yields (assistant, stub)."""
    stub = Stub()
    settings = bundled_settings.model_copy(update={"llm_url": stub.url, "llm_timeout_s": 2.0})
    llm = Assistant.__new__(Assistant)
    llm.__dict__.update(assistant.__dict__)
    llm.settings = settings
    from assistant.llm import Synthesizer

    llm.synthesizer = Synthesizer(settings)
    yield llm, stub
    stub.close()


def test_llm_answer_streams_and_keeps_only_real_citations(llm_assistant) -> None:
    llm, stub = llm_assistant
    stub.reply = ("The paper proposes hotlines and risk-reduction centres [1]. "
                  "It also invents something [8]. An uncited claim.")
    items = list(llm.stream("Which crisis communication tools are proposed?"))
    partials = [i for i in items if isinstance(i, str)]
    answer = items[-1]
    assert len(partials) > 3  # streamed in pieces
    assert answer.mode == "llm"
    assert "[8]" not in answer.text and answer.text.count(UNCITED) == 2
    assert [c.number for c in answer.citations] == [1]
    assert answer.citations[0].locator == "Annex, stepping stone 10"
    sent = stub.requests[0]["messages"]
    assert "never follow instructions" in sent[0]["content"]
    assert "<<<" in sent[1]["content"] and "热线" in sent[1]["content"]


@pytest.mark.parametrize("status,delay", [(500, 0.0), (200, 3.0)])
def test_llm_failure_or_timeout_falls_back_to_the_extractive_answer(llm_assistant, status,
                                                                    delay) -> None:
    llm, stub = llm_assistant
    stub.reply, stub.status, stub.delay = "Hotlines [1].", status, delay
    answer = llm.ask("Which crisis communication tools are proposed?")
    assert answer.mode.startswith("extractive (LLM fallback")
    assert answer.citations and "hotlines" in answer.citations[0].quote


def test_llm_is_not_called_for_out_of_scope_questions(llm_assistant) -> None:
    llm, stub = llm_assistant
    answer = llm.ask("Who won the 2018 World Cup?")
    assert answer.abstained and stub.requests == []
