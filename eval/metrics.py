"""Pure metric functions of FORMAT.md: matching, hit@k, MRR, recall, citations, abstention."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence

_WS = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Remove ALL whitespace and lower-case (robust to PDF line breaks inside Chinese)."""
    return _WS.sub("", text).lower()


def matches(texts: Sequence[str], alternatives: Sequence[str]) -> bool:
    """True when any of a chunk's texts contains any alternative of one gold passage."""
    norm_texts = [normalize(t) for t in texts]
    return any(normalize(alt) in t for alt in alternatives for t in norm_texts if normalize(alt))


def matched_groups(texts: Sequence[str], gold: Sequence[Sequence[str]]) -> set[int]:
    """Return the indexes of the gold passages a chunk matches."""
    return {i for i, alts in enumerate(gold) if matches(texts, alts)}


def hit_at(ranked: Sequence[set[int]], k: int) -> float:
    """1.0 if any of the top-k chunks matches a gold passage."""
    return 1.0 if any(ranked[:k]) else 0.0


def mrr(ranked: Sequence[set[int]], k: int) -> float:
    """1 / rank of the first matching chunk within the top k (0 if none)."""
    for rank, groups in enumerate(ranked[:k], 1):
        if groups:
            return 1.0 / rank
    return 0.0


def recall_at(ranked: Sequence[set[int]], n_gold: int, k: int) -> float:
    """Fraction of gold passages matched within the top k."""
    if not n_gold:
        return 0.0
    found: set[int] = set().union(*ranked[:k]) if ranked[:k] else set()
    return len(found) / n_gold


def citation_precision(cited: Sequence[set[int]]) -> float | None:
    """Fraction of cited passages that match some gold passage (None when nothing cited)."""
    if not cited:
        return None
    return sum(1 for g in cited if g) / len(cited)


def citation_recall(cited: Sequence[set[int]], n_gold: int) -> float:
    """Fraction of gold passages that the answer cites."""
    if not n_gold:
        return 0.0
    found: set[int] = set().union(*cited) if cited else set()
    return len(found) / n_gold


def answer_match(answer: str, groups: Sequence[Sequence[str]]) -> float:
    """1.0 if the answer text satisfies every group (contains one of its alternatives)."""
    norm = normalize(answer)
    return 1.0 if all(any(normalize(a) in norm for a in alts) for alts in groups) else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0–100) by linear interpolation (0.0 for no values)."""
    if not values:
        return 0.0
    data = sorted(values)
    pos = (len(data) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0
