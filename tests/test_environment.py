"""The suite tests the defaults: a developer's NPT_* variables or npt.toml change nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ingest.settings import PROJECT_ROOT

PROBE = '''
from ingest.settings import Settings


def test_settings_are_the_defaults():
    assert Settings().model_dump() == Settings.model_construct().model_dump()
'''


def test_npt_variables_and_an_npt_toml_do_not_reach_the_tests(tmp_path: Path) -> None:
    toml = tmp_path / "npt.toml"
    toml.write_text('top_k = 7\nfusion = "zscore"\n', encoding="utf-8")
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    env = {**os.environ, "NPT_TOP_K": "9", "NPT_RRF_K": "3", "NPT_DATA_DIR": str(tmp_path),
           "NPT_CONFIG": str(toml)}
    # The probe runs with the suite's conftest as a plugin, as every test module does.
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest",
                           "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(probe)],
                          env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_the_tests_themselves_see_no_npt_variable_but_the_empty_config() -> None:
    assert [k for k in os.environ if k.startswith("NPT_")] == ["NPT_CONFIG"]
    config = Path(os.environ["NPT_CONFIG"])
    assert config != PROJECT_ROOT / "npt.toml" and config.read_text().startswith("#")
