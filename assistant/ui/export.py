"""An answer as text a drafter pastes, and a conversation as a Markdown or Word file.

Quotes are whole sentences here (the chat may show a run-on sentence cut with "…"); each file
holds every question, its answer and every cited passage beside its original or rendering."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from assistant.answer import Answer, Citation
from assistant.ui.places import Places
from assistant.ui.render import place, side_label
from assistant.ui.strings import t
from ingest.chunk import split_sentences

KEEP_SECONDS = 3600  # exported files older than this are deleted at the next export


def whole_quote(c: Citation) -> str:
    """Return a citation's quote as whole sentences (a cut run-on sentence in full)."""
    if not c.quote.endswith("…"):
        return c.quote
    s, e = c.quote_span
    spans = [span for span in split_sentences(c.passage) if span[0] < e and span[1] > s]
    return c.passage[spans[0][0]:spans[-1][1]].strip() if spans else c.passage.strip()


def body(answer: Answer, places: Places | None = None) -> list[str]:
    """Return the answer's paragraphs as a reader pastes them: whole sentences with their [n]."""
    lang = answer.language
    if answer.error:
        return [answer.error]
    if answer.abstained or answer.mode != "extractive" or not answer.citations:
        # An abstention or a generated answer (its [n] checked) is its text as it stands.
        lines = [line for line in answer.text.splitlines() if line.strip()]
        if answer.suggestions:
            space, sep = ("", "；") if lang == "zh" else (" ", "; ")
            lines.append(t(lang, "closest") + space + sep.join(
                places.topic(s.chunk_id, lang) if places else s.label for s in answer.suggestions))
        return lines
    lines = []
    if answer.follow_up_of:
        lines.append(f"{t(lang, 'followup')}: “{answer.follow_up_of}”")
    return lines + [f"{whole_quote(c)} [{c.number}]" for c in answer.citations]


def source_line(c: Citation, lang: str, places: Places | None = None) -> str:
    """Return one entry of a source list: document, place and what kind of text it is."""
    where = place(c, lang, places)
    if lang == "zh":
        return f"[{c.number}] {c.doc_title}，{where}（{c.kind_label}）。"
    return f"[{c.number}] {c.doc_title}, {where} ({c.kind_label})."


def copy_text(answer: Answer, places: Places | None = None) -> str:
    """Return the text for the copy box: the answer's whole sentences, then its sources."""
    text = "\n\n".join(body(answer, places))
    if answer.citations:
        lang = answer.language
        colon = "：" if lang == "zh" else ":"
        text += f"\n\n{t(lang, 'export_sources')}{colon}\n" + "\n".join(
            source_line(c, lang, places) for c in answer.citations)
    return text


@dataclass
class Side:
    """One side of a cited passage: its text, and what it is (language, official or not)."""

    label: str
    text: str
    language: str


def sides(c: Citation, lang: str) -> list[Side]:
    """Return a cited passage and its counterpart (original or rendering), Chinese first."""
    shown = [(c.language, c.doc_kind, c.passage)]
    other = c.original or c.rendering
    if other is not None:
        shown.append((other.language, other.kind, other.text))
    shown.sort(key=lambda s: s[0] != "zh")
    return [Side(side_label(p_lang, kind, lang), text, p_lang) for p_lang, kind, text in shown]


def conversation_markdown(answers: list[Answer], lang: str, places: Places | None = None,
                          when: str = "") -> str:
    """Return the conversation as Markdown: each question, its answer, every cited passage."""
    out = [f"# {t(lang, 'export_title')}", "", t(lang, "export_date").format(date=when), ""]
    for i, answer in enumerate(answers, 1):
        out += [f"## {i}. {answer.question}", ""]
        for paragraph in body(answer, places):
            out += [paragraph, ""]
        if answer.citations:
            out += [f"### {t(lang, 'export_sources')}", ""]
        for c in answer.citations:
            out += [f"**{source_line(c, answer.language, places)}**", ""]
            for side in sides(c, lang):
                out += [f"*{side.label}*", ""]
                out += [f"> {line}" if line else ">" for line in side.text.splitlines()] + [""]
    return "\n".join(out).rstrip() + "\n"


def conversation_docx(answers: list[Answer], lang: str, path: Path, places: Places | None = None,
                      when: str = "") -> Path:
    """Write the conversation as a Word document (same content as the Markdown) and return it."""
    from docx import Document  # python-docx: only an export needs it

    doc = Document()
    doc.add_heading(t(lang, "export_title"), 0)
    doc.add_paragraph(t(lang, "export_date").format(date=when))
    for i, answer in enumerate(answers, 1):
        doc.add_heading(f"{i}. {answer.question}", 1)
        for paragraph in body(answer, places):
            doc.add_paragraph(paragraph)
        if answer.citations:
            doc.add_heading(t(lang, "export_sources"), 2)
        for c in answer.citations:
            doc.add_paragraph().add_run(source_line(c, answer.language, places)).bold = True
            for side in sides(c, lang):
                doc.add_paragraph().add_run(side.label).italic = True
                doc.add_paragraph(side.text, style="Quote")
    doc.save(str(path))
    return path


def write_exports(answers: list[Answer], lang: str, folder: Path,
                  places: Places | None = None) -> tuple[Path, Path]:
    """Write the conversation as .md and .docx in a fresh subfolder; return both paths.

    Files older than an hour are deleted first: Gradio serves its own copy of each."""
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.glob("*/conversation-*"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    for old in folder.iterdir():
        # Only old folders: a new empty one is another session's export being written.
        if old.is_dir() and old.stat().st_mtime < cutoff and not any(old.iterdir()):
            old.rmdir()
    here = folder / uuid.uuid4().hex[:12]
    here.mkdir()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    stem = "conversation-" + time.strftime("%Y%m%d-%H%M", time.gmtime())
    md = here / f"{stem}.md"
    md.write_text(conversation_markdown(answers, lang, places, when), encoding="utf-8")
    return md, conversation_docx(answers, lang, here / f"{stem}.docx", places, when)
