"""A strong peer: the hybrid pipeline an expert assembles from stock llama-index parts in a day.

    .venv/bin/python bench/run.py --peer        # peer, quickstart and ours on five sets

What it is (issue #19, item 1), chosen before any set was scored and not tuned on one:

- documents: the files of corpus/corpus.yaml (the Chinese paper as extracted, our English
  rendering, the notes and their Chinese renderings, the glossary in both languages), front
  matter stripped, title / language / kind / renders from the manifest; not the question cards
  (a signal of ours, not a document). `--peer` at scale adds the distractor papers.
- nodes: `MarkdownNodeParser` (one node per heading section) then `SentenceSplitter`
  (chunk_size 256, overlap 32, cl100k tokens) for the Markdown files; the same splitter for the
  plain-text paper. Title and heading path are embedded with the text (llama-index's default
  metadata mode), nothing else.
- dense: our e5 adapter (`assistant.llamaindex.E5Embedding` when present, else the quickstart's),
  `VectorStoreIndex` on a persistent Chroma collection (cosine), 10 candidates.
- lexical: `llama-index-retrievers-bm25` (bm25s) over jieba tokens (`cut_for_search`; English
  tokens stemmed with PyStemmer, bm25s's English and Chinese stopwords dropped), 10 candidates,
  zero-score hits dropped. bm25s's own regex makes a whole Chinese sentence one token, so every
  Chinese query would score 0 (../shared/NOTES.md); its `tokenizer` argument is ignored since
  0.2, hence the small subclass below.
- fusion: `QueryFusionRetriever(mode="reciprocal_rerank", num_queries=1, llm=None)`, top 5,
  synchronous (the async path only adds an event loop to two in-process retrievers).

It cannot abstain and ignores the conversation (no LLM to rewrite a follow-up); it returns five
passages and no answer. Scoring: `eval.run.run_set`, the harness our own `eval run` uses, through
`PeerAssistant`, so hit@1, MRR and hit@5 use the FORMAT.md rule, the same denominators and the same
rendering rule: a node of a rendering also matches through the text of the chunk(s) it renders.
Our chunker (ingest/) names those chunks; the peer's node renders every unit its text overlaps
(a node spanning three stepping stones matches through all three; generous to the peer).

Install (the `peer` extra, not `dev`): `pip install --no-deps llama-index-retrievers-bm25==0.8.0
bm25s==0.3.16`. Its metadata pins PyStemmer<3, and PyStemmer 2.2 stems seven words of our corpus
differently from the 3.1 our BM25 index is built with ("international", "organization",
"universality", ...): a resolver run would silently change our own lexical signal.
"""

from __future__ import annotations

import re
import shutil
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ingest.settings import PROJECT_ROOT, Settings

CHUNK_SIZE, CHUNK_OVERLAP = 256, 32  # cl100k tokens, SentenceSplitter's own unit
CANDIDATES = 10  # per retriever, before fusion
TOP_K = 5
SETS = ("dev", "holdout", "sample", "calibration", "heldout2")
# Sets whose questions nobody reads: only their summary is kept, never the per-question rows.
SEALED = ("heldout2",)
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_ANCHOR_HEADING = re.compile(r"^#{1,6}\s.*?\{#([^}\s]+)\}\s*$", re.M)
_WORDISH = re.compile(r"\w")


# -- lexical: bm25s over jieba tokens ------------------------------------------------------------
@lru_cache(maxsize=1)
def _stop() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_CHINESE, STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | frozenset(STOPWORDS_CHINESE)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """jieba's search-mode words, lower-cased; English words stemmed; stopwords and punctuation out."""
    import jieba

    stop, stem = _stop(), _stemmer()
    out = []
    for token in jieba.cut_for_search(text.lower()):
        token = token.strip()
        if not token or not _WORDISH.search(token) or token in stop:
            continue
        out.append(stem.stemWord(token) if token.isascii() and token.isalpha() else token)
    return out


def bm25_retriever(nodes: Sequence[Any], top_k: int = CANDIDATES):  # type: ignore[no-untyped-def]
    """A stock `BM25Retriever` whose index and queries are jieba-tokenised."""
    import bm25s
    import numpy as np
    from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle
    from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
    from llama_index.retrievers.bm25 import BM25Retriever

    class JiebaBM25Retriever(BM25Retriever):
        """BM25Retriever over jieba tokens; hits that share no word with the query are dropped."""

        def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
            tokens = tokenize(query_bundle.query_str)
            if not tokens:
                return []
            indexes, scores = self.bm25.retrieve(
                [tokens], k=self.similarity_top_k, show_progress=False,
                weight_mask=np.array(self.corpus_weight_mask) if self.corpus_weight_mask else None)
            hits = []
            for idx, score in zip(indexes[0], scores[0], strict=True):
                if score <= 0:
                    continue
                row = idx if isinstance(idx, dict) else self.corpus[int(idx)]
                hits.append(NodeWithScore(node=metadata_dict_to_node(row), score=float(score)))
            return hits

    corpus = [node_to_metadata_dict(n) | {"node_id": n.node_id} for n in nodes]
    bm25 = bm25s.BM25(corpus=corpus)
    bm25.index([tokenize(n.get_content(metadata_mode=MetadataMode.EMBED)) for n in nodes],
               show_progress=False)
    return JiebaBM25Retriever(existing_bm25=bm25, similarity_top_k=min(top_k, len(nodes)))


# -- documents and nodes -------------------------------------------------------------------------
def _document(path: Path, meta: dict[str, Any]):  # type: ignore[no-untyped-def]
    from llama_index.core import Document

    text = path.read_text(encoding="utf-8")
    front = _FRONT.match(text)
    if front:
        meta = {**(yaml.safe_load(front.group(1)) or {}), **meta}
        text = text[front.end():]
    metadata = {"title": str(meta.get("title") or path.stem), "doc_id": str(meta.get("id") or path.stem),
                "language": str(meta.get("language") or ""), "kind": str(meta.get("kind") or "user"),
                "renders": str(meta.get("renders") or ""), "file": path.name}
    hidden = [k for k in metadata if k != "title"]
    return Document(text=text, metadata=metadata, excluded_embed_metadata_keys=hidden,
                    excluded_llm_metadata_keys=hidden)


def load_documents(corpus_dir: Path, extra: Path | None = None) -> list[Any]:
    """The manifest's documents (front matter stripped), then any Markdown files in `extra`."""
    manifest = yaml.safe_load((corpus_dir / "corpus.yaml").read_text(encoding="utf-8"))
    docs = [_document(corpus_dir / entry["file"], entry) for entry in manifest["documents"]]
    if extra is not None:
        docs += [_document(p, {}) for p in sorted(extra.glob("*.md"))]
    return docs


def parse_nodes(documents: Sequence[Any]) -> list[Any]:
    """MarkdownNodeParser then SentenceSplitter for Markdown; SentenceSplitter for plain text."""
    from llama_index.core.node_parser import MarkdownNodeParser, SentenceSplitter

    splitter = SentenceSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    markdown = [d for d in documents if d.metadata["file"].endswith(".md")]
    plain = [d for d in documents if not d.metadata["file"].endswith(".md")]
    sections = MarkdownNodeParser().get_nodes_from_documents(markdown)
    nodes = splitter(sections) + splitter.get_nodes_from_documents(plain)  # __call__ takes nodes
    return [n for n in nodes if n.get_content().strip()]


def rendered_units(doc_text: str, node_text: str) -> list[str]:
    """Ids of the anchored sections (`## … {#id}`) a node's text overlaps, in order."""
    heads = [(m.start(), m.group(1)) for m in _ANCHOR_HEADING.finditer(doc_text)]
    start = doc_text.find(node_text)
    if start < 0:
        start = doc_text.find(node_text[:60])
    if start < 0:  # not found verbatim: the headings inside the node are all we know
        return _ANCHOR_HEADING.findall(node_text)
    end = start + len(node_text)
    units = [uid for pos, uid in heads if start <= pos < end]
    before = [uid for pos, uid in heads if pos <= start]
    return list(dict.fromkeys(before[-1:] + units))


def our_chunk_texts(settings: Settings) -> dict[str, str]:
    """Our chunker's passages of the bundled corpus by chunk id (what a rendering renders)."""
    from ingest.chunk import chunk_document
    from ingest.pipeline import IngestReport, discover, load_all

    docs = load_all(discover([settings.corpus_dir]), settings, IngestReport())
    return {c.id: c.text for d in docs for c in chunk_document(d, settings.max_chunk_tokens)}


# -- the peer ------------------------------------------------------------------------------------
@dataclass
class Peer:
    retriever: Any
    nodes: list[Any]
    doc_texts: dict[str, str]  # document id -> the text the nodes were cut from
    ingest_s: float
    stages: dict[str, float] = field(default_factory=dict)


def build_peer(corpus_dir: Path, folder: Path, embed_model: Any, extra: Path | None = None) -> Peer:
    """Read, parse, embed into Chroma (in `folder`, emptied first) and index BM25; timed."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
    from llama_index.vector_stores.chroma import ChromaVectorStore

    LlamaSettings.llm = None
    LlamaSettings.embed_model = embed_model
    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    documents = load_documents(corpus_dir, extra)
    nodes = parse_nodes(documents)
    t1 = time.perf_counter()
    client = chromadb.PersistentClient(path=str(folder),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("peer", embedding_function=None,
                                                 metadata={"hnsw:space": "cosine"})
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    index = VectorStoreIndex(nodes, storage_context=storage, embed_model=embed_model)
    t2 = time.perf_counter()
    lexical = bm25_retriever(nodes)
    retriever = QueryFusionRetriever(
        [index.as_retriever(similarity_top_k=CANDIDATES), lexical], llm=None,
        mode=FUSION_MODES.RECIPROCAL_RANK, num_queries=1, similarity_top_k=TOP_K, use_async=False)
    t3 = time.perf_counter()
    return Peer(retriever, nodes, {d.metadata["doc_id"]: d.text for d in documents}, t3 - t0,
                {"parse_s": t1 - t0, "embed_store_s": t2 - t1, "bm25_s": t3 - t2})


@dataclass
class _Passage:
    text: str
    renders: str | None = None
    hash: str = ""


class _Catalog(dict):
    """What eval.run reads of our catalog: passages by id, `ids`, `column(name)`."""

    @property
    def ids(self) -> list[str]:
        return list(self)

    def column(self, name: str) -> list[Any]:
        return [getattr(p, name) for p in self.values()]


@dataclass
class _Retriever:
    chunks: _Catalog


@dataclass
class _Hit:
    rank: int
    chunk_id: str
    score: float
    text: str
    renders: str | None
    locator: str


@dataclass
class _Answer:
    retrieved: list[_Hit]
    timings: dict[str, float]
    citations: list[Any] = field(default_factory=list)
    abstained: bool = False
    text: str = ""
    follow_up_of: str | None = None


class PeerAssistant:
    """The peer behind the interface `eval.run.run_set` scores: five passages, no answer.

    `retriever.chunks` holds the peer's nodes and our chunks of the rendered originals: a node
    of a rendering carries `renders`, the id of the original passage it renders, which
    `eval.run` matches through exactly as it does for our chunks. A node overlapping several
    units renders all of them: their texts joined by " ¶ " (not whitespace, so no gold phrase
    can match across two units once whitespace is removed)."""

    def __init__(self, peer: Peer, ours: dict[str, str]) -> None:
        self.peer, self.settings = peer, None
        chunks = _Catalog({cid: _Passage(text) for cid, text in ours.items()})
        self._renders: dict[str, str | None] = {}
        for node in peer.nodes:
            text, meta = node.get_content(), node.metadata
            target = None
            if meta.get("renders"):
                units = rendered_units(peer.doc_texts.get(meta["doc_id"], ""), text)
                ids = [i for i in (f"{meta['renders']}#{u}" for u in units) if i in ours]
                if len(ids) == 1:
                    target = ids[0]
                elif ids:
                    target = f"peer:{node.node_id}:renders"
                    chunks[target] = _Passage(" ¶ ".join(ours[i] for i in ids))
            chunks[node.node_id] = _Passage(text, target, node.hash)
            self._renders[node.node_id] = target
        self.retriever = _Retriever(chunks)

    def describe(self) -> dict[str, Any]:
        return {"embedder": "multilingual-e5-small (our adapter)",
                "retriever": (f"llama-index peer: MarkdownNodeParser+SentenceSplitter({CHUNK_SIZE}/"
                              f"{CHUNK_OVERLAP}), Chroma + BM25(jieba) x{CANDIDATES}, "
                              f"QueryFusionRetriever reciprocal_rerank top-{TOP_K}"),
                "answerer": "none (retrieval only, cannot abstain)", "chunks": len(self.peer.nodes)}

    def ask(self, question: str, history: Sequence[Any] = (), k: int | None = None) -> _Answer:
        """The top-k nodes for the question alone (no LLM to read the history with)."""
        t0 = time.perf_counter()
        hits = self.peer.retriever.retrieve(question)
        ms = (time.perf_counter() - t0) * 1000
        retrieved = [_Hit(rank, h.node.node_id, float(h.score or 0.0), h.node.get_content(),
                          self._renders.get(h.node.node_id), str(h.node.metadata.get("title", "")))
                     for rank, h in enumerate(hits[:k or TOP_K], 1)]
        return _Answer(retrieved, {"total_ms": ms, "retrieve_ms": ms, "answer_ms": 0.0})


def score(assistant: PeerAssistant, path: Path) -> dict[str, Any]:
    """Our harness's report of the peer on one set, with what the table needs beside it."""
    from eval.run import run_set
    from eval.sets import load_set

    report = run_set(load_set(path), assistant, k=TOP_K)
    rows = report["results"]
    report["must_abstain"] = sum(1 for r in rows if r["expect_abstain"])
    report["first_chars"] = [len(assistant.retriever.chunks[r["retrieved"][0]["chunk_id"]].text)
                             for r in rows if r["retrieved"] and not r["expect_abstain"]]
    return report


def headline(report: dict[str, Any]) -> dict[str, Any]:
    """The figures the benchmark table shows, from a report of our harness (peer or ours)."""
    s = report["summary"]
    rows = report.get("results", [])
    chars = report.get("first_chars")
    return {"set": report["set"], "scored": s["scored_turns"],
            "gold": sum(1 for r in rows if "hit_at_1" in r["metrics"]), "hit_at_1": s["hit_at_1"],
            "mrr": s["mrr"], "hit_at_k": s["hit_at_k"], "recall_at_k": s["recall_at_k"],
            "abstention_accuracy": s["abstention_accuracy"],
            "false_abstention_rate": s["false_abstention_rate"],
            "must_abstain": report.get("must_abstain",
                                       sum(1 for r in rows if r.get("expect_abstain"))),
            "p50_ms": s["latency_p50_ms"], "p95_ms": s["latency_p95_ms"],
            "chars": statistics.median(chars) if chars else s["cited_chars_median"],
            "machine": report["machine"],
            "by_lang": {lang: {k: g[k] for k in ("hit_at_1", "mrr", "hit_at_k", "scored_turns")}
                        for lang, g in report["by_lang"].items()}}


def set_path(name: str) -> Path:
    return PROJECT_ROOT / "eval" / "sets" / f"{name}.yaml"


# -- one sitting: peer, quickstart and ours on the same sets ---------------------------------------
INGEST_RUNS = 3


def load_avg() -> list[float]:
    import os

    return [round(x, 2) for x in os.getloadavg()]


def evaluate(settings: Settings, sets: Sequence[str] = SETS, out: Path = Path("/tmp"),
             ours: bool = True) -> dict[str, Any]:
    """Ingest (median of 3) and score peer and quickstart in this process, then ours through
    `npt-assistant eval run` (a fresh process per set, reports in out/ours-<set>). Sets in
    SEALED keep their summaries only: no question of theirs is printed or stored."""
    import json
    import subprocess
    import sys
    import tempfile

    from bench.quickstart import _embed_model, build_quickstart, score_quickstart
    from ingest.embedder import Embedder
    from ingest.pipeline import ingest

    result: dict[str, Any] = {"measured": time.strftime("%Y-%m-%d %H:%M"), "load_start": load_avg(),
                              "sets": list(sets), "peer": {}, "quickstart": {}, "ours": {}}
    embedder = Embedder(settings)
    embed_model = _embed_model(settings, embedder)
    embed_model.get_text_embedding("warm-up")  # model load is no pipeline's ingest
    embed_model.get_query_embedding("warm-up")
    import chromadb  # noqa: F401  (imported once here, not inside the first timed run)

    def median_ingest(build) -> tuple[float, Any]:  # type: ignore[no-untyped-def]
        """Median time of INGEST_RUNS builds, each into a new folder: Chroma keeps a client per
        path in the process, and one whose files were deleted under it can no longer write."""
        runs, last = [], None
        for n in range(INGEST_RUNS):
            t0 = time.perf_counter()
            last = build(n)
            runs.append(time.perf_counter() - t0)
        return statistics.median(runs), last

    # ours: the full ingest (chunks, vectors, BM25, catalog, question cards) into empty dirs
    def ours_ingest(n: int) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            report = ingest(None, settings.model_copy(update={"data_dir": Path(tmp)}),
                            embedder=embedder)
            assert report.ok, report.errors
            result["ours"]["chunks"] = report.chunks_total
    result["ours"]["ingest_s"], _ = median_ingest(ours_ingest)
    print(f"ours ingest {result['ours']['ingest_s']:.1f} s", flush=True)

    folder = PROJECT_ROOT / "data" / "quickstart"
    shutil.rmtree(folder, ignore_errors=True)

    def qs_build(n: int):  # type: ignore[no-untyped-def]
        return build_quickstart(settings, folder / f"run-{n}", embed_model)
    result["quickstart"]["ingest_s"], qs = median_ingest(qs_build)
    for name in sets:
        q = score_quickstart(qs, name)
        result["quickstart"][name] = {k: q[k] for k in ("hit_at_1", "mrr", "hit_at_k", "chars",
                                                        "p50_ms", "p95_ms")}
        print(f"quickstart {name}: {result['quickstart'][name]}", flush=True)
    shutil.rmtree(folder, ignore_errors=True)

    pfolder = PROJECT_ROOT / "data" / "peer"
    shutil.rmtree(pfolder, ignore_errors=True)
    result["peer"]["ingest_s"], peer = median_ingest(
        lambda n: build_peer(settings.corpus_dir, pfolder / f"run-{n}", embed_model))
    result["peer"]["nodes"] = len(peer.nodes)
    result["peer"]["stages"] = peer.stages
    assistant = PeerAssistant(peer, our_chunk_texts(settings))
    for name in sets:
        report = score(assistant, set_path(name))
        result["peer"][name] = headline(report)
        if name not in SEALED:
            (out / f"peer-{name}").mkdir(parents=True, exist_ok=True)
            (out / f"peer-{name}" / "report.json").write_text(json.dumps(report, indent=1))
        print(f"peer {name}: " + json.dumps({k: v for k, v in result["peer"][name].items()
                                             if k not in ("by_lang", "machine")}), flush=True)
    shutil.rmtree(pfolder, ignore_errors=True)

    if ours:
        cli = shutil.which("npt-assistant") or str(Path(sys.executable).with_name("npt-assistant"))
        for name in sets:
            target = out / f"ours-{name}"
            # The printed table is summaries only; it is kept out of the log all the same.
            subprocess.run([cli, "eval", "run", str(set_path(name)), "--out", str(target)],
                           check=True, capture_output=True)
            report = json.loads((target / "report.json").read_text(encoding="utf-8"))
            result["ours"][name] = headline(report)
            print(f"ours {name}: " + json.dumps({k: v for k, v in result["ours"][name].items()
                                                 if k not in ("by_lang", "machine")}), flush=True)
    result["load_end"] = load_avg()
    return result
