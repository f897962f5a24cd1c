"""CI's regression gate: the dev and sample sets, scored against the committed baselines.

The gate (eval/gate.py, eval/FORMAT.md) fails on a metric that got worse by more than one
question's worth or 0.02, overall or in one language; on a metric or a question that went
missing; on a changed embedder or corpus. An intended change commits new baselines (`make eval`,
then copy eval/out/<set>/report.json to eval/baselines/<set>/).

The held-out set is not run here: it stays held out (`make eval` still runs it)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eval.gate import gate
from eval.run import run_set
from eval.sets import load_set
from ingest.settings import PROJECT_ROOT

CI_SETS = ("sample", "dev")


@pytest.fixture(scope="module")
def reports(assistant) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Each CI set run once, shared by the tests below."""
    return {name: run_set(load_set(PROJECT_ROOT / "eval" / "sets" / f"{name}.yaml"), assistant,
                          k=5) for name in CI_SETS}


@pytest.mark.parametrize("name", CI_SETS)
def test_no_metric_regresses_against_the_committed_baseline(reports, name: str) -> None:  # type: ignore[no-untyped-def]
    baseline = json.loads((PROJECT_ROOT / "eval" / "baselines" / name / "report.json")
                          .read_text(encoding="utf-8"))
    verdict = gate(baseline, reports[name], tolerance=0.02)
    assert not verdict.failed, "\n".join(verdict.failures + verdict.notes)


def test_dev_set_meets_the_abstention_targets(reports) -> None:  # type: ignore[no-untyped-def]
    s = reports["dev"]["summary"]
    assert s["abstention_accuracy"] >= 0.90
    assert s["false_abstention_rate"] <= 0.08
    assert s["cited_chars_median"] <= 250

