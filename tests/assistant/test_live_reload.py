"""A running assistant answers from every completed ingest, without a restart (issue #14).

The ingest runs as `npt-assistant ingest` in another process, as an operator would run it
beside a live server; the assistant watches the index and swaps in the new one atomically."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from assistant.core import Assistant
from ingest.settings import Settings
from tests.conftest import seconds_until

ACCORD = ("# Zorbian Accord\n\n## Article 1\n\nThe Zorbian Accord sets a ceiling of seventeen "
          "warheads for each party and a joint inspection every second year.\n")
QUESTION = "What ceiling of warheads does the Zorbian Accord set?"
DEADLINE_S = 5.0


def run_ingest(settings: Settings, *args: str) -> None:
    """`npt-assistant ingest …` in its own process, on the given data dir."""
    env = {**os.environ, "NPT_DATA_DIR": str(settings.data_dir),
           "NPT_MODEL_CACHE": str(settings.models_dir)}
    cli = Path(sys.executable).with_name("npt-assistant")
    done = subprocess.run([str(cli), "ingest", *args], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def cites_accord(assistant: Assistant) -> bool:
    return any("Zorbian" in r.doc_title for r in assistant.ask(QUESTION).retrieved)



def test_a_running_assistant_answers_from_an_ingest_in_another_process_and_forgets_removed_documents(
        bundled_copy: Settings, tmp_path: Path) -> None:
    assistant = Assistant(bundled_copy)
    assistant.watch(0.25)
    try:
        assert not cites_accord(assistant)
        docs = tmp_path / "docs"
        docs.mkdir()
        (docs / "zorbian.md").write_text(ACCORD, encoding="utf-8")
        run_ingest(bundled_copy, str(docs))
        assert seconds_until(lambda: cites_accord(assistant)) <= DEADLINE_S
        answer = assistant.ask(QUESTION)
        assert not answer.abstained and "seventeen" in answer.citations[0].passage

        (docs / "zorbian.md").unlink()
        run_ingest(bundled_copy, "--prune")
        assert seconds_until(lambda: not cites_accord(assistant)) <= DEADLINE_S
        assert assistant.ask(QUESTION).abstained
    finally:
        assistant.stop_watching()


def test_questions_asked_while_the_index_is_swapped_all_get_whole_answers(
        bundled_copy: Settings, tmp_path: Path) -> None:
    assistant = Assistant(bundled_copy)
    failures: list[str] = []
    stop = threading.Event()

    def ask_again_and_again() -> None:
        while not stop.is_set():
            answer = assistant.ask("Which crisis communication tools are proposed?")
            if answer.error or answer.abstained or not answer.citations:
                failures.append(answer.text[:200])

    askers = [threading.Thread(target=ask_again_and_again) for _ in range(2)]
    for t in askers:
        t.start()
    try:
        docs = tmp_path / "docs"
        docs.mkdir()
        for n in range(2):
            (docs / f"zorbian-{n}.md").write_text(ACCORD.replace("seventeen", str(17 + n)),
                                                  encoding="utf-8")
            run_ingest(bundled_copy, str(docs))
            assert assistant.refresh()  # swapped while the askers keep asking
            assert not assistant.refresh()  # nothing new since
    finally:
        stop.set()
        for t in askers:
            t.join()
    assert failures == []
    assert len([d for d in assistant.retriever.chunks.titles() if "Zorbian" in d[0]]) == 2
