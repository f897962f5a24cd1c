"""Answer -> chat markdown, sources-panel HTML and plain text. Document text is always escaped:
passages are shown as inert text, whatever markup or instructions they contain."""

from __future__ import annotations

import html
import re

from assistant.answer import Answer, Citation
from assistant.ui.places import Places
from assistant.ui.strings import t

# "$" too: "$$…$$" would render as maths. Autolinks need "://", "www." or "@" unescaped:
# a URL typed in a question or quoted from a document stays text, never a live link.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~$@])|(?<=[A-Za-z]):(?=//)|(?<=\bwww)\.", re.I)


def md_escape(text: str) -> str:
    """Escape markdown and HTML metacharacters so document text renders literally."""
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def place(c: Citation, lang: str, places: Places | None) -> str:
    """Return where a cited passage sits, worded for `lang` when the catalog's places are known."""
    return places.of(c, lang) if places is not None else c.locator


def chat_markdown(answer: Answer, turn: int, places: Places | None = None) -> str:
    """Return the chat message for an answer: quotes with [n] links into the sources panel."""
    lang = answer.language
    if answer.error:
        return md_escape(answer.error)
    body = answer.text.split("\n")
    lines: list[str] = []
    if answer.follow_up_of:
        body = body[1:]  # the note is rendered here, in italics
        lines += [f"*{t(lang, 'followup')}: “{md_escape(answer.follow_up_of)}”*", ""]
    if answer.abstained:
        lines += [md_escape(line) for line in body]
        if answer.suggestions:
            lines += ["", md_escape(t(lang, "closest"))]
            lines += ["- " + md_escape(places.topic(s.chunk_id, lang) if places else s.label)
                      for s in answer.suggestions]
        return "\n".join(lines)
    lead = md_escape(body[0])
    for c in answer.citations:
        lead = lead.replace(f"\\[{c.number}\\]", cite_link(turn, c.number))
    lines += [lead, ""]
    comma = "，" if lang == "zh" else ", "
    for c in answer.citations:
        where = f"*{md_escape(place(c, lang, places))}{comma}{md_escape(c.kind_label)}*"
        if c.number > 1:  # [1]'s quote is the answer's first line already
            lines.append(f"> {cite_link(turn, c.number)} “{md_escape(c.quote)}”  ")
            lines.append(f"> — {where}")
        else:
            lines.append(f"> {cite_link(turn, c.number)} — {where}")
        lines.append("")
    return "\n".join(lines).strip()


def cite_link(turn: int, number: int) -> str:
    return f"[\\[{number}\\]](#src-{turn}-{number})"


def _highlight(passage: str, span: tuple[int, int]) -> str:
    s, e = span
    return (html.escape(passage[:s]) + "<mark>" + html.escape(passage[s:e]) + "</mark>"
            + html.escape(passage[e:]))


def _kind_label(c: Citation, lang: str) -> str:
    return t(lang, c.doc_kind) if c.original is None else t(lang, "rendering")


def side_label(passage_lang: str, kind: str, lang: str) -> str:
    """Label one side of a pair: its language and what it is (official, our rendering, note)."""
    key = {"official": "side_official", "note": "side_note"}.get(kind, "side_rendering")
    language = t(lang, f"lang_{passage_lang}") if passage_lang in ("en", "zh") else passage_lang
    return t(lang, key).format(language=language)


def source_card(c: Citation, turn: int, lang: str, places: Places | None = None) -> str:
    """Return one citation as HTML: the quote highlighted in its passage, with its original."""
    parts = [f'<div class="src" id="src-{turn}-{c.number}">',
             f'<div class="src-head"><span class="src-n">[{c.number}]</span> '
             f'<b class="doc-title">{html.escape(c.doc_title)}</b></div>',
             f'<div class="src-meta">{html.escape(place(c, lang, places))} · '
             f'<span class="kind kind-{html.escape(c.doc_kind)}">{html.escape(_kind_label(c, lang))}'
             f'</span></div>']
    other = c.original or c.rendering
    if other is not None:  # a passage and its counterpart side by side, Chinese first
        shown = (c.language, c.doc_kind, _highlight(c.passage, c.quote_span))
        beside = (other.language, other.kind, html.escape(other.text))
        pair = sorted([shown, beside], key=lambda p: p[0] != "zh")
        parts.append('<div class="pair">' + "".join(
            f'<div lang="{p_lang}"><div class="lbl">{html.escape(side_label(p_lang, kind, lang))}'
            f'</div>{body}</div>' for p_lang, kind, body in pair) + '</div>')
    else:
        parts.append(f'<div class="passage" lang="{html.escape(c.language)}">'
                     f'{_highlight(c.passage, c.quote_span)}</div>')
    parts.append("</div>")
    return "".join(parts)


def sources_html(turns: list[Answer], lang: str, places: Places | None = None) -> str:
    """Return the sources panel: the latest answer's passages open, earlier ones folded."""
    answered = [(i, a) for i, a in enumerate(turns) if a.citations]
    if not answered:
        return f'<div class="src-empty">{html.escape(t(lang, "no_sources"))}</div>'
    blocks = []
    for n, (i, answer) in enumerate(reversed(answered)):
        cards = "".join(source_card(c, i, lang, places) for c in answer.citations)
        summary = html.escape(answer.question[:90])
        blocks.append(f'<details class="turn" id="turn-{i}"{" open" if n == 0 else ""}>'
                      f"<summary>{summary}</summary>{cards}</details>")
    return "".join(blocks)
