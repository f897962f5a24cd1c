"""A snapshot of every stored passage, written at ingest beside the index.

Why: reading 100k passages back out of Chroma at start took 24 s (it pages by offset, with
or without the texts). This file loads in a fraction of a second, and a passage becomes a
`Chunk` only when retrieval first touches it.

Trust: the snapshot carries a stamp that ingest also writes into the collection's metadata
once both are complete, and clears before it changes anything. A snapshot whose stamp does
not match the collection (a run killed halfway, an index copied without it) is not used.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np

from ingest import npzfile
from ingest.documents import Chunk

log = logging.getLogger(__name__)
FORMAT = 3  # 2: provenance (origin, added_by, added_at, source_file); 3: node
# Fields with few distinct values are stored once each and referenced by number.
_SHARED = ("doc_id", "doc_title", "doc_kind", "language", "unit_kind", "heading", "doc_hash",
           "origin", "added_by", "added_at", "source_file", "node")


class Catalog(Mapping[str, Chunk]):
    """Every passage of the index by chunk id, in document order; read-only."""

    def __init__(self, header: dict, arrays: Mapping[str, np.ndarray]) -> None:
        self.stamp: str = header["stamp"]
        self.ids: list[str] = header["ids"]
        # document id -> (path, chunk count), when the writer knew them
        self.documents: dict[str, tuple[str, int]] | None = (
            None if header.get("documents") is None
            else {d: (str(v[0]), int(v[1])) for d, v in header["documents"].items()})
        self._header = header
        self._codes = {name: arrays[name] for name in _SHARED}
        self._numbers = {name: arrays[name] for name in ("span", "position", "tokens")}
        self._text_at = arrays["text_at"]
        self._text = arrays["text"].tobytes()
        self._row = {cid: i for i, cid in enumerate(self.ids)}
        self._built: dict[str, Chunk] = {}

    # -- making, saving, loading ------------------------------------------------------------
    @classmethod
    def from_chunks(cls, chunks: Iterable[Chunk], stamp: str = "",
                    documents: Mapping[str, tuple[str, int]] | None = None) -> Catalog:
        """Return the catalog of these chunks (sorted into document order).

        `documents`: each document's path and chunk count, which ingest needs to tell what
        changed; with them, an ingest need not read Chroma's chunk metadata back."""
        rows = sorted(chunks, key=lambda c: (c.doc_id, c.position))
        present = {c.doc_id for c in rows}
        header: dict = {"format": FORMAT, "stamp": stamp, "ids": [c.id for c in rows],
                        "documents": None if documents is None else {
                            d: list(v) for d, v in documents.items() if d in present},
                        "locator": [c.locator for c in rows], "hash": [c.hash for c in rows],
                        # row numbers as strings: the keys JSON gives back on loading
                        "renders": {str(i): c.renders for i, c in enumerate(rows) if c.renders},
                        "refs": {str(i): c.refs for i, c in enumerate(rows) if c.refs}}
        arrays: dict[str, np.ndarray] = {}
        for name in _SHARED:
            values = [getattr(c, name) for c in rows]
            table = sorted(set(values))
            index = {v: i for i, v in enumerate(table)}
            header[f"{name}_values"] = table
            arrays[name] = np.array([index[v] for v in values], dtype=np.int32)
        arrays["span"] = np.array([c.span for c in rows], dtype=np.int64).reshape(-1, 2)
        arrays["position"] = np.array([c.position for c in rows], dtype=np.int32)
        arrays["tokens"] = np.array([c.tokens for c in rows], dtype=np.int32)
        texts = [c.text.encode("utf-8") for c in rows]
        arrays["text_at"] = np.cumsum([0] + [len(t) for t in texts], dtype=np.int64)
        arrays["text"] = np.frombuffer(b"".join(texts), dtype=np.uint8)
        return cls(header, arrays)

    def save(self, path: Path) -> None:
        """Write the catalog atomically."""
        npzfile.write(path, self._header, {**self._codes, **self._numbers,
                                           "text_at": self._text_at,
                                           "text": np.frombuffer(self._text, dtype=np.uint8)})

    @classmethod
    def load(cls, path: Path) -> Catalog | None:
        """Return the saved catalog, or None when there is none or it cannot be read."""
        found = npzfile.read(path, FORMAT)
        return cls(*found) if found else None

    @classmethod
    def current(cls, path: Path, stamp: str, count: int | None = None) -> Catalog | None:
        """Return the saved catalog if it speaks for the collection stamped `stamp` and holding
        `count` passages, else None (saying why in the log).

        The stamp alone is not enough: two writers at once each left a catalog of what they
        saw, under a valid stamp, while the collection held both runs' passages."""
        catalog = cls.load(path) if stamp else None
        if catalog is None or catalog.stamp != stamp:
            return None
        if count is not None and count != len(catalog):
            log.warning("%s lists %d passages but the vector store holds %d: not used; the "
                        "next `npt-assistant ingest` rebuilds it from the store", path,
                        len(catalog), count)
            return None
        return catalog

    # -- reading ------------------------------------------------------------------------------
    def __getitem__(self, chunk_id: str) -> Chunk:
        chunk = self._built.get(chunk_id)
        if chunk is None:
            chunk = self._build(self._row[chunk_id])
            self._built[chunk_id] = chunk
        return chunk

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._row

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def column(self, name: str) -> list[str]:
        """Return one text field of every passage, in `ids` order (no Chunk is built)."""
        if name in _SHARED:
            table = self._header[f"{name}_values"]
            return [table[i] for i in self._codes[name].tolist()]
        return list(self._header[name])

    def where(self, name: str, value: str, equal: bool = True) -> list[str]:
        """Return the ids whose shared field `name` equals (or, with equal=False, differs from) value."""
        table = self._header[f"{name}_values"]
        code = table.index(value) if value in table else -1
        mask = (self._codes[name] == code) if equal else (self._codes[name] != code)
        return [self.ids[i] for i in np.flatnonzero(mask).tolist()]

    def renderings(self) -> list[str]:
        """Return the ids of passages that render another passage."""
        return [self.ids[int(i)] for i in self._header["renders"]]

    def titles(self) -> list[tuple[str, str]]:
        """Return (title, document id) of every document, sorted."""
        return sorted(set(zip(self.column("doc_title"), self.column("doc_id"), strict=True)))

    def _build(self, row: int) -> Chunk:
        h = self._header
        shared = {name: h[f"{name}_values"][int(self._codes[name][row])] for name in _SHARED}
        start, end = self._text_at[row], self._text_at[row + 1]
        span = self._numbers["span"][row]
        return Chunk(id=self.ids[row], locator=h["locator"][row],
                     text=self._text[start:end].decode("utf-8"),
                     span=(int(span[0]), int(span[1])),
                     position=int(self._numbers["position"][row]),
                     tokens=int(self._numbers["tokens"][row]),
                     renders=h["renders"].get(str(row)), refs=list(h["refs"].get(str(row), [])),
                     hash=h["hash"][row], **shared)


def disagreements(store_ids: Collection[str] | int, catalog: Catalog,
                  lexical_ids: Collection[str]) -> list[str]:
    """Return how the vector store (its ids, or only its count), the catalog and the BM25 index
    disagree about which passages exist: one line each, empty when they agree."""
    problems = []
    listed = set(catalog.ids)
    if isinstance(store_ids, int):
        if store_ids != len(listed):
            problems.append(f"the vector store holds {store_ids} passages, the catalog {len(listed)}")
    elif set(store_ids) != listed:
        stored = set(store_ids)
        problems.append(f"{len(stored - listed)} passages of the vector store are missing from "
                        f"the catalog and {len(listed - stored)} listed there are not stored")
    if set(lexical_ids) != listed:
        lexical = set(lexical_ids)
        problems.append(f"the BM25 index lacks {len(listed - lexical)} passages of the catalog "
                        f"and has {len(lexical - listed)} it does not list")
    return problems
