"""A question that names a passage ("stepping stone 10", "第十个阶石", "Article VI") gets it."""

from __future__ import annotations

import pytest

from assistant.references import anchors, matches


@pytest.mark.parametrize("question, expected", [
    ("What does stepping stone 10 propose?", ["ss-10"]),
    ("the 14th stepping stone", ["ss-14"]),
    ("Compare stones 3 and 4", ["ss-3", "ss-4"]),
    ("stepping stones 21, 5 and 3", ["ss-21", "ss-5", "ss-3"]),
    ("第10个阶石提出了什么？", ["ss-10"]),
    ("第二十二项阶石是什么？", ["ss-22"]),
    ("阶石 7 的内容", ["ss-7"]),
    ("What does paragraph 1 say?", ["p-1"]),
    ("What does Article VI require?", ["article-vi-"]),
    ("《不扩散条约》第六条规定了什么？", ["article-vi-"]),
    ("Which stepping stones concern youth?", []),
    ("How many stepping stones are there?", []),
])
def test_named_passages_are_recognised(question: str, expected: list[str]) -> None:
    assert anchors(question) == expected


def test_prefix_anchors_do_not_match_longer_numerals() -> None:
    assert matches("article-vi-", "note-npt-treaty#article-vi-disarmament")
    assert not matches("article-vi-", "note-npt-treaty#article-vii-regional-zones")
    assert matches("ss-1", "stepping-stones-wp#ss-1") and not matches("ss-1", "x#ss-10")


@pytest.mark.parametrize("question, first", [
    ("What does stepping stone 10 propose?", "stepping-stones-wp.en#ss-10"),
    ("What does stepping stone 14 ask for, and what does it mean?", "stepping-stones-wp.en#ss-14"),
    ("第十个阶石提出了什么？", "stepping-stones-wp#ss-10"),
    ("What does Article VI of the NPT require?", "note-npt-treaty#article-vi-disarmament"),
])
def test_a_named_passage_is_cited_first_and_answered(assistant, question: str, first: str) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask(question)
    assert not answer.abstained
    assert answer.citations[0].chunk_id == first
