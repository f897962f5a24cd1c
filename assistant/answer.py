"""Extractive answer composition: a lead sentence, then short quotes with [n] citations."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant import answer_type
from assistant.retrieve import Hit, Query, Retriever
from ingest.chunk import split_sentences
from ingest.documents import KIND_LABELS, KIND_LABELS_ZH, Chunk, glossary_fields, provenance
from ingest.lexical import tokenize

MAX_QUOTE = 250  # grow a quote by a neighbouring sentence up to this length
MAX_SENTENCE = 600  # a single sentence longer than this is cut (lists, preambles)
SUGGEST_SIMILARITY = 0.88  # e5 cosine (passage or card) a "closest topic" must reach


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


@dataclass(frozen=True)
class Topic:
    """A covered topic offered when a question is not: the passage it names, and a label."""

    chunk_id: str
    label: str  # "Stepping stones for …: Stepping stone 5: dialogue on …" (the UI words its own)


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
    suggestions: list[Topic] = field(default_factory=list)  # closest covered topics
    error: str | None = None  # the question itself was unusable (empty, too long…)
    mode: str = "extractive"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_text(self) -> str:
        """Return the answer with its sources, as plain text a person can paste."""
        lines = [self.text]
        if self.suggestions:
            lines.append("The closest topics it does cover:" if self.language == "en"
                         else "语料涵盖的最接近的主题：")
            lines += [f"- {topic.label}" for topic in self.suggestions]
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


def _width(text: str) -> int:
    """Return a text's length with Chinese characters counted twice (they carry ~2x the words)."""
    return len(text) + sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")


def prose(text: str) -> str:
    """Return a glossary entry's field lines as one sentence a person can paste.

    "en: NPT; Non-Proliferation Treaty / zh: 不扩散条约 / in paper: … / definition" becomes
    "NPT (Non-Proliferation Treaty; 不扩散条约): definition"; other passages are unchanged."""
    parsed = glossary_fields(text)
    if parsed is None:
        return text
    fields, rest = parsed
    names = fields["en"] + [n for n in fields["zh"] if n not in fields["en"]]
    head = names[0] + (f" ({'; '.join(names[1:])})" if len(names) > 1 else "")
    paper = fields.get("in paper")
    tail = f" The working paper writes {'; '.join(paper)}." if paper else ""
    return f"{head}: {' '.join(rest)}{tail}".strip()


def best_quote(text: str, query: Query, retriever: Retriever, question: str = ""
               ) -> tuple[str, tuple[int, int]]:
    """Return the whole sentences of a passage that best answer the query.

    A question wanting a date, a count or a person prefers a sentence that holds one
    ("When did the NPT enter into force?" quotes the sentence with 5 March 1970, not the
    passage's first sentence). Sentences are never cut: a quote is pasted into cables."""
    if _width(text) <= MAX_QUOTE:
        return text, (0, len(text))
    spans = split_sentences(text)
    asked = answer_type.want(question)

    def score(span: tuple[int, int]) -> float:
        sentence = text[span[0]:span[1]]
        terms = set(tokenize(sentence))
        base = sum(w * (retriever.lexical.term_idf(t) or 0.1)
                   for t, w in query.terms.items() if t in terms)
        if asked is not None and asked.met_by(sentence):
            base += 100.0  # the sentence with the fact beats the one with the words
        return base

    best = max(range(len(spans)), key=lambda i: (score(spans[i]), -i))
    start, end = spans[best]
    # Grow to a neighbour while the quote stays short: a lone clause is hard to quote.
    for j in (best + 1, best - 1):
        if 0 <= j < len(spans):
            s, e = min(start, spans[j][0]), max(end, spans[j][1])
            if _width(text[s:e]) <= MAX_QUOTE and score(spans[j]) > 0:
                start, end = s, e
    if end - start > MAX_SENTENCE:  # only a run-on "sentence" (a list, a preamble) is cut
        cut = text.rfind(" ", start, start + MAX_SENTENCE)
        end = cut if cut > start + MAX_SENTENCE // 2 else start + MAX_SENTENCE
        return text[start:end].strip() + " …", (start, end)
    return text[start:end].strip(), (start, end)


def _passage(chunk: Chunk, locator: str) -> Passage:
    return Passage(chunk.id, prose(chunk.text), chunk.language, chunk.doc_title, locator,
                   chunk.doc_kind)


def cite(number: int, hit: Hit, query: Query, lang: str, retriever: Retriever,
         question: str = "") -> Citation:
    """Return the citation for a hit: the quote in the passage shown, its counterpart beside."""
    shown = hit.chunk
    other = hit.counterpart
    original = other if shown.renders and other is not None else shown
    locator = original.locator  # the place in the official text
    if lang == "zh" and shown.renders and shown.language == "zh" and original.doc_kind != "official":
        locator = shown.locator  # our Chinese rendering of a note names its section in Chinese
    passage = prose(shown.text)
    quote, span = best_quote(passage, query, retriever, question)
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
        quote=quote, passage=passage, quote_span=span, score=round(hit.score, 5),
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
    """Return the answer's first line: the best-supported sentence itself, with its [n]."""
    first = citations[0]
    more = [f"[{c.number}]" for c in citations[1:]]
    if lang == "zh":
        tail = f"（另见 {'、'.join(more)}）" if more else ""
    else:
        tail = f" (see also {', '.join(more)})" if more else ""
    return f"{first.quote} [1]{tail}"


def _counterpart_tag(c: Citation, lang: str) -> tuple[str, Passage] | None:
    """Return the label and text of the passage shown beside the quote, in the other language."""
    other = c.original or c.rendering
    if other is None:
        return None
    names = {"en": ("English", "英文"), "zh": ("Chinese", "中文")}[other.language if other.language
                                                                  in ("en", "zh") else "en"]
    if c.original is not None:
        official = other.kind == "official"
        tag = (f"原文（{names[1]}{'，正式文本' if official else ''}）" if lang == "zh"
               else f"Original ({names[0]}{', official' if official else ''})")
    else:
        tag = f"{names[1]}非正式译文" if lang == "zh" else f"Unofficial {names[0]} rendering"
    return tag, other


def compose(question: str, lang: str, hits: list[Hit], query: Query, retriever: Retriever
            ) -> tuple[str, list[Citation]]:
    """Return the answer text and its citations: the answer first, then every source."""
    citations = [cite(i, hit, query, lang, retriever, question)
                 for i, hit in enumerate(choose(hits), 1)]
    lines = [lead(citations, lang), ""]
    for c in citations:
        if c.number > 1:
            lines.append(f"[{c.number}] “{c.quote}”")
        beside = _counterpart_tag(c, lang)
        # Beside the quote: the official Chinese text of a rendered stone for everyone, and the
        # English of our notes for a Chinese reader; an English reader does not need our
        # Chinese rendering of our own English note.
        if beside is not None and (lang == "zh" or beside[1].kind == "official"):
            lines.append(f"    {beside[0]}: “{beside[1].text}”")
        lines.append(f"    — [{c.number}] {c.doc_title}, {c.locator} ({c.kind_label})")
    return "\n".join(lines).rstrip(), citations


def abstention(lang: str, hits: list[Hit], unknown: list[str] | None = None
               ) -> tuple[str, list[Topic]]:
    """Return the 'not covered' message and the closest topics the corpus does cover.

    The topics are not in the message: each reader renders them (`Answer.as_text`, the UI's
    buttons), so a label is worded once, where it is shown."""
    if unknown:
        # Saying which name is missing is the useful part; nearby topics would only distract.
        if lang == "zh":
            return f"语料没有提到{'、'.join(unknown)}，无法给出有出处的回答。", []
        names = ", ".join(unknown[:-1]) + (" or " if len(unknown) > 1 else "") + unknown[-1]
        return f"The corpus does not mention {names}, so there is no passage to cite.", []
    topics: list[Topic] = []
    for hit in hits[:3]:
        # Only topics really close to the question: "the capital of Australia" gets none.
        if max(hit.signals.get("dense", 0.0), hit.signals.get("cards", 0.0)) < SUGGEST_SIMILARITY:
            continue
        chunk = hit.chunk
        place = zh_locator(chunk.locator) if lang == "zh" else chunk.locator
        label = f"{short_title(chunk.doc_title)}: {place}"  # distinguishable by their place
        if label not in {t.label for t in topics}:
            topics.append(Topic(chunk.id, label))
    if lang == "zh":
        return "语料没有涉及这个问题，无法给出有出处的回答。", topics
    return "The corpus does not cover this question, so there is no passage to cite.", topics
