"""The Gradio app: the header and language switch, the tabs (Ask, Orientation, Documents), the
/ask API, and the server around them (login, edge guard, start-up)."""

import ipaddress
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any

from assistant.ui import auth as auth_module
from assistant.ui.ask_tab import build_ask_tab, wire_ask_tab
from assistant.ui.assets import CSS, SWITCH_JS, page_js
from assistant.ui.edge import LoginLimiter, guarded
from assistant.ui.inputs import refusal
from assistant.ui.orientation_tab import build_orientation_tab, wire_orientation_tab
from assistant.ui.render import md_escape
from assistant.ui.strings import choice_lang, t
from assistant.ui.uploads import upload_body_limit
from assistant.ui.wording import Wording
from ingest.lexical import warm_up
from ingest.settings import Settings, apply_offline_env

log = logging.getLogger(__name__)


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
            ask_ui = build_ask_tab(gr, words, settings, assistant.retriever.chunks.titles())
            tour = build_orientation_tab(gr, words, assistant.retriever)
            from assistant.ui.documents import build_documents_tab  # imports gradio: lazily

            build_documents_tab(assistant, settings, t, ui_lang)
        ask_ui.answers, ask_ui.ui_lang, ask_ui.tabs = answers, ui_lang, tabs
        wire_ask_tab(gr, ask_ui, assistant, settings)
        wire_orientation_tab(gr, tour, ask_ui)
        ui_lang.change(lambda ui: words.updates(choice_lang(ui)), [ui_lang], words.components,
                       api_visibility="private").then(
            None, [ui_lang], None, js=SWITCH_JS, api_visibility="private")

        def ask(question: str, history: list[str] | None = None) -> dict:
            """Answer a question with cited passages (the whole Answer as JSON).

            `history`: up to 20 earlier questions of the conversation, most recent last."""
            refused = refusal(question, history, settings)
            if refused is not None:
                return refused.to_dict()
            return assistant.ask(question, history=history or []).to_dict()

        gr.api(ask, api_name="ask")
    return demo


def _heading(lang: str) -> str:
    return f"# {t(lang, 'title')}\n{t(lang, 'subtitle')}"


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
                app_kwargs=guarded(limiter, upload_bytes=upload_body_limit(settings.max_file_bytes)))
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
