"""The chat UI in a real browser: streamed answers, citations, abstention, Chinese UI."""

from __future__ import annotations


def ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#question textarea", question)
    page.click("#send")


def wait_answer(page, turn: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until answer `turn` has finished streaming (its sources are in the panel)."""
    page.wait_for_selector(f"#sources #turn-{turn}", timeout=30_000)


def test_answer_streams_in_and_a_citation_opens_its_passage(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "Which crisis communication tools are proposed between nuclear-weapon states?")
    page.wait_for_selector('#chat a[href="#src-0-1"]', timeout=30_000)
    wait_answer(page, 0)
    assert "hotlines" in page.inner_text("#chat")
    page.locator('#chat a[href="#src-0-1"]').first.click()
    active = page.locator("#sources .src.active")
    assert active.count() == 1 and active.is_visible()
    text = active.inner_text()
    assert "热线和降低风险中心" in text and "Annex, stepping stone 10" in text
    assert "unofficial rendering" in text
    assert "hotlines" in active.locator("mark").inner_text()
    assert "hotlines" in page.input_value("#copy textarea")
    assert page.outside_requests == []


def test_a_near_miss_is_declined_with_closest_topics(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "What does the paper say about nuclear submarines?")
    page.wait_for_selector("#suggestions", state="visible", timeout=30_000)
    assert "does not cover" in page.inner_text("#chat")
    assert page.locator("#suggestions button, #suggestions tr, #suggestions .gallery-item").count() >= 1
    assert page.locator("#sources .src").count() == 0


def test_a_question_naming_what_the_corpus_never_mentions_says_so(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "Who won the 2018 World Cup?")
    page.wait_for_function(
        "document.querySelector('#chat').innerText.includes('does not mention')", timeout=30_000)
    assert "2018" in page.inner_text("#chat")
    assert page.locator("#sources .src").count() == 0


def test_follow_up_shows_which_question_it_was_read_against(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "What does the paper ask of the United States and Russia?")
    wait_answer(page, 0)
    ask(page, "And what about reporting on their arsenals?")
    wait_answer(page, 1)
    assert "Read as a follow-up to" in page.inner_text("#chat")


def test_interface_switches_to_chinese(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("#ui-lang label", has_text="中文").click()
    page.wait_for_function("document.body.innerText.includes('阶石助手')", timeout=15_000)
    assert page.locator("#send").inner_text().strip() == "提问"
    ask(page, "文件对全面禁止核试验条约说了什么？")
    page.wait_for_selector('#chat a[href="#src-0-1"]', timeout=30_000)
    chat = page.inner_text("#chat")
    assert "全面禁止核试验条约" in chat  # the answer leads with the Chinese stone itself


def test_orientation_lists_stones_and_asks_about_one(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("button[role='tab']", has_text="Orientation").click()
    page.wait_for_selector("#about")
    assert "Sponsors (15)" in page.inner_text("#about")  # not any "15" (2015 would do)
    page.locator("button", has_text="Nuclear risk reduction").first.click()
    page.locator("button", has_text="Ask about this (10)").click()
    page.wait_for_selector('#chat a[href="#src-0-1"]', timeout=30_000)
    assert "stepping stone 10" in page.inner_text("#chat").lower()
