"""Question sets are validated with file, line and item; reports and baselines behave."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gate import gate
from eval.report import figure, markdown, write_reports
from eval.run import NOT_RECORDED, recorded_settings, run_set, summarize
from eval.sets import Expect, SetError, load_set
from ingest.settings import PROJECT_ROOT, Settings, Tuning


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
    ("items:\n  - id: a\n    question: q\n    colour: red\n", "item 'a': unknown key 'colour'"),
    ("items:\n  - id: 1.5\n    question: q\n", "item 1: 'id': must be text or a whole number"),
    ("items:\n  - id: a\n    question: q\n    lang: [en, zh]\n", "'lang': must be one language"),
    ("items:\n  - id: a\n    question: [q]\n", "'question': must be text, not a list"),
    ("items:\n  - id: a\n    question: q\n    expect: {passages: hotline}\n",
     "'expect.passages': must be a list of lists"),
    ("items:\n  - id: a\n    question: q\n    expect: [abstain]\n", "'expect': must be a mapping"),
    ("items: []\n", "'items' is empty"),
    ("items:\n  - id: a\n    turns: [{question: q}]\n", "no turn is scored"),
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
    with pytest.raises(SetError, match=r"set.yaml:5: item 'bad': 'question': is empty"):
        load_set(path)


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


def test_line_of_a_type_error_is_the_line_of_the_bad_value(tmp_path) -> None:
    path = write(tmp_path, "items:\n  - id: ok\n    question: q\n    expect:\n"
                           "      passages:\n        - [hotline]\n        - [[nested]]\n")
    with pytest.raises(SetError, match=r"set.yaml:7: item 'ok': 'expect.passages' group 2 "
                                       r"alternative 1: must be text, not a list"):
        load_set(path)


BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))


def test_a_yaml_alias_bomb_is_refused_before_it_is_expanded(tmp_path) -> None:
    path = write(tmp_path, BILLION_LAUGHS + "items: [*i]\n")
    assert path.stat().st_size < 600
    with pytest.raises(SetError, match="aliases expand to more than"):
        load_set(path)


def test_a_few_anchors_and_aliases_still_load(tmp_path) -> None:
    path = write(tmp_path, "items:\n  - id: a\n    question: q\n    expect: &gold\n"
                           "      passages: [[hotline]]\n  - id: b\n    question: r\n"
                           "    expect: *gold\n")
    qset = load_set(path)
    assert [i.turns[0].expect for i in qset.items] == [Expect(passages=[["hotline"]])] * 2


def test_numbers_stay_valid_alternatives_and_ids(tmp_path) -> None:
    """Sets written before the type checks used bare numbers; they keep loading."""
    path = write(tmp_path, "items:\n  - id: 7\n    question: When?\n    category: 2015\n"
                           "    expect: {passages: [[2015, '2015年']], answer_contains: [2015]}\n")
    item = load_set(path).items[0]
    assert item.id == "7" and item.category == "2015"
    assert item.turns[0].expect == Expect(passages=[["2015", "2015年"]], answer_contains=[["2015"]])


def test_yes_and_no_stay_words_and_abstain_yes_still_means_true(tmp_path) -> None:
    """YAML 1.1 would read an alternative `No` as false; sets saying `abstain: yes` still load."""
    path = write(tmp_path, "items:\n  - id: a\n    question: Is it?\n"
                           "    expect: {answer_contains: [[No, Yes]]}\n"
                           "  - id: b\n    question: Weather?\n    expect: {abstain: yes}\n"
                           "  - id: 2022-01-04\n    question: When?\n"
                           "    expect: {passages: [[2022-01-04]], abstain: no}\n")
    a, b, c = (i.turns[0].expect for i in load_set(path).items)
    assert a == Expect(answer_contains=[["No", "Yes"]])
    assert b == Expect(abstain=True)
    assert c == Expect(passages=[["2022-01-04"]]) and load_set(path).items[2].id == "2022-01-04"


def test_the_set_file_hash_is_recorded(tmp_path) -> None:
    import hashlib

    path = write(tmp_path, "items:\n  - id: a\n    question: q\n")
    assert load_set(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_operator_setting_but_places_and_secrets_is_recorded_without_a_list_of_names() -> None:
    recorded = recorded_settings(Settings())
    assert set(recorded) == set(Settings.model_fields) - NOT_RECORDED - {"tuning"}
    assert recorded_settings(Settings(max_chunk_tokens=200)) != recorded
    assert not NOT_RECORDED & set(recorded) and "llm_api_key" not in recorded


def test_two_reports_with_different_tuning_never_look_alike(assistant, bundled_settings,
                                                            tmp_path) -> None:
    from assistant.core import Assistant

    qset = load_set(write(tmp_path, "name: tiny\nitems:\n  - id: a\n    question: What does the "
                                    "paper say about hotlines?\n    lang: en\n"))
    weights = {**bundled_settings.tuning.signal_weights, "bm25": 0.5}
    other = Assistant(bundled_settings.model_copy(update={
        "tuning": bundled_settings.tuning.model_copy(update={"signal_weights": weights})}))
    live, reweighted = run_set(qset, assistant, k=5), run_set(qset, other, k=5)
    # Every calibrated value is recorded, whatever its name, so the two reports differ.
    assert live["config"]["tuning"] == Tuning().model_dump(mode="json")
    assert reweighted["config"]["tuning"]["signal_weights"]["bm25"] == 0.5
    assert "| signal_weights | `{\"dense\": 1.0, \"bm25\": 0.5" in markdown(reweighted)
    verdict = gate(live, reweighted)
    assert any("signal_weights.bm25 0.75 -> 0.5" in n for n in verdict.notes), verdict.notes


def test_report_records_set_hash_settings_machine_and_warm_up(assistant, tmp_path) -> None:
    path = write(tmp_path, "name: tiny\nitems:\n  - id: a\n    question: What does the paper say "
                           "about the CTBT?\n    lang: en\n  - id: b\n    question: 文件对热线说了什么？\n"
                           "    lang: zh\n")
    report = run_set(load_set(path), assistant, k=5)
    assert report["set_sha256"] == load_set(path).sha256
    assert report["config"]["tuning"]["rrf_k"] == assistant.settings.tuning.rrf_k
    assert report["machine"]["cores"] >= 1 and report["machine"]["load_avg_1min"] is not None
    # The first question and the first Chinese one are asked before anything is timed.
    assert report["warm_up"] == ["What does the paper say about the CTBT?", "文件对热线说了什么？"]
    md = markdown(report)
    assert f"latency_p50_ms ({report['machine']['cores']} cores, load" in md
    assert "| rrf_k | `" in md


def test_chart_legends_do_not_cover_any_bar_or_line(assistant, tmp_path) -> None:
    report = run_set(load_set(PROJECT_ROOT / "eval" / "sets" / "sample.yaml"), assistant, k=5)
    fig = figure(report)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    for ax in fig.axes:
        legend = ax.get_legend().get_window_extent(renderer)
        data = [p for p in ax.patches if p.get_height() > 0] + list(ax.lines)
        assert data
        for artist in data:
            box = artist.get_window_extent(renderer)
            overlap = min(box.x1, legend.x1) - max(box.x0, legend.x0) > 1 and \
                min(box.y1, legend.y1) - max(box.y0, legend.y0) > 1
            assert not overlap, (ax.get_legend().get_title().get_text(), artist)
