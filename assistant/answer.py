"""Extractive answer composition: a lead sentence, then short quotes with [n] citations."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.retrieve import Hit, Query, Retriever
from ingest.chunk import split_sentences
from ingest.documents import KIND_LABELS, KIND_LABELS_ZH, Chunk, provenance
from ingest.lexical import tokenize

MAX_QUOTE = 250


@dataclass
class Passage:
    """A passage in one language, as shown beside a citation."""

    chunk_id: str
    text: str
    language: str
    doc_title: str
    locator: str
    kind: str


@dataclass
class Citation:
    """One [n] of an answer: what is quoted, from where, and how sure retrieval was."""

    number: int
    chunk_id: str
    doc_id: str
    doc_title: str
    doc_kind: str
    kind_label: str
    locator: str
    language: str
    quote: str  # what the answer shows, in the question's language when a rendering exists
    passage: str  # the whole passage the quote comes from
    quote_span: tuple[int, int]  # where the quote sits in `passage` (for highlighting)
    score: float
    original: Passage | None = None  # the official text, when the quote is a rendering's
    rendering: Passage | None = None  # the unofficial rendering, when the quote is original
    provenance: str = ""  # "added locally by … on … from …"; empty for the bundled corpus


@dataclass
class Retrieved:
    """A ranked retrieval result, as reported to the UI and the evaluation harness."""

    rank: int
    chunk_id: str
    score: float
    doc_title: str
    locator: str
    text: str
    renders: str | None
    signals: dict[str, float] = field(default_factory=dict)


@dataclass
class Answer:
    """Everything the UI, the CLI and the harness show comes from here."""

    question: str
    text: str
    language: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    reason: str = ""
    retrieved: list[Retrieved] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    follow_up_of: str | None = None
    suggestions: list[str] = field(default_factory=list)  # closest covered topics
    error: str | None = None  # the question itself was unusable (empty, too long…)
    mode: str = "extractive"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_text(self) -> str:
        """Return the answer with its sources, as plain text a person can paste."""
        lines = [self.text]
        if self.citations:
            lines.append("")
            lines.append("Sources:" if self.language == "en" else "出处：")
            for c in self.citations:
                lines.append(f"[{c.number}] {c.doc_title}, {c.locator} ({c.kind_label}).")
        return "\n".join(lines)


def zh_locator(locator: str) -> str:
    """Return a Chinese form of the working paper's locators (others stay as they are)."""
    m = re.match(r"Annex, stepping stone (\d+)", locator)
    if m:
        return f"附件，阶石 {m.group(1)}"
    table = {"Title block (date, place, title)": "标题（日期、地点、标题）", "Sponsors": "提交国",
             "Paragraph 1": "第 1 段", "Footnote *": "脚注 *", "Footnote 1": "脚注 1"}
    m = re.match(r"Annex, paragraph (\d+)", locator)
    if m:
        return f"附件，第 {m.group(1)} 段"
    return table.get(locator, locator)


def best_quote(text: str, query: Query, retriever: Retriever) -> tuple[str, tuple[int, int]]:
    """Return the sentences of a passage that best answer the query (≤ MAX_QUOTE chars)."""
    if len(text) <= MAX_QUOTE:
        return text, (0, len(text))
    spans = split_sentences(text)

    def score(span: tuple[int, int]) -> float:
        terms = set(tokenize(text[span[0]:span[1]]))
        return sum(w * (retriever.lexical.term_idf(t) or 0.1)
                   for t, w in query.terms.items() if t in terms)

    best = max(range(len(spans)), key=lambda i: (score(spans[i]), -i))
    start, end = spans[best]
    # Grow to a neighbour while the quote stays short: a lone clause is hard to quote.
    for j in (best + 1, best - 1):
        if 0 <= j < len(spans):
            s, e = min(start, spans[j][0]), max(end, spans[j][1])
            if e - s <= MAX_QUOTE and score(spans[j]) > 0:
                start, end = s, e
    if end - start > MAX_QUOTE:
        cut = text.rfind(" ", start, start + MAX_QUOTE)
        end = cut if cut > start + MAX_QUOTE // 2 else start + MAX_QUOTE
        quote = text[start:end].strip() + " …"
        return quote, (start, end)
    return text[start:end].strip(), (start, end)


def _passage(chunk: Chunk, locator: str) -> Passage:
    return Passage(chunk.id, chunk.text, chunk.language, chunk.doc_title, locator, chunk.doc_kind)


def cite(number: int, hit: Hit, query: Query, lang: str, retriever: Retriever) -> Citation:
    """Return the citation for a hit: the quote in the passage shown, its counterpart beside."""
    shown = hit.chunk
    other = hit.counterpart
    original = other if shown.renders and other is not None else shown
    locator = original.locator  # the place in the official text
    quote, span = best_quote(shown.text, query, retriever)
    if lang == "zh":
        label = KIND_LABELS_ZH.get(shown.doc_kind, shown.doc_kind)
    else:
        label = KIND_LABELS.get(shown.doc_kind, shown.doc_kind)
        if shown.renders and other is not None:
            label = f"{label} of the {KIND_LABELS.get(other.doc_kind, other.doc_kind)}"
    added = provenance(shown, lang)
    if added:  # a user's text, whatever kind it declares, never reads as the bundled corpus
        label = f"{label}; {added}"
    citation = Citation(
        number=number, chunk_id=shown.id, doc_id=shown.doc_id, doc_title=shown.doc_title,
        doc_kind=shown.doc_kind, kind_label=label, provenance=added,
        locator=locator if lang == "en" else zh_locator(locator), language=shown.language,
        quote=quote, passage=shown.text, quote_span=span, score=round(hit.score, 5),
    )
    if other is not None:
        if shown.renders:
            citation.original = _passage(other, locator)
        else:
            citation.rendering = _passage(other, locator)
    return citation


def choose(hits: list[Hit], max_citations: int = 3) -> list[Hit]:
    """Return the hits worth citing: the best one, plus any that both retrievers rank high."""
    if not hits:
        return []
    chosen = [hits[0]]
    for hit in hits[1:max_citations]:
        s = hit.signals
        if s.get("dense_rank", 99) <= 2 and s.get("bm25_rank", 99) <= 2:
            chosen.append(hit)
    return chosen


def short_title(title: str) -> str:
    """Return a title without its parenthetical gloss ("推进核裁军的阶石 (Stepping…)")."""
    return re.split(r"\s*\(", title, maxsplit=1)[0].strip() or title


def lead(citations: list[Citation], lang: str) -> str:
    """Return the answer's first sentence: where in the corpus the answer lies."""
    first = citations[0]
    more = [f"[{c.number}]" for c in citations[1:]]
    if lang == "zh":
        where = f"《{short_title(first.doc_title)}》{first.locator}"
        tail = f"，另见 {'、'.join(more)}" if more else ""
        return f"语料中与此最相关的是{where} [1]{tail}。"
    where = f"{first.locator} of “{short_title(first.doc_title)}”"
    tail = f", with related passages in {', '.join(more)}" if more else ""
    return f"The corpus addresses this in {where} [1]{tail}."


def compose(question: str, lang: str, hits: list[Hit], query: Query, retriever: Retriever
            ) -> tuple[str, list[Citation]]:
    """Return the answer text and its citations."""
    citations = [cite(i, hit, query, lang, retriever) for i, hit in enumerate(choose(hits), 1)]
    lines = [lead(citations, lang), ""]
    for c in citations:
        lines.append(f"[{c.number}] “{c.quote}”")
        if c.original is not None:
            tag = "原文" if lang == "zh" else "Original (zh)"
            lines.append(f"    {tag}: “{c.original.text}”")
        elif c.rendering is not None and lang == "zh":
            lines.append(f"    英文非正式译文: “{c.rendering.text}”")
        source = f"{c.doc_title}, {c.locator}"
        lines.append(f"    — {source} ({c.kind_label})")
    return "\n".join(lines).rstrip(), citations


def abstention(lang: str, hits: list[Hit], unknown: list[str] | None = None
               ) -> tuple[str, list[str]]:
    """Return the 'not covered' message and the closest topics the corpus does cover."""
    topics: list[str] = []
    if unknown:
        # Saying which name is missing is the useful part; nearby topics would only distract.
        if lang == "zh":
            return f"语料没有提到{'、'.join(unknown)}，无法给出有出处的回答。", []
        names = ", ".join(unknown[:-1]) + (" or " if len(unknown) > 1 else "") + unknown[-1]
        return f"The corpus does not mention {names}, so there is no passage to cite.", []
    for hit in hits[:3]:
        chunk = hit.chunk
        topic = f"{chunk.doc_title} — {chunk.heading or chunk.locator}"
        if topic not in topics:
            topics.append(topic)
    if lang == "zh":
        text = "语料没有涉及这个问题，无法给出有出处的回答。"
        if topics:
            text += "\n语料涵盖的最接近的主题：\n" + "\n".join(f"- {t}" for t in topics)
    else:
        text = "The corpus does not cover this question, so there is no passage to cite."
        if topics:
            text += "\nThe closest topics it does cover:\n" + "\n".join(f"- {t}" for t in topics)
    return text, topics
