"""The index's side files (BM25 arrays, passage catalog): numpy arrays plus a JSON header.

One way to write them (atomically) and one way to read them (None when absent, damaged or
of another format), so both files fail the same way and are healed by the next ingest."""

from __future__ import annotations

import json
import logging
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
_UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


def write(path: Path, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Write atomically: a crash mid-write leaves the previous file in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, header=np.frombuffer(text, dtype=np.uint8),
                     **arrays)  # type: ignore[arg-type]  # numpy types **kwds as allow_pickle
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a half-written file must not sit beside the good one
        raise


def stamp(path: Path) -> str:
    """Return the stamp in a side file's header ("" when absent or unreadable), reading nothing
    else: a host checks its copies against the collection at every reload."""
    if not path.is_file():
        return ""
    try:
        with np.load(path, allow_pickle=False) as data:
            return str(json.loads(data["header"].tobytes().decode("utf-8")).get("stamp", ""))
    except _UNREADABLE:
        return ""


def read(path: Path, fmt: int) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """Return (header, arrays), or None when the file is absent, unreadable or not format `fmt`."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(data["header"].tobytes().decode("utf-8"))
            if header.get("format") != fmt:
                log.warning("%s has an old format; the next ingest rewrites it", path)
                return None
            return header, {name: data[name] for name in data.files if name != "header"}
    except _UNREADABLE as exc:  # truncated, damaged, or some other file under that name
        log.warning("%s cannot be read (%s); the next ingest rewrites it", path, exc)
        return None
