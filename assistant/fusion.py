"""Fusion: each retrieval signal's scores of passage groups -> one score per group.

The method is chosen once, from the tuning (`Fusion.of`); each method is a few pure lines over
one signal's ranked list. The steps around it are small named functions too: `by_group` (a hit
on any member of a group counts for the group), `rank` (ranks count within a tier),
`with_priors`, `named_first` and `interleave`. What a group, a tier or a prior is for a passage
is the retriever's knowledge (assistant/retrieve.py), passed in as functions.

Measurement-only variants (one signal alone, another model's signal) live in bench/levers.py,
which hands its own `Fusion` to `Retriever.rank`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ingest.settings import Tuning

Scores = dict[str, float]  # passage or group id -> score


@dataclass(frozen=True)
class Ranked:
    """One signal's groups, best first, each with its score and its rank within its tier."""

    name: str
    weight: float
    groups: list[str]
    scores: list[float]
    ranks: list[int]


# Each group's weighted share of the fused score, in the order of `Ranked.groups`.
Method = Callable[[Ranked, Tuning], list[float]]


def rrf(ranked: Ranked, tuning: Tuning) -> list[float]:
    """Reciprocal rank, plus a small share of the min-max-normalised score.

    Rank alone cannot tell a clear lead (BM25 28.8 against 18.5) from a tie (dev set: hit@1
    0.896 -> 0.922, docs/RETRIEVAL.md)."""
    lo, hi = (float(min(ranked.scores)), float(max(ranked.scores))) if ranked.scores else (0.0, 1.0)
    out = []
    for score, rank_ in zip(ranked.scores, ranked.ranks, strict=True):
        share = (score - lo) / ((hi - lo) or 1.0)
        out.append(ranked.weight * (1.0 / (tuning.rrf_k + rank_) + tuning.rrf_score_share * share))
    return out


def zscore(ranked: Ranked, tuning: Tuning) -> list[float]:
    """Each score's distance from the signal's mean, in standard deviations."""
    values = np.array(ranked.scores) if ranked.scores else np.zeros(0)
    mu, sd = (values.mean(), values.std() or 1.0) if len(values) else (0.0, 1.0)
    return [ranked.weight * (score - mu) / sd for score in ranked.scores]


METHODS: dict[str, Method] = {"rrf": rrf, "zscore": zscore}


def by_group(lists: Mapping[str, Scores], group_of: Callable[[str], str | None]
             ) -> dict[str, Scores]:
    """Return each group's best score per signal (`group_of`: None for an unknown passage)."""
    signals: dict[str, Scores] = {}
    for name, scores in lists.items():
        for cid, score in scores.items():
            group = group_of(cid)
            if group is None:
                continue
            entry = signals.setdefault(group, {})
            entry[name] = max(entry.get(name, float("-inf")), score)
    return signals


def rank(signals: Mapping[str, Scores], name: str, weight: float,
         is_user: Callable[[str], bool]) -> Ranked:
    """Return the groups signal `name` scored, best first, ranked within their tier.

    The tiers are the reference corpus and the user-added documents: a thousand user passages
    that restate a stepping stone do not push the stone down the ranks."""
    groups = sorted((g for g in signals if name in signals[g]), key=lambda g: -signals[g][name])
    counted = {True: 0, False: 0}
    ranks = []
    for group in groups:
        tier = is_user(group)
        counted[tier] += 1
        ranks.append(counted[tier])
    return Ranked(name, weight, groups, [signals[g][name] for g in groups], ranks)


@dataclass(frozen=True)
class Fusion:
    """A fusion method, chosen once, and the tuning it reads."""

    tuning: Tuning
    method: Method

    @classmethod
    def of(cls, tuning: Tuning) -> Fusion:
        """Return the fusion the tuning names (`tuning.fusion`)."""
        return cls(tuning, METHODS[tuning.fusion])

    def __call__(self, signals: Mapping[str, Scores], names: Sequence[str],
                 is_user: Callable[[str], bool]) -> tuple[Scores, list[Ranked]]:
        """Return every group's fused score, and each signal's ranking."""
        fused: Scores = {}
        rankings = [rank(signals, name, self.tuning.signal_weights.get(name, 1.0), is_user)
                    for name in names]
        for ranked in rankings:
            for group, share in zip(ranked.groups, self.method(ranked, self.tuning), strict=True):
                fused[group] = fused.get(group, 0.0) + share
        return fused, rankings


def with_priors(fused: Scores, prior: Callable[[str], float]) -> Scores:
    """Return the scores with each group's prior applied (below 1.0: lower, whatever the sign)."""
    out: Scores = {}
    for group, score in fused.items():
        p = prior(group)
        out[group] = score if p == 1.0 else (score * p if score > 0 else score / p)
    return out


def named_first(fused: Scores, named: Mapping[str, int]) -> Scores:
    """Return the scores with the named groups above every other, in the order named
    (`named`: each group's place in the question's list of names)."""
    top = max(fused.values(), default=0.0)
    return {**fused, **{group: top + 1.0 - place * 1e-3 for group, place in named.items()}}


def interleave(reference: list[str], user: list[str],
               user_first: Callable[[str, str], bool]) -> list[str]:
    """Merge two tiers' rankings, each kept in its own order: at each step the user tier's
    next group goes first only when `user_first(its group, the reference tier's next)`."""
    out: list[str] = []
    i = j = 0
    while i < len(reference) or j < len(user):
        if i >= len(reference) or (j < len(user) and user_first(user[j], reference[i])):
            out.append(user[j])
            j += 1
        else:
            out.append(reference[i])
            i += 1
    return out
