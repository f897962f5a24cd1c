"""The Documents tab in a real browser: a document uploaded through the page is indexed in the
background, listed, and answers a question nothing else in the corpus answers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.ui.app import launch
from ingest.settings import PROJECT_ROOT, Settings
from tests.ui.conftest import free_port

SCREENSHOT = PROJECT_ROOT / "docs" / "screenshots" / "documents.png"
KESTREL = """# The Kestrel verification exercise

## Findings

Twelve inspectors from seven States took part in the Kestrel verification exercise, which
tested seismic sensors for detecting very low-yield explosions.
"""


@pytest.fixture
def own_server(bundled_settings: Settings, tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    """A server on a copy of the bundled index (an upload must never touch the shared one)."""
    data = tmp_path / "data"
    shutil.copytree(bundled_settings.data_dir, data, ignore=shutil.ignore_patterns(".ingest.lock"))
    settings = Settings(data_dir=data, model_cache=bundled_settings.model_cache,
                        corpus_dir=bundled_settings.corpus_dir)
    port = free_port()
    demo = launch(settings, port=port, block=False)
    yield f"http://127.0.0.1:{port}/", settings
    demo.close()


def test_an_uploaded_document_is_listed_and_answers_at_once(browser, own_server,  # type: ignore[no-untyped-def]
                                                            tmp_path: Path) -> None:
    url, settings = own_server
    brief = tmp_path / "upload" / "Kestrel brief.md"
    brief.parent.mkdir()
    brief.write_text(KESTREL, encoding="utf-8")
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else outside.append(r.url))
    page.goto(url, wait_until="load")
    page.locator("button[role='tab']", has_text="Documents").click()
    page.wait_for_selector("#docs-table")
    assert "Stepping stones" in page.inner_text("#docs-table")  # the bundled corpus is listed

    page.set_input_files("#docs-upload input[type=file]", str(brief))
    page.wait_for_selector("#docs-upload >> text=Kestrel brief.md", timeout=30_000)
    page.locator("#docs-kind label", has_text="official text").click()
    page.click("#docs-add")
    page.wait_for_selector("#docs-summary", timeout=240_000)
    summary = page.inner_text("#docs-summary")
    assert "Added: The Kestrel verification exercise" in summary, summary
    assert "now answers from the new index" in summary or "current index" in summary, summary
    page.wait_for_function("document.querySelector('#docs-table').innerText.includes('Kestrel')",
                           timeout=30_000)
    cells = page.inner_text("#docs-table").splitlines()
    row = cells[cells.index("The Kestrel verification exercise"):][:7]  # newest upload first
    assert row[1:4] == ["official text", "English", "1"] and row[6] == "uploaded: Kestrel-brief.md"
    assert (settings.data_dir / "documents" / "Kestrel-brief.md").is_file()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.locator("button[role='tab']", has_text="Ask").click()
    page.fill("#question textarea", "How many inspectors took part in the Kestrel exercise?")
    page.click("#send")
    page.wait_for_selector("#sources #turn-0", timeout=60_000)
    assert "Twelve inspectors" in page.inner_text("#chat")
    assert "Kestrel verification exercise" in page.inner_text("#sources")
    assert outside == []
    page.close()
