"""Chroma (embedded PersistentClient, or HttpClient when NPT_CHROMA_URL is set)."""

from __future__ import annotations

import errno
import logging
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ingest.documents import Chunk
from ingest.settings import Settings, apply_offline_env

log = logging.getLogger(__name__)
BATCH = 500
# Chroma's defaults (ef 100, M 16) missed 2.6 % of the exact top-30 at 1k distractor chunks;
# ef_search 200+ brought recall@30 to ≥ 0.99 there (bench/scale.py, docs/SCALE.md).
HNSW = {"ef_search": 256, "ef_construction": 200, "max_neighbors": 32}


class StoreError(Exception):
    """The vector store cannot be used; the message says why and what to do."""


@dataclass
class DocState:
    """What the index holds of one document."""

    doc_id: str
    path: str
    hashes: set[str] = field(default_factory=set)
    expected: int = 0
    chunk_ids: list[str] = field(default_factory=list)
    node: str = ""  # the host whose file `path` is (a shared Chroma server only)

    def complete(self, doc_hash: str) -> bool:
        return self.hashes == {doc_hash} and len(self.chunk_ids) == self.expected


def make_client(settings: Settings, reopen: bool = False):  # type: ignore[no-untyped-def]
    """Return a Chroma client: HTTP when a server URL is set, else embedded on disk.

    `reopen` (embedded only): a new connection to the files instead of the one this process
    already holds. Chroma shares one in-memory instance per path within a process, and that
    instance never sees vectors that another process (a CLI ingest) wrote after it opened."""
    apply_offline_env()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                       ssl=url.scheme == "https", settings=chroma_settings)
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError variants
            raise StoreError(f"cannot reach the Chroma server at {settings.chroma_url} ({exc}); "
                             "start it (`chroma run`) or unset NPT_CHROMA_URL") from exc
    if reopen:
        from chromadb.api.shared_system_client import SharedSystemClient

        # Forget the shared instance for this path; clients already made keep theirs.
        SharedSystemClient._identifier_to_system.pop(str(settings.chroma_dir), None)
    try:
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except Exception as exc:  # read-only mount, full disk, permissions, a damaged file
        raise StoreError(f"cannot open the index at {settings.chroma_dir}: "
                         f"{_reason(exc, settings.chroma_dir)}") from exc


LOW_SPACE = 8 * 2**20  # below this, a failed write is put down to the full disk


def _reason(exc: BaseException, folder: Path | str | None = None) -> str:
    """One plain line for a storage failure; the common causes named in words."""
    text = str(exc) or type(exc).__name__
    low = text.lower()
    free = _free_bytes(folder)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "disk is full" in low \
            or "no space" in low or (free is not None and free < LOW_SPACE):
        if free is not None:
            return f"the disk is full ({free // 1024} KB free; {text.strip()})"
        return f"the disk is full ({text.strip()})"
    if isinstance(exc, OSError) and exc.errno == errno.EROFS or "readonly" in low \
            or "read-only" in low:
        return f"the data dir is read-only ({text.strip()})"
    if isinstance(exc, PermissionError):
        return f"permission denied ({text.strip()})"
    return f"{type(exc).__name__}: {text.strip()}"


def _free_bytes(folder: Path | str | None) -> int | None:
    """Free space where the index lives (None for a server URL or a missing folder).

    Chroma reports a full disk as a failed compaction; the free space says what happened."""
    if not isinstance(folder, Path):
        return None
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return None


def ensure_writable(folder: Path) -> None:
    """Raise StoreError unless a file can be created in `folder` (checked before any change)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise StoreError(f"cannot write to the data dir {folder}: {_reason(exc)}; "
                         "nothing was changed") from exc


@contextmanager
def _storage_errors(where: Path | str, what: str, after: str = "") -> Iterator[None]:
    """Turn any failure inside into one StoreError line: what failed, where, why, what now."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:  # full disk, read-only file, a server gone; Chroma may write to read
        raise StoreError(f"{what} {where}: {_reason(exc, where)}{after}") from exc


def reading(where: Path | str) -> AbstractContextManager[None]:
    """Loading the index: a failure names the cause."""
    return _storage_errors(where, "cannot read the index at")


def writing(where: Path | str) -> AbstractContextManager[None]:
    """Writing the index: a failure also says what state the index is left in."""
    return _storage_errors(
        where, "writing the index failed at",
        ". Documents reported as indexed before this are stored; the others were not written "
        "and the rest of the index is as it was. Fix the cause and run ingest again.")


class SideRecords:
    """A small collection beside the index whose records carry metadata only (the ingest lease,
    the side files published on a shared server): found by id or by a metadata filter."""

    def __init__(self, col: Any) -> None:
        self._col = col

    def get(self, ids: list[str] | None = None,
            where: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """Return record id -> metadata, for the given ids or those matching `where`."""
        got = self._col.get(ids=ids, where=where, include=["metadatas"])
        return {rid: dict(meta or {})
                for rid, meta in zip(got["ids"], got["metadatas"] or [], strict=False)}

    def put(self, record_id: str, meta: dict[str, Any]) -> None:
        """Write a record, replacing one with the same id."""
        self._col.upsert(ids=[record_id], embeddings=[[0.0]], metadatas=[meta])

    def add(self, record_id: str, meta: dict[str, Any]) -> None:
        """Write a record only if none has its id (of two hosts adding at once, one wins)."""
        self._col.add(ids=[record_id], embeddings=[[0.0]], metadatas=[meta])

    def update(self, record_id: str, meta: dict[str, Any]) -> None:
        self._col.update(ids=[record_id], metadatas=[meta])

    def delete(self, ids: list[str] | None = None, where: dict[str, Any] | None = None) -> None:
        """Delete the given records; with both, only those of them that match `where`."""
        self._col.delete(ids=ids, where=where)


class Store:
    """The chunk collection: vectors, texts and metadata, keyed by stable chunk id.

    Every Chroma call goes through here, and the stamp that ties the collection to the side
    files written beside it (BM25, catalog, question cards) is kept here: `ingest_run`."""

    def __init__(self, settings: Settings, name: str | None = None, reopen: bool = False) -> None:
        self.settings = settings
        self.name = name or settings.collection
        self.client = make_client(settings, reopen)
        # The instance behind an embedded client, kept to close it: the client looks it up
        # by path each time, which after a reopen finds the newer one.
        self._system = None if settings.chroma_url else getattr(self.client, "_system", None)

    def close(self) -> None:
        """Stop an embedded instance that a reopen has replaced (frees its vectors)."""
        from chromadb.api.shared_system_client import SharedSystemClient

        live = SharedSystemClient._identifier_to_system.get(str(self.settings.chroma_dir))
        if self._system is not None and self._system is not live:
            self._system.stop()
        self._system = None

    def current_stamp(self) -> str:
        """Return the collection's stamp as it is now (another process may have changed it)."""
        with reading(self.settings.chroma_url or self.settings.chroma_dir):
            return self.stamp(self.collection(create=False))

    def exists(self) -> bool:
        return self.name in {c if isinstance(c, str) else c.name
                             for c in self.client.list_collections()}

    def collection(self, embedder: str | None = None, create: bool = True):  # type: ignore[no-untyped-def]
        """Return the collection; with `embedder`, refuse one built by another model."""
        if not create:
            try:
                col = self.client.get_collection(self.name, embedding_function=None)
            except Exception as exc:
                raise StoreError(f"no index '{self.name}' yet; run `npt-assistant ingest`") from exc
        else:
            col = self.client.get_or_create_collection(
                self.name, embedding_function=None,
                metadata={"embedder": embedder or "unknown"},
                configuration={"hnsw": {"space": "cosine", **HNSW}},
            )
            hnsw = (getattr(col, "configuration_json", None) or {}).get("hnsw") or {}
            if hnsw and hnsw.get("ef_search") != HNSW["ef_search"]:
                # Indexes made before this setting: search breadth can change in place.
                col.modify(configuration={"hnsw": {"ef_search": HNSW["ef_search"]}})
        built_with = (col.metadata or {}).get("embedder")
        if embedder and built_with not in (embedder, None, "unknown"):
            raise StoreError(f"the index was built with embedder {built_with!r} but settings ask "
                             f"for {embedder!r}; run `npt-assistant ingest --rebuild`")
        return col

    def stamp(self, col: Any) -> str:
        """Return the stamp of the ingest run that last completed on `col` ("" while one runs)."""
        return str((col.metadata or {}).get("catalog", ""))

    @contextmanager
    def ingest_run(self, col: Any) -> Iterator[str]:
        """Hold an ingest run on `col`; yield its new stamp.

        The collection's stamp is cleared first: until the run completes, the side files on
        disk no longer describe it. The block writes the collection and then the side files
        under the new stamp; the stamp is set on the collection last, only if the block
        completes, and only then does a reader trust the side files again."""
        self.set_stamp(col, "")
        stamp = uuid.uuid4().hex
        yield stamp
        self.set_stamp(col, stamp)

    def set_stamp(self, col: Any, stamp: str) -> None:
        # Collection metadata is replaced as a whole: keep the embedder's name beside it. The
        # legacy "hnsw:*" keys (collections made before the configuration API) must not be
        # sent back: Chroma refuses them as an attempt to change the distance.
        meta = {k: v for k, v in (col.metadata or {}).items() if not k.startswith("hnsw:")}
        col.modify(metadata={**meta, "catalog": stamp})

    def drop(self) -> None:
        """Delete this store's collection, if there is one."""
        if self.exists():
            self.client.delete_collection(self.name)

    def replace_with(self, col: Any) -> None:
        """Put `col` (a rebuilt collection) in place of this store's, which is deleted."""
        self.drop()
        col.modify(name=self.name)

    def side(self, suffix: str) -> SideRecords:
        """Return the side collection `<collection>-<suffix>`, made when first asked for."""
        return SideRecords(self.client.get_or_create_collection(f"{self.name}-{suffix}",
                                                                embedding_function=None))

    def drop_side(self, suffix: str) -> None:
        """Delete the side collection `<collection>-<suffix>`."""
        self.client.delete_collection(f"{self.name}-{suffix}")

    def count(self, col: Any) -> int:
        return int(col.count())

    def vectors(self, col: Any, ids: list[str]) -> tuple[list[str], np.ndarray]:
        """Return those of `ids` that are stored, in the order given, and their vectors (rows)."""
        got = col.get(ids=ids, include=["embeddings"]) if ids else {"ids": [], "embeddings": []}
        row = {cid: i for i, cid in enumerate(got["ids"])}
        found = [cid for cid in ids if cid in row]
        if not found:
            return [], np.zeros((0, 1), dtype=np.float32)
        return found, np.array([got["embeddings"][row[c]] for c in found], dtype=np.float32)

    def embedder_name(self) -> str | None:
        col = self.collection(create=False)
        return (col.metadata or {}).get("embedder")

    def doc_states(self) -> dict[str, DocState]:
        """Return what the index holds, per document (from chunk metadata alone)."""
        col = self.collection(create=False) if self.exists() else None
        states: dict[str, DocState] = {}
        if col is None:
            return states
        total = col.count()
        for offset in range(0, total, 5000):
            got = col.get(include=["metadatas"], limit=5000, offset=offset)
            for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                meta = meta or {}
                doc_id = str(meta.get("doc_id", cid.split("#")[0]))
                st = states.setdefault(doc_id, DocState(doc_id, str(meta.get("path", "")),
                                                        node=str(meta.get("node", ""))))
                st.hashes.add(str(meta.get("doc_hash", "")))
                st.expected = int(meta.get("doc_chunks", 0))
                st.chunk_ids.append(cid)
        return states

    def upsert(self, col: Any, chunks: list[Chunk], vectors: np.ndarray,
               extra: dict[str, Any] | None = None) -> None:
        """Write chunks with their vectors (idempotent: ids are stable), in rows a llama-index
        `ChromaVectorStore` reads natively (ingest/nodes.py)."""
        from ingest.nodes import row_metadata  # ingest only: the question path never writes

        for i in range(0, len(chunks), BATCH):
            part = chunks[i:i + BATCH]
            metas = [row_metadata(c, extra) for c in part]
            col.upsert(ids=[c.id for c in part], embeddings=vectors[i:i + BATCH].tolist(),
                       documents=[c.text for c in part], metadatas=metas)

    def refresh(self, col: Any, chunks: list[Chunk], extra: dict[str, Any] | None = None) -> None:
        """Rewrite the metadata of stored chunks, keeping their vectors (text unchanged)."""
        from ingest.nodes import row_metadata

        for i in range(0, len(chunks), BATCH):
            part = chunks[i:i + BATCH]
            col.update(ids=[c.id for c in part], metadatas=[row_metadata(c, extra) for c in part])

    def delete(self, col: Any, ids: list[str]) -> None:
        for i in range(0, len(ids), BATCH):
            col.delete(ids=ids[i:i + BATCH])

    def all_chunks(self) -> list[Chunk]:
        """Return every stored chunk (text + metadata), in document order."""
        col = self.collection(create=False)
        chunks: list[Chunk] = []
        total = col.count()
        for offset in range(0, total, 5000):
            got = col.get(include=["documents", "metadatas"], limit=5000, offset=offset)
            for text, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=False):
                chunks.append(Chunk.from_record(text or "", dict(meta or {})))
        chunks.sort(key=lambda c: (c.doc_id, c.position))
        return chunks

    def existing_meta(self, col: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Return chunk id -> stored metadata (content hash, provenance…) for the ids stored."""
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), BATCH):
            got = col.get(ids=ids[i:i + BATCH], include=["metadatas"])
            for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                out[cid] = dict(meta or {})
        return out

    def ids(self, col: Any) -> list[str]:
        """Return the id of every stored chunk (ids only: ~0.3 s at 100k chunks)."""
        out: list[str] = []
        total = col.count()
        for offset in range(0, total, 20000):
            out += col.get(include=[], limit=20000, offset=offset)["ids"]
        return out

    def query_collection(self, col: Any, vector: np.ndarray, n: int,
                         where: dict[str, Any] | None = None,
                         total: int | None = None) -> list[tuple[str, float]]:
        """Return (chunk id, cosine similarity) of the nearest chunks.

        `total`, the collection's size when the caller knows it, saves a count() per question
        (13 ms at 100k chunks, as long as the search itself)."""
        n = max(1, min(n, col.count() if total is None else total))
        res = col.query(query_embeddings=[vector.tolist()], n_results=n, where=where or None,
                        include=["distances"])
        ids = res["ids"][0]
        dists = (res.get("distances") or [[]])[0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, dists, strict=False)]
