"""Answer or not, and why: lexical support and dense similarity, looked at together.

A plain similarity threshold cannot abstain here (out-of-scope questions reach e5 cosines of
0.88 while answerable ones start at 0.76), so the gate also asks how much of the question's
own vocabulary the best passages support, counting glossary equivalents across languages.
Before any score: a question naming something the corpus never mentions is refused, saying
which name (assistant/scope.py), and a question naming a part is answered by that part. After
the score: a question wanting a date, a number or a person that no close passage holds, or a
prediction or opinion, loses `abstain_type_penalty`. A follow-up is judged together with the
question it follows. Thresholds are per language (calibrated: docs/RETRIEVAL.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant import answer_type
from assistant.retrieve import Hit, Query, Retriever
from ingest.settings import Tuning


@dataclass
class Decision:
    """The gate's verdict with the evidence it weighed."""

    abstain: bool
    reason: str
    coverage: float
    dense: float
    score: float
    unknown: list[str] = field(default_factory=list)  # names the corpus never mentions


def _support(retriever: Retriever, query: Query, hits: list[Hit]) -> tuple[float, float]:
    """Return the best term support and the best dense cosine among the given passages."""
    coverage = dense = 0.0
    for hit in hits:
        ids = [m.id for m in hit.members]
        coverage = max(coverage, retriever.coverage(query, ids))
        if query.context:
            coverage = max(coverage, retriever.coverage(query, ids, with_context=True))
        # The passage's own text or a question its card lists, whichever is closer.
        dense = max(dense, hit.signals.get("dense", 0.0), hit.signals.get("cards", 0.0))
    return coverage, dense


def _type_mismatch(question: str, hits: list[Hit]) -> bool:
    """True when the question wants a kind of answer none of the best passages holds."""
    if answer_type.speculative(question):
        return True
    asked = answer_type.want(question)
    return asked is not None and not any(asked.met_by(m.text) for hit in hits
                                         for m in hit.members)


def decide(retriever: Retriever, query: Query, hits: list[Hit], tuning: Tuning,
           question: str, lang: str, unknown: list[str] | None = None) -> Decision:
    """Return whether to abstain, and the evidence for it."""
    if unknown:
        return Decision(True, "the corpus never mentions " + ", ".join(unknown), 0.0, 0.0, 0.0,
                        unknown=list(unknown))
    if not hits:
        return Decision(True, "nothing in the corpus matched the question", 0.0, 0.0, 0.0)
    if query.references and retriever.group_of(hits[0].chunk) in query.references:
        return Decision(False, "the question names this passage", 1.0, 0.0, 1.0)
    best = hits[:tuning.abstain_passages]
    coverage, dense = _support(retriever, query, best)
    score = coverage + tuning.abstain_dense_weight * (dense - tuning.abstain_dense_center)
    if _type_mismatch(question, best):
        score -= tuning.abstain_type_penalty
    threshold = tuning.abstain_thresholds.get(lang, tuning.abstain_threshold)
    if score >= threshold:
        return Decision(False, "supported", coverage, dense, score)
    reason = (f"the closest passages share too little with the question "
              f"(term support {coverage:.2f}, similarity {dense:.2f})")
    return Decision(True, reason, coverage, dense, score)
