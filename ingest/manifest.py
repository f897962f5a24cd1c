"""Manifests beside the files: `corpus.yaml` (the bundled corpus) or `documents.yaml` (a user's
folder), with the same fields; and YAML read without aliases (a "billion laughs" file is refused)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ingest.documents import KINDS

MANIFESTS = ("corpus.yaml", "documents.yaml")
FIELDS = ("file", "id", "title", "language", "kind", "source", "date", "renders", "note")
MAX_MANIFEST_BYTES = 1_000_000


class ManifestError(Exception):
    """A manifest is malformed; the message names the file, the line and the field."""


class _NoAliases(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases: a few bytes of them can expand to gigabytes."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed here",
                                              event.start_mark)
        return super().compose_node(parent, index)


def safe_yaml(text: str) -> Any:
    """Return the YAML data of a text; raise yaml.YAMLError on errors and on any alias."""
    return yaml.load(text, Loader=_NoAliases)  # noqa: S506 - a SafeLoader subclass


def _where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f" line {mark.line + 1}" if mark else ""


def _entries(path: Path) -> dict[str, dict[str, Any]]:
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{path}: over {MAX_MANIFEST_BYTES:,} bytes; a manifest lists files, "
                            "it does not hold them")
    try:
        data = safe_yaml(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = _where(exc) if isinstance(exc, yaml.YAMLError) else ""
        raise ManifestError(f"{path}{where}: not valid YAML ({exc})") from exc
    docs = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(docs, list):
        raise ManifestError(f"{path}: expected a top-level 'documents:' list")
    entries: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(docs, 1):
        if not isinstance(entry, dict) or "file" not in entry:
            raise ManifestError(f"{path}: documents[{i}] needs a 'file' field")
        unknown = set(entry) - set(FIELDS)
        if unknown:
            raise ManifestError(f"{path}: documents[{i}] ({entry['file']}): unknown field(s) "
                                f"{sorted(unknown)}; allowed: {sorted(FIELDS)}")
        if entry.get("kind") and entry["kind"] not in KINDS:
            raise ManifestError(f"{path}: documents[{i}] ({entry['file']}): kind "
                                f"{entry['kind']!r} is not one of {KINDS}")
        entries[str(entry["file"])] = entry
    return entries


def load_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """Return the entries of the folder's corpus.yaml and documents.yaml, keyed by file name
    (empty when there is neither); a file listed in both is refused."""
    entries: dict[str, dict[str, Any]] = {}
    origin: dict[str, Path] = {}
    for name in MANIFESTS:
        path = Path(folder) / name
        if not path.is_file():
            continue
        for file, entry in _entries(path).items():
            if file in entries:
                raise ManifestError(f"{path}: {file} is also described in {origin[file]}; "
                                    "keep one entry")
            entries[file], origin[file] = entry, path
    return entries


def declare(path: Path, **fields: Any) -> None:
    """Record fields (kind, title…) for one file in the documents.yaml beside it, so that every
    later ingest reads them again (a kind given once to `ingest --kind` or chosen at upload
    would otherwise be forgotten by the next run). Other entries are kept; comments are not."""
    import os
    import tempfile

    path = Path(path)
    unknown = set(fields) - set(FIELDS[1:])
    if unknown or ("kind" in fields and fields["kind"] not in KINDS):
        raise ManifestError(f"{path}: cannot declare {sorted(fields)}; fields: {list(FIELDS[1:])}, "
                            f"kinds: {KINDS}")
    manifest = path.parent / MANIFESTS[1]
    docs = list(_entries(manifest).values()) if manifest.is_file() else []
    entry = next((d for d in docs if d["file"] == path.name), None)
    if entry is None:
        entry = {"file": path.name}
        docs.append(entry)
    entry.update(fields)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".documents.", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            yaml.safe_dump({"documents": docs}, out, allow_unicode=True, sort_keys=False)
        os.replace(tmp, manifest)  # atomic: a reader sees the old manifest or the new one
    finally:
        Path(tmp).unlink(missing_ok=True)
