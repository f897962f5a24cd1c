"""`npt-assistant eval run` as a user runs it: exit 0 passes, 1 regressed, 2 unusable input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eval.run import run_set
from eval.sets import load_set
from ingest.settings import PROJECT_ROOT

TINY = """name: tiny
items:
  - id: ctbt-zh
    question: 文件对全面禁止核试验条约说了什么？
    lang: zh
    expect: {passages: [[GOLD]]}
  - id: ctbt-en
    question: What does the paper say about the CTBT?
    lang: en
    expect: {passages: [[GOLD]]}
  - id: weather
    question: What will the weather be in Geneva tomorrow?
    lang: en
    expect: {abstain: true}
"""


def eval_run(settings, *args: str) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    env = {**os.environ, "NPT_DATA_DIR": str(settings.data_dir),
           "NPT_MODEL_CACHE": str(settings.models_dir), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "assistant.cli", "eval", "run", *args],
                          env=env, capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT)


def tiny_set(folder: Path, found: bool = True) -> Path:
    """The tiny set; with found=False its gold passages are nowhere in the corpus."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny.yaml"
    gold = '"禁试条约", "ctbt"' if found else '"no such passage"'
    path.write_text(TINY.replace("GOLD", gold), encoding="utf-8")
    return path


def test_a_run_passes_against_its_own_baseline_and_fails_with_1_when_it_regresses(
        assistant, bundled_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(run_set(load_set(tiny_set(tmp_path / "a")), assistant, k=5)),
                        encoding="utf-8")

    same = eval_run(bundled_settings, str(tiny_set(tmp_path / "a")), "--out",
                    str(tmp_path / "same"), "--baseline", str(baseline))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "the gate passes" in same.stdout
    report = json.loads((tmp_path / "same" / "report.json").read_text(encoding="utf-8"))
    # Warmed up before timing: the first question (Chinese: it loads the segmenter) is as
    # fast as the rest, not the ~1.4 s a cold first answer takes.
    assert report["warm_up"][0].startswith("文件对")
    first, rest = report["results"][0]["latency_ms"], [r["latency_ms"] for r in
                                                       report["results"][1:]]
    assert first < max(rest) * 3 + 150, (first, rest)

    # The same set name, but neither question's gold passage is found any more: 2 of 2
    # answerable questions lost, more than the one question's worth (0.5) allowed.
    worse = eval_run(bundled_settings, str(tiny_set(tmp_path / "b", found=False)),
                     "--out", str(tmp_path / "worse"), "--baseline", str(baseline))
    assert worse.returncode == 1, worse.stdout + worse.stderr
    assert "REGRESSED" in worse.stdout and "hit_at_1 (all) got worse by 1.0000" in worse.stdout
    assert "the set file changed since the baseline" in worse.stdout


@pytest.mark.parametrize("content,message", [
    ("{}", "has no summary with any gated metric"),
    ("not json", "Expecting value"),
    (None, "No such file"),
    (json.dumps({"set": "other", "summary": {"hit_at_1": 1.0}, "results": [{}]}),
     "it is a report of set 'other', this run is of 'tiny'"),
])
def test_a_baseline_that_cannot_be_used_exits_2_before_running(
        bundled_settings, tmp_path: Path, content: str | None, message: str) -> None:  # type: ignore[no-untyped-def]
    baseline = tmp_path / "baseline.json"
    if content is not None:
        baseline.write_text(content, encoding="utf-8")
    proc = eval_run(bundled_settings, str(tiny_set(tmp_path)), "--out", str(tmp_path / "out"),
                    "--baseline", str(baseline))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cannot use baseline" in proc.stdout and message in proc.stdout
    assert not (tmp_path / "out").exists()  # refused before anything ran
    assert "Traceback" not in proc.stderr


def test_an_invalid_set_exits_2_naming_file_and_line(bundled_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.yaml"
    path.write_text("items:\n  - id: a\n    question: q\n    lang: [en, zh]\n", encoding="utf-8")
    proc = eval_run(bundled_settings, str(path), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "bad.yaml:4: item 'a': 'lang'" in proc.stdout.replace("\n", "")
    assert not (tmp_path / "out").exists()
