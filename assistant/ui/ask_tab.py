"""The Ask tab: the chat with streamed, cited answers, topics offered when a question is not
covered, filters, the copy box, exports, feedback and the sources panel."""

# No `from __future__ import annotations`: Gradio reads the `gr.LikeData` annotation of the
# thumbs handler as an object to know what to pass it.
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from assistant.answer import Answer
from assistant.retrieve import Filters
from assistant.ui.export import copy_text, write_exports
from assistant.ui.inputs import MAX_HISTORY_ITEMS, refusal
from assistant.ui.places import Places, places_for
from assistant.ui.render import chat_markdown, md_escape, sources_html
from assistant.ui.strings import choice_lang, t
from assistant.ui.wording import Wording
from ingest.settings import Settings

MAX_TOPICS = 3  # topics offered when a question is not covered (the gate offers at most three)


class FeedbackLog:
    """Append-only JSON lines of thumbs and comments, for evaluators to mine."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.feedback_path
        self._lock = threading.Lock()

    def add(self, record: dict[str, Any]) -> None:
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **record}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def _pieces(text: str, n: int = 8) -> Iterator[str]:
    """Yield growing prefixes of a text, for a streamed display."""
    step = max(1, len(text) // n)
    for end in range(step, len(text), step):
        yield text[:end]
    yield text


def build_ask_tab(gr: Any, words: Wording, settings: Settings, titles: list) -> SimpleNamespace:
    """Build the Ask tab: chat, question, suggestions, filters, copy, export, feedback, sources."""
    ui = SimpleNamespace()
    with words.label(gr.Tab(t("en", "tab_ask"), id="ask", elem_id="tab-ask"), "tab_ask"):
        with gr.Row():
            with gr.Column(scale=3):
                # No maths: "$$…$$" in a question or passage is text, not KaTeX.
                ui.chatbot = gr.Chatbot(height=520, elem_id="chat", buttons=["copy"],
                                        show_label=False, feedback_options=("Like", "Dislike"),
                                        latex_delimiters=[])
                with gr.Row():
                    ui.question = words.label(gr.Textbox(
                        label=t("en", "question"), elem_id="question", scale=5,
                        placeholder=t("en", "placeholder"),
                        max_length=settings.max_question_chars * 2), "question", "placeholder")
                    # "New conversation" beside "Ask", where it is seen (not under feedback).
                    with gr.Column(scale=1, min_width=140):
                        ui.send = words.value(gr.Button(t("en", "send"), variant="primary",
                                                        elem_id="send"), "send")
                        ui.clear = words.value(gr.Button(t("en", "clear"), size="sm",
                                                         elem_id="clear"), "clear")
                # Buttons, not a gr.Dataset: a dataset cuts its labels at 60 characters.
                with gr.Column(visible=False, elem_id="suggestions") as ui.suggestions:
                    ui.suggest_label = gr.Markdown(t("en", "suggest"))
                    ui.topics = [gr.Button("", size="sm", elem_classes="topic")
                                 for _ in range(MAX_TOPICS)]
                ui.topic_questions = gr.State([])
                _filters(gr, words, ui, titles)
                _takeaways(gr, words, ui)
            with gr.Column(scale=2):
                words.value(gr.Markdown(f"### {t('en', 'sources')}"), "sources", "### {}")
                ui.sources = gr.HTML(sources_html([], "en"), elem_id="sources")
    return ui


def _takeaways(gr: Any, words: Wording, ui: SimpleNamespace) -> None:
    """What a reader takes from an answer: the copy box, the exports, a comment."""
    ui.copy_box = words.label(gr.Textbox(label=t("en", "copy"), lines=4, interactive=False,
                                         buttons=["copy"], elem_id="copy"), "copy")
    with gr.Row():
        # A download button's text is its label (its value is the file).
        ui.export_md = words.label(gr.DownloadButton(
            t("en", "export_md"), interactive=False, size="sm", elem_id="export-md"), "export_md")
        ui.export_docx = words.label(gr.DownloadButton(
            t("en", "export_docx"), interactive=False, size="sm", elem_id="export-docx"),
            "export_docx")
    with gr.Row():
        ui.comment_box = words.label(gr.Textbox(label=t("en", "feedback"), scale=4,
                                                elem_id="comment"), "feedback")
        ui.send_comment = words.value(gr.Button(t("en", "send_feedback"), scale=1),
                                      "send_feedback")
    ui.status = gr.Markdown("", elem_id="feedback-status")


def _filters(gr: Any, words: Wording, ui: SimpleNamespace, titles: list) -> None:
    """The filters for the next question: documents, and the language of the passages."""
    def languages(lang: str) -> list[tuple[str, str]]:
        return [(t(lang, "any"), ""), (t(lang, "lang_en"), "en"), (t(lang, "lang_zh"), "zh")]

    with words.label(gr.Accordion(t("en", "filters"), open=False), "filters"):
        ui.doc_filter = words.label(gr.CheckboxGroup(titles, label=t("en", "documents"),
                                                     elem_id="doc-filter"), "documents")
        ui.lang_filter = words.add(
            gr.Radio(languages("en"), value="", label=t("en", "language"), elem_id="lang-filter"),
            lambda lang: gr.update(label=t(lang, "language"), choices=languages(lang)))


def wire_ask_tab(gr: Any, ui: SimpleNamespace, assistant: Any, settings: Settings) -> None:
    """Connect the Ask tab: questions, suggestions, feedback, a new conversation, the language."""
    respond = _responder(gr, ui, assistant, settings)
    ui.inputs = [ui.question, ui.chatbot, ui.answers, ui.doc_filter, ui.lang_filter, ui.ui_lang]
    ui.outputs = [ui.chatbot, ui.sources, ui.copy_box, ui.suggestions, ui.suggest_label,
                  *ui.topics, ui.topic_questions, ui.answers, ui.question, ui.export_md,
                  ui.export_docx]
    ui.respond = respond
    ui.send.click(respond, ui.inputs, ui.outputs, api_visibility="private")
    ui.question.submit(respond, ui.inputs, ui.outputs, api_visibility="private")
    for i, button in enumerate(ui.topics):
        button.click(partial(_nth, i), [ui.topic_questions], [ui.question],
                     api_visibility="private").then(
            respond, ui.inputs, ui.outputs, api_visibility="private")
    _wire_feedback(gr, ui, FeedbackLog(settings))

    def clear(choice: str) -> dict[Any, Any]:
        empty = gr.update(value=None, interactive=False)
        return {ui.chatbot: [], ui.sources: sources_html([], choice_lang(choice)), ui.copy_box: "",
                ui.answers: [], ui.status: "", ui.suggestions: gr.update(visible=False),
                ui.export_md: empty, ui.export_docx: empty}

    ui.clear.click(clear, [ui.ui_lang], [ui.chatbot, ui.sources, ui.copy_box, ui.answers,
                                         ui.status, ui.suggestions, ui.export_md, ui.export_docx],
                   api_visibility="private")
    # The sources panel is worded in the interface language: reworded when it changes.
    ui.ui_lang.change(lambda choice, answers: sources_html(
        answers, choice_lang(choice), places_for(assistant.retriever)), [ui.ui_lang, ui.answers],
        [ui.sources], api_visibility="private")


def _wire_feedback(gr: Any, ui: SimpleNamespace, feedback: FeedbackLog) -> None:
    """Thumbs on an answer and a comment on the last one go to the feedback log."""
    def like(data: gr.LikeData, answers: list) -> str:  # type: ignore[type-arg]
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        answer = answers[min(int(index) // 2, len(answers) - 1)] if answers else None
        feedback.add({"rating": "up" if data.liked else "down",
                      "question": answer.question if answer else None,
                      "answer": answer.text if answer else None,
                      "cited": [c.chunk_id for c in answer.citations] if answer else []})
        return ""

    def comment(text: str, answers: list, choice: str) -> tuple[str, str]:
        if not text.strip() or not answers:
            return "", text
        answer = answers[-1]
        feedback.add({"rating": "comment", "comment": text.strip(), "question": answer.question,
                      "answer": answer.text, "cited": [c.chunk_id for c in answer.citations]})
        return t(choice_lang(choice), "feedback_saved"), ""

    ui.chatbot.like(like, [ui.answers], [ui.status], api_visibility="private")
    ui.send_comment.click(comment, [ui.comment_box, ui.answers, ui.ui_lang],
                          [ui.status, ui.comment_box], api_visibility="private")


def _nth(i: int, items: list[str]) -> str:
    return items[i] if i < len(items) else ""


def _responder(gr: Any, ui: SimpleNamespace, assistant: Any, settings: Settings) -> Any:
    """Return the handler that answers a question: streamed chat, then sources, copy, exports."""
    exports = Path(tempfile.gettempdir()) / "npt-assistant-exports"

    def respond(message: str, chat: list, answers: list, docs: list, lang_filter: str,
                choice: str):  # type: ignore[no-untyped-def]
        chat = [*chat, {"role": "user", "content": md_escape(message or "")},
                {"role": "assistant", "content": ""}]
        answer: Answer | None = refusal(message, [], settings)
        earlier = [a.question for a in answers if not a.error][-MAX_HISTORY_ITEMS:]
        # The box empties at once, so a question typed meanwhile is never wiped.
        yield {ui.chatbot: chat, ui.question: ""}
        for item in ([] if answer else assistant.stream(
                message, history=earlier,
                filters=Filters(docs=list(docs or []), lang=lang_filter or None))):
            if isinstance(item, Answer):
                answer = item
            else:  # LLM mode: show the text as it is generated, checked when complete
                chat[-1] = {"role": "assistant", "content": md_escape(item)}
                yield {ui.chatbot: chat}
        assert answer is not None
        answers = [*answers, answer]
        places = places_for(assistant.retriever)
        for partial_text in _pieces(chat_markdown(answer, len(answers) - 1, places)):
            chat[-1] = {"role": "assistant", "content": partial_text}
            yield {ui.chatbot: chat, ui.answers: answers}
            time.sleep(0.02)
        lang = choice_lang(choice)
        md, docx = write_exports(answers, lang, exports, places)
        yield {ui.chatbot: chat, ui.sources: sources_html(answers, lang, places),
               ui.copy_box: copy_text(answer, places), ui.answers: answers,
               ui.export_md: gr.update(value=str(md), interactive=True),
               ui.export_docx: gr.update(value=str(docx), interactive=True),
               **_suggestions(gr, ui, answer, lang, places)}

    return respond


def _suggestions(gr: Any, ui: SimpleNamespace, answer: Answer, lang: str,
                 places: Places) -> dict[Any, Any]:
    """The topics offered for a question the corpus does not cover: labelled by their place,
    each asking its own question when clicked (in the language the question was asked in)."""
    topics = answer.suggestions[:MAX_TOPICS] if answer.abstained else []
    asked = answer.language
    out: dict[Any, Any] = {ui.suggestions: gr.update(visible=bool(topics)),
                           ui.suggest_label: t(lang, "suggest"),
                           ui.topic_questions: [places.question(s.chunk_id, asked) for s in topics]}
    for i, button in enumerate(ui.topics):
        label = places.topic(topics[i].chunk_id, asked) if i < len(topics) else ""
        out[button] = gr.update(value=label, visible=i < len(topics))
    return out

