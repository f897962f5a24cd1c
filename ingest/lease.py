"""One writer at a time across hosts that share a Chroma server: a lease recorded in Chroma.

The data dir's `flock` (ingest/lock.py) only orders ingests on one machine. When several app
servers share one Chroma server, each with its own data dir, the lease is the lock they share:
a record with a fixed id in a small collection beside the index. Chroma's `add` inserts only
when the id is absent, so of two hosts that add at once exactly one record survives, and both
read back the same owner. A holder renews the lease while it works; a lease whose holder was
killed expires, and the next writer deletes it only if it is still that holder's (a `delete`
filtered by the holder's token), so two waiters can never both take over an expired lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ingest.lock import LockTimeout
from ingest.store import SideRecords, Store

log = logging.getLogger(__name__)

LEASE_ID = "ingest"
TTL_S = 60.0  # a killed ingest blocks others for at most this long
RENEW_S = 15.0
POLL_S = 0.5


SIDE = "lease"  # the side collection `<collection>-lease`


def _current(records: SideRecords) -> dict[str, Any] | None:
    return records.get(ids=[LEASE_ID]).get(LEASE_ID)


def _try_take(records: SideRecords, token: str, holder: str) -> dict[str, Any] | None:
    """Take the lease if free or expired; return None when taken, else the holder's record."""
    record = _current(records)
    if record is not None and float(record.get("expires", 0)) < time.time():
        log.warning("the ingest lease of %s expired (killed?); taking it over", record.get("holder"))
        records.delete(ids=[LEASE_ID], where={"token": str(record.get("token", ""))})
        record = None
    if record is None:
        records.add(LEASE_ID, {"token": token, "holder": holder, "expires": time.time() + TTL_S})
        record = _current(records)
    if record is not None and record.get("token") == token:
        return None
    return record or {}


def _renew(records: SideRecords, token: str, stop: threading.Event) -> None:
    while not stop.wait(RENEW_S):
        try:
            record = _current(records)
            if record is None or record.get("token") != token:
                log.error("the ingest lease was taken by %s while this ingest held it",
                          (record or {}).get("holder", "nobody"))
                return
            records.update(LEASE_ID, {**record, "expires": time.time() + TTL_S})
        except Exception as exc:  # a network blip: the next renewal tries again
            log.warning("could not renew the ingest lease: %s", exc)


@contextmanager
def chroma_lease(store: Store, timeout: float = 600.0,
                 notice: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the shared Chroma server's ingest lease inside the block (wait up to `timeout`)."""
    records = store.side(SIDE)
    token = uuid.uuid4().hex
    holder = f"pid {os.getpid()} on {socket.gethostname()}"
    deadline = time.monotonic() + timeout
    told = False
    while (other := _try_take(records, token, holder)) is not None:
        if not told and notice:
            notice(f"another ingest ({other.get('holder', 'unknown')}) is writing to the Chroma "
                   f"server; waiting for it to finish (up to {timeout:.0f} s)")
            told = True
        if time.monotonic() >= deadline:
            raise LockTimeout(f"another ingest ({other.get('holder', 'unknown')}) still holds the "
                              f"Chroma server after {timeout:.0f} s; nothing was changed")
        time.sleep(POLL_S)
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(records, token, stop), daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        records.delete(ids=[LEASE_ID], where={"token": token})
