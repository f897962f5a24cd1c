"""path -> Document for .txt, .md (with front matter), .pdf, .docx and .html files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ingest.documents import KINDS, Document

SUPPORTED = (".txt", ".md", ".markdown", ".pdf", ".docx", ".html", ".htm")
MANIFEST = "corpus.yaml"
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class LoadError(Exception):
    """A file could not be read as a document; the message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class ManifestError(Exception):
    """corpus.yaml is malformed; the message names the file, the line and the field."""


def detect_language(text: str) -> str:
    """Return "zh" when CJK characters dominate the letters of a text (a document or a
    question), else "en"."""
    sample = text[:20000]
    cjk = len(_CJK.findall(sample))
    latin = len(re.findall(r"[A-Za-z]", sample))
    return "zh" if cjk * 2 > latin else "en"


def load_manifest(corpus_dir: Path) -> dict[str, dict[str, Any]]:
    """Return manifest entries keyed by file name (empty when there is no corpus.yaml)."""
    path = corpus_dir / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ManifestError(f"{path}{where}: not valid YAML ({exc})") from exc
    docs = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(docs, list):
        raise ManifestError(f"{path}: expected a top-level 'documents:' list")
    entries: dict[str, dict[str, Any]] = {}
    allowed = {"file", "id", "title", "language", "kind", "source", "date", "renders", "note"}
    for i, entry in enumerate(docs, 1):
        if not isinstance(entry, dict) or "file" not in entry:
            raise ManifestError(f"{path}: documents[{i}] needs a 'file' field")
        unknown = set(entry) - allowed
        if unknown:
            raise ManifestError(f"{path}: documents[{i}] ({entry['file']}): unknown field(s) "
                                f"{sorted(unknown)}; allowed: {sorted(allowed)}")
        if entry.get("kind") and entry["kind"] not in KINDS:
            raise ManifestError(f"{path}: documents[{i}] ({entry['file']}): kind "
                                f"{entry['kind']!r} is not one of {KINDS}")
        entries[str(entry["file"])] = entry
    return entries


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str, int]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text, 0
    try:
        meta = yaml.safe_load(m.group(1)) or {}
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


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, Exception) as exc:  # pypdf raises many types on damaged files
        raise LoadError(path, f"unreadable or truncated PDF ({type(exc).__name__}: {exc})") from exc
    return "\n\n".join(pages)


def _read_docx(path: Path) -> str:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises zip, XML and package errors alike
        raise LoadError(path, f"broken DOCX ({type(exc).__name__}: {exc})") from exc
    parts: list[str] = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        level = re.search(r"heading (\d)", style)
        prefix = "#" * int(level.group(1)) + " " if level else ""
        parts.append(prefix + text)
    return "\n\n".join(parts)


def _read_html(raw: bytes, path: Path) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(raw, path), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    parts: list[str] = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "p", "li", "td", "pre", "blockquote"]):
        if el.find(["p", "li"]):  # the inner element carries the text
            continue
        text = " ".join(el.get_text(" ", strip=True).split())
        if not text:
            continue
        prefix = "#" * int(el.name[1]) + " " if el.name in ("h1", "h2", "h3", "h4") else ""
        parts.append(prefix + text)
    return title, "\n\n".join(parts)


def load_document(path: Path, manifest: dict[str, Any] | None = None,
                  max_bytes: int = 20_000_000) -> Document:
    """Return the Document for a file; raise LoadError naming the file on anything unusable."""
    path = Path(path)
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

    meta: dict[str, Any] = {}
    title = ""
    fmt = suffix.lstrip(".")
    if suffix in (".md", ".markdown", ".txt"):
        text = _decode(raw, path)
        if suffix != ".txt":
            meta, text, _ = _split_front_matter(text, path)
            fmt = "md"
    elif suffix == ".pdf":
        text = _read_pdf(path)
    elif suffix == ".docx":
        text = _read_docx(path)
        fmt = "md"  # headings were rendered as markdown
    else:
        title, text = _read_html(raw, path)
        fmt = "md"
    if not text.strip():
        raise LoadError(path, "no text could be extracted")

    meta = {**meta, **(manifest or {})}
    meta.pop("file", None)
    kind = str(meta.get("kind") or "user")
    if kind not in KINDS:
        raise LoadError(path, f"kind {kind!r} is not one of {KINDS}")
    if not title:
        heading = re.search(r"^#\s+(.+)$", text, re.M)
        title = heading.group(1).strip() if heading else path.stem
    doc_id = str(meta.get("id") or re.sub(r"[^a-z0-9.\-]+", "-", path.stem.lower()).strip("-"))
    return Document(
        id=doc_id or "document",
        title=str(meta.get("title") or title),
        kind=kind,
        language=str(meta.get("language") or detect_language(text)),
        path=str(path),
        text=text,
        source=str(meta.get("source") or ""),
        date=str(meta.get("date") or ""),
        renders=meta.get("renders"),
        format=fmt,
        meta={k: v for k, v in meta.items() if k not in Document.__dataclass_fields__},
    )
