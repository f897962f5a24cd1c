"""Which language a text is in: "zh" or "en", the two the corpus and the assistant speak.

One rule for documents (ingest/loaders.py) and questions (assistant/core.py), so a question
and the passage that answers it are always told apart the same way."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
SAMPLE_CHARS = 20000  # enough to decide; a long document is not read to its end


def detect_language(text: str) -> str:
    """Return "zh" when CJK characters dominate the letters of a text, else "en"."""
    sample = text[:SAMPLE_CHARS]
    return "zh" if len(_CJK.findall(sample)) * 2 > len(_LATIN.findall(sample)) else "en"
