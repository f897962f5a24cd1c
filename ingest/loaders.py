"""path -> Document for .txt, .md (with front matter), .pdf, .docx and .html files: the text,
the title the file gives itself, and what a manifest, front matter or `ingest --kind` declare."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ingest.documents import KINDS, Document
from ingest.docx_text import read_docx
from ingest.extracted import Extracted, ReadError
from ingest.html_text import read_html
from ingest.language import detect_language  # re-exported: older imports name this module
from ingest.manifest import MANIFESTS, ManifestError, load_manifest, safe_yaml
from ingest.pdf import read_pdf

__all__ = ["MANIFEST", "MANIFESTS", "SUPPORTED", "LoadError", "ManifestError", "detect_language",
           "load_document", "load_manifest", "markdown_title"]

SUPPORTED = (".txt", ".md", ".markdown", ".pdf", ".docx", ".html", ".htm")
MANIFEST = MANIFESTS[0]
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*(?:\{#[^}]*\})?\s*$", re.M)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


class LoadError(Exception):
    """A file could not be read as a document; the message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str, int]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text, 0
    try:
        meta = safe_yaml(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise LoadError(path, f"front matter is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise LoadError(path, "front matter must be a YAML mapping")
    return meta, text[m.end():], m.end()


def _decode(raw: bytes, path: Path) -> str:
    if b"\x00" in raw[:8192]:
        raise LoadError(path, "binary content (NUL bytes); not a text document")
    encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise LoadError(path, f"not valid {encoding.upper().replace('-SIG', '')} text (byte {exc.start}); "
                              "re-save it as UTF-8") from exc


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise LoadError(path, f"unsupported file type {suffix or '(none)'}; use one of "
                              f"{', '.join(SUPPORTED)}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LoadError(path, f"file is {size:,} bytes, over the {max_bytes:,}-byte limit "
                                  "(NPT_MAX_FILE_BYTES)")
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot read ({exc.strerror})") from exc
    if not raw.strip():
        raise LoadError(path, "empty file")
    return raw


def _extract(path: Path, raw: bytes, max_bytes: int) -> tuple[dict[str, Any], Extracted]:
    """Return the front matter (markdown only) and the text of a file of any supported type.

    The text may never be longer than the largest text file we accept (max_bytes characters),
    and a DOCX may unpack to at most four times that (10 MB at least: an empty DOCX's styles
    and theme take ~1 MB): a zip bomb fails before it inflates."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".pdf":
            return {}, read_pdf(path, max_bytes)
        if suffix == ".docx":
            return {}, read_docx(path, max_bytes, max(4 * max_bytes, 10_000_000))
        text = _decode(raw, path)
        if suffix in (".html", ".htm"):
            return {}, read_html(text, max_bytes)
    except ReadError as exc:
        raise LoadError(path, str(exc)) from exc
    if suffix == ".txt":
        return {}, Extracted(text=text, title=_txt_title(text), fmt="txt")
    meta, body, _ = _split_front_matter(text, path)
    return meta, Extracted(text=body, fmt="md")


def markdown_title(text: str) -> str:
    """Return the document title a markdown text gives itself: its one top-level heading."""
    headings = [(len(m.group(1)), m.group(2).strip()) for m in _HEADING.finditer(text)]
    if not headings:
        return ""
    top = min(level for level, _ in headings)
    tops = [t for level, t in headings if level == top]
    first_level, first = headings[0]
    return _MD_LINK.sub(r"\1", first) if first_level == top and len(tops) == 1 else ""


def _txt_title(text: str) -> str:
    """Return a plain text's first line when it stands alone like a title (short, no full stop)."""
    m = re.match(r"\s*([^\n]{1,120})\n\s*\n\S", text)
    line = m.group(1).strip() if m else ""
    return line if line and not re.search(r"[.;:,。；：，]$", line) else ""


def _kind(meta: dict[str, Any], default_kind: str | None, path: Path) -> str:
    # The file's own word (manifest, then front matter) beats the folder-wide --kind.
    kind = str(meta.get("kind") or default_kind or "user")
    if kind not in KINDS:
        raise LoadError(path, f"kind {kind!r} is not one of {KINDS}")
    return kind


def load_document(path: Path, manifest: dict[str, Any] | None = None,
                  max_bytes: int = 20_000_000, default_kind: str | None = None) -> Document:
    """Return the Document for a file; raise LoadError naming the file on anything unusable.

    `default_kind` is what `ingest --kind` declares for a whole folder; a manifest entry or
    front matter that names a kind for the file itself wins over it."""
    path = Path(path)
    raw = _read_bytes(path, max_bytes)
    front, extracted = _extract(path, raw, max_bytes)
    text = extracted.text
    if not text.strip():
        raise LoadError(path, "no text could be extracted")
    if len(text) > max_bytes:
        raise LoadError(path, f"{len(text):,} characters of text, over the {max_bytes:,} limit "
                              "(NPT_MAX_FILE_BYTES)")
    meta = {**front, **(manifest or {})}
    meta.pop("file", None)
    doc_id = str(meta.get("id") or re.sub(r"[^a-z0-9.\-]+", "-", path.stem.lower()).strip("-"))
    return Document(
        id=doc_id or "document",
        title=str(meta.get("title") or extracted.title or markdown_title(text) or path.stem),
        kind=_kind(meta, default_kind, path),
        language=str(meta.get("language") or detect_language(text)),
        path=str(path),
        text=text,
        source=str(meta.get("source") or ""),
        date=str(meta.get("date") or ""),
        renders=meta.get("renders"),
        format=extracted.fmt,
        meta={k: v for k, v in meta.items() if k not in Document.__dataclass_fields__},
    )
