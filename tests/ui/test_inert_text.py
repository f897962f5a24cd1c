"""Text stays text in the browser, and a question in another language gets a plain answer.

Issue #15, item 10: `$$…$$` in a question or passage rendered as KaTeX maths, links typed in a
question became live external links, Japanese was treated as Chinese and other scripts got a
bare abstention."""

from __future__ import annotations

from pathlib import Path

from assistant.ui.app import launch
from ingest.pipeline import ingest
from tests.ui.conftest import free_port

TRAPS = "$$x^2$$ http://evil.example/x www.evil.example me@evil.example"


def ask(page, question: str) -> str:  # type: ignore[no-untyped-def]
    """Ask in the browser; return the text of the last answer."""
    answers = page.locator('#chat [data-testid="bot"]')
    before = answers.count()
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(
        f"document.querySelectorAll('#chat [data-testid=\"bot\"]').length > {before} && "
        "!document.querySelector('#chat .pending')", timeout=60_000)
    page.wait_for_timeout(800)  # the answer streams in pieces
    return str(answers.last.inner_text())


def outside_links(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [h for h in page.eval_on_selector_all("#chat a, #sources a",
                                                 "els => els.map(e => e.getAttribute('href'))")
            if not (h or "").startswith("#src-")]


def test_maths_and_links_in_a_question_stay_plain_text(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, f"Does the paper say anything about {TRAPS}?")
    user = page.locator('#chat [data-testid="user"]').last.inner_text()
    assert "$$x^2$$" in user and "http://evil.example/x" in user and "me@evil.example" in user
    assert page.locator("#chat .katex, #chat math").count() == 0
    assert outside_links(page) == []


def test_a_question_in_another_language_is_told_which_languages_are_answered(page) -> None:  # type: ignore[no-untyped-def]
    japanese = ask(page, "ストックホルム・イニシアティブとは何ですか？")
    assert "English or Chinese" in japanese and "Japanese" in japanese and "中文" in japanese
    russian = ask(page, "Что предлагает документ о горячих линиях?")
    assert "English or Chinese" in russian and "Cyrillic" in russian
    chinese = ask(page, "文件对热线有什么建议？")  # Chinese itself is answered as before
    assert "English or Chinese" not in chinese


def test_maths_and_links_in_a_passage_stay_plain_text(make_settings, browser,
                                                      tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "briefing.md").write_text(
        "# Briefing\n\n## Hotlines\n\nHotlines between capitals reduce risk, as "
        f"{TRAPS} explains.\n", encoding="utf-8")
    settings = make_settings(corpus_dir=corpus)
    assert ingest(None, settings).ok
    port = free_port()
    demo = launch(settings, port=port, block=False)
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
        page.wait_for_selector("#question textarea")
        text = ask(page, "What do briefings say about hotlines between capitals?")
        assert "$$x^2$$" in text and "http://evil.example/x" in text
        page.wait_for_selector("#sources #turn-0")
        assert "$$x^2$$" in page.inner_text("#sources")
        assert page.locator("#chat .katex, #sources .katex, #chat math").count() == 0
        assert outside_links(page) == []
        page.close()
    finally:
        demo.close()
