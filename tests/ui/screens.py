"""Screenshots the browser tests keep in docs/screenshots/ (the README shows the Ask tab)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingest.settings import PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"


def shoot(page: Any, name: str, **options: Any) -> Path:
    """Save a screenshot as docs/screenshots/<name>.png; an unchanged picture is not rewritten,
    so a test run leaves the committed files alone unless the UI changed."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    data = page.screenshot(**options)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    return path
