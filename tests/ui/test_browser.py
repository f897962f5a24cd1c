"""The chat UI in a real browser: streamed answers, citations, abstention with topics to ask
about, follow-ups, Orientation (stones, glossary, first questions) and the Ask tab's layout."""

from __future__ import annotations

import re

from tests.ui.screens import shoot

# The contrast of a text colour with the background it is drawn on, opacity included (WCAG).
CONTRAST_JS = """
(selector) => {
  const el = document.querySelector(selector);
  const rgba = (c) => (c.match(/[\\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
  let opacity = 1, bg = null;
  for (let x = el; x; x = x.parentElement) {
    const cs = getComputedStyle(x);
    opacity *= Number(cs.opacity);
    const c = rgba(cs.backgroundColor);
    if (!bg && c[3] > 0.5) bg = c;
  }
  bg = bg || [255, 255, 255, 1];
  const fg = rgba(getComputedStyle(el).color);
  const a = fg[3] * opacity;
  const seen = [0, 1, 2].map((i) => fg[i] * a + bg[i] * (1 - a));
  const lum = (c) => {
    const [r, g, b] = c.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [lum(seen), lum(bg)].sort((p, q) => q - p);
  return (hi + 0.05) / (lo + 0.05);
}
"""


def ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#question textarea", question)
    page.click("#send")


def wait_answer(page, turn: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until answer `turn` has finished streaming (its sources are in the panel)."""
    page.wait_for_selector(f"#sources #turn-{turn}", timeout=30_000)


def visible_topics(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.inner_text().strip() for b in page.locator("#suggestions button.topic").all()
            if b.is_visible()]


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
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "ask-en", animations="disabled")


def test_a_near_miss_offers_distinguishable_topics_and_a_click_asks_about_one(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "What does the paper say about nuclear submarines?")
    page.wait_for_selector("#suggestions button.topic", state="visible", timeout=30_000)
    assert "does not cover" in page.inner_text("#chat")
    assert page.locator("#sources .src").count() == 0
    topics = visible_topics(page)
    # Told apart by stone number and heading, whole (never cut to "Stepping stones for…").
    assert topics and len(set(topics)) == len(topics)
    assert all(re.fullmatch(r"Stepping stone \d+: \w.+", t) for t in topics), topics
    assert not any(t.endswith(("...", "…")) for t in topics)
    shoot(page, "abstention", animations="disabled")
    number = re.match(r"Stepping stone (\d+)", topics[0]).group(1)  # type: ignore[union-attr]
    page.locator("#suggestions button.topic").first.click()
    wait_answer(page, 1)
    chat = page.inner_text("#chat")
    assert f"What does stepping stone {number} ask States to do" in chat
    assert "Read as a follow-up" not in chat  # a topic's question stands on its own
    assert f"Annex, stepping stone {number}" in page.inner_text("#sources #turn-1")


def test_a_question_nothing_is_close_to_offers_no_topics(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "How do I bake sourdough bread?")
    wait_answer_text = "document.querySelector('#chat').innerText.includes('does not cover')"
    page.wait_for_function(wait_answer_text, timeout=30_000)
    page.wait_for_timeout(1_000)  # the last update (suggestions, sources) follows the text
    assert "closest topics" not in page.inner_text("#chat")
    assert visible_topics(page) == []


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


def test_new_conversation_is_beside_ask_and_answer_text_is_dark(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "What does the paper say about New START?")
    wait_answer(page, 0)
    page.evaluate("window.scrollTo(0, 0)")
    clear, send, comment = (page.locator(s).bounding_box() for s in ("#clear", "#send", "#comment"))
    viewport = page.viewport_size
    assert clear is not None and send is not None and comment is not None and viewport
    assert page.locator("#clear").is_visible()
    assert clear["y"] + clear["height"] <= viewport["height"]  # seen without scrolling
    assert abs(clear["x"] - send["x"]) < 5 and clear["y"] < comment["y"]  # under Ask, above feedback
    # Near-black on white; Gradio's own chat text (opacity 0.8 on grey) measured 7.6.
    assert page.evaluate(CONTRAST_JS, "#chat .bot p") >= 12
    page.click("#clear")
    page.wait_for_function("!document.querySelector('#sources .src')", timeout=10_000)
    assert page.locator("#chat .bot").count() == 0


def test_orientation_lists_stones_and_asks_about_one(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("button[role='tab']", has_text="Orientation").click()
    page.wait_for_selector("#about")
    assert "Sponsors (15)" in page.inner_text("#about")  # not any "15" (2015 would do)
    page.locator("button", has_text="Nuclear risk reduction").first.click()
    page.wait_for_selector("text=Ask about this (10)")
    shoot(page, "orientation", animations="disabled")
    button = page.locator("button", has_text="Ask about this (10)")
    button.scroll_into_view_if_needed()
    button.click()
    page.wait_for_selector('#chat a[href="#src-0-1"]', timeout=30_000)
    assert "stepping stone 10" in page.inner_text("#chat").lower()
    assert page.evaluate("window.scrollY") == 0  # the Ask tab opens at its top


def test_a_first_question_opens_the_ask_tab_at_its_top(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("button[role='tab']", has_text="Orientation").click()
    first = page.locator("#first-questions button", has_text="Who submitted")
    first.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 500  # the first questions are far down the page
    first.click()
    wait_answer(page, 0)
    assert page.locator("#tab-ask").is_visible()
    assert page.evaluate("window.scrollY") == 0
    chat = page.locator("#chat").bounding_box()
    assert chat is not None and chat["y"] < page.viewport_size["height"]  # type: ignore[index]
    assert "Argentina" in page.inner_text("#chat")


def test_glossary_fits_at_1280_px_in_a_proportional_font_and_filters(browser, app_url) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(app_url, wait_until="load")
        page.locator("button[role='tab']", has_text="Orientation").click()
        table = page.locator("#glossary table")
        table.wait_for()
        headers = page.locator("#glossary th")
        assert [h.inner_text() for h in headers.all()] == ["English", "Chinese", "The paper's wording"]
        for header in headers.all():
            box = header.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1280
        font = page.evaluate("getComputedStyle(document.querySelector('#glossary td')).fontFamily")
        assert "mono" not in font.lower()
        all_rows = page.locator("#glossary tbody tr").count()
        assert all_rows >= 30
        for query in ("hotline", "热线"):
            page.fill("#glossary-filter textarea", query)
            page.wait_for_function("document.querySelectorAll('#glossary tbody tr').length < 5",
                                   timeout=10_000)
            rows = page.locator("#glossary tbody tr").all()
            assert rows and all(query in r.inner_text().lower() for r in rows)
        page.fill("#glossary-filter textarea", "zzzz")
        page.wait_for_function("document.querySelectorAll('#glossary tbody tr').length === 0",
                               timeout=10_000)
        assert "No term matches" in page.inner_text("#glossary")
    finally:
        context.close()
