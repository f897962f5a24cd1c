"""One ingest at a time, in the background, for the Documents tab: its progress while it runs,
what it did when it ends, and the running assistant told to load the new index."""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.ui.uploads import Saved
from ingest.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class JobState:
    """What the current (or last) ingest of the tab is doing or did."""

    number: int = 0  # one more for every job, so a page can tell a new run from the last
    action: str = ""  # "add" | "remove"
    phase: str = "idle"  # idle, reading, indexing, finishing, refreshing, done, failed
    current: str = ""  # the document being written
    done: int = 0  # passages written so far …
    total: int = 0  # … of this many
    started: float = 0.0
    seconds: float = 0.0
    report: Any = None  # ingest.pipeline.IngestReport once the run ended
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file as uploaded, why)
    error: str = ""
    # True: the assistant loaded the new index; False: it found nothing new to load;
    # None: this assistant cannot reload (a restart is needed to answer from the new index).
    refreshed: bool | None = None
    before: dict[str, str] = field(default_factory=dict)  # doc id -> title before the run
    after: dict[str, str] = field(default_factory=dict)  # … and after it

    @property
    def running(self) -> bool:
        return self.phase not in ("idle", "done", "failed")


class IngestJob:
    """Runs `ingest.pipeline.ingest` in a thread, one run at a time, for every session."""

    def __init__(self, settings: Settings, assistant: Any,
                 titles: Callable[[], dict[str, str]] | None = None) -> None:
        self.settings = settings
        self.assistant = assistant
        self._titles = titles or (lambda: {})
        self._lock = threading.Lock()
        self._state = JobState()
        self._embedder: Any = None  # one model load for the life of the server, not per run
        self._thread: threading.Thread | None = None

    def snapshot(self) -> JobState:
        """Return a copy of the state, safe to read while the run goes on."""
        with self._lock:
            return copy.copy(self._state)

    def begin(self, action: str) -> bool:
        """Claim the job for a run; False when one is already running (nothing changed)."""
        with self._lock:
            if self._state.running:
                return False
            self._state = JobState(number=self._state.number + 1, action=action, phase="reading",
                                   started=time.monotonic())
        self._state.before = self._titles()
        return True

    def abort(self, error: str = "") -> None:
        """Give the claim back without running (the files could not be prepared)."""
        with self._lock:
            self._state.phase, self._state.error = ("failed", error) if error else ("idle", "")

    def run(self, paths: list[Path] | None, saved: list[Saved], prune: bool = False,
            kind: str | None = None, added_by: str | None = None) -> None:
        """Start the claimed run in the background (`paths` None: every default folder)."""
        args = (paths, saved, prune, kind, added_by)
        self._thread = threading.Thread(target=self._run, args=args, name="documents-ingest",
                                        daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> JobState:
        """Return the state once the current run has ended (for scripts and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.snapshot()

    def _run(self, paths: list[Path] | None, saved: list[Saved], prune: bool,
             kind: str | None, added_by: str | None) -> None:
        from ingest.pipeline import ingest

        try:
            report = ingest(paths, self.settings, prune=prune, progress=self._progress,
                            embedder=self._model(), added_by=added_by, kind=kind,
                            notice=self._notice)
        except Exception as exc:  # a full disk, a lock held too long: the run says why
            log.exception("ingest from the Documents tab failed")
            for item in saved:
                item.undo()
            self._end(phase="failed", error=str(exc))
            return
        refused = settle(saved, report.errors)
        self._set(phase="refreshing", after=self._titles())
        self._end(phase="done", report=report, refused=refused, refreshed=self._refresh())

    def _model(self) -> Any:
        if self._embedder is None:
            from ingest.embedder import Embedder

            self._embedder = Embedder(self.settings)
        return self._embedder

    def _progress(self, doc_id: str, done: int, total: int) -> None:
        phase = "finishing" if total and done >= total else "indexing"
        self._set(phase=phase, current=doc_id, done=done, total=total)

    def _notice(self, message: str) -> None:
        log.warning("%s", message)
        self._set(current=message)

    def _refresh(self) -> bool | None:
        """Tell the assistant to load the new index; None when it cannot (older core)."""
        refresh = getattr(self.assistant, "refresh", None)
        if not callable(refresh):
            return None
        try:
            return bool(refresh())
        except Exception:  # the index is written; only the live swap failed
            log.exception("the assistant could not load the new index")
            return None

    def _set(self, **fields: Any) -> None:
        with self._lock:
            for key, value in fields.items():
                setattr(self._state, key, value)

    def _end(self, **fields: Any) -> None:
        with self._lock:
            for key, value in fields.items():
                setattr(self._state, key, value)
            self._state.seconds = time.monotonic() - self._state.started


def settle(saved: list[Saved], errors: list[str]) -> list[tuple[str, str]]:
    """Keep each saved file ingest accepted; put back the previous version of each one it
    refused (so the folder never holds a file the index does not); return (name, why) of those."""
    refused = []
    for item in saved:
        prefix = f"{item.path}: "
        why = next((e.removeprefix(prefix) for e in errors if e.startswith(prefix)), None)
        if why is None:
            item.keep()
        else:
            item.undo()
            refused.append((item.original, why))
    return refused
