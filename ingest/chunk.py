"""Units -> Chunks: stable ids, locators, token bounds (tiktoken), links to rendered originals."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from ingest.documents import Chunk, Document, Unit
from ingest.settings import apply_offline_env

_SEGMENT = 4096  # characters encoded at a time for token estimates
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


def _token_starts(text: str) -> np.ndarray:
    """Return, for each cl100k token of a text, the character offset where it starts.

    From the tokens' byte lengths, in arrays: tiktoken's own decode_with_offsets loops in
    Python over every token (1.4 s for a megabyte of Chinese)."""
    raw = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    # In segments: tiktoken is ~8x slower on one long run without spaces than on its pieces,
    # and estimates need no exact seams.
    tokens = np.array([t for i in range(0, len(text), _SEGMENT)
                       for t in _encoding().encode(text[i:i + _SEGMENT], disallowed_special=())],
                      dtype=np.int64)
    if not len(tokens):
        return np.zeros(0, dtype=np.int64)
    lengths = _token_bytes()[tokens]
    byte_starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    char_of_byte = np.cumsum((raw & 0xC0) != 0x80) - 1  # a token may start inside a character
    return char_of_byte[np.minimum(byte_starts, len(raw) - 1)]


@lru_cache(maxsize=1)
def _token_bytes() -> np.ndarray:
    """Return the byte length of every cl100k token id."""
    enc = _encoding()
    lengths = np.ones(enc.n_vocab, dtype=np.int64)
    for token in range(enc.n_vocab):
        try:
            lengths[token] = len(enc.decode_single_token_bytes(token))
        except KeyError:  # a gap in the vocabulary
            pass
    return lengths


def _pieces(text: str, max_tokens: int) -> list[tuple[int, int, int]]:
    """Split a text into spans under the token bound: whole sentences, else hard cuts.

    Returns (start, end, tokens of the span's stripped text). Linear in the text: it is
    encoded once for estimates, and each piece once more, to check the bound on the exact
    text that will be embedded (megabytes without a sentence end took minutes when every
    cut re-encoded the rest)."""
    starts = _token_starts(text)
    if len(starts) <= max_tokens:
        return [(0, len(text), count_tokens(text.strip()))]
    parts: list[tuple[int, int, int]] = []  # (start, end, estimated tokens)
    for s, e in split_sentences(text):
        first, last = np.searchsorted(starts, [s, e]).tolist()
        if last - first <= max_tokens:
            parts.append((s, e, last - first))
            continue
        # One sentence over the bound (a table row, a very long line): cut it every `step`
        # tokens, a little under the bound so that a cut encoded alone still fits.
        step = max(1, max_tokens - max(1, max_tokens // 50))
        cuts = [s, *[int(c) for c in starts[first + step:last:step]], e]
        parts += [(a, b, step) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
    return _pack(text, parts, max_tokens)


def _pack(text: str, parts: list[tuple[int, int, int]], max_tokens: int
          ) -> list[tuple[int, int, int]]:
    """Group consecutive parts greedily while their estimated token counts fit the bound.

    An estimate counts tokens of the whole text; a piece encoded alone can come out a token
    or two longer at its seams, so each piece is encoded when it closes and gives its last
    part back to the next piece while it is over."""
    pieces: list[tuple[int, int, int]] = []
    i = 0
    while i < len(parts):
        j, total = i + 1, parts[i][2]
        while j < len(parts) and total + parts[j][2] <= max_tokens:
            total += parts[j][2]
            j += 1
        while True:
            start, end = parts[i][0], parts[j - 1][1]
            n = count_tokens(text[start:end].strip())
            if n <= max_tokens or j - i == 1:
                break
            j -= 1
        if n > max_tokens:  # one part alone over the bound: cut it to fit, by characters
            pieces += _fit(text, start, end, max_tokens)
        else:
            pieces.append((start, end, n))
        i = j
    return pieces


def _fit(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int, int]]:
    """Cut a short span that is just over the bound at the longest prefixes that fit."""
    out: list[tuple[int, int, int]] = []
    while start < end:
        lo, hi = start + 1, end
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count_tokens(text[start:mid].strip()) <= max_tokens:
                lo = mid
            else:
                hi = mid - 1
        out.append((start, lo, count_tokens(text[start:lo].strip())))
        start = lo
    return out


def chunk_units(document: Document, units: list[Unit], max_tokens: int) -> list[Chunk]:
    """Return the document's chunks: one per unit, split further only past the token bound."""
    chunks: list[Chunk] = []
    for unit in units:
        pieces = _pieces(unit.text, max_tokens)
        for n, (s, e, tokens) in enumerate(pieces, 1):
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
                tokens=tokens,
                doc_hash=document.hash,
                origin=document.origin,
                added_by=document.added_by,
                added_at=document.added_at,
                source_file=document.path,
                node=document.node,
            ))
    return chunks


def chunk_document(document: Document, max_tokens: int) -> list[Chunk]:
    """Return the chunks of a document (clean -> structure -> chunk)."""
    from ingest.structure import structure

    return chunk_units(document, structure(document), max_tokens)
