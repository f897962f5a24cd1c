"""Where a passage sits, worded for the interface language, and the topics offered when a
question is not covered: told apart by stone number and heading or note section, each asking a
question that finds its passage; none when nothing is close."""

from __future__ import annotations

import re

import pytest

from assistant.ui.places import places_for, zh_place


@pytest.mark.parametrize(("locator", "chinese"), [
    ("Annex heading and title", "附件标题"),
    ("Annex, stepping stone 7", "附件，阶石 7"),
    ("Annex, paragraph 1: earlier commitments remain valid", "附件，第 1 段"),
    ("热线和降低风险中心（hotlines and risk-reduction centres）", "热线和降低风险中心"),
    ("Channels", "Channels"),  # a user's own heading stays as written
])
def test_places_are_worded_in_chinese(locator: str, chinese: str) -> None:
    assert zh_place(locator) == chinese


def test_an_english_note_cited_to_a_chinese_reader_names_its_chinese_section(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("When did the NPT enter into force?")
    places = places_for(assistant.retriever)
    note = next(c for c in answer.citations if c.chunk_id == "note-npt-treaty#key-dates")
    assert places.of(note, "en") == "Key dates"
    assert places.of(note, "zh") == "关键日期"


def test_topics_are_told_apart_in_both_languages(assistant) -> None:  # type: ignore[no-untyped-def]
    places = places_for(assistant.retriever)
    assert places.topic("stepping-stones-wp#ss-10", "en") == \
        "Stepping stone 10: crisis communication, hotlines and risk-reduction centres"
    assert places.topic("stepping-stones-wp.en#ss-10", "zh") == "阶石 10：危机沟通、热线和降低风险中心"
    assert places.topic("note-npt-treaty#key-dates", "en") == "The NPT article by article: Key dates"
    assert places.topic("note-npt-treaty#key-dates", "zh") == "《不扩散条约》逐条说明：关键日期"


@pytest.mark.parametrize("chunk_id", ["stepping-stones-wp#ss-9", "note-npt-treaty#key-dates"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_topics_question_finds_its_passage(assistant, chunk_id: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    question = places_for(assistant.retriever).question(chunk_id, lang)
    answer = assistant.ask(question)
    assert not answer.abstained, question
    first = assistant.retriever.chunks[answer.citations[0].chunk_id]
    assert (first.renders or first.id) == chunk_id, question


def test_a_near_miss_offers_distinct_close_topics(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What does the paper say about nuclear submarines?")
    places = places_for(assistant.retriever)
    labels = [places.topic(s.chunk_id, "en") for s in answer.suggestions]
    assert answer.abstained and labels and len(set(labels)) == len(labels)
    assert all(re.match(r"Stepping stone \d+: \w", label) for label in labels)
    assert "The closest topics it does cover:" in answer.as_text()


@pytest.mark.parametrize("question", ["How do I bake sourdough bread?", "怎样烤面包？",
                                      "What is the capital of Australia?"])
def test_nothing_close_offers_no_topics(assistant, question: str) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask(question)
    assert answer.abstained and answer.suggestions == []
