"""What a format reader returns, the one error it raises, and the limits every reader keeps."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Metadata titles that name a file or a template rather than the document.
_JUNK_TITLE = re.compile(r"^(untitled|document\d*|microsoft word\b.*|.*\.(docx?|pdf|rtf|odt|html?))$", re.I)
# A UN document symbol ("NPT/CONF.2026/WP.99", "A/RES/75/40"): a reference, not a title.
UN_SYMBOL = re.compile(r"^[A-Z]{1,10}(/[A-Z0-9][A-Za-z0-9.\-()]*)+$")


class ReadError(Exception):
    """A file's content cannot be turned into text; the loader adds the file name."""


@dataclass
class Extracted:
    """Text taken out of a file: markdown ("md") when it carries headings, else plain ("txt")."""

    text: str
    title: str = ""
    fmt: str = "md"


def usable_title(title: object) -> str:
    """Return a metadata title when it names the document, else "" (file names, symbols…)."""
    text = " ".join(str(title or "").split())
    if not text or _JUNK_TITLE.match(text) or UN_SYMBOL.match(text) or len(text) > 300:
        return ""
    return text


def check_text_size(size: int, max_chars: int) -> None:
    """Raise ReadError once extracted text passes the limit (a bomb must stop early)."""
    if size > max_chars:
        raise ReadError(f"more than {max_chars:,} characters of text extracted; over the limit "
                        "(NPT_MAX_FILE_BYTES): split the document or raise the limit")
