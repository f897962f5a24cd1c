"""Units -> Chunks: stable ids, locators, token bounds (tiktoken), links to rendered originals."""

from __future__ import annotations

import re
from functools import lru_cache

from ingest.documents import Chunk, Document, Unit
from ingest.settings import apply_offline_env

_SENTENCE = re.compile(r"(?<=[。！？；!?;])|(?<=[.!?])\s+(?=[A-Z0-9\"“(\[])")


@lru_cache(maxsize=1)
def _encoding():  # type: ignore[no-untyped-def]
    apply_offline_env()
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    """Return the number of cl100k tokens in a text."""
    return len(_encoding().encode(text, disallowed_special=()))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences of a text, covering it without gaps."""
    spans, start = [], 0
    for m in _SENTENCE.finditer(text):
        end = m.start()
        if end > start and text[start:end].strip():
            spans.append((start, end))
            start = end
    if start < len(text):
        if spans and not text[start:].strip():
            spans[-1] = (spans[-1][0], len(text))
        else:
            spans.append((start, len(text)))
    return spans or [(0, len(text))]


def _pieces(text: str, max_tokens: int) -> list[tuple[int, int]]:
    """Split a text into spans under the token bound: whole sentences, else hard cuts."""
    if count_tokens(text) <= max_tokens:
        return [(0, len(text))]
    pieces: list[tuple[int, int]] = []
    cur_start, cur_end = 0, 0
    for s, e in split_sentences(text):
        if cur_end > cur_start and count_tokens(text[cur_start:e]) > max_tokens:
            pieces.append((cur_start, cur_end))
            cur_start = s
        cur_end = e
        while count_tokens(text[cur_start:cur_end]) > max_tokens:
            # One sentence over the bound (a table row, a very long line): cut by characters.
            lo, hi = cur_start + 1, cur_end
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if count_tokens(text[cur_start:mid]) <= max_tokens:
                    lo = mid
                else:
                    hi = mid - 1
            pieces.append((cur_start, lo))
            cur_start = lo
    if cur_end > cur_start:
        pieces.append((cur_start, cur_end))
    return pieces


def chunk_units(document: Document, units: list[Unit], max_tokens: int) -> list[Chunk]:
    """Return the document's chunks: one per unit, split further only past the token bound."""
    chunks: list[Chunk] = []
    for unit in units:
        pieces = _pieces(unit.text, max_tokens)
        for n, (s, e) in enumerate(pieces, 1):
            text = unit.text[s:e].strip()
            if not text:
                continue
            lead = len(unit.text[s:e]) - len(unit.text[s:e].lstrip())
            s += lead
            e = s + len(text)
            offsets = unit.offsets[s:e] if unit.offsets else []
            span = (min(offsets), max(offsets) + 1) if offsets else unit.span
            suffix = f"-part{n}" if len(pieces) > 1 else ""
            renders = f"{document.renders}#{unit.renders}" if document.renders and unit.renders else None
            locator = unit.locator + (f" (part {n} of {len(pieces)})" if suffix else "")
            chunks.append(Chunk(
                id=f"{document.id}#{unit.id}{suffix}",
                doc_id=document.id,
                doc_title=document.title,
                doc_kind=document.kind,
                language=document.language,
                locator=locator,
                text=text,
                span=span,
                position=len(chunks),
                unit_kind=unit.kind,
                heading=unit.heading,
                renders=renders,
                refs=[f"{document.id}#{r}" for r in unit.refs],
                tokens=count_tokens(text),
                doc_hash=document.hash,
            ))
    return chunks


def chunk_document(document: Document, max_tokens: int) -> list[Chunk]:
    """Return the chunks of a document (clean -> structure -> chunk)."""
    from ingest.structure import structure

    return chunk_units(document, structure(document), max_tokens)
