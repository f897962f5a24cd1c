"""Cleaned blocks -> Units: title block, sponsors, paragraphs, stepping stones, footnotes, sections.

Plain texts (the working paper) are read by their shape: short leading lines form the title
block, a list introduced under a "stepping stones" heading is numbered stone by stone, and
footnotes keep the marker that points at them. Markdown is read by its headings; a heading
with an explicit anchor (`## Stepping stone 10 {#ss-10}`) gives its section that stable id,
which a rendering uses to name the original unit it renders.
"""

from __future__ import annotations

import re

from ingest.clean import Block, clean
from ingest.documents import Document, Unit

_ANCHOR = re.compile(r"\s*\{#([A-Za-z0-9_.\-]+)\}\s*$")
_SENTENCE_END = re.compile(r"[。．.!?！？：:；;]$")
_DATE = re.compile(r"\d{4}\s*年|\b(19|20)\d{2}\b")
_ANNEX = re.compile(r"^(附件|Annex)\b", re.I)
_STONES = re.compile(r"阶石|stepping[- ]stones?", re.I)
# A treaty's preamble ends "… Have agreed as follows:"; people cite it as "the preamble".
_PREAMBLE = re.compile(r"\bagreed as follows:?\s*$", re.I)
_SPONSORS = re.compile(r"提交的联合工作文件|submitted by", re.I)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9\u3400-\u9fff]+", "-", text.lower()).strip("-")
    return slug[:48] or "section"


def _unit(block: Block, uid: str, kind: str, locator: str, **extra: object) -> Unit:
    return Unit(id=uid, kind=kind, locator=locator, text=block.text, span=block.span,
                offsets=block.offsets, **extra)  # type: ignore[arg-type]


def _footnote_id(label: str) -> str:
    return "fn-star" if label.startswith("*") else f"fn-{label}"


def structure_plain(blocks: list[Block]) -> list[Unit]:
    """Return units of a plain (non-markdown) text such as the extracted working paper."""
    content = [b for b in blocks if b.is_content]
    head = _title_block(content)
    units = [_unit(_merge(head), "title", "title", "Title block (date, place, title)")] if head else []
    reader = _PlainUnits(units)
    for block in content[len(head):]:
        reader.add(block)
    by_id = {u.id: u for u in units}
    for unit in units:
        for ref in unit.refs:
            if ref in by_id:
                by_id[ref].ref_by = unit.id
    return units


def _title_block(content: list[Block]) -> list[Block]:
    """Return the short lines before the first real paragraph: the title block."""
    head: list[Block] = []
    for block in content:
        if block.kind != "paragraph" or len(block.text) > 60 or _SENTENCE_END.search(block.text) \
                or _SPONSORS.search(block.text):
            break
        head.append(block)
    return head


class _PlainUnits:
    """Builds the units of a plain text block by block (see structure_plain)."""

    def __init__(self, units: list[Unit]) -> None:
        self.units = units
        self.in_annex = False
        self.list_name = ""  # "stone" when the list sits under a stepping-stones heading
        self.counters = {"p": 0, "annex-p": 0, "item": 0}

    def add(self, block: Block) -> None:
        text = block.text
        if block.kind == "footnote":
            label = block.label or "?"
            self.units.append(_unit(block, _footnote_id(label), "footnote", f"Footnote {label}"))
        elif block.kind == "paragraph" and _ANNEX.match(text) and len(text) <= 20:
            self.in_annex = True
            self.units.append(_unit(block, "annex", "heading", "Annex heading"))
        elif block.kind == "paragraph" and len(text) <= 40 and not _SENTENCE_END.search(text):
            self.heading(block)
        elif block.kind == "bullet":
            self.item(block)
        else:
            self.paragraph(block)
            self.units[-1].refs = [_footnote_id(m) for m in block.markers]

    def heading(self, block: Block) -> None:
        if _STONES.search(block.text):
            self.list_name = "stone"
        if self.units and self.units[-1].id == "annex":
            # "附件" and the annex's own title read as one heading.
            annex = self.units[-1]
            annex.text += "\n" + block.text
            annex.offsets = annex.offsets + [block.offsets[0]] + block.offsets
            annex.span = (annex.span[0], block.span[1])
            annex.locator = "Annex heading and title"
            return
        uid = "annex-title" if self.in_annex else f"heading-{len(self.units)}"
        self.units.append(_unit(block, uid, "heading", "Annex title" if self.in_annex else "Heading"))

    def item(self, block: Block) -> None:
        """A bullet: a stepping stone under a stepping-stones heading, else a list item."""
        self.counters["item"] += 1
        n = self.counters["item"]
        if self.list_name == "stone":
            uid, loc, kind = f"ss-{n}", f"Annex, stepping stone {n}", "stone"
        else:
            uid, loc, kind = f"item-{n}", f"List item {n}", "item"
        if self.in_annex and self.list_name != "stone":
            loc = f"Annex, {loc[0].lower()}{loc[1:]}"
        self.units.append(_unit(block, uid, kind, loc))

    def paragraph(self, block: Block) -> None:
        """A numbered paragraph, the sponsors, or a paragraph of the body or the annex."""
        if block.kind == "numbered":
            uid, locator = numbered_locator(block.label, "", "")
            taken = sum(1 for u in self.units if u.id == uid or u.id.startswith(uid + "-"))
            self.units.append(_unit(block, f"{uid}-{taken + 1}" if taken else uid, "paragraph",
                                    locator))
        elif _SPONSORS.search(block.text) and not any(u.kind == "sponsors" for u in self.units):
            self.units.append(_unit(block, "sponsors", "sponsors", "Sponsors"))
        elif self.in_annex:
            self.counters["annex-p"] += 1
            n = self.counters["annex-p"]
            after = " (closing)" if self.counters["item"] else ""
            self.units.append(_unit(block, f"annex-p-{n}", "paragraph",
                                    f"Annex, paragraph {n}{after}"))
        else:
            self.counters["p"] += 1
            n = self.counters["p"]
            self.units.append(_unit(block, f"p-{n}", "paragraph", f"Paragraph {n}"))


def _merge(blocks: list[Block]) -> Block:
    """Return one block holding the given blocks' text, joined by newlines."""
    merged = Block("paragraph", text="\n".join(b.text for b in blocks),
                   lines=[ln for b in blocks for ln in b.lines])
    for i, b in enumerate(blocks):
        if i:  # the joining newline stands where the next block starts (not where it
            # ends: that put a chunk's span over the next chunk's text)
            merged.offsets.append(b.offsets[0] if b.offsets else 0)
        merged.offsets.extend(b.offsets)
    return merged


def _title_heading(blocks: list[Block]) -> Block | None:
    """Return the document's title: its first heading, when no other heading shares its level
    (treaty articles given as `#` headings are sections, not titles)."""
    heads = [b for b in blocks if b.kind == "heading"]
    if not heads or heads[0].level != min(b.level for b in heads):
        return None
    return heads[0] if sum(b.level == heads[0].level for b in heads) == 1 else None


def _runs(blocks: list[Block]) -> list[list[Block]]:
    """Split blocks into the lead and one run per numbered paragraph, each with the unnumbered
    blocks that follow it (its sub-paragraphs "(a)", "(b)")."""
    runs: list[list[Block]] = [[]]
    for block in blocks:
        if block.kind == "numbered":
            runs.append([block])
        else:
            runs[-1].append(block)
    return [r for r in runs if r]


def _numbered_per_section(blocks: list[Block]) -> bool:
    """Return True when paragraph numbers restart under headings (a treaty's "Article III,
    paragraph 4"), False when they run on through the document (a final document's
    "paragraph 57", cited without its chapter)."""
    numbers: list[int] = []
    sections: set[int] = set()  # the headings under which numbered paragraphs appear
    heading = 0
    for block in blocks:
        if block.kind == "heading":
            heading += 1
        elif block.kind == "numbered" and block.label.isdigit():
            numbers.append(int(block.label))
            sections.add(heading)
    restarts = any(b <= a for a, b in zip(numbers, numbers[1:], strict=False))
    return restarts or len(sections) < 2


def _preamble_split(blocks: list[Block]) -> tuple[list[Block], list[Block]]:
    """Return (the preamble, the rest): a treaty's preamble runs to "… agreed as follows:"."""
    for i, block in enumerate(blocks):
        if _PREAMBLE.search(block.text):
            return blocks[:i + 1], blocks[i + 1:]
    return [], blocks


def numbered_locator(label: str, section_id: str, section: str) -> tuple[str, str]:
    """Return (unit id, locator) of a numbered paragraph as a person cites it: "Action 21",
    "Article III, paragraph 4", or "Paragraph 3" outside any section."""
    if not label.isdigit():
        return _slug(label), label
    if section:
        return f"{section_id}-p{label}", f"{section}, paragraph {label}"
    return f"para-{label}", f"Paragraph {label}"


class _MarkdownUnits:
    """Builds the units of a markdown text heading by heading (see structure_markdown)."""

    def __init__(self, blocks: list[Block]) -> None:
        self.units: list[Unit] = []
        self.has_title = _title_heading(blocks) is not None
        self.per_section = _numbered_per_section(blocks)
        self.path: list[tuple[int, str]] = []  # (level, heading text) of the open headings
        self.anchor: str | None = None
        self.seen: set[str] = set()
        self.loose = 0

    def unique(self, uid: str) -> str:
        base, n = uid, 1
        while uid in self.seen:
            n += 1
            uid = f"{base}-{n}"
        self.seen.add(uid)
        return uid

    def depth(self) -> int:
        """Return how many open headings lie below the document title."""
        return len(self.path) - (1 if self.has_title and self.path else 0)

    def heading_path(self) -> str:
        below = self.path[len(self.path) - self.depth():]
        return " › ".join(t for _, t in below) or (self.path[0][1] if self.path else "")

    def open(self, heading: Block) -> None:
        m = _ANCHOR.search(heading.text)
        title = heading.text[: m.start()].strip() if m else heading.text.strip()
        while self.path and self.path[-1][0] >= heading.level:
            self.path.pop()
        self.path.append((heading.level, title))
        self.anchor = m.group(1) if m else None

    def add(self, block: Block, uid: str, kind: str, locator: str) -> None:
        self.units.append(_unit(block, self.unique(uid), kind, locator, heading=self.heading_path()))

    def close(self, blocks: list[Block]) -> None:
        """Turn the content blocks under the current heading into units."""
        in_section = self.depth() > 0 or self.anchor is not None
        title = self.path[-1][1] if in_section else ""
        base = self.anchor or _slug(title)
        for run in _runs(blocks):
            if run[0].kind == "numbered":
                uid, locator = numbered_locator(run[0].label, base, title if self.per_section else "")
                self.add(_merge(run), uid, "paragraph", locator)
            elif in_section:
                self.add(_merge(run), base, "section", title)
            else:
                preamble, run = _preamble_split(run)
                if preamble:
                    self.add(_merge(preamble), "preamble", "paragraph", "Preamble")
                for block in run:  # a paragraph outside any section: its own unit
                    self.loose += 1
                    kind = "footnote" if block.kind == "footnote" else "paragraph"
                    self.add(block, f"p-{self.loose}", kind, f"Paragraph {self.loose}")


def structure_markdown(blocks: list[Block]) -> list[Unit]:
    """Return units of a markdown text: one per section (heading), anchored or not, and one
    per numbered paragraph ("1.", "Action 21:") with its locator as a person cites it.

    Text before the first heading, or under the document title alone, is one unit per
    paragraph; chunking splits a long section further at sentence boundaries."""
    reader = _MarkdownUnits(blocks)
    pending: list[Block] = []
    for block in blocks:
        if not block.is_content:
            continue
        if block.kind != "heading":
            pending.append(block)
            continue
        reader.close(pending)
        pending = []
        reader.open(block)
    reader.close(pending)
    return reader.units


def structure(document: Document) -> list[Unit]:
    """Return the document's units in reading order."""
    blocks = clean(document.text, document.format)
    units = structure_markdown(blocks) if document.format == "md" else structure_plain(blocks)
    if document.renders:
        for unit in units:
            unit.renders = unit.id
    return units
