"""A question that names a part ("stepping stone 10", "第十个阶石", "Article IX(3)", "step 9",
"Action 20", "decision 2") gets that part, and a step or an action is never the stone with the
same number."""

from __future__ import annotations

import pytest

from assistant.references import PartIndex, anchors


@pytest.mark.parametrize("question, expected", [
    ("What does stepping stone 10 propose?", ["ss-10"]),
    ("the 14th stepping stone", ["ss-14"]),
    ("Compare stones 3 and 4", ["ss-3", "ss-4"]),
    ("stepping stones 21, 5 and 3", ["ss-21", "ss-5", "ss-3"]),
    ("第10个阶石提出了什么？", ["ss-10"]),
    ("第二十二项阶石是什么？", ["ss-22"]),
    ("阶石 7 的内容", ["ss-7"]),
    ("What does paragraph 1 say?", ["p-1"]),
    ("What does annex paragraph 2 say?", ["annex-p-2"]),
    ("附件第2段讲了什么？", ["annex-p-2"]),
    ("footnote 1", ["fn-1"]),
    ("What does Article VI require?", ["article-6"]),
    ("What does Article IX(3) define?", ["article-9(3)"]),
    ("《不扩散条约》第六条规定了什么？", ["article-6"]),
    ("step 9 of the 13 steps", ["step-9"]),
    ("第十二个步骤是什么？", ["step-12"]),
    ("What is Action 20 of the 2010 plan?", ["action-20"]),
    ("2010年行动计划的行动20", ["action-20"]),
    ("decision 2 of 1995", ["decision-2"]),
    ("1995年第二项决定", ["decision-2"]),
    ("Which stepping stones concern youth?", []),
    ("How many stepping stones are there?", []),
    ("What did the 2010 action plan say in 2010?", []),
])
def test_named_parts_are_recognised(question: str, expected: list[str]) -> None:
    assert anchors(question) == expected


def test_parts_resolve_by_heading_then_by_the_document_that_numbers_them() -> None:
    index = PartIndex([
        ("paper#ss-9", "Annex, stepping stone 9", "Crisis decision time."),
        ("steps#step-9-x", "Step 9: steps by all nuclear-weapon States", "Step 9 asks…"),
        ("steps#steps-10-to-13", "Steps 10 to 13: reporting", "Step 12 is about reports."),
        ("plan#reporting", "Reporting", "Action 20 and Action 21 ask for reports; Action 22 too."),
        ("cycle#reporting", "Reporting", "Actions 20 and 21 of 2010 deal with it."),
        ("treaty#art-9", "Article IX: entry into force", "Depositaries."),
        ("treaty#nws", "Who counts", "Article IX(3) defines a nuclear-weapon State."),
    ])
    from assistant.references import parts

    def first(q: str) -> str:
        return index.resolve(parts(q)[0])[0]

    assert first("step 9 of the 13 steps") == "steps#step-9-x"  # never stone 9
    assert first("step 12") == "steps#steps-10-to-13"  # a range in a heading
    assert first("Action 20") == "plan#reporting"  # the plan's note, not a passing mention
    assert first("Article IX(3)") == "treaty#nws"  # the paragraph's passage first…
    assert index.resolve(parts("Article IX(3)")[0])[1] == "treaty#art-9"  # …then the article
    assert first("stepping stone 9") == "paper#ss-9"


@pytest.mark.parametrize("question, section", [
    ("What does stepping stone 10 propose?", "ss-10"),
    ("第十个阶石提出了什么？", "ss-10"),
    ("What does Article VI of the NPT require?", "article-vi-disarmament"),
    ("What is step 9 of the 13 practical steps?", "step-9-steps-by-all-nuclear-weapon-states"),
    ("2010年行动计划的行动20是什么？", "reporting-and-transparency"),
    ("What was decision 2 of 1995?", "decision-2-principles-and-objectives"),
])
def test_a_named_part_is_cited_first_and_answered(assistant, question: str, section: str) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask(question)
    assert not answer.abstained
    assert answer.citations[0].chunk_id.split("#", 1)[1] == section
