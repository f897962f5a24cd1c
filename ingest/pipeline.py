"""ingest(paths): load, chunk, embed and write to Chroma incrementally; keep BM25 in step."""

from __future__ import annotations

import getpass
import logging
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest import cards, npzfile
from ingest.catalog import Catalog, disagreements
from ingest.chunk import chunk_document
from ingest.documents import Chunk, Document, content_hash, glossary_fields
from ingest.embedder import Embedder
from ingest.lexical import LexicalIndex, add_words
from ingest.loaders import LoadError, load_document
from ingest.lock import writer_lock
from ingest.manifest import MANIFESTS, ManifestError, declare, load_manifest
from ingest.settings import Settings
from ingest.sources import Holder, claim_ids, discover, origin_of
from ingest.store import DocState, Store, ensure_writable, writing

log = logging.getLogger(__name__)
# Bump when cleaning, structure or chunking change what a document turns into: stored
# documents then no longer look complete, and the next ingest redoes them.
# 6: rows a llama-index ChromaVectorStore reads natively (ingest/nodes.py); an older index gets
# them at its next ingest as a metadata-only update (unchanged text keeps its vector).
PIPELINE_VERSION = "6"  # 5: provenance (origin, added_by, added_at, source_file)
EMBED_GROUP = 256  # chunks embedded together across small documents


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
    documents_total: int = 0
    kept: list[str] = field(default_factory=list)  # in the index before and after, unchanged
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
        if path.name in MANIFESTS:
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
        entry = manifests[path.parent].get(path.name) or {}
        if kind and doc.kind == kind and not entry.get("kind"):
            _remember_kind(path, kind)
    return docs


def _remember_kind(path: Path, kind: str) -> None:
    """Record a kind given with `ingest --kind` beside the file, so that a later ingest without
    the flag does not turn an official text back into an ordinary user document."""
    try:
        declare(path, kind=kind)
    except (OSError, ManifestError) as exc:  # a read-only folder: the kind holds for this run
        log.warning("%s: could not record kind %r in documents.yaml (%s); give --kind again "
                    "on the next ingest", path, kind, exc)


def glossary_entries(chunks: Iterable[Chunk]) -> list[dict[str, list[str]]]:
    """Return bilingual term pairs found in glossary-style chunks ("en: …" / "zh: …" lines)."""
    entries = []
    for chunk in chunks:
        parsed = glossary_fields(chunk.text)
        if parsed is not None:
            fields = parsed[0]
            entries.append({"en": fields["en"],
                            "zh": [t.strip("《》 ") for t in fields["zh"] if t.strip("《》 ")],
                            "chunk": [chunk.id]})
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

    From the catalog the last complete run left, when it lists exactly the passages `col`
    holds: then nothing but their ids is read back from Chroma (paging 100k passages' metadata
    out of it takes ~20 s; their ids, ~0.3 s). Otherwise the states come from Chroma's chunk
    metadata, the ground truth, and the end of the run rewrites catalog and BM25 from it."""
    ids = store.ids(col)
    catalog = Catalog.current(settings.catalog_path, store.stamp(col), len(ids))
    if catalog is not None and set(catalog.ids) != set(ids):
        log.warning("%s: %s; rebuilding it from the vector store", settings.catalog_path,
                    "; ".join(disagreements(ids, catalog, catalog.ids)))
        catalog = None
    if catalog is None or catalog.documents is None:
        return None, store.doc_states()
    states: dict[str, DocState] = {}
    for cid, doc_id, doc_hash, node in zip(catalog.ids, catalog.column("doc_id"),
                                           catalog.column("doc_hash"), catalog.column("node"),
                                           strict=True):
        path, expected = catalog.documents[doc_id]
        state = states.setdefault(doc_id, DocState(doc_id, path, expected=expected, node=node))
        state.hashes.add(doc_hash)
        state.chunk_ids.append(cid)
    return {cid: catalog[cid] for cid in catalog}, states


def _admit(docs: list[Document], settings: Settings, states: dict[str, DocState],
           report: IngestReport, prune: bool, added_by: str) -> list[Document]:
    """Give each document its provenance and run hash; return those that may take their id.

    The hash covers the pipeline version and the origin, so a change of either redoes the
    document (its metadata; unchanged text keeps its vector)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for doc in docs:
        doc.origin = origin_of(doc.path, settings.corpus_dir)
        doc.added_by, doc.added_at, doc.node = added_by, now, settings.node
        doc.hash = content_hash(
            f"{doc.hash}|{PIPELINE_VERSION}|{settings.max_chunk_tokens}|{doc.origin}")
    indexed = {d: Holder(st.path, next(iter(st.hashes)) if len(st.hashes) == 1 else "",
                         elsewhere=_elsewhere(st, settings))
               for d, st in states.items()}
    kept, refused = claim_ids(docs, settings.corpus_dir, indexed, prune)
    report.errors += refused
    return kept


def _plan(docs: list[Document], states: dict[str, DocState], settings: Settings,
          report: IngestReport) -> list[tuple[Document, list[Chunk]]]:
    """Return the documents to (re)write with their chunks; the rest are unchanged or failed."""
    todo: list[tuple[Document, list[Chunk]]] = []
    for doc in docs:
        state = states.get(doc.id)
        if state and state.complete(doc.hash) and state.path == doc.path:
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
    return todo


@dataclass
class _Run:
    """What one ingest writes to, and what it has written so far."""

    store: Store
    col: Any
    lexical: LexicalIndex
    known: dict[str, Chunk] | None  # every passage, when the catalog was current
    states: dict[str, DocState]
    report: IngestReport
    live: Store | None = None  # the collection readers use, when `store` writes a rebuild
    loaded: set[str] = field(default_factory=set)  # ids of the documents read this run
    written: dict[str, tuple[str, int]] = field(default_factory=dict)  # doc -> (path, chunks)
    changed: set[str] = field(default_factory=set)


def _write(run: _Run, todo: list[tuple[Document, list[Chunk]]], embedder: Embedder,
           progress: Callable[[str, int, int], None] | None) -> None:
    """Embed and write the planned documents, batch by batch."""
    total = sum(len(c) for _, c in todo)
    done = 0
    for batch in _batches(todo, EMBED_GROUP):
        # Plan every document of the batch, embed all their new text in one call (the model
        # sorts by length and fills its batches), then write document by document so a
        # crash loses at most the documents not yet written.
        plans = []
        for doc, chunks in batch:
            state = run.states.get(doc.id)
            stored = run.store.existing_meta(run.col, [c.id for c in chunks]) if state else {}
            fresh = [c for c in chunks if stored.get(c.id, {}).get("hash") != c.hash]
            _keep_provenance(doc, chunks, stored, fresh, state)
            plans.append((doc, chunks, state, fresh, [c for c in chunks if c not in fresh]))
        t0 = time.perf_counter()
        vectors = embedder.passages([c.embed_text for p in plans for c in p[3]])
        run.report.embed_seconds += time.perf_counter() - t0
        offset = 0
        for doc, chunks, state, fresh, same in plans:
            _write_document(run, doc, chunks, state, fresh, same,
                            vectors[offset:offset + len(fresh)])
            offset += len(fresh)
            done += len(chunks)
            if progress:
                progress(doc.id, done, total)


def _keep_provenance(doc: Document, chunks: list[Chunk], stored: dict[str, dict[str, Any]],
                     fresh: list[Chunk], state: DocState | None) -> None:
    """Keep who added a document, and when, through a refresh that changes none of its text
    (a new pipeline version): provenance tells who put this text in, not who ran ingest last."""
    if fresh or state is None or set(state.chunk_ids) != {c.id for c in chunks}:
        return
    first = stored.get(chunks[0].id, {})
    if first.get("added_at") and first.get("source_file") == doc.path:
        doc.added_by, doc.added_at = str(first.get("added_by", "")), str(first["added_at"])
        for c in chunks:
            c.added_by, c.added_at = doc.added_by, doc.added_at


def _write_document(run: _Run, doc: Document, chunks: list[Chunk], state: DocState | None,
                    fresh: list[Chunk], same: list[Chunk], vectors: Any) -> None:
    """Write one document: new vectors, refreshed metadata, stale chunks removed."""
    extra = {"doc_chunks": len(chunks), "path": doc.path, "source": doc.source, "date": doc.date}
    run.store.upsert(run.col, fresh, vectors, extra)
    if same:  # text unchanged: keep the vector, refresh what the document says of it
        run.store.refresh(run.col, same, extra)
    stale = sorted(set(state.chunk_ids) - {c.id for c in chunks}) if state else []
    run.store.delete(run.col, stale)
    run.lexical.remove(stale)
    run.changed.update(c.id for c in chunks)
    run.written[doc.id] = (doc.path, len(chunks))
    if run.known is not None:
        for cid in stale:
            run.known.pop(cid, None)
        run.known.update((c.id, c) for c in chunks)
    run.report.chunks_embedded += len(fresh)
    run.report.tokens_embedded += sum(c.tokens for c in fresh)
    (run.report.updated if state else run.report.added).append(doc.id)
    log.info("indexed %s (%d chunks, %d embedded)", doc.id, len(chunks), len(fresh))


def _elsewhere(state: DocState, settings: Settings) -> bool:
    """True for a document another app host added to the shared Chroma server: its file is on
    that host, so its absence here means nothing (and is never a reason to remove it)."""
    return bool(state.node) and state.node != settings.node


def _prune(run: _Run, loaded: set[str], prune: bool, settings: Settings) -> None:
    """Remove (with --prune) or report the indexed documents whose files are gone."""
    for doc_id, state in run.states.items():
        if doc_id in loaded or Path(state.path).exists() or _elsewhere(state, settings):
            continue
        if prune:
            run.store.delete(run.col, state.chunk_ids)
            run.lexical.remove(state.chunk_ids)
            if run.known is not None:
                for cid in state.chunk_ids:
                    run.known.pop(cid, None)
            run.report.pruned.append(doc_id)
        else:
            run.report.missing.append(doc_id)


def _lexical_for(chunks: list[Chunk], lexical: LexicalIndex,
                 changed: Collection[str] = ()) -> LexicalIndex:
    """Return `lexical` brought in line with `chunks` (re-tokenised if the glossary changed)."""
    glossary = glossary_entries(chunks)
    if _words(glossary) != _words(lexical.glossary):
        # New glossary terms change how Chinese is segmented: re-tokenise everything.
        add_words(_words(glossary))
        lexical = LexicalIndex()
    lexical.glossary = glossary
    ids = {c.id for c in chunks}
    lexical.remove(set(lexical.docs) - ids)  # also heals a run killed between the two stores
    for c in chunks:
        if c.id in changed or c.id not in lexical.docs:
            lexical.add(c.id, c.embed_text)
    return lexical


def _finish(run: _Run, settings: Settings, stamp: str) -> set[str]:
    """Bring BM25 and the catalog in line with the collection under the run's stamp (not yet
    set on the collection); return the ids of every stored passage."""
    all_chunks = run.store.all_chunks() if run.known is None else \
        sorted(run.known.values(), key=lambda c: (c.doc_id, c.position))
    run.report.chunks_total = len(all_chunks)
    held = {c.doc_id for c in all_chunks}
    run.report.documents_total = len(held)
    run.report.kept = sorted(held - set(run.report.added) - set(run.report.updated))
    _lexical_for(all_chunks, run.lexical, run.changed).save(settings.lexical_path, stamp)
    documents = {d: (st.path, st.expected) for d, st in run.states.items()} | run.written
    Catalog.from_chunks(all_chunks, stamp, documents).save(settings.catalog_path)
    (settings.data_dir / "lexical.json.gz").unlink(missing_ok=True)  # before format 7
    return {c.id for c in all_chunks}


def sync_side_files(settings: Settings, store: Store, col: Any) -> str:
    """Make the side files in the data dir speak for the collection; return its stamp.

    Only for a shared Chroma server (the embedded index's files are written beside it): the
    copy published by the ingest that set the stamp is fetched; when none is published (an
    index written before publishing existed), catalog and BM25 are rebuilt from Chroma."""
    from ingest import published

    stamp = store.stamp(col)
    if not stamp or all(npzfile.stamp(p) == stamp
                        for p in (settings.lexical_path, settings.catalog_path)):
        return stamp  # current, or an ingest is running (its end publishes the new files)
    ensure_writable(settings.data_dir)
    if published.fetch(store, settings, stamp):
        return stamp
    log.warning("no side files are published for ingest %s: rebuilding BM25 and the catalog "
                "from the Chroma server", stamp[:8])
    chunks = store.all_chunks()
    _lexical_for(chunks, LexicalIndex()).save(settings.lexical_path, stamp)
    Catalog.from_chunks(chunks, stamp).save(settings.catalog_path)
    return stamp


def ingest(paths: list[Path] | None, settings: Settings, rebuild: bool = False,
           prune: bool = False, progress: Callable[[str, int, int], None] | None = None,
           embedder: Embedder | None = None, notice: Callable[[str], None] | None = None,
           added_by: str | None = None, wait: float = 600.0,
           kind: str | None = None) -> IngestReport:
    """Bring the index in line with the given files; return what changed.

    One ingest at a time writes to a data dir: another waits for it up to `wait` seconds,
    saying so through `notice`, then gives up with LockTimeout (a StoreError)."""
    started = time.perf_counter()
    report = IngestReport()
    # Refuse a read-only or unwritable data dir before touching anything.
    ensure_writable(settings.data_dir)
    embedder = embedder or Embedder(settings)
    with writer_lock(settings.data_dir, wait, notice or log.warning), \
            _shared_lease(settings, wait, notice or log.warning):
        _ingest_locked(paths, settings, report, embedder, rebuild, prune, progress,
                       added_by or _user(), kind)
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _shared_lease(settings: Settings, wait: float,
                  notice: Callable[[str], None]) -> Iterator[None]:
    """On a shared Chroma server, also hold the lease every host's ingest takes (one writer
    across hosts), and start from the side files of the last run, whichever host made it."""
    if not settings.chroma_url:
        yield
        return
    from ingest.lease import chroma_lease

    store = Store(settings)
    with chroma_lease(store, wait, notice):
        if store.exists():
            sync_side_files(settings, store, store.collection(create=False))
        yield


def _ingest_locked(paths: list[Path] | None, settings: Settings, report: IngestReport,
                   embedder: Embedder, rebuild: bool, prune: bool,
                   progress: Callable[[str, int, int], None] | None, added_by: str,
                   kind: str | None = None) -> None:
    """Plan the run, then write and commit it under the store's stamp (cleared first, set last)."""
    run, todo = _plan_run(paths, settings, report, embedder, rebuild, prune, added_by, kind)
    live = run.live or run.store
    with writing(settings.chroma_url or settings.data_dir), live.ingest_run(run.col) as stamp:
        _write(run, todo, embedder, progress)
        _prune(run, run.loaded, prune, settings)
        if run.live is not None:
            live.replace_with(run.col)  # the rebuilt collection takes the live one's name
        _commit(run, live, settings, embedder, stamp)


def _plan_run(paths: list[Path] | None, settings: Settings, report: IngestReport,
              embedder: Embedder, rebuild: bool, prune: bool, added_by: str,
              kind: str | None) -> tuple[_Run, list[tuple[Document, list[Chunk]]]]:
    """Return the run and the documents it will write: files found and loaded, ids claimed,
    unchanged documents set aside. Nothing in the index changes here (a --rebuild only makes
    the empty collection it will fill)."""
    fingerprint = embedder.fingerprint()
    store = Store(settings)
    if store.exists() and store.embedder_name() not in (fingerprint, None):
        log.warning("index built with another embedder (%s): rebuilding", store.embedder_name())
        rebuild = True
    docs = load_all(discover(_roots(paths, settings, store, rebuild), report.errors), settings,
                    report, kind)
    target = store
    if rebuild:
        target = Store(settings, name=f"{settings.collection}-rebuild")
        target.drop()  # a rebuild interrupted earlier
    col = target.collection(embedder=fingerprint)
    lexical = LexicalIndex() if rebuild else LexicalIndex.load(settings.lexical_path)
    known, states = ({}, {}) if rebuild else _stored(store, col, settings)
    docs = _admit(docs, settings, states, report, prune, added_by)
    todo = _plan(docs, states, settings, report)
    run = _Run(target, col, lexical, known, states, report, live=store if rebuild else None,
               loaded={d.id for d in docs})
    return run, todo


def _roots(paths: list[Path] | None, settings: Settings, store: Store, rebuild: bool) -> list[Path]:
    """Return the files and folders to read: those given, else the default folders; a rebuild
    adds every document indexed today whose file is still there."""
    roots = list(paths) if paths else default_paths(settings)
    if rebuild and store.exists():
        roots += sorted({Path(st.path) for st in store.doc_states().values()
                         if Path(st.path).is_file()})
    return roots


def _commit(run: _Run, live: Store, settings: Settings, embedder: Embedder, stamp: str) -> None:
    """Write BM25, the catalog and the question cards under `stamp`, and publish them on a
    shared server; the caller sets the stamp on the collection after this, last."""
    run.store = live  # after a rebuild, the rebuilt collection has the live one's name
    ids = _finish(run, settings, stamp)
    try:
        cards.build(settings.corpus_dir, settings.cards_path, embedder, ids)
    except cards.CardsError as exc:  # the passages are indexed; only the extra questions not
        run.report.errors.append(str(exc))
    if settings.chroma_url:
        from ingest.published import publish

        publish(live, settings, stamp)  # before the stamp: whoever sees it finds the files


def _user() -> str:
    """Return the name of the person running ingest (for provenance)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"
