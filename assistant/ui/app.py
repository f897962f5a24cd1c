"""The Gradio app: chat with streamed, cited answers; sources panel; orientation; feedback."""



import ipaddress
import json
import logging
import sys
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
from assistant.ui import auth as auth_module
from assistant.ui import orientation as orient
from assistant.ui.assets import CSS, SWITCH_JS, TO_TOP_JS, page_js
from assistant.ui.edge import LoginLimiter, guarded
from assistant.ui.export import copy_text, write_exports
from assistant.ui.inputs import (
    MAX_HISTORY_ITEMS,
    InputError,
    check_history,
    language_message,
    unsupported_language,
)
from assistant.ui.places import Places, places_for
from assistant.ui.render import chat_markdown, md_escape, sources_html
from assistant.ui.strings import t
from assistant.ui.wording import Wording
from ingest.lexical import warm_up
from ingest.settings import Settings, apply_offline_env

log = logging.getLogger(__name__)
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


def _ui_lang(choice: str) -> str:
    return "zh" if choice == "中文" else "en"


def _pieces(text: str, n: int = 8) -> Iterator[str]:
    """Yield growing prefixes of a text, for a streamed display."""
    step = max(1, len(text) // n)
    for end in range(step, len(text), step):
        yield text[:end]
    yield text


def build_app(assistant: Any, settings: Settings):  # type: ignore[no-untyped-def]
    """Return the Blocks app for an assistant (models and index already loaded)."""
    import gradio as gr

    words = Wording()
    with gr.Blocks(title=t("en", "title"), analytics_enabled=False) as demo:
        answers = gr.State([])
        with gr.Row():
            words.add(gr.Markdown(_heading("en")), _heading)
            # The choices name each language in itself, so either reader finds theirs.
            ui_lang = words.label(gr.Radio(["English", "中文"], value="English",
                                           label=t("en", "ui_language"), elem_id="ui-lang",
                                           scale=0, min_width=220), "ui_language")
        with gr.Tabs() as tabs:
            ask_ui = _ask_tab(gr, words, settings, assistant.retriever.chunks.titles())
            tour = _orientation_tab(gr, words, assistant.retriever)
            from assistant.ui.documents import build_documents_tab  # imports gradio: lazily

            build_documents_tab(assistant, settings, t, ui_lang)
        ask_ui.answers, ask_ui.ui_lang, ask_ui.tabs = answers, ui_lang, tabs
        _wire_ask(gr, ask_ui, assistant, settings)
        _wire_orientation(gr, tour, ask_ui)
        ui_lang.change(lambda ui: words.updates(_ui_lang(ui)), [ui_lang], words.components,
                       api_visibility="private").then(
            None, [ui_lang], None, js=SWITCH_JS, api_visibility="private")

        def ask(question: str, history: list[str] | None = None) -> dict:
            """Answer a question with cited passages (the whole Answer as JSON).

            `history`: up to 20 earlier questions of the conversation, most recent last."""
            refused = _refusal(question, history, settings)
            if refused is not None:
                return refused.to_dict()
            return assistant.ask(question, history=history or []).to_dict()

        gr.api(ask, api_name="ask")
    return demo


def _heading(lang: str) -> str:
    return f"# {t(lang, 'title')}\n{t(lang, 'subtitle')}"


def _refusal(question: Any, history: Any, settings: Settings) -> Answer | None:
    """An Answer that says why a question or its history cannot be used (None: usable)."""
    try:
        check_history(history, settings.max_question_chars)
    except InputError as exc:
        return _error_answer(question, str(exc))
    language = unsupported_language(question) if isinstance(question, str) else None
    return _error_answer(question, language_message(language)) if language else None


def _ask_tab(gr: Any, words: Wording, settings: Settings, titles: list) -> SimpleNamespace:
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
                ui.copy_box = words.label(gr.Textbox(label=t("en", "copy"), lines=4,
                                                     interactive=False, buttons=["copy"],
                                                     elem_id="copy"), "copy")
                with gr.Row():
                    # A download button's text is its label (its value is the file).
                    ui.export_md = words.label(gr.DownloadButton(
                        t("en", "export_md"), interactive=False, size="sm", elem_id="export-md"),
                        "export_md")
                    ui.export_docx = words.label(gr.DownloadButton(
                        t("en", "export_docx"), interactive=False, size="sm",
                        elem_id="export-docx"), "export_docx")
                with gr.Row():
                    ui.comment_box = words.label(gr.Textbox(label=t("en", "feedback"), scale=4,
                                                            elem_id="comment"), "feedback")
                    ui.send_comment = words.value(gr.Button(t("en", "send_feedback"), scale=1),
                                                  "send_feedback")
                ui.status = gr.Markdown("", elem_id="feedback-status")
            with gr.Column(scale=2):
                words.value(gr.Markdown(f"### {t('en', 'sources')}"), "sources", "### {}")
                ui.sources = gr.HTML(sources_html([], "en"), elem_id="sources")
    return ui


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


def _orientation_tab(gr: Any, words: Wording, retriever: Any) -> SimpleNamespace:
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


def _skip(gr: Any, n: int) -> list[Any]:
    return [gr.skip() for _ in range(n)]


def _wire_ask(gr: Any, ui: SimpleNamespace, assistant: Any, settings: Settings) -> None:
    """Connect the Ask tab: questions, suggestions, feedback, a new conversation, the language."""
    feedback = FeedbackLog(settings)
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
        return t(_ui_lang(choice), "feedback_saved"), ""

    def clear(choice: str) -> dict[Any, Any]:
        empty = gr.update(value=None, interactive=False)
        return {ui.chatbot: [], ui.sources: sources_html([], _ui_lang(choice)), ui.copy_box: "",
                ui.answers: [], ui.status: "", ui.suggestions: gr.update(visible=False),
                ui.export_md: empty, ui.export_docx: empty}

    ui.chatbot.like(like, [ui.answers], [ui.status], api_visibility="private")
    ui.send_comment.click(comment, [ui.comment_box, ui.answers, ui.ui_lang],
                          [ui.status, ui.comment_box], api_visibility="private")
    ui.clear.click(clear, [ui.ui_lang], [ui.chatbot, ui.sources, ui.copy_box, ui.answers,
                                         ui.status, ui.suggestions, ui.export_md, ui.export_docx],
                   api_visibility="private")
    # The sources panel is worded in the interface language: reworded when it changes.
    ui.ui_lang.change(lambda choice, answers: sources_html(
        answers, _ui_lang(choice), places_for(assistant.retriever)), [ui.ui_lang, ui.answers],
        [ui.sources], api_visibility="private")


def _nth(i: int, items: list[str]) -> str:
    return items[i] if i < len(items) else ""


def _responder(gr: Any, ui: SimpleNamespace, assistant: Any, settings: Settings) -> Any:
    """Return the handler that answers a question: streamed chat, then sources, copy, exports."""
    exports = Path(tempfile.gettempdir()) / "npt-assistant-exports"

    def respond(message: str, chat: list, answers: list, docs: list, lang_filter: str,
                choice: str):  # type: ignore[no-untyped-def]
        chat = [*chat, {"role": "user", "content": md_escape(message or "")},
                {"role": "assistant", "content": ""}]
        answer: Answer | None = _refusal(message, [], settings)
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
        lang = _ui_lang(choice)
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


def _wire_orientation(gr: Any, tour: SimpleNamespace, ask: SimpleNamespace) -> None:
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
            return t(_ui_lang(choice), "ask_stone").format(n=n), gr.Tabs(selected="ask")

        button.click(ask_stone, [ask.ui_lang], [ask.question, ask.tabs],
                     api_visibility="private").then(
            None, None, None, js=TO_TOP_JS, api_visibility="private").then(
            ask.respond, ask.inputs, ask.outputs, api_visibility="private")
    gr.on([ask.ui_lang.change, tour.gloss_filter.change],
          lambda choice, query: orient.glossary_html(tour.terms, _ui_lang(choice), query),
          [ask.ui_lang, tour.gloss_filter], [tour.glossary], api_visibility="private",
          show_progress="hidden")


def _error_answer(question: Any, message: str) -> Answer:
    """An Answer carrying only an error message (the question is cut short, never echoed in
    full)."""
    text = question if isinstance(question, str) else ""
    return Answer(question=text[:200], text=message, language="en", abstained=True,
                  reason="unusable input", error=message)


def error_app(message: str):  # type: ignore[no-untyped-def]
    """Return a one-page app that explains why the assistant cannot start, and the fix."""
    import gradio as gr

    with gr.Blocks(title="Stepping Stones assistant — not ready", analytics_enabled=False) as demo:
        gr.Markdown(f"# The assistant cannot start\n\n{md_escape(message)}\n\n"
                    "Fix the problem above, then restart with `make run`.", elem_id="startup-error")
    return demo


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch(settings: Settings, host: str | None = None, port: int | None = None,
           auth: str | None = None, allow_remote: bool = False, block: bool = True,
           assistant: Any = None, auth_file: Path | None = None,
           limiter: LoginLimiter | None = None):  # type: ignore[no-untyped-def]
    """Load models and index once, then serve the UI.

    The login comes from `auth` (user:password), else `auth_file` or NPT_AUTH_FILE, else
    NPT_AUTH. Blocking (the CLI) returns the exit status when the server stops; non-blocking
    (tests, scripts) returns the running app, whose `.close()` stops it."""
    apply_offline_env()
    host = host or settings.host
    port = port or settings.port
    try:
        login = auth_module.credentials(auth, auth_file, settings.auth)
    except auth_module.AuthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not _loopback(host) and login is None and not allow_remote:
        print(f"error: refusing to serve on {host} without a login; use --auth-file FILE "
              "(or NPT_AUTH_FILE), or --allow-remote to serve openly on purpose", file=sys.stderr)
        return 2
    demo, ready = _load(settings, host, port, assistant)
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=200)
    print(ready, flush=True)
    demo.launch(server_name=host, server_port=port, auth=login, share=False,
                prevent_thread_lock=not block, quiet=True, show_error=False, ssr_mode=False,
                footer_links=["api"], css=CSS, js=page_js(), theme=_theme(),
                max_file_size=settings.max_file_bytes,
                app_kwargs=guarded(limiter))
    return demo if not block else 0


def _load(settings: Settings, host: str, port: int, assistant: Any):  # type: ignore[no-untyped-def]
    """Return the app and the line that says it is ready (or an explanation page, and why)."""
    started = time.perf_counter()
    try:
        from assistant.core import Assistant

        if settings.query_threads == 0 and settings.concurrency > 1:
            # Several questions at once: one BLAS thread each uses the cores better.
            settings = settings.model_copy(update={"query_threads": 1})
        assistant = assistant or Assistant(settings)
        # A server answers from every completed ingest (CLI, Documents tab, another host).
        if hasattr(assistant, "watch"):
            assistant.watch(settings.reload_seconds)
        # The Chinese segmenter loads on first use; a server has time to load it now.
        threading.Thread(target=warm_up, name="jieba-warm-up", daemon=True).start()
        demo = build_app(assistant, settings)
        return demo, (f"Stepping Stones assistant ready on http://{host}:{port} — "
                      f"{len(assistant.retriever.chunks)} passages, loaded in "
                      f"{time.perf_counter() - started:.1f} s")
    except Exception as exc:  # an unusable index or store must still give a readable page
        log.exception("startup failed")
        return (error_app(str(exc)),
                f"Assistant NOT ready ({exc}); serving an explanation on http://{host}:{port}")


def _theme():  # type: ignore[no-untyped-def]
    import gradio as gr

    # System fonts only: the default theme would ask the browser for web fonts.
    return gr.themes.Base(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
