"""The Orientation tab: the paper, its 22 stones by theme, the glossary and good first
questions; a stone's button or a first question opens the Ask tab and asks."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace
from typing import Any

from assistant.ui import orientation as orient
from assistant.ui.assets import TO_TOP_JS
from assistant.ui.strings import choice_lang, t
from assistant.ui.wording import Wording


def build_orientation_tab(gr: Any, words: Wording, retriever: Any) -> SimpleNamespace:
    """Build the Orientation tab: the paper, its stones by theme, the glossary, first questions."""
    tour = SimpleNamespace(stone_buttons=[])
    stones = orient.stones(retriever)
    with words.label(gr.Tab(t("en", "tab_orientation"), id="orientation",
                            elem_id="tab-orientation"), "tab_orientation"):
        words.add(gr.Markdown(orient.about_markdown("en"), elem_id="about"), orient.about_markdown)
        words.value(gr.Markdown(f"### {t('en', 'themes')}"), "themes", "### {}")
        for theme in orient.THEMES:
            title = partial(orient.theme_title, theme)
            with words.label_from(gr.Accordion(title("en"), open=False), title):
                for n in (n for n in theme[2] if n in stones):
                    words.add(gr.HTML(orient.stone_html(stones[n], "en")),
                              partial(orient.stone_html, stones[n]))
                    button = words.add(gr.Button(_ask_about(n, "en"), size="sm"),
                                       partial(_ask_about, n))
                    tour.stone_buttons.append((button, n))
        words.value(gr.Markdown(f"### {t('en', 'glossary')}"), "glossary", "### {}")
        tour.terms = orient.glossary_terms(retriever)
        tour.gloss_filter = words.label(gr.Textbox(
            label=t("en", "gloss_filter"), placeholder=t("en", "gloss_placeholder"),
            elem_id="glossary-filter"), "gloss_filter", "gloss_placeholder")
        tour.glossary = gr.HTML(orient.glossary_html(tour.terms, "en"), elem_id="glossary")
        words.value(gr.Markdown(f"### {t('en', 'first_questions')}"), "first_questions", "### {}")
        with gr.Column(elem_id="first-questions"):
            tour.first = [words.add(gr.Button(_first_question(i, "en")["value"], size="sm",
                                              elem_classes="first-question"),
                                    partial(_first_question_update, i))
                          for i in range(max(len(q) for q in orient.FIRST_QUESTIONS.values()))]
    return tour


def _first_question(i: int, lang: str) -> dict[str, Any]:
    """The i-th good first question in a language (hidden when the language has fewer)."""
    questions = orient.FIRST_QUESTIONS[lang]
    return {"value": questions[i] if i < len(questions) else "", "visible": i < len(questions)}


def _first_question_update(i: int, lang: str) -> Any:
    import gradio as gr

    return gr.update(**_first_question(i, lang))


def _ask_about(n: int, lang: str) -> str:
    return t(lang, "ask_about").format(n=n)


def wire_orientation_tab(gr: Any, tour: SimpleNamespace, ask: SimpleNamespace) -> None:
    """Connect Orientation: a first question or a stone opens the Ask tab, at its top, and asks."""
    def to_ask() -> Any:
        return gr.Tabs(selected="ask")

    for button in tour.first:
        # A button's value is its text: the question it asks.
        button.click(lambda text: text, [button], [ask.question], api_visibility="private").then(
            to_ask, None, [ask.tabs], api_visibility="private").then(
            None, None, None, js=TO_TOP_JS, api_visibility="private").then(
            ask.respond, ask.inputs, ask.outputs, api_visibility="private")
    for button, n in tour.stone_buttons:
        def ask_stone(choice: str, n: int = n) -> tuple[str, Any]:
            return t(choice_lang(choice), "ask_stone").format(n=n), gr.Tabs(selected="ask")

        button.click(ask_stone, [ask.ui_lang], [ask.question, ask.tabs],
                     api_visibility="private").then(
            None, None, None, js=TO_TOP_JS, api_visibility="private").then(
            ask.respond, ask.inputs, ask.outputs, api_visibility="private")
    gr.on([ask.ui_lang.change, tour.gloss_filter.change],
          lambda choice, query: orient.glossary_html(tour.terms, choice_lang(choice), query),
          [ask.ui_lang, tour.gloss_filter], [tour.glossary], api_visibility="private",
          show_progress="hidden")

