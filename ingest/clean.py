"""Repair extracted text into blocks: paragraphs, bullets, headings, footnotes, artefacts.

Every block keeps, for each of its characters, the offset it came from in the source, so a
chunk can always point back at the exact span of the original file it was cut from.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

_CJK = "\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef\u2014\u2018\u2019\u201c\u201d\u2026"
_CJK_RE = re.compile(f"[{_CJK}]")
_SEPARATOR = re.compile(r"^\s*[_\-–—=]{5,}\s*$")
_URL_LINE = re.compile(r"^\s*(https?://\S+)\s*$")
_BULLET = re.compile(r"^(\s*)([•·▪●◦‣\-\*])\s+")
_MD_HEADING = re.compile(r"^(#{1,6})\s+")
_PAGE_LEFTOVER = re.compile(r"^\s*(\d{1,3}|\d{2}-\d{5}|[A-Z]{2,}/[A-Z0-9./]+)\s*$")
_LINE_END = re.compile(r"[。．.!?！？：:；;）)」』”\"]$")
# A numbered paragraph ("3. The Conference…") or action ("Action 21: …") starts a block.
_NUMBERED = re.compile(r"^\s{0,3}(?:(\d{1,3})[.)]\s+\S|(Action\s+\d{1,3})\s*[:.–—]\s)")
# Markdown links and images keep their text: "[Preamble](../x.md)" reads "Preamble".
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)"
                      r"|!?\[([^\]\n]+)\]\[[^\]\n]*\]")
_FOOTNOTE_LABEL = re.compile(r"^\s*(\d{1,3}|\*{1,3})\s+")
# A marker sits at a line end right after CJK text or closing punctuation: "…《部长宣言》1".
_MARKER = re.compile(rf"(?<=[{_CJK})\]])\s*(\*{{1,3}}|\d{{1,2}})\s*$")


@dataclass
class Block:
    """A run of source lines that forms one piece of content (or an artefact)."""

    kind: str  # paragraph | numbered | bullet | heading | footnote | separator | url | page | comment
    text: str = ""
    offsets: list[int] = field(default_factory=list, repr=False)
    level: int = 0  # markdown heading level
    label: str = ""  # footnote label ("1", "*"); a numbered paragraph's "3" or "Action 21"
    markers: list[str] = field(default_factory=list)  # footnote markers found in the text
    lines: list[tuple[int, str]] = field(default_factory=list, repr=False)

    @property
    def span(self) -> tuple[int, int]:
        if not self.lines:
            return (0, 0)
        start, first = self.lines[0]
        end, last = self.lines[-1]
        return (start, end + len(last))

    @property
    def is_content(self) -> bool:
        return self.kind not in ("separator", "url", "page", "comment")


def _is_cjk(ch: str) -> bool:
    return bool(_CJK_RE.match(ch))


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        out.append((pos, line.rstrip("\r\n")))
        pos += len(line)
    return out


def _double_spaced(lines: list[tuple[int, str]]) -> bool:
    """PDF extractions put a blank line after every line; then blank lines are no breaks.

    A text with one paragraph per line and blank lines between looks the same, except that
    its lines end sentences: a double-spaced extraction has many full-width lines cut
    mid-sentence (the working paper: 59 %; paragraphs and their headings: none)."""
    nonblank = [i for i, (_, s) in enumerate(lines) if s.strip()]
    if len(nonblank) < 4:
        return False
    followed = sum(1 for i in nonblank if i + 1 < len(lines) and not lines[i + 1][1].strip())
    texts = [lines[i][1].strip() for i in nonblank]
    median = statistics.median(len(t) for t in texts)
    cut = sum(1 for t in texts if len(t) >= 0.5 * median and not _LINE_END.search(t))
    return followed / len(nonblank) >= 0.7 and cut / len(nonblank) >= 0.3


def _join(block: Block, markdown: bool = False) -> None:
    """Build block.text/offsets from its lines: CJK joins without space, Latin with one."""
    out = _spaces(_line_chars(block))
    if markdown:
        out = _unlink(out)
    block.text = "".join(c for c, _ in out)
    block.offsets = [o for _, o in out]


def _markup(block: Block, first_line: str) -> int:
    """Return how many characters at the start of a block's first line are markup: a bullet,
    a heading's #s, a footnote's own label."""
    m = None
    if block.kind == "bullet":
        m = _BULLET.match(first_line)
    elif block.kind == "heading":
        m = _MD_HEADING.match(first_line)
    elif block.kind == "footnote" and block.label:
        m = _FOOTNOTE_LABEL.match(first_line)
        m = m if m and m.group(1) == block.label else None
    return m.end() if m else 0


def _line_chars(block: Block) -> list[tuple[str, int]]:
    """Return the block's characters with their source offsets, lines joined by a space whose
    offset is -1 (resolved by _spaces); markup and footnote markers left out."""
    chars: list[tuple[str, int]] = []
    for n, (start, line) in enumerate(block.lines):
        skip = _markup(block, line) if n == 0 else 0
        end = len(line)
        if block.kind != "footnote":
            m = _MARKER.search(line)
            if m and m.group(1) in block.markers:
                end = m.start()
        piece = [(line[i], start + i) for i in range(skip, end)]
        if chars and piece:
            chars.append((" ", -1))  # a line join; resolved by _spaces
        chars.extend(piece)
    return chars


def _spaces(chars: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Resolve whitespace: drop it between CJK characters (and CJK and digits); else one space."""
    out: list[tuple[str, int]] = []
    i = 0
    while i < len(chars):
        ch, off = chars[i]
        if not ch.isspace():
            out.append((ch, off))
            i += 1
            continue
        j = i
        while j < len(chars) and chars[j][0].isspace():
            j += 1
        prev = out[-1][0] if out else ""
        nxt = chars[j][0] if j < len(chars) else ""
        line_join = any(o == -1 for _, o in chars[i:j])
        if prev and nxt:
            cjk_side = _is_cjk(prev) or _is_cjk(nxt)
            glue = cjk_side and (
                (_is_cjk(prev) or prev.isdigit() or line_join)
                and (_is_cjk(nxt) or nxt.isdigit() or line_join)
            )
            if line_join and prev == "-" and nxt.islower() and len(out) > 1 and out[-2][0].isalpha():
                out.pop()  # a word hyphenated across lines
            elif not glue:
                off = next((o for _, o in chars[i:j] if o >= 0), out[-1][1])
                out.append((" ", off))
        i = j
    return out


def _unlink(chars: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Reduce markdown links and images to their text, each kept character keeping its offset."""
    text = "".join(c for c, _ in chars)
    keep: list[tuple[str, int]] = []
    pos = 0
    for m in _MD_LINK.finditer(text):
        group = 1 if m.group(1) is not None else 2
        keep.extend(chars[pos:m.start()])
        keep.extend(chars[m.start(group):m.end(group)])
        pos = m.end()
    keep.extend(chars[pos:])
    return keep


def _comment_lines(lines: list[tuple[int, str]]) -> set[int]:
    """Return the start offsets of lines inside HTML comments: markdown never shows them."""
    hidden: set[int] = set()
    inside = False
    for start, line in lines:
        if inside or line.lstrip().startswith("<!--"):
            hidden.add(start)
            inside = "-->" not in line
    return hidden


def clean(text: str, fmt: str = "txt") -> list[Block]:
    """Return the text's blocks in order, content and artefacts alike."""
    lines = _lines(text)
    reader = _Blocks(text, double=fmt != "md" and _double_spaced(lines), markdown=fmt == "md",
                     hidden=_comment_lines(lines) if fmt == "md" else set())
    for start, line in lines:
        reader.add(start, line)
    reader.close()
    blocks = reader.blocks
    _link_footnotes(blocks)
    for block in blocks:
        if block.is_content:
            _join(block, markdown=fmt == "md")
    return [b for b in blocks if not b.is_content or b.text]


class _Blocks:
    """Groups a text's lines into blocks, line by line (see clean)."""

    def __init__(self, text: str, double: bool, markdown: bool, hidden: set[int]) -> None:
        self.text = text
        self.double = double  # a double-spaced extraction: blank lines are no breaks
        self.markdown = markdown
        self.hidden = hidden  # lines inside HTML comments
        self.blocks: list[Block] = []
        self.current: Block | None = None
        self.in_footnotes = False

    def close(self) -> None:
        if self.current is not None:
            self.blocks.append(self.current)
        self.current = None

    def add(self, start: int, line: str) -> None:
        if not line.strip():
            if not self.double:
                self.close()
            return
        artefact = self._artefact(start, line)
        heading = self.markdown and _MD_HEADING.match(line)
        if artefact or heading:
            self.close()
            self.blocks.append(Block(artefact or "heading", lines=[(start, line)],
                                     level=len(heading.group(1)) if heading else 0))
            return
        bullet = _BULLET.match(line) and not (self.in_footnotes and line.lstrip().startswith("*"))
        numbered = None if self.double else _NUMBERED.match(line)
        if self.current is None or bullet or numbered or (self.double and line[:1].isspace()):
            self.close()
            self.current = self._start(start, line, bool(bullet), numbered)
        else:
            self.current.lines.append((start, line))

    def _artefact(self, start: int, line: str) -> str:
        """Return the kind of artefact the line is ("" for none); a separator opens the
        footnotes, a repeated link closes them."""
        if start in self.hidden:
            return "comment"
        if _SEPARATOR.match(line):
            self.in_footnotes = True
            return "separator"
        url = _URL_LINE.match(line)
        if url and self.text.count(url.group(1).split("://", 1)[1]) > 1:
            self.in_footnotes = False  # a PDF link annotation repeating a URL the text shows
            return "url"
        if self.double and _PAGE_LEFTOVER.match(line):
            return "page"
        return ""

    def _start(self, start: int, line: str, bullet: bool, numbered: re.Match[str] | None) -> Block:
        """Return the block a line opens: a footnote, a numbered paragraph, a bullet, a paragraph."""
        if self.in_footnotes:
            label = _FOOTNOTE_LABEL.match(line)
            first = not any(b.kind == "footnote" for b in self.blocks[-3:])
            if label or first:
                return Block("footnote", label=label.group(1) if label else "", lines=[(start, line)])
            self.in_footnotes = False
        if numbered:
            number = numbered.group(1) or " ".join(numbered.group(2).split())
            return Block("numbered", label=number, lines=[(start, line)])
        return Block("bullet" if bullet else "paragraph", lines=[(start, line)])


def _link_footnotes(blocks: list[Block]) -> None:
    """Find each footnote's marker in the body; an unlabelled first footnote is the '*' one."""
    body = [b for b in blocks if b.kind in ("paragraph", "bullet", "numbered")]
    found: dict[str, Block] = {}
    for block in body:
        for _, line in block.lines:
            m = _MARKER.search(line)
            if m:
                found.setdefault(m.group(1), block)
    for note in (b for b in blocks if b.kind == "footnote"):
        if not note.label and "*" in found:
            note.label = "*"
        owner = found.get(note.label)
        if owner is not None and note.label not in owner.markers:
            owner.markers.append(note.label)
