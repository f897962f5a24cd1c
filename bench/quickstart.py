"""The plain llama-index quickstart on our corpus and embedder, scored like our pipeline."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from ingest.settings import PROJECT_ROOT, Settings


def _embed_model(settings: Settings, embedder=None):  # type: ignore[no-untyped-def]
    """Our e5 model behind llama-index's embedding interface: the library's adapter
    (`assistant.llamaindex.E5Embedding`); `embedder` shares an already loaded model (bench/peer.py)."""
    from assistant.llamaindex import E5Embedding
    from ingest.embedder import Embedder

    return E5Embedding(embedder=embedder or Embedder(settings), embed_batch_size=16)


def build_quickstart(settings: Settings, data_dir: Path, embed_model=None,  # type: ignore[no-untyped-def]
                     extra: Path | None = None):
    """SimpleDirectoryReader -> default SentenceSplitter -> VectorStoreIndex on Chroma."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    LlamaSettings.llm = None
    LlamaSettings.embed_model = embed_model or _embed_model(settings)
    documents = SimpleDirectoryReader(str(settings.corpus_dir), exclude=["corpus.yaml"]).load_data()
    if extra is not None:  # the scale benchmark's distractor papers
        documents += SimpleDirectoryReader(str(extra)).load_data()
    client = chromadb.PersistentClient(path=str(data_dir),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("quickstart", embedding_function=None)
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    index = VectorStoreIndex.from_documents(documents, storage_context=storage)
    return index.as_retriever(similarity_top_k=5)


def evaluate_both(settings: Settings) -> dict[str, Any]:
    """Score the quickstart and our assistant on the dev and sample sets, side by side."""
    import shutil
    import time

    from assistant.core import Assistant
    from bench.scale import du
    from eval import metrics as M
    from eval.run import run_set
    from eval.sets import load_set

    folder = PROJECT_ROOT / "data" / "quickstart"
    shutil.rmtree(folder, ignore_errors=True)
    embed_model = _embed_model(settings)
    embed_model.get_text_embedding("warm-up")  # model load is not part of either ingest
    t0 = time.perf_counter()
    retriever = build_quickstart(settings, folder, embed_model)
    cost = {"ingest_s": time.perf_counter() - t0, "chroma_mb": du(folder) / 2**20}
    assistant = Assistant(settings)
    rows = []
    latencies: dict[str, list[float]] = {"quickstart": [], "ours": []}
    for name in ("dev", "sample"):
        report = run_set(load_set(PROJECT_ROOT / "eval" / "sets" / f"{name}.yaml"), assistant, k=5)
        ours = report["summary"]
        latencies["ours"] += [r["latency_ms"] for r in report["results"]]
        theirs = score_quickstart(retriever, name)
        latencies["quickstart"] += theirs["latencies"]
        rows.append({"set": name, "pipeline": "llama-index quickstart", **{
            k: theirs[k] for k in ("hit_at_1", "mrr", "hit_at_k", "chars")}})
        rows.append({"set": name, "pipeline": "ours", "hit_at_1": ours["hit_at_1"],
                     "mrr": ours["mrr"], "hit_at_k": ours["hit_at_k"],
                     "chars": ours["cited_chars_median"]})
    return {"rows": rows, **cost,
            **{f"{k}_p50_ms": M.percentile(v, 50) for k, v in latencies.items()},
            **{f"{k}_p95_ms": M.percentile(v, 95) for k, v in latencies.items()}}


def score_quickstart(retriever, set_name: str = "dev") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """hit@1, MRR, hit@5, first passage length and retrieve latency of a quickstart retriever."""
    import time

    from eval import metrics as M
    from eval.sets import load_set

    hit1, hitk, mrr, ms, chars = [], [], [], [], []
    for item in load_set(PROJECT_ROOT / "eval" / "sets" / f"{set_name}.yaml").items:
        for turn in item.turns:
            if turn.expect is None or turn.expect.abstain or not turn.expect.passages:
                continue
            t0 = time.perf_counter()
            nodes = retriever.retrieve(turn.question)
            ms.append((time.perf_counter() - t0) * 1000)
            ranked = [M.matched_groups([n.node.get_content()], turn.expect.passages) for n in nodes]
            hit1.append(M.hit_at(ranked, 1))
            hitk.append(M.hit_at(ranked, 5))
            mrr.append(M.mrr(ranked, 5))
            chars += [len(n.node.get_content()) for n in nodes[:1]]
    return {"hit_at_1": M.mean(hit1), "mrr": M.mean(mrr), "hit_at_k": M.mean(hitk),
            "chars": statistics.median(chars) if chars else 0, "latencies": ms,
            "p50_ms": M.percentile(ms, 50), "p95_ms": M.percentile(ms, 95)}
