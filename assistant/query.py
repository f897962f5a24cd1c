"""A question as retrieval sees it: weighted terms, their glossary equivalents, the parts it names."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.references import PartIndex, parts
from ingest.lexical import LexicalIndex, tokenize
from ingest.settings import Tuning


@dataclass
class Query:
    """What retrieval runs on: the text to embed and weighted lexical terms.

    Which terms are the question's own is said by `own`, never read off the weights: the
    weights rank passages, `own` is what the gate asks the best passages to support."""

    text: str
    terms: dict[str, float]
    # The question's own terms, and those an earlier turn lends a follow-up: the gate judges a
    # follow-up by both ("Who should take the lead there?" is about the earlier topic).
    own: set[str] = field(default_factory=set)
    context: set[str] = field(default_factory=set)
    # For each glossary match: the question's own terms it covers, and the terms of every
    # equivalent name (in either language) that would stand in for them in a passage.
    equivalents: list[tuple[set[str], set[str]]] = field(default_factory=list)
    # Passage groups the question names outright ("stepping stone 10", "Article VI").
    references: list[str] = field(default_factory=list)


def compile_glossary(entries: list[dict[str, list[str]]]) -> list[tuple[re.Pattern[str], list[str]]]:
    """Return, for each glossary entry, a pattern matching any of its names, and all its names."""
    out = []
    for entry in entries:
        names = [n for n in entry.get("en", []) + entry.get("zh", []) if len(n) >= 2]
        if not names:
            continue
        alts = sorted((re.escape(n.lower()) for n in names), key=len, reverse=True)
        out.append((re.compile(r"(?<![a-z0-9])(?:" + "|".join(alts) + r")(?![a-z0-9])"), names))
    return out


class QueryBuilder:
    """Turns a question, and the earlier question it may follow, into a `Query`."""

    def __init__(self, lexical: LexicalIndex, part_index: PartIndex,
                 named_first: Callable[[str], bool], tuning: Tuning) -> None:
        """`named_first`: the named groups that go before the others a question names (the
        bundled official paper, before an official text a user added under the same heading)."""
        self.lexical = lexical
        self.parts = part_index
        self.named_first = named_first
        self.tuning = tuning
        self.glossary = compile_glossary(lexical.glossary)

    def build(self, question: str, context: str | None = None) -> Query:
        """Return the query: the question's terms, glossary equivalents, earlier-turn context."""
        own = tokenize(question)
        terms: dict[str, float] = {}
        for term in own:
            terms[term] = terms.get(term, 0.0) + 1.0
        equivalents = self._equivalents(question, terms)
        text, context_terms = question, set[str]()
        if context:
            for term in tokenize(context):
                terms.setdefault(term, self.tuning.context_term_weight)
                context_terms.add(term)
            text = f"{context} {question}"
        return Query(text=text, terms=terms, equivalents=equivalents,
                     references=self.references(question), own=set(own),
                     context=context_terms - set(own))

    def _equivalents(self, question: str, terms: dict[str, float]) -> list[tuple[set[str], set[str]]]:
        """Add the terms of every other name of each glossary entry the question uses to
        `terms`; return (the question's terms of the name, the other names' terms) per entry."""
        equivalents: list[tuple[set[str], set[str]]] = []
        low = question.lower()
        for pattern, names in self.glossary:
            match = pattern.search(low)
            if not match:
                continue
            other: set[str] = set()
            for name in names:
                if name.lower() not in low:
                    for term in self.lexical.names.get(name) or tokenize(name):
                        terms.setdefault(term, self.tuning.glossary_term_weight)
                        other.add(term)
            equivalents.append((set(tokenize(match.group(0))), other))
        return equivalents

    def references(self, question: str) -> list[str]:
        """Return the passage groups the question names, in the order named."""
        named = list(dict.fromkeys(g for p in parts(question) for g in self.parts.resolve(p)))
        named.sort(key=lambda g: not self.named_first(g))
        return named
