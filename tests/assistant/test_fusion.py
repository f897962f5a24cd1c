"""Fusion: small pure steps over each signal's scores, the method chosen once from the tuning."""

from __future__ import annotations

import pytest

from assistant.fusion import (
    Fusion,
    by_group,
    interleave,
    named_first,
    rank,
    rrf,
    with_priors,
    zscore,
)
from ingest.settings import Tuning


def test_a_hit_on_any_member_counts_for_its_group_with_the_best_score() -> None:
    groups = {"ss-10": "ss-10", "ss-10.en": "ss-10", "note": "note"}
    signals = by_group({"dense": {"ss-10.en": 0.9, "ss-10": 0.8, "note": 0.7, "gone": 0.99}},
                       groups.get)
    assert signals == {"ss-10": {"dense": 0.9}, "note": {"dense": 0.7}}


def test_ranks_count_within_a_tier_so_user_passages_do_not_bury_the_reference_corpus() -> None:
    signals = {"u1": {"bm25": 9.0}, "u2": {"bm25": 8.0}, "ss-10": {"bm25": 7.0}}
    ranked = rank(signals, "bm25", 0.75, lambda g: g.startswith("u"))
    assert ranked.groups == ["u1", "u2", "ss-10"] and ranked.ranks == [1, 2, 1]


def test_rrf_adds_a_small_share_of_the_normalised_score_to_the_reciprocal_rank() -> None:
    tuning = Tuning(rrf_k=30, rrf_score_share=0.008)
    ranked = rank({"a": {"bm25": 28.8}, "b": {"bm25": 18.5}}, "bm25", 0.75, lambda g: False)
    a, b = rrf(ranked, tuning)
    assert a == pytest.approx(0.75 * (1 / 31 + 0.008)) and b == pytest.approx(0.75 / 32)


def test_the_method_is_chosen_once_from_the_tuning() -> None:
    assert Fusion.of(Tuning()).method is rrf and Fusion.of(Tuning(fusion="zscore")).method is zscore
    signals = {"a": {"dense": 0.9, "bm25": 1.0}, "b": {"dense": 0.8}}
    fused, rankings = Fusion.of(Tuning())(signals, ["dense", "bm25"], lambda g: False)
    assert [r.name for r in rankings] == ["dense", "bm25"] and fused["a"] > fused["b"]


def test_a_prior_lowers_a_score_whatever_its_sign() -> None:
    out = with_priors({"note": 0.5, "neg": -0.5, "stone": 0.5}, lambda g: 1.0 if g == "stone" else 0.5)
    assert out == {"note": 0.25, "neg": -1.0, "stone": 0.5}


def test_named_groups_go_above_every_other_in_the_order_named() -> None:
    out = named_first({"a": 2.0, "b": 1.0}, {"b": 0, "c": 2})
    assert sorted(out, key=lambda g: -out[g]) == ["b", "c", "a"] and out["b"] == 3.0


def test_a_user_passage_goes_first_only_when_the_rule_says_so() -> None:
    order = interleave(["ss-1", "ss-2"], ["u1", "u2"], lambda u, r: (u, r) == ("u1", "ss-2"))
    assert order == ["ss-1", "u1", "ss-2", "u2"]
