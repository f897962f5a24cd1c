"""Benchmarks, measured side by side in one run; writes docs/BENCHMARKS.md.

    .venv/bin/python bench/run.py [--quick]

- ingest: pipeline throughput against the embedder's raw encode speed on the same texts;
- ask: warm latency of Assistant.ask on the bundled corpus, split by stage;
- quality: our retrieval against the plain llama-index quickstart (SimpleDirectoryReader,
  default SentenceSplitter, VectorStoreIndex on Chroma, same embedder, top-5), on the same sets.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.settings import PROJECT_ROOT, Settings, apply_offline_env  # noqa: E402

apply_offline_env()

DOCS = PROJECT_ROOT / "docs" / "BENCHMARKS.md"


def machine() -> str:
    import os

    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{time.strftime('%Y-%m-%d')}")


def bench_ingest(base: Settings) -> dict:
    """Pipeline chunks/s vs raw encode chunks/s on the bundled corpus (model preloaded)."""
    from ingest.chunk import chunk_document
    from ingest.embedder import Embedder
    from ingest.pipeline import IngestReport, discover, ingest, load_all

    embedder = Embedder(base)
    embedder.passages(["warm-up"])
    import chromadb  # noqa: F401  (imported once here, not inside the first timed run)
    docs = load_all(discover([base.corpus_dir]), base, IngestReport())
    texts = [c.embed_text for d in docs for c in chunk_document(d, base.max_chunk_tokens)]
    encode_runs, ingest_runs = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        embedder.passages(texts)
        encode_runs.append(time.perf_counter() - t0)
        with tempfile.TemporaryDirectory() as tmp:
            settings = base.model_copy(update={"data_dir": Path(tmp)})
            t0 = time.perf_counter()
            report = ingest(None, settings, embedder=embedder)
            ingest_runs.append(time.perf_counter() - t0)
            assert report.ok and report.chunks_total == len(texts)
    enc, ing = statistics.median(encode_runs), statistics.median(ingest_runs)
    return {"chunks": len(texts), "encode_s": enc, "ingest_s": ing,
            "encode_cps": len(texts) / enc, "ingest_cps": len(texts) / ing,
            "overhead": ing / enc - 1}


def bench_ask(settings: Settings, rounds: int) -> dict:
    """Warm ask latency on the bundled corpus: dev and sample questions, `rounds` passes."""
    # Cold start: a new process, from interpreter start to the first printed answer.
    import subprocess

    from assistant.core import Assistant
    from eval.sets import load_set

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "What about hotlines?"],
                   check=True, capture_output=True)
    cold = time.perf_counter() - t0
    assistant = Assistant(settings)
    assistant.ask("warm-up question about hotlines")
    questions = [turn.question for name in ("dev", "sample")
                 for item in load_set(PROJECT_ROOT / "eval" / "sets" / f"{name}.yaml").items
                 for turn in item.turns]
    stages: dict[str, list[float]] = {}
    for _ in range(rounds):
        for q in questions:
            answer = assistant.ask(q)
            for key in ("total_ms", "retrieve_ms", "answer_ms", "embed_ms", "dense_ms",
                        "lexical_ms", "fusion_ms"):
                stages.setdefault(key, []).append(answer.timings[key])
    from eval.metrics import percentile

    return {"questions": len(questions) * rounds, "cold_s": cold,
            **{f"{k}_p50": percentile(v, 50) for k, v in stages.items()},
            **{f"{k}_p95": percentile(v, 95) for k, v in stages.items()}}


def bench_quickstart(settings: Settings) -> dict:
    """hit@1 / MRR of ours against the llama-index quickstart pipeline, same embedder."""
    from bench.quickstart import evaluate_both

    return evaluate_both(settings)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one round of ask timings, 10 s load")
    args = ap.parse_args()
    settings = Settings()
    lines = ["# Benchmarks", "", f"Measured on {machine()}, in one run of `bench/run.py`. "
             "Medians of 5 runs for ingest; percentiles over every question for ask.", ""]
    ing = bench_ingest(settings)
    lines += ["## Ingest throughput (bundled corpus)", "",
              "| chunks | raw encode (s) | pipeline ingest (s) | raw chunks/s | pipeline chunks/s "
              "| pipeline overhead |", "|---|---|---|---|---|---|",
              f"| {ing['chunks']} | {ing['encode_s']:.2f} | {ing['ingest_s']:.2f} | "
              f"{ing['encode_cps']:.1f} | {ing['ingest_cps']:.1f} | {ing['overhead']:+.1%} |", "",
              "Raw encode: the embedder alone on the chunks' texts. Pipeline: load, clean, chunk, "
              "embed, write Chroma and BM25 into an empty data dir, with the model preloaded "
              "for both.", ""]
    print(lines[-4], flush=True)
    ask = bench_ask(settings, 1 if args.quick else 3)
    lines += ["## `ask` latency, extractive, warm (bundled corpus)", "",
              f"{ask['questions']} questions; cold start (a new `npt-assistant ask` process, "
              f"interpreter start to printed answer): {ask['cold_s']:.1f} s.", "",
              "| stage | p50 ms | p95 ms |", "|---|---|---|"]
    for key in ("total_ms", "retrieve_ms", "embed_ms", "dense_ms", "lexical_ms", "fusion_ms",
                "answer_ms"):
        lines.append(f"| {key[:-3]} | {ask[key + '_p50']:.1f} | {ask[key + '_p95']:.1f} |")
    lines.append("")
    print("\n".join(lines[-9:]), flush=True)
    qs = bench_quickstart(settings)
    lines += ["## Retrieval quality against the llama-index quickstart", "",
              "Same corpus files, same embedder (multilingual-e5-small), top-5, scored with the "
              "FORMAT.md matching rule. The quickstart: `SimpleDirectoryReader` → default "
              "`SentenceSplitter` → `VectorStoreIndex` on Chroma.", "",
              "| set | pipeline | hit@1 | MRR | hit@5 | median passage shown (chars) |",
              "|---|---|---|---|---|---|"]
    for row in qs["rows"]:
        lines.append(f"| {row['set']} | {row['pipeline']} | {row['hit_at_1']:.3f} | "
                     f"{row['mrr']:.3f} | {row['hit_at_k']:.3f} | {row['chars']:.0f} |")
    lines.append("")
    lines += ["Cost, same run, bundled corpus, model preloaded for both:", "",
              "| pipeline | ingest s | Chroma MB | question p50 / p95 ms |", "|---|---|---|---|",
              f"| llama-index quickstart (retrieve top-5) | {qs['ingest_s']:.2f} | "
              f"{qs['chroma_mb']:.1f} | {qs['quickstart_p50_ms']:.1f} / "
              f"{qs['quickstart_p95_ms']:.1f} |",
              f"| ours (`ask`: retrieve, gate, compose) | {ing['ingest_s']:.2f} | – | "
              f"{qs['ours_p50_ms']:.1f} / {qs['ours_p95_ms']:.1f} |", ""]
    from bench.load import run_load

    load = run_load(settings, sessions=20, seconds=10 if args.quick else 60)
    lines += ["## Load: concurrent sessions through the Gradio API", "",
              f"{load['sessions']} `gradio_client` sessions asking dev-set questions for "
              f"{load['seconds']:.0f} s against a local server (queue concurrency "
              f"{settings.concurrency}).", "",
              "| answers | errors | answers/s | p50 ms | p95 ms | server RSS start → end (MB) |",
              "|---|---|---|---|---|---|",
              f"| {load['answers']} | {load['errors']} | {load['per_second']:.1f} | "
              f"{load['p50_ms']:.0f} | {load['p95_ms']:.0f} | "
              f"{load['rss_start_mb']:.0f} → {load['rss_end_mb']:.0f} |", ""]
    if load["error_samples"]:
        lines += ["Errors seen: " + "; ".join(load["error_samples"]), ""]
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[-8:]))
    shutil.rmtree(PROJECT_ROOT / "data" / "quickstart", ignore_errors=True)


if __name__ == "__main__":
    main()
