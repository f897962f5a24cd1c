"""ingest(paths): load, chunk, embed and write to Chroma incrementally; keep BM25 in step."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.catalog import Catalog
from ingest.chunk import chunk_document
from ingest.documents import Chunk, Document, content_hash
from ingest.embedder import Embedder
from ingest.lexical import LexicalIndex, add_words
from ingest.loaders import (
    MANIFEST,
    SUPPORTED,
    LoadError,
    ManifestError,
    load_document,
    load_manifest,
)
from ingest.settings import Settings
from ingest.store import DocState, Store, ensure_writable, writing

log = logging.getLogger(__name__)
# Bump when cleaning, structure or chunking change what a document turns into: stored
# documents then no longer look complete, and the next ingest redoes them.
PIPELINE_VERSION = "4c"
EMBED_GROUP = 256  # chunks embedded together across small documents
_GLOSS_LINE = re.compile(r"^(en|zh):\s*(.+)$", re.M)


@dataclass
class IngestReport:
    """What one ingest run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # indexed, file gone, not pruned
    errors: list[str] = field(default_factory=list)
    chunks_total: int = 0
    chunks_embedded: int = 0
    tokens_embedded: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_embedded / self.seconds if self.seconds else 0.0


def discover(paths: Iterable[Path]) -> list[Path]:
    """Return the supported files under the given files and folders, sorted, no duplicates."""
    found: set[Path] = set()
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for p in path.rglob("*"):
                if p.is_file() and p.suffix.lower() in SUPPORTED and not any(
                    part.startswith(".") for part in p.relative_to(path).parts
                ):
                    found.add(p.resolve())
        else:
            found.add(path.resolve())
    return sorted(found)


def default_paths(settings: Settings) -> list[Path]:
    """Return the bundled corpus folder and the folder of user-added documents."""
    uploads = settings.data_dir / "documents"
    return [settings.corpus_dir] + ([uploads] if uploads.is_dir() else [])


def load_all(files: list[Path], settings: Settings, report: IngestReport,
             kind: str | None = None) -> list[Document]:
    """Load every file; a bad one becomes an error line and never stops the others.
    `kind` (ingest --kind) is the kind of every file that declares none itself."""
    manifests: dict[Path, dict] = {}
    docs: list[Document] = []
    seen: dict[str, str] = {}
    for path in files:
        if path.name == MANIFEST:
            continue
        try:
            if path.parent not in manifests:
                manifests[path.parent] = load_manifest(path.parent)
            doc = load_document(path, manifests[path.parent].get(path.name),
                                max_bytes=settings.max_file_bytes, default_kind=kind)
        except (LoadError, ManifestError) as exc:
            report.errors.append(str(exc))
            if isinstance(exc, ManifestError):
                manifests[path.parent] = {}
            continue
        if doc.id in seen:
            report.errors.append(f"{path}: document id {doc.id!r} is already used by {seen[doc.id]}; "
                                 "give one of them another id (front matter or corpus.yaml)")
            continue
        seen[doc.id] = str(path)
        docs.append(doc)
    return docs


def glossary_entries(chunks: Iterable[Chunk]) -> list[dict[str, list[str]]]:
    """Return bilingual term pairs found in glossary-style chunks ("en: …" / "zh: …" lines)."""
    entries = []
    for chunk in chunks:
        found = {k: v for k, v in _GLOSS_LINE.findall(chunk.text)}
        if "en" in found and "zh" in found:
            split = re.compile(r"\s*[;；]\s*")
            entries.append({
                "en": [t.strip() for t in split.split(found["en"]) if t.strip()],
                "zh": [t.strip("《》 ") for t in split.split(found["zh"]) if t.strip("《》 ")],
                "chunk": [chunk.id],
            })
    return entries


def _batches(todo: list[tuple[Document, list[Chunk]]], size: int
             ) -> list[list[tuple[Document, list[Chunk]]]]:
    """Group documents so each group holds at least `size` chunks (the last may hold fewer)."""
    groups: list[list[tuple[Document, list[Chunk]]]] = [[]]
    count = 0
    for item in todo:
        if count >= size:
            groups.append([])
            count = 0
        groups[-1].append(item)
        count += len(item[1])
    return [g for g in groups if g]


def _words(glossary: list[dict[str, list[str]]]) -> set[str]:
    return {w for entry in glossary for w in entry.get("zh", [])}


def _stored(store: Store, col: Any, settings: Settings
            ) -> tuple[dict[str, Chunk] | None, dict[str, DocState]]:
    """Return what the index holds: every passage (None: read them at the end) and each
    document's state.

    From the catalog the last complete run left, when it matches `col`: then nothing is read
    back from Chroma (paging 100k passages' metadata out of it takes ~20 s). Otherwise the
    states come from Chroma's chunk metadata, the ground truth."""
    catalog = Catalog.current(settings.catalog_path, store.stamp(col))
    if catalog is None or catalog.documents is None:
        return None, store.doc_states()
    states: dict[str, DocState] = {}
    for cid, doc_id, doc_hash in zip(catalog.ids, catalog.column("doc_id"),
                                     catalog.column("doc_hash"), strict=True):
        path, expected = catalog.documents[doc_id]
        state = states.setdefault(doc_id, DocState(doc_id, path, expected=expected))
        state.hashes.add(doc_hash)
        state.chunk_ids.append(cid)
    return {cid: catalog[cid] for cid in catalog}, states


def ingest(paths: list[Path] | None, settings: Settings, rebuild: bool = False,
           prune: bool = False, progress: Callable[[str, int, int], None] | None = None,
           embedder: Embedder | None = None, kind: str | None = None) -> IngestReport:
    """Bring the index in line with the given files; return what changed."""
    started = time.perf_counter()
    report = IngestReport()
    files = discover(paths if paths else default_paths(settings))
    docs = load_all(files, settings, report, kind)

    # Refuse a read-only or unwritable data dir before touching anything.
    ensure_writable(settings.data_dir)
    embedder = embedder or Embedder(settings)
    fingerprint = embedder.fingerprint()
    store = Store(settings)
    if store.exists() and store.embedder_name() not in (fingerprint, None):
        log.warning("index built with another embedder (%s): rebuilding", store.embedder_name())
        rebuild = True
    target = Store(settings, name=f"{settings.collection}-rebuild") if rebuild else store
    if rebuild and target.exists():
        target.client.delete_collection(target.name)
    col = target.collection(embedder=fingerprint)
    lexical = LexicalIndex() if rebuild else LexicalIndex.load(settings.lexical_path)
    known, states = ({}, {}) if rebuild else _stored(store, col, settings)
    written: dict[str, tuple[str, int]] = {}  # document id -> (path, chunks) written this run

    todo: list[tuple[Document, list[Chunk]]] = []
    for doc in docs:
        doc.hash = content_hash(f"{doc.hash}|{PIPELINE_VERSION}|{settings.max_chunk_tokens}")
        state = states.get(doc.id)
        if state and state.complete(doc.hash):
            report.unchanged.append(doc.id)
            continue
        try:
            chunks = chunk_document(doc, settings.max_chunk_tokens)
        except Exception as exc:  # a parser bug must cost one document, not the run
            log.exception("chunking %s failed", doc.path)
            report.errors.append(f"{doc.path}: could not be split into passages ({exc})")
            continue
        if not chunks:
            report.errors.append(f"{doc.path}: no text to index")
            continue
        todo.append((doc, chunks))

    with writing(settings.chroma_url or settings.data_dir):
        # Until this run completes, the snapshot on disk no longer describes the collection.
        store.set_stamp(col, "")
        changed: set[str] = set()
        total = sum(len(c) for _, c in todo)
        done = 0
        for batch in _batches(todo, EMBED_GROUP):
            # Plan every document of the batch, embed all their new text in one call (the model
            # sorts by length and fills its batches), then write document by document so a
            # crash loses at most the documents not yet written.
            plans = []
            for doc, chunks in batch:
                state = states.get(doc.id)
                stored = store.existing_hashes(col, [c.id for c in chunks]) if state else {}
                fresh = [c for c in chunks if stored.get(c.id) != c.hash]
                plans.append((doc, chunks, state, fresh, [c for c in chunks if c not in fresh]))
            t0 = time.perf_counter()
            vectors = embedder.passages([c.embed_text for p in plans for c in p[3]])
            report.embed_seconds += time.perf_counter() - t0
            offset = 0
            for doc, chunks, state, fresh, same in plans:
                extra = {"doc_chunks": len(chunks), "path": doc.path, "source": doc.source,
                         "date": doc.date}
                store.upsert(col, fresh, vectors[offset:offset + len(fresh)], extra)
                offset += len(fresh)
                if same:  # text unchanged: keep the vector, refresh what the document says of it
                    for i in range(0, len(same), 500):
                        part = same[i:i + 500]
                        col.update(ids=[c.id for c in part],
                                   metadatas=[{**c.to_metadata(), **extra} for c in part])
                stale = sorted(set(state.chunk_ids) - {c.id for c in chunks}) if state else []
                store.delete(col, stale)
                lexical.remove(stale)
                changed.update(c.id for c in chunks)
                written[doc.id] = (doc.path, len(chunks))
                if known is not None:
                    for cid in stale:
                        known.pop(cid, None)
                    known.update((c.id, c) for c in chunks)
                report.chunks_embedded += len(fresh)
                report.tokens_embedded += sum(c.tokens for c in fresh)
                (report.updated if state else report.added).append(doc.id)
                done += len(chunks)
                log.info("indexed %s (%d chunks, %d embedded)", doc.id, len(chunks), len(fresh))
                if progress:
                    progress(doc.id, done, total)

        loaded = {d.id for d in docs}
        for doc_id, state in states.items():
            if doc_id in loaded or Path(state.path).exists():
                continue
            if prune:
                store.delete(col, state.chunk_ids)
                lexical.remove(state.chunk_ids)
                if known is not None:
                    for cid in state.chunk_ids:
                        known.pop(cid, None)
                report.pruned.append(doc_id)
            else:
                report.missing.append(doc_id)

        if rebuild:
            if store.exists():
                store.client.delete_collection(store.name)
            col.modify(name=store.name)
        all_chunks = store.all_chunks() if known is None else \
            sorted(known.values(), key=lambda c: (c.doc_id, c.position))
        report.chunks_total = len(all_chunks)
        glossary = glossary_entries(all_chunks)
        if _words(glossary) != _words(lexical.glossary):
            # New glossary terms change how Chinese is segmented: re-tokenise everything.
            add_words(_words(glossary))
            lexical = LexicalIndex()
        lexical.glossary = glossary
        ids = {c.id for c in all_chunks}
        lexical.remove(set(lexical.docs) - ids)  # also heals a run killed between the two stores
        for c in all_chunks:
            if c.id in changed or c.id not in lexical.docs:
                lexical.add(c.id, c.embed_text)
        stamp = uuid.uuid4().hex
        lexical.save(settings.lexical_path, stamp)
        documents = {d: (st.path, st.expected) for d, st in states.items()} | written
        Catalog.from_chunks(all_chunks, stamp, documents).save(settings.catalog_path)
        store.set_stamp(col, stamp)  # last: only now do the two files speak for the collection
        (settings.data_dir / "lexical.json.gz").unlink(missing_ok=True)  # before format 7
    report.seconds = time.perf_counter() - started
    return report
