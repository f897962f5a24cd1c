"""Thumbs and comments in the chat are appended to data/feedback.jsonl with the answer they judge."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.ui.test_browser import ask, wait_answer

QUESTION = "Which crisis communication tools are proposed between nuclear-weapon states?"


def new_records(path: Path, skip: int, want: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Wait for `want` records after the first `skip` lines of the log; return them."""
    deadline = time.time() + timeout
    while True:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        if len(lines) >= skip + want or time.time() > deadline:
            return [json.loads(line) for line in lines[skip:]]
        time.sleep(0.2)


def test_a_thumb_and_a_comment_are_logged_with_the_answer_they_judge(page, bundled_settings) -> None:  # type: ignore[no-untyped-def]
    log = bundled_settings.feedback_path
    skip = len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0
    ask(page, QUESTION)
    wait_answer(page, 0)
    page.locator('#chat button[aria-label="Dislike"]').last.click()
    page.fill("#comment textarea", "Quote the Chinese original as well, please.")
    page.get_by_role("button", name="Send feedback").click()

    records = new_records(log, skip, 2)
    assert [r["rating"] for r in records] == ["down", "comment"], records
    for r in records:
        assert r["question"] == QUESTION and r["time"]
        assert r["cited"] and "[1]" in r["answer"]
    assert records[1]["comment"] == "Quote the Chinese original as well, please."
    assert records[0]["cited"] == records[1]["cited"]  # both judge the same answer
    page.wait_for_function(  # the box empties once the comment is saved
        "document.querySelector('#comment textarea').value === ''", timeout=15_000)
