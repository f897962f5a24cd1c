"""The interface in Chinese, in a real browser: after switching to 中文 no English UI string is
left on the Ask, Orientation and Documents tabs (quoted passages, document titles and the data of
the documents table are text, not UI), and switching back restores English."""

from __future__ import annotations

import re

from tests.ui.screens import shoot

# Visible text nodes and placeholders, outside the elements that hold quoted text: passages in
# English (lang="en"), source passages and pairs, document titles, the documents table's cells,
# and the language switch, whose choices name each language in itself.
VISIBLE_TEXT_JS = """
(skip) => {
  const out = [];
  const visible = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
    && el.getBoundingClientRect().width > 1 && el.getBoundingClientRect().height > 1;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    const text = node.textContent.trim();
    if (!text || !el || el.closest(skip) || el.closest('script, style, svg')) continue;
    if (visible(el)) out.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder]')) {
    if (visible(el) && !el.closest(skip)) out.push(el.getAttribute('placeholder'));
  }
  return out;
}
"""
QUOTED = ('[lang="en"], .pair, .passage, .doc-title, #docs-table tbody, #docs-table .body-cell, '
          '#ui-lang .wrap')
# Not English words: acronyms (NPT, PDF, API), file types and the Markdown format's name.
NAMES = re.compile(r"\b[A-Z][A-Z0-9]+\b|\.[a-z]+\b|\bMarkdown\b")


def english_left(texts: list[str], titles: list[str]) -> list[str]:
    """Return the texts that still hold an English word once quotes and titles are removed."""
    left = []
    for text in texts:
        rest = re.sub(r"“[^”]*”", "", text)  # a quoted sentence in an answer
        for title in titles:
            rest = rest.replace(title, "")
        if re.search(r"[A-Za-z]{2,}", NAMES.sub("", rest)):
            left.append(text)
    return left


def switch(page, choice: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#ui-lang label", has_text=choice).click()
    marker = "阶石助手" if choice == "中文" else "Stepping Stones assistant"
    page.wait_for_function(f"document.querySelector('#send').innerText.trim() === "
                           f"'{'提问' if choice == '中文' else 'Ask'}' && "
                           f"document.body.innerText.includes('{marker}')", timeout=15_000)
    page.wait_for_timeout(1_000)  # Gradio's own strings follow their locale store


def checked(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.evaluate("[...document.querySelectorAll('#ui-lang input')]"
                         ".filter((i) => i.checked).map((i) => i.value)")


def test_the_chinese_interface_shows_no_english_ui_string(page, assistant) -> None:  # type: ignore[no-untyped-def]
    titles = [title for title, _ in assistant.retriever.chunks.titles()]
    switch(page, "中文")
    assert checked(page) == ["中文"]  # the radio shows its choice after the switch
    page.fill("#question textarea", "文件对全面禁止核试验条约说了什么？")
    page.click("#send")
    page.wait_for_selector("#sources #turn-0", timeout=30_000)
    page.wait_for_timeout(1_000)
    assert "全面禁止核试验条约" in page.inner_text("#chat")
    assert "附件，阶石 12" in page.inner_text("#chat")  # the locator in Chinese
    texts = page.evaluate(VISIBLE_TEXT_JS, QUOTED)
    shoot(page, "ask-zh", animations="disabled")

    page.locator("button[role='tab']", has_text="导览").click()
    page.locator("#tab-orientation button.label-wrap", has_text="降低核风险").click()
    page.wait_for_selector("text=就此提问（10）")
    assert "阶石 10" in page.inner_text("#tab-orientation")
    assert page.locator("#glossary th").first.inner_text() == "英文"
    texts += page.evaluate(VISIBLE_TEXT_JS, QUOTED)

    documents = page.locator("button[role='tab']", has_text="文件")
    if documents.count():  # the Documents tab, where the app has one
        documents.click()
        page.wait_for_timeout(1_000)
        texts += page.evaluate(VISIBLE_TEXT_JS, QUOTED)
    assert english_left(texts, titles) == []
    assert page.title() == "阶石助手"


def test_switching_back_to_english_restores_english(page) -> None:  # type: ignore[no-untyped-def]
    switch(page, "中文")
    switch(page, "English")
    assert checked(page) == ["English"]
    page.locator("button[role='tab']", has_text="Orientation").click()
    page.locator("#tab-orientation button.label-wrap", has_text="Nuclear risk reduction").click()
    page.wait_for_selector("text=Ask about this (10)")
    assert "Stepping stone 10" in page.inner_text("#tab-orientation")
    assert page.locator("#glossary th").first.inner_text() == "English"
    assert "阶石助手" not in page.inner_text("body")
