"""One writer at a time per data dir: an inter-process lock held for a whole ingest.

Two ingests at once each wrote their own catalog and BM25 index over the other's, leaving the
collection with passages that neither file listed (issue #15). The lock is `flock` on a file in
the data dir: the kernel releases it when its holder dies, even by SIGKILL, so a killed run
never leaves the next one waiting on a stale lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.store import StoreError

LOCK_NAME = ".ingest.lock"
POLL_S = 0.2


class LockTimeout(StoreError):
    """Another ingest kept the data dir for longer than this one would wait."""


@contextmanager
def writer_lock(data_dir: Path, timeout: float = 600.0,
                notice: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the data dir's writer lock inside the block; wait up to `timeout` seconds for it,
    saying so once through `notice`, then raise LockTimeout."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    with open(path, "a+", encoding="utf-8") as fh:
        if not _try_lock(fh):
            if notice:
                notice(f"another ingest ({_holder(path)}) is writing to {data_dir}; "
                       f"waiting for it to finish (up to {timeout:.0f} s)")
            deadline = time.monotonic() + timeout
            while not _try_lock(fh):
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"another ingest ({_holder(path)}) is still writing to {data_dir} after "
                        f"{timeout:.0f} s; nothing was changed. Run this one again when it has "
                        "finished (or wait longer with --wait SECONDS)")
                time.sleep(POLL_S)
        try:
            _describe(fh, {"pid": os.getpid(), "host": socket.gethostname(),
                           "since": time.strftime("%Y-%m-%d %H:%M:%S")})
            yield
        finally:
            _describe(fh, {})
            fcntl.flock(fh, fcntl.LOCK_UN)


def _describe(fh, info: dict) -> None:  # type: ignore[no-untyped-def]
    """Say who holds the lock, for whoever waits; best effort (a full disk must not stop the
    run here: the store reports it, with the state the index is left in)."""
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(info) if info else "")
        fh.flush()
    except OSError:
        pass


def _try_lock(fh) -> bool:  # type: ignore[no-untyped-def]
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _holder(path: Path) -> str:
    """Describe the process holding the lock, from what it wrote into the lock file."""
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "a process that has just started"
    return f"pid {info.get('pid')} on {info.get('host')}, since {info.get('since')}"
