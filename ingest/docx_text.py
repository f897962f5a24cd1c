"""DOCX -> markdown: the Title paragraph as `#`, Heading N as N+1 `#`s, lists and tables kept,
after the archive's unpacked size is checked against a limit (a zip bomb fails before it inflates).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from ingest.extracted import Extracted, ReadError, check_text_size, usable_title

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.I)


def check_archive(path: Path, max_unzipped: int) -> None:
    """Raise ReadError when the archive is not a zip or unpacks to more than max_unzipped bytes.

    The declared sizes are checked first (an honest bomb fails without inflating anything),
    then every member is inflated a megabyte at a time: a member whose header lies about its
    size would otherwise be inflated whole in one call by zipfile.read, which python-docx uses."""
    try:
        with zipfile.ZipFile(path) as archive:
            _within(sum(info.file_size for info in archive.infolist()), max_unzipped)
            total = 0
            for info in archive.infolist():
                with archive.open(info) as member:
                    while chunk := member.read(1 << 20):
                        total += len(chunk)
                        _within(total, max_unzipped)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ReadError(f"broken DOCX (not a readable zip archive: {exc})") from exc


def _within(size: int, limit: int) -> None:
    if size > limit:
        raise ReadError(f"unpacks to {size:,} bytes, over the {limit:,}-byte limit for a DOCX "
                        "(a zip bomb, or a document to split); raise NPT_MAX_FILE_BYTES if it is real")


def _heading_level(style: Any) -> int:
    """Return 0 for the Title style, N for Heading N (or a style based on it), else -1."""
    for _ in range(5):  # custom heading styles are usually based on a built-in one
        if style is None:
            return -1
        name = style.name or ""
        if name.lower() == "title":
            return 0
        m = _HEADING_STYLE.match(name)
        if m:
            return int(m.group(1))
        style = style.base_style
    return -1


def _blocks(document: Any) -> list[tuple[int, str, str]]:
    """Return (heading level or -1, style name, text) for paragraphs and table rows in order."""
    from docx.table import Table

    out: list[tuple[int, str, str]] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = list(dict.fromkeys(" ".join(c.text.split()) for c in row.cells))
                if any(cells):
                    out.append((-1, "table", " | ".join(cells)))
            continue
        text = " ".join(item.text.split())
        if text:
            style = item.style
            out.append((_heading_level(style), (style.name or "") if style is not None else "", text))
    return out


def _markdown(blocks: list[tuple[int, str, str]]) -> tuple[str, str]:
    """Return (Title paragraph text, markdown) for the blocks."""
    title, parts, number = "", [], 0
    for level, style, text in blocks:
        if level == 0 and not title:
            title = text
        if level >= 0:
            parts.append("#" * min(level + 1, 6) + " " + text)
            number = 0  # automatic numbering restarts under each heading in these documents
        elif style.lower().startswith("list number"):
            number += 1
            parts.append(f"{number}. {text}")
        elif style.lower().startswith("list"):
            parts.append(f"- {text}")
        else:
            parts.append(text)
    return title, "\n\n".join(parts) + "\n"


def read_docx(path: Path, max_chars: int, max_unzipped: int) -> Extracted:
    """Return a DOCX's text as markdown and its title (core properties, else the Title paragraph)."""
    import docx

    check_archive(path, max_unzipped)
    try:
        document = docx.Document(str(path))
        blocks = _blocks(document)
        meta_title = usable_title(document.core_properties.title)
    except Exception as exc:  # python-docx raises zip, XML and package errors alike
        raise ReadError(f"broken DOCX ({type(exc).__name__}: {exc})") from exc
    check_text_size(sum(len(t) for _, _, t in blocks), max_chars)
    title, text = _markdown(blocks)
    return Extracted(text=text, title=meta_title or title, fmt="md")
