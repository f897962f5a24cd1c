"""Question sets are validated with file, line and item; reports and baselines behave."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.report import compare, write_reports
from eval.run import run_set, summarize
from eval.sets import SetError, load_set
from ingest.settings import PROJECT_ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "set.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shared_sample_and_the_dev_set_load() -> None:
    sample = load_set(PROJECT_ROOT / "eval" / "sets" / "sample.yaml")
    assert sample.name == "sample-v1" and len(sample.items) == 19
    conv = next(i for i in sample.items if i.turns[0].expect is None)
    assert len(conv.turns) == 2 and conv.turns[1].expect is not None
    dev = load_set(PROJECT_ROOT / "eval" / "sets" / "dev.yaml")
    assert len(dev.items) >= 80
    assert sum(1 for i in dev.items if i.category == "out-of-scope") >= 12
    assert sum(1 for i in dev.items if len(i.turns) > 1) >= 6


@pytest.mark.parametrize("body,message", [
    ("items:\n  - id: a\n    question: q\n  - id: a\n    question: r\n", "item 'a': duplicate id"),
    ("items:\n  - id: a\n    question: q\n    colour: red\n", "unknown key(s) ['colour']"),
    ("items:\n  - id: a\n    lang: en\n", "missing or empty 'question'"),
    ("items:\n  - id: a\n    question: q\n    expect: {passages: [[]]}\n", "no alternatives"),
    ("items:\n  - id: a\n    question: q\n    expect: {passages: [['']]}\n", "empty alternative"),
    ("items:\n  - id: a\n    question: q\n    expect: {abstain: maybe}\n", "true or false"),
    ("items:\n  - id: a\n    turns: [{expect: {abstain: true}}]\n", "turn 1: missing or empty"),
    ("name: x\n", "needs a top-level 'items:' list"),
    ("items: [\n", "not valid YAML"),
])
def test_invalid_sets_are_rejected_naming_file_line_and_item(tmp_path, body, message) -> None:
    path = write(tmp_path, body)
    with pytest.raises(SetError) as err:
        load_set(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_error_points_at_the_line_of_the_bad_item(tmp_path) -> None:
    path = write(tmp_path, "items:\n  - id: ok\n    question: q\n  - id: bad\n    question: ''\n")
    with pytest.raises(SetError, match=r"set.yaml:4: item 'bad'"):
        load_set(path)


def test_baseline_comparison_flags_regressions_beyond_tolerance() -> None:
    old = {"summary": {"hit_at_1": 0.90, "mrr": 0.90, "false_abstention_rate": 0.02,
                       "latency_p50_ms": 10.0}}
    new = {"summary": {"hit_at_1": 0.85, "mrr": 0.89, "false_abstention_rate": 0.10,
                       "latency_p50_ms": 90.0}}
    changes = {c["metric"]: c for c in compare(old, new, 0.02)}
    assert changes["hit_at_1"]["regressed"] and not changes["mrr"]["regressed"]
    assert changes["false_abstention_rate"]["regressed"]  # lower is better
    assert not changes["latency_p50_ms"]["regressed"]  # machine-dependent: reported only


def test_run_scores_a_small_set_and_writes_all_three_reports(assistant, tmp_path) -> None:
    path = write(tmp_path, """name: tiny
items:
  - id: hotline
    question: Which crisis channels are proposed between nuclear-weapon states?
    lang: en
    category: stone
    expect:
      passages: [["热线和降低风险中心"]]
      answer_contains: [["hotline", "热线"]]
  - id: weather
    question: What will the weather be in Geneva tomorrow?
    lang: en
    category: oos
    expect: {abstain: true}
""")
    report = run_set(load_set(path), assistant, k=5)
    s = report["summary"]
    assert s["hit_at_1"] == 1.0 and s["mrr"] == 1.0 and s["answer_match"] == 1.0
    assert s["abstention_accuracy"] == 1.0 and s["false_abstention_rate"] == 0.0
    assert 0 < s["cited_chars_median"] <= 250
    assert report["results"][0]["retrieved"][0]["matched"] is True
    assert set(report["by_category"]) == {"stone", "oos"}
    write_reports(report, tmp_path / "out")
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    for key in ("set", "k", "items", "config", "summary", "by_category", "by_lang", "results"):
        assert key in data
    assert data["config"]["corpus_fingerprint"]
    assert "## Failures (0)" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert (tmp_path / "out" / "report.png").stat().st_size > 10_000


def test_summary_leaves_out_metrics_no_item_defines() -> None:
    rows = [{"metrics": {"abstention_accuracy": 1.0}, "latency_ms": 5.0, "retrieve_ms": 4.0,
             "answer_ms": 1.0, "abstained": True, "cited_chars": []}]
    s = summarize(rows)
    assert s["abstention_accuracy"] == 1.0 and s["hit_at_1"] is None
