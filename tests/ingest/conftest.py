"""A private copy of the bundled index, for tests that add documents to it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.settings import Settings


@pytest.fixture
def bundled_copy(bundled_settings: Settings, tmp_path: Path) -> Settings:
    """Settings of a copy of the session's bundled index (nothing is embedded again)."""
    data = tmp_path / "bundled-copy"
    shutil.copytree(bundled_settings.data_dir, data, ignore=shutil.ignore_patterns(".ingest.lock"))
    return bundled_settings.model_copy(update={"data_dir": data})
