"""The Gradio app: chat with streamed, cited answers; sources panel; orientation; feedback."""



import ipaddress
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.answer import Answer
from assistant.retrieve import Filters
from assistant.ui import auth as auth_module
from assistant.ui import orientation as orient
from assistant.ui.edge import LoginLimiter, guarded
from assistant.ui.inputs import (
    MAX_HISTORY_ITEMS,
    InputError,
    check_history,
    language_message,
    unsupported_language,
)
from assistant.ui.render import chat_markdown, md_escape, sources_html
from assistant.ui.strings import t
from ingest.lexical import warm_up
from ingest.settings import Settings, apply_offline_env

log = logging.getLogger(__name__)

CSS = """
.src { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 10px; margin: 8px 0; }
.src.active { border-color: #0969da; box-shadow: 0 0 0 2px #0969da55; }
.src-head { font-size: 0.95em; } .src-n { color: #0969da; font-weight: 600; }
.src-meta { color: #57606a; font-size: 0.85em; margin: 2px 0 6px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.pair .lbl { font-size: 0.75em; color: #57606a; text-transform: uppercase; }
.kind { padding: 0 5px; border-radius: 4px; background: #eef; }
.kind-official { background: #dafbe1; } .kind-rendering, .kind-note { background: #fff8c5; }
mark { background: #fff3a3; } .turn summary { cursor: pointer; color: #57606a; }
.stone { margin: 6px 0 2px; } .stone-n { font-weight: 600; }
body, .gradio-container { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans",
  "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; }
"""

# Citation links open their passage in the sources panel instead of navigating away.
JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[href^="#src-"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const target = document.getElementById(link.getAttribute('href').slice(1));
    if (!target) return;
    const fold = target.closest('details');
    if (fold) fold.open = true;
    document.querySelectorAll('.src.active').forEach((el) => el.classList.remove('active'));
    target.classList.add('active');
    target.scrollIntoView({block: 'nearest'});
  }, true);
}
"""


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

    feedback = FeedbackLog(settings)
    retriever = assistant.retriever

    def refusal(question: Any, history: Any) -> Answer | None:
        """An Answer that says why a question or its history cannot be used (None: usable)."""
        try:
            check_history(history, settings.max_question_chars)
        except InputError as exc:
            return _error_answer(question, str(exc))
        language = unsupported_language(question) if isinstance(question, str) else None
        return _error_answer(question, language_message(language)) if language else None
    doc_choices = retriever.chunks.titles()
    stones = orient.stones(retriever)

    def respond(message: str, chat: list, answers: list, docs: list, lang_filter: str,
                ui: str):  # type: ignore[no-untyped-def]
        chat = [*chat, {"role": "user", "content": md_escape(message or "")},
                {"role": "assistant", "content": ""}]
        answer: Answer | None = refusal(message, [])
        earlier = [a.question for a in answers if not a.error][-MAX_HISTORY_ITEMS:]
        for item in ([] if answer else assistant.stream(
                message, history=earlier,
                filters=Filters(docs=list(docs or []), lang=lang_filter or None))):
            if isinstance(item, Answer):
                answer = item
            else:  # LLM mode: show the text as it is generated, checked when complete
                chat[-1] = {"role": "assistant", "content": md_escape(item)}
                yield chat, gr.skip(), gr.skip(), gr.skip(), answers, ""
        assert answer is not None
        answers = [*answers, answer]
        turn = len(answers) - 1
        text = chat_markdown(answer, turn)
        for i, partial in enumerate(_pieces(text)):
            chat[-1] = {"role": "assistant", "content": partial}
            # The box empties at once, so a question typed meanwhile is never wiped.
            yield chat, gr.skip(), gr.skip(), gr.skip(), answers, "" if i == 0 else gr.skip()
            time.sleep(0.02)
        lang = _ui_lang(ui)
        suggest = (gr.update(samples=[[s] for s in answer.suggestions], visible=True,
                             label=t(lang, "suggest"))
                   if answer.abstained and answer.suggestions else gr.update(visible=False))
        yield chat, sources_html(answers, lang), answer.as_text(), suggest, answers, gr.skip()

    def like(data: gr.LikeData, answers: list) -> str:  # type: ignore[type-arg]
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        answer = answers[min(int(index) // 2, len(answers) - 1)] if answers else None
        feedback.add({"rating": "up" if data.liked else "down",
                      "question": answer.question if answer else None,
                      "answer": answer.text if answer else None,
                      "cited": [c.chunk_id for c in answer.citations] if answer else []})
        return ""

    def comment(text: str, answers: list, ui: str) -> tuple[str, str]:
        if not text.strip() or not answers:
            return "", text
        answer = answers[-1]
        feedback.add({"rating": "comment", "comment": text.strip(), "question": answer.question,
                      "answer": answer.text, "cited": [c.chunk_id for c in answer.citations]})
        return t(_ui_lang(ui), "feedback_saved"), ""

    def switch(ui: str):  # type: ignore[no-untyped-def]
        lang = _ui_lang(ui)
        return (
            f"# {t(lang, 'title')}\n{t(lang, 'subtitle')}",
            gr.update(label=t(lang, "question"), placeholder=t(lang, "placeholder")),
            gr.update(value=t(lang, "send")), gr.update(value=t(lang, "clear")),
            f"### {t(lang, 'sources')}", gr.update(label=t(lang, "copy")),
            gr.update(label=t(lang, "feedback")), gr.update(value=t(lang, "send_feedback")),
            gr.update(label=t(lang, "documents")), gr.update(label=t(lang, "language")),
            orient.about_markdown(lang), f"### {t(lang, 'themes')}",
            f"### {t(lang, 'glossary')}", f"### {t(lang, 'first_questions')}",
            gr.update(samples=[[q] for q in orient.FIRST_QUESTIONS[lang]]),
            gr.update(label=t(lang, "tab_ask")), gr.update(label=t(lang, "tab_orientation")),
            gr.update(label=t(lang, "filters")),
        )

    with gr.Blocks(title="Stepping Stones assistant", analytics_enabled=False) as demo:
        answers = gr.State([])
        with gr.Row():
            header = gr.Markdown(f"# {t('en', 'title')}\n{t('en', 'subtitle')}")
            ui_lang = gr.Radio(["English", "中文"], value="English", label=t("en", "ui_language"),
                               elem_id="ui-lang", scale=0, min_width=220)
        with gr.Tabs() as tabs:
            with gr.Tab(t("en", "tab_ask"), id="ask", elem_id="tab-ask") as tab_ask:
                with gr.Row():
                    with gr.Column(scale=3):
                        # No maths: "$$…$$" in a question or passage is text, not KaTeX.
                        chatbot = gr.Chatbot(height=520, elem_id="chat", buttons=["copy"], show_label=False,
                                             feedback_options=("Like", "Dislike"),
                                             latex_delimiters=[])
                        with gr.Row():
                            question = gr.Textbox(label=t("en", "question"), elem_id="question",
                                                  placeholder=t("en", "placeholder"), scale=5,
                                                  max_length=settings.max_question_chars * 2)
                            send = gr.Button(t("en", "send"), variant="primary", scale=1,
                                             elem_id="send")
                        suggestions = gr.Dataset(components=[gr.Textbox(visible=False)],
                                                 samples=[], visible=False, elem_id="suggestions")
                        with gr.Accordion(t("en", "filters"), open=False) as filters_box:
                            doc_filter = gr.CheckboxGroup(doc_choices, label=t("en", "documents"),
                                                          elem_id="doc-filter")
                            lang_filter = gr.Radio([("any / 不限", ""), ("English", "en"),
                                                    ("中文", "zh")], value="",
                                                   label=t("en", "language"), elem_id="lang-filter")
                        copy_box = gr.Textbox(label=t("en", "copy"), lines=4, interactive=False,
                                              buttons=["copy"], elem_id="copy")
                        with gr.Row():
                            comment_box = gr.Textbox(label=t("en", "feedback"), scale=4,
                                                     elem_id="comment")
                            send_comment = gr.Button(t("en", "send_feedback"), scale=1)
                        status = gr.Markdown("", elem_id="feedback-status")
                        clear = gr.Button(t("en", "clear"), size="sm")
                    with gr.Column(scale=2):
                        sources_title = gr.Markdown(f"### {t('en', 'sources')}")
                        sources = gr.HTML(sources_html([], "en"), elem_id="sources")
            with gr.Tab(t("en", "tab_orientation"), id="orientation",
                        elem_id="tab-orientation") as tab_orient:
                about = gr.Markdown(orient.about_markdown("en"), elem_id="about")
                themes_title = gr.Markdown(f"### {t('en', 'themes')}")
                stone_buttons: list[tuple[Any, int]] = []
                for title_en, title_zh, numbers in orient.THEMES:
                    with gr.Accordion(f"{title_en} · {title_zh}", open=False):
                        for n in numbers:
                            if n not in stones:
                                continue
                            gr.HTML(orient.stone_html(stones[n], "en"))
                            stone_buttons.append((gr.Button(f"{t('en', 'ask_about')} ({n})",
                                                            size="sm"), n))
                glossary_title = gr.Markdown(f"### {t('en', 'glossary')}")
                gr.Dataframe(orient.glossary_rows(retriever), headers=["English", "中文", "in paper"],
                             interactive=False, elem_id="glossary")
                first_title = gr.Markdown(f"### {t('en', 'first_questions')}")
                first = gr.Dataset(components=[gr.Textbox(visible=False)],
                                   samples=[[q] for q in orient.FIRST_QUESTIONS["en"]],
                                   elem_id="first-questions")

        outputs = [chatbot, sources, copy_box, suggestions, answers, question]
        inputs = [question, chatbot, answers, doc_filter, lang_filter, ui_lang]
        send.click(respond, inputs, outputs, api_visibility="private")
        question.submit(respond, inputs, outputs, api_visibility="private")

        def pick(sample: list[str]) -> str:
            return sample[0]

        suggestions.click(pick, [suggestions], [question], api_visibility="private").then(
            respond, inputs, outputs, api_visibility="private")
        first.click(pick, [first], [question], api_visibility="private").then(
            lambda: gr.Tabs(selected="ask"), None, [tabs], api_visibility="private").then(
            respond, inputs, outputs, api_visibility="private")
        for button, n in stone_buttons:
            def ask_stone(ui: str, n: int = n):  # type: ignore[no-untyped-def]
                text = (f"阶石 {n} 的内容和含义是什么？" if _ui_lang(ui) == "zh"
                        else f"What does stepping stone {n} ask for, and what does it mean?")
                return text, gr.Tabs(selected="ask")

            button.click(ask_stone, [ui_lang], [question, tabs], api_visibility="private").then(
                respond, inputs, outputs, api_visibility="private")
        chatbot.like(like, [answers], [status], api_visibility="private")
        send_comment.click(comment, [comment_box, answers, ui_lang], [status, comment_box],
                           api_visibility="private")
        clear.click(lambda ui: ([], sources_html([], _ui_lang(ui)), "", [], ""), [ui_lang],
                    [chatbot, sources, copy_box, answers, status], api_visibility="private")
        ui_lang.change(switch, [ui_lang], [
            header, question, send, clear, sources_title, copy_box, comment_box, send_comment,
            doc_filter, lang_filter, about, themes_title, glossary_title, first_title, first,
            tab_ask, tab_orient, filters_box], api_visibility="private")

        def ask(question: str, history: list[str] | None = None) -> dict:
            """Answer a question with cited passages (the whole Answer as JSON).

            `history`: up to 20 earlier questions of the conversation, most recent last."""
            refused = refusal(question, history)
            if refused is not None:
                return refused.to_dict()
            return assistant.ask(question, history=history or []).to_dict()

        gr.api(ask, api_name="ask")
    return demo


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
                footer_links=["api"], css=CSS, js=JS, theme=_theme(),
                max_file_size=settings.max_file_bytes, app_kwargs=guarded(limiter))
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
