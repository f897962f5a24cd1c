"""Settings come from arguments, then NPT_* variables, then a TOML file (NPT_CONFIG, by
default npt.toml in the repo root); what they say reaches the assistant."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ingest.settings
from ingest.settings import PROJECT_ROOT, Settings, Tuning

TOML = 'top_k = 3\nfusion = "zscore"\nrrf_k = 12\n\n[signal_weights]\ndense = 1.0\nbm25 = 0.5\n'


def test_npt_config_names_a_toml_file_whose_values_are_used(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.toml").write_text(TOML, encoding="utf-8")
    monkeypatch.setenv("NPT_CONFIG", str(tmp_path / "mine.toml"))
    t = Settings().tuning
    assert (t.top_k, t.fusion, t.rrf_k) == (3, "zscore", 12)
    assert t.signal_weights == {"dense": 1.0, "bm25": 0.5}


def test_without_npt_config_the_npt_toml_beside_the_code_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "npt.toml").write_text(TOML, encoding="utf-8")
    monkeypatch.delenv("NPT_CONFIG")
    monkeypatch.setattr(ingest.settings, "PROJECT_ROOT", tmp_path)  # not the real checkout
    assert Settings().tuning.top_k == 3


def test_variables_beat_the_file_and_arguments_beat_both(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.toml").write_text(TOML, encoding="utf-8")
    monkeypatch.setenv("NPT_CONFIG", str(tmp_path / "mine.toml"))
    monkeypatch.setenv("NPT_TOP_K", "4")
    assert Settings().tuning.top_k == 4 and Settings().tuning.rrf_k == 12
    assert Settings(top_k=6).tuning.top_k == 6


def test_tuning_is_kept_apart_from_operator_settings_and_read_by_name_or_nested(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.toml").write_text("port = 8000\n\n[tuning]\nprior_note = 0.9\nrrf_k = 12\n",
                                        encoding="utf-8")
    monkeypatch.setenv("NPT_CONFIG", str(tmp_path / "mine.toml"))
    monkeypatch.setenv("NPT_RRF_K", "20")
    s = Settings(user_margin=0.05)
    assert (s.port, s.tuning.prior_note, s.tuning.rrf_k, s.tuning.user_margin) == (8000, 0.9, 20, 0.05)
    assert not set(Tuning.model_fields) & set(Settings.model_fields)
    assert Settings(tuning=Tuning(top_k=2), top_k=3).tuning.top_k == 3  # the name given alone wins
    with pytest.raises(ValueError, match="fusion"):
        Settings(fusion="dense")  # one signal alone is for measurement (bench/levers.py) only


def test_a_config_path_that_names_no_file_leaves_the_defaults(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NPT_CONFIG", str(tmp_path / "absent.toml"))
    assert Settings().model_dump() == Settings.model_construct().model_dump()


def ask_json(settings: Settings, **env: str) -> dict:  # type: ignore[type-arg]
    proc = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "--json", "Which crisis communication "
         "tools are proposed between nuclear-weapon states?"],
        env={**os.environ, "NPT_DATA_DIR": str(settings.data_dir),
             "NPT_MODEL_CACHE": str(settings.models_dir), **env},
        capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_npt_top_k_and_the_config_file_set_how_many_passages_ask_retrieves(
        bundled_settings: Settings, tmp_path: Path) -> None:
    assert len(ask_json(bundled_settings, NPT_TOP_K="3")["retrieved"]) == 3
    (tmp_path / "seven.toml").write_text("top_k = 7\n", encoding="utf-8")
    assert len(ask_json(bundled_settings, NPT_CONFIG=str(tmp_path / "seven.toml"))["retrieved"]) == 7
