"""CI's regression gate: both committed question sets, scored against the committed baselines.

A change that makes any quality metric worse than eval/baselines/ by more than 0.02 fails here;
an intended change commits new baselines (`make eval`, then copy eval/out/*/report.json)."""

from __future__ import annotations

import json

import pytest

from eval.report import compare
from eval.run import run_set
from eval.sets import load_set
from ingest.settings import PROJECT_ROOT


@pytest.mark.parametrize("name", ["sample", "dev", "holdout"])
def test_no_metric_regresses_against_the_committed_baseline(assistant, name: str) -> None:
    baseline = json.loads((PROJECT_ROOT / "eval" / "baselines" / name / "report.json")
                          .read_text(encoding="utf-8"))
    report = run_set(load_set(PROJECT_ROOT / "eval" / "sets" / f"{name}.yaml"), assistant, k=5)
    worse = [c for c in compare(baseline, report, tolerance=0.02) if c["regressed"]]
    assert worse == [], "\n".join(f"{c['metric']}: {c['old']} -> {c['new']}" for c in worse)


def test_dev_set_meets_the_abstention_targets(assistant) -> None:
    report = run_set(load_set(PROJECT_ROOT / "eval" / "sets" / "dev.yaml"), assistant, k=5)
    s = report["summary"]
    assert s["abstention_accuracy"] >= 0.90
    assert s["false_abstention_rate"] <= 0.08
    assert s["cited_chars_median"] <= 250
