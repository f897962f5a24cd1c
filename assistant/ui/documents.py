"""The Documents tab: what the index holds, upload, remove, and the ingest that follows, with its
progress and a summary of what it added, replaced, removed and kept.

Storage rules live in `uploads.py` and the background run in `ingest_job.py`; this module only
lists, renders and wires the components. Gradio is imported here at the top (not lazily as in
app.py) because Gradio reads the `gr.Request` annotations of the handlers below."""

import html
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from assistant.ui.ingest_job import IngestJob, JobState
from assistant.ui.uploads import MAX_FILES, DocumentFolder, Saved, UploadError, safe_name
from ingest.catalog import Catalog
from ingest.settings import Settings

Strings = Callable[[str, str], str]  # assistant.ui.strings.t: (language, key) -> text
KIND_CHOICES = ("user", "official", "note")  # what a person may declare; renderings are ours
KIND_LABELS = ("official", "rendering", "note", "user")  # keys of strings.py
_ROW_FIELDS = ("doc_id", "doc_title", "doc_kind", "language", "origin", "added_by", "added_at",
               "source_file")


@dataclass
class DocumentRow:
    """One indexed document as the tab lists it."""

    doc_id: str
    title: str
    kind: str
    languages: str
    passages: int
    added_at: str
    added_by: str
    origin: str  # "bundled" | "user"
    source_file: str


def list_documents(catalog: Catalog | None) -> list[DocumentRow]:
    """Return every document of a catalog: user documents first, newest first, then the rest."""
    if catalog is None or not len(catalog):
        return []
    columns = {name: catalog.column(name) for name in _ROW_FIELDS}
    rows: dict[str, DocumentRow] = {}
    languages: dict[str, set[str]] = defaultdict(set)
    for i, doc_id in enumerate(columns["doc_id"]):
        if doc_id not in rows:
            c = {name: values[i] for name, values in columns.items()}
            rows[doc_id] = DocumentRow(doc_id, c["doc_title"], c["doc_kind"], "", 0, c["added_at"],
                                       c["added_by"], c["origin"], c["source_file"])
        rows[doc_id].passages += 1
        languages[doc_id].add(columns["language"][i])
    for row in rows.values():
        row.languages = ", ".join(sorted(languages[row.doc_id]))
    ordered = sorted(rows.values(), key=lambda r: r.title.lower())
    ordered.sort(key=lambda r: r.added_at, reverse=True)
    ordered.sort(key=lambda r: r.origin != "user")  # stable: keeps the orders above within
    return ordered


def load_catalog(settings: Settings, assistant: Any = None) -> Catalog | None:
    """Return the catalog the last ingest wrote (what the index holds now, even before the
    assistant has loaded it), else the one the assistant answers from."""
    catalog = Catalog.load(settings.catalog_path)
    if catalog is None and assistant is not None:
        catalog = getattr(getattr(assistant, "retriever", None), "chunks", None)
    return catalog


def headers(t: Strings, lang: str) -> list[str]:
    return [t(lang, f"docs_col_{name}") for name in
            ("title", "kind", "language", "passages", "added", "added_by", "source")]


def table(rows: list[DocumentRow], folder: DocumentFolder, t: Strings, lang: str) -> list[list]:
    """Return the table cells for the rows, in a UI language."""
    cells = []
    for row in rows:
        languages = ", ".join(t(lang, f"lang_{code}") if code in ("en", "zh") else code
                              for code in row.languages.split(", "))
        cells.append([row.title, t(lang, row.kind) if row.kind in KIND_LABELS else row.kind,
                      languages, row.passages, _when(row.added_at), row.added_by or "—",
                      source_label(row, folder, t, lang)])
    return cells


def _when(stamp: str) -> str:
    """An ingest time (UTC, ISO 8601) to the minute; as stored when it is not one."""
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp or "—"


def source_label(row: DocumentRow, folder: DocumentFolder, t: Strings, lang: str) -> str:
    """Where a document comes from: the bundled corpus, an upload, or a folder given to the CLI."""
    if row.origin != "user":
        return t(lang, "docs_source_bundled")
    if folder.holds(row.source_file):
        return t(lang, "docs_source_uploaded").format(file=Path(row.source_file).name)
    return t(lang, "docs_source_cli").format(folder=str(Path(row.source_file).parent))


def removable(rows: list[DocumentRow], folder: DocumentFolder) -> list[tuple[str, str]]:
    """Return (label, document id) of the documents the tab may remove: uploads only."""
    return [(f"{row.title} ({Path(row.source_file).name})", row.doc_id) for row in rows
            if row.origin == "user" and folder.holds(row.source_file)]


def removal_refusal(row: DocumentRow | None, doc_id: str, folder: DocumentFolder) -> UploadError | None:
    """Why a document cannot be removed here (None: it can)."""
    if row is None:
        return UploadError("unknown", file=doc_id)
    if row.origin != "user":
        return UploadError("bundled", file=row.title)
    if not folder.holds(row.source_file):
        return UploadError("cli", file=row.title, folder=str(Path(row.source_file).parent))
    return None


def login_missing(request: Any, settings: Settings) -> bool:
    """True when a login is configured and this request has none."""
    app = getattr(getattr(request, "request", None), "app", None)
    configured = (getattr(app, "auth", None) is not None
                  or getattr(app, "auth_dependency", None) is not None or bool(settings.auth))
    return configured and not getattr(request, "username", None)


def uploaded_path(item: Any) -> Path:
    """Return the server-side path of a file Gradio received; refuse one from anywhere else
    (a forged call naming /etc/passwd must not be copied in)."""
    path = Path(item if isinstance(item, str) else getattr(item, "name", ""))
    folder = Path(get_upload_folder()).resolve()
    if folder not in path.resolve().parents:
        raise UploadError("outside", file=path.name, folder=str(folder))
    return path


def status_html(state: JobState, t: Strings, lang: str, notes: list[str] | None = None) -> str:
    """Return the progress bar while an ingest runs, the summary once it has ended."""
    lines = [f'<p class="docs-note">{html.escape(n)}</p>' for n in notes or []]
    if state.running:
        return "".join(lines) + progress_html(state, t, lang)
    if state.phase in ("done", "failed"):
        return "".join(lines) + summary_html(state, t, lang)
    return "".join(lines)


def progress_html(state: JobState, t: Strings, lang: str) -> str:
    """A progress bar (indeterminate until the first passages are written) and what it does."""
    if state.phase == "indexing" and state.total:
        text = t(lang, "docs_progress").format(doc=state.current, done=state.done, total=state.total)
        bar = f'<progress max="{state.total}" value="{state.done}"></progress>'
    else:
        text = t(lang, f"docs_phase_{state.phase}")
        bar = "<progress></progress>"  # no value: the browser shows it as busy
    return f'<div id="docs-progress" class="docs-progress">{bar} <span>{html.escape(text)}</span></div>'


def summary_html(state: JobState, t: Strings, lang: str) -> str:
    """Name what the run added, replaced, removed and kept, and whether answers use it yet."""
    if state.phase == "failed":
        return (f'<div id="docs-summary" class="docs-failed"><p>'
                f'{html.escape(t(lang, "docs_failed").format(error=state.error))}</p></div>')
    report, titles = state.report, {**state.before, **state.after}
    parts = [f'<p><b>{html.escape(t(lang, "docs_done").format(seconds=state.seconds))}</b></p>']
    shown_unchanged = report.unchanged if state.action == "add" else []  # re-uploaded as they were
    for key, ids in (("added", report.added), ("replaced", report.updated),
                     ("removed", report.pruned), ("unchanged", shown_unchanged)):
        if ids:
            parts.append(_line(t(lang, f"docs_done_{key}"), ", ".join(titles.get(d, d) for d in ids)))
    kept = getattr(report, "kept", None)  # the pipeline's count when it gives one
    others = (len(kept) if kept is not None else len(state.after) - len(report.added)
              - len(report.updated)) - len(shown_unchanged)
    parts.append(_line(t(lang, "docs_done_kept"), t(lang, "docs_documents").format(n=max(others, 0))))
    for name, why in state.refused:
        parts.append(_line(t(lang, "docs_done_refused"), f"{name}: {why}"))
    for error in [e for e in report.errors if not any(why in e for _, why in state.refused)]:
        parts.append(_line(t(lang, "docs_done_problem"), error))
    live = {True: "docs_live", False: "docs_live_same", None: "docs_restart"}[state.refreshed]
    parts.append(f"<p>{html.escape(t(lang, live))}</p>")
    return f'<div id="docs-summary">{"".join(parts)}</div>'


def _line(label: str, text: str) -> str:
    return f"<p><b>{html.escape(label)}:</b> {html.escape(text)}</p>"


class _Tab:
    """What the event handlers share: the folder, the job, the strings; and the two actions."""

    def __init__(self, assistant: Any, settings: Settings, t: Strings, folder: DocumentFolder) -> None:
        self.assistant, self.settings, self.t, self.folder = assistant, settings, t, folder
        self.job = IngestJob(settings, assistant,
                             titles=lambda: {r.doc_id: r.title for r in self.rows()})

    def rows(self) -> list[DocumentRow]:
        return list_documents(load_catalog(self.settings, self.assistant))

    def view(self, lang: str) -> tuple[Any, Any]:
        """The table and the removal choices as they stand on disk."""
        rows = self.rows()
        return (gr.update(value=table(rows, self.folder, self.t, lang), headers=headers(self.t, lang),
                          label=self.t(lang, "docs_list")),
                gr.update(choices=removable(rows, self.folder), value=None,
                          label=self.t(lang, "docs_pick")))

    def add(self, items: Any, kind: str, lang: str, request: Any) -> tuple[list[str], bool]:
        """Store the uploads and start their ingest; return notes to show, and whether it began."""
        items = [i for i in (items if isinstance(items, list) else [items]) if i]
        refusal = self._refusal(request, lang) or (None if items else self.t(lang, "docs_none"))
        if refusal is None and len(items) > MAX_FILES:
            refusal = UploadError("count", n=MAX_FILES, count=len(items)).message(lang)
        if refusal is None and not self.job.begin("add"):
            refusal = self.t(lang, "docs_busy")
        if refusal is not None:
            return [refusal], False
        kind = kind if kind in KIND_CHOICES else "user"
        saved, notes = self._save(items, kind, lang)
        if not saved:
            self.job.abort()
            return notes, False
        self.job.run([item.path for item in saved], saved, kind=kind,
                     added_by=getattr(request, "username", None))
        return notes, True

    def _save(self, items: list[Any], kind: str, lang: str) -> tuple[list[Saved], list[str]]:
        """Copy each upload into the folder with its kind declared beside it (so later ingests
        keep it); return what was saved and a line for each file refused."""
        from ingest.manifest import ManifestError, declare

        saved: list[Saved] = []
        notes: list[str] = []
        for item in items:
            try:
                source = uploaded_path(item)
                if safe_name(source.name) in {s.path.name for s in saved}:
                    raise UploadError("twice", file=source.name)
                one = self.folder.add(source, source.name)
            except UploadError as exc:
                notes.append(exc.message(lang))
                continue
            try:
                declare(one.path, kind=kind)
            except (OSError, ManifestError) as exc:  # a damaged documents.yaml: say which
                one.undo()
                notes.append(f"{source.name}: {exc}")
                continue
            saved.append(one)
        return saved, notes

    def remove(self, doc_id: Any, lang: str, request: Any) -> tuple[list[str], bool]:
        """Delete an uploaded document's file and start the ingest that prunes it."""
        refusal = self._refusal(request, lang) or (None if doc_id else self.t(lang, "docs_pick_none"))
        if refusal is not None:
            return [refusal], False
        row = next((r for r in self.rows() if r.doc_id == doc_id), None)
        problem = removal_refusal(row, str(doc_id), self.folder)
        if problem is not None or row is None:
            return [problem.message(lang) if problem else ""], False
        if not self.job.begin("remove"):
            return [self.t(lang, "docs_busy")], False
        try:
            self.folder.remove(row.source_file, row.title)
        except UploadError as exc:
            self.job.abort()
            return [exc.message(lang)], False
        except OSError as exc:
            self.job.abort()
            return [f"{row.title}: {exc.strerror}"], False
        self.job.run(None, [], prune=True, added_by=getattr(request, "username", None))
        return [], True

    def _refusal(self, request: Any, lang: str) -> str | None:
        return self.t(lang, "docs_login") if login_missing(request, self.settings) else None


def _lang(choice: str) -> str:
    return "zh" if choice == "中文" else "en"


def build_documents_tab(assistant: Any, settings: Settings, t: Strings, ui_lang: Any) -> Any:
    """Add the Documents tab to the Blocks being built (call inside `gr.Tabs()`); return it."""
    folder = DocumentFolder(settings.data_dir, settings.max_file_bytes)
    tab_state = _Tab(assistant, settings, t, folder)
    rows = tab_state.rows()
    with gr.Tab(t("en", "tab_documents"), id="documents", elem_id="tab-documents") as tab:
        intro = gr.Markdown(intro_text(settings, t, "en"), elem_id="docs-intro")
        with gr.Row():
            with gr.Column(scale=3):
                files = gr.File(file_count="multiple", label=t("en", "docs_files"),
                                elem_id="docs-upload", height=140)
                kind = gr.Radio(kind_choices(t, "en"), value="user", label=t("en", "docs_kind"),
                                elem_id="docs-kind")
                add = gr.Button(t("en", "docs_add"), variant="primary", elem_id="docs-add")
            with gr.Column(scale=2):
                pick = gr.Dropdown(removable(rows, folder), value=None, label=t("en", "docs_pick"),
                                   elem_id="docs-remove-pick")
                remove = gr.Button(t("en", "docs_remove"), variant="stop", elem_id="docs-remove")
        status = gr.HTML("", elem_id="docs-status")
        listing = gr.Dataframe(table(rows, folder, t, "en"), headers=headers(t, "en"),
                               interactive=False, wrap=True, elem_id="docs-table",
                               column_widths=["30%", "15%", "8%", "7%", "13%", "9%", "18%"],
                               label=t("en", "docs_list"))
        timer = gr.Timer(1.0, active=False)
    _wire(tab_state, tab, ui_lang, (intro, files, kind, add, pick, remove, status, listing, timer))
    return tab


def intro_text(settings: Settings, t: Strings, lang: str) -> str:
    return t(lang, "docs_intro").format(mb=f"{settings.max_file_bytes / 1_000_000:g}", n=MAX_FILES)


def kind_choices(t: Strings, lang: str) -> list[tuple[str, str]]:
    return [(t(lang, f"docs_kind_{k}"), k) for k in KIND_CHOICES]


def _wire(s: _Tab, tab: Any, ui_lang: Any, parts: tuple[Any, ...]) -> None:
    """Connect the tab's events: add, remove, the progress timer, opening the tab, language."""
    intro, files, kind, add, pick, remove, status, listing, timer = parts
    notes = gr.State([])
    private: dict[str, Any] = {"api_visibility": "private"}

    def on_add(items: Any, chosen: str, ui: str, request: gr.Request):  # type: ignore[no-untyped-def]
        lang = _lang(ui)
        shown, started = s.add(items, chosen, lang, request)
        state = s.job.snapshot() if started else JobState()
        return (status_html(state, s.t, lang, shown), shown, gr.Timer(active=started),
                None if started else gr.skip())

    def on_remove(doc_id: Any, ui: str, request: gr.Request):  # type: ignore[no-untyped-def]
        lang = _lang(ui)
        shown, started = s.remove(doc_id, lang, request)
        state = s.job.snapshot() if started else JobState()
        return status_html(state, s.t, lang, shown), shown, gr.Timer(active=started)

    def on_tick(shown: list[str], ui: str):  # type: ignore[no-untyped-def]
        lang, state = _lang(ui), s.job.snapshot()
        if state.running:
            return status_html(state, s.t, lang, shown), gr.skip(), gr.skip(), gr.skip()
        return (status_html(state, s.t, lang, shown), *s.view(lang), gr.Timer(active=False))

    def on_open(ui: str):  # type: ignore[no-untyped-def]
        lang, state = _lang(ui), s.job.snapshot()
        return (status_html(state, s.t, lang), *s.view(lang), gr.Timer(active=state.running))

    def on_switch(ui: str):  # type: ignore[no-untyped-def]
        lang = _lang(ui)
        return (gr.update(label=s.t(lang, "tab_documents")), intro_text(s.settings, s.t, lang),
                gr.update(label=s.t(lang, "docs_files")),
                gr.update(choices=kind_choices(s.t, lang), label=s.t(lang, "docs_kind")),
                gr.update(value=s.t(lang, "docs_add")), gr.update(value=s.t(lang, "docs_remove")),
                *s.view(lang))

    add.click(on_add, [files, kind, ui_lang], [status, notes, timer, files], show_progress="hidden",
              **private)
    remove.click(on_remove, [pick, ui_lang], [status, notes, timer], show_progress="hidden",
                 **private)
    timer.tick(on_tick, [notes, ui_lang], [status, listing, pick, timer], **private)
    tab.select(on_open, [ui_lang], [status, listing, pick, timer], **private)
    ui_lang.change(on_switch, [ui_lang], [tab, intro, files, kind, add, remove, listing, pick],
                   **private)
