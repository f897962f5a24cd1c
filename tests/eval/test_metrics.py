"""The metrics of FORMAT.md on hand-made retrieval results with known answers."""

from __future__ import annotations

import pytest

from eval import metrics as M


def test_matching_ignores_all_whitespace_and_case() -> None:
    assert M.matches(["2022 年 1 月 4 日至\n28 日，纽约"], ["2022年1月4日至28日"])
    assert M.matches(["New START treaty"], ["new start"])
    assert not M.matches(["热线"], ["hotline"])
    assert M.matches(["rendering text", "热线和降低风险中心"], ["热线和降低风险中心"])


def test_hit_mrr_and_recall_on_known_rankings() -> None:
    ranked = [set(), {0}, set(), {1}, set()]
    assert M.hit_at(ranked, 1) == 0.0 and M.hit_at(ranked, 2) == 1.0
    assert M.mrr(ranked, 5) == 0.5 and M.mrr(ranked, 1) == 0.0
    assert M.recall_at(ranked, 2, 3) == 0.5 and M.recall_at(ranked, 2, 5) == 1.0
    assert M.mrr([set()] * 5, 5) == 0.0


def test_citation_precision_and_recall() -> None:
    assert M.citation_precision([{0}, set()]) == 0.5
    assert M.citation_precision([]) is None
    assert M.citation_recall([{0}, {0}], 2) == 0.5
    assert M.citation_recall([{0, 1}], 2) == 1.0


def test_answer_match_needs_every_group() -> None:
    assert M.answer_match("… hot line …", [["hotline"], ["热线", "line"]]) == 1.0
    assert M.answer_match("hotline only", [["hotline"], ["热线"]]) == 0.0


def test_percentiles_interpolate() -> None:
    assert M.percentile([10, 20, 30, 40], 50) == pytest.approx(25)
    assert M.percentile([5], 95) == 5 and M.percentile([], 50) == 0.0
