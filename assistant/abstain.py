"""Answer or not, and why: lexical support and dense similarity, looked at together.

A plain similarity threshold cannot abstain here (out-of-scope questions reach e5 cosines of
0.88 while answerable ones start at 0.76), so the gate also asks how much of the question's
own vocabulary the best passages support, counting glossary equivalents across languages.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.retrieve import Hit, Query, Retriever


@dataclass
class Decision:
    """The gate's verdict with the evidence it weighed."""

    abstain: bool
    reason: str
    coverage: float
    dense: float
    score: float


def decide(retriever: Retriever, query: Query, hits: list[Hit], threshold: float,
           dense_weight: float, dense_center: float) -> Decision:
    """Return whether to abstain, from the best support among the top three passages."""
    if not hits:
        return Decision(True, "nothing in the corpus matched the question", 0.0, 0.0, 0.0)
    if query.references and retriever.group_of(hits[0].chunk) in query.references:
        return Decision(False, "the question names this passage", 1.0, 0.0, 1.0)
    coverage = 0.0
    dense = 0.0
    for hit in hits[:3]:
        coverage = max(coverage, retriever.coverage(query, [m.id for m in hit.members]))
        dense = max(dense, hit.signals.get("dense", 0.0))
    score = coverage + dense_weight * (dense - dense_center)
    if score >= threshold:
        return Decision(False, "supported", coverage, dense, score)
    reason = (f"the closest passages share too little with the question "
              f"(term support {coverage:.2f}, similarity {dense:.2f})")
    return Decision(True, reason, coverage, dense, score)
