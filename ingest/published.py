"""The side files (BM25, catalog, question cards) published on a shared Chroma server.

Chroma is the one source of truth; the side files beside an index are caches derived from it.
With one machine they are simply on its disk. When several app servers share a Chroma server,
each with its own data dir, the ingest that writes them also publishes them on that server,
under the stamp of the run, so any host whose copy is missing or older fetches the current one
instead of failing or serving stale lexical results (issue #20).

The bytes travel as base64 strings in record metadata of a dedicated collection, in parts of a
few megabytes: metadata strings are stored as they are, whereas Chroma indexes documents for
full-text search (an 8 MB document took 2 s to add there, 8 MB of metadata 0.4 s).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from pathlib import Path
from typing import Any

from ingest.settings import Settings
from ingest.store import SideRecords, Store

log = logging.getLogger(__name__)

PART_BYTES = 4 * 2**20


def side_files(settings: Settings) -> list[Path]:
    """The files an ingest derives from the collection, which another host needs too."""
    from ingest import cards

    return [settings.lexical_path, settings.catalog_path, settings.cards_path,
            cards.lexical_path(settings.cards_path)]


SIDE = "files"  # the side collection `<collection>-files`


def publish(store: Store, settings: Settings, stamp: str) -> int:
    """Put this run's side files on the server under `stamp`; drop older runs'. Return bytes."""
    records = store.side(SIDE)
    sent = 0
    for path in side_files(settings):
        if not path.is_file():
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        parts = [data[i:i + PART_BYTES] for i in range(0, len(data), PART_BYTES)] or [b""]
        for i, part in enumerate(parts):
            records.put(f"{stamp}/{path.name}/{i}",
                        {"stamp": stamp, "file": path.name, "part": i, "parts": len(parts),
                         "sha256": digest, "blob": base64.b64encode(part).decode("ascii")})
        sent += len(data)
    # Older runs' copies: a host still fetching one finds it gone, re-reads the stamp and
    # fetches this run's instead.
    records.delete(where={"stamp": {"$ne": stamp}})
    return sent


def fetch(store: Store, settings: Settings, stamp: str) -> bool:
    """Write the side files published under `stamp` into the data dir; False if none are."""
    records = store.side(SIDE)
    names = {p.name: p for p in side_files(settings)}
    found = records.get(where={"$and": [{"stamp": stamp}, {"part": 0}]})
    heads = [m for m in found.values() if m.get("file") in names]
    if not any(m["file"] == settings.lexical_path.name for m in heads):
        return False
    for head in heads:
        data = _assemble(records, stamp, head)
        if data is None:
            return False
        target = names[str(head["file"])]
        tmp = target.with_name(f".{target.name}.fetch-{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    log.info("fetched the side files of ingest %s from the Chroma server", stamp[:8])
    return True


def _assemble(records: SideRecords, stamp: str, head: dict[str, Any]) -> bytes | None:
    """Return one published file's bytes, or None when parts are missing or do not match."""
    name, count = str(head["file"]), int(head["parts"])
    got = records.get(ids=[f"{stamp}/{name}/{i}" for i in range(count)])
    parts = {int(m["part"]): base64.b64decode(str(m["blob"])) for m in got.values() if m}
    if len(parts) != count:
        return None
    data = b"".join(parts[i] for i in range(count))
    if hashlib.sha256(data).hexdigest() != head["sha256"]:
        log.warning("the published %s of ingest %s does not match its checksum", name, stamp[:8])
        return None
    return data
