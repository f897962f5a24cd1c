"""How cost grows with the corpus: the bundled corpus plus synthetic distractors.

    .venv/bin/python bench/scale.py --sizes 1000 10000 100000

Each size is built once into data/scale/<size> (kept, so a change to ranking is measured
again without re-embedding 100k chunks) and measured in fresh processes: ingest throughput,
warm `ask` p50/p95 by stage (embedded Chroma, then a `chroma run` server on 127.0.0.1 serving
the same files), cold start of a new `npt-assistant ask` process, dev-set quality with the
distractors present, load time, resident memory, disk. Writes docs/SCALE.md and
docs/scale.png.

`--quickstart` / `--peer` also build and score, in a fresh process per size, the plain
llama-index quickstart / the strong llama-index peer (bench/peer.py: Markdown and sentence
splitting, e5 in Chroma + jieba BM25, reciprocal-rank fusion) on the same files, dev set,
distractors present; figures beside ours from the same run."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.settings import PROJECT_ROOT, Settings, apply_offline_env  # noqa: E402

apply_offline_env()


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def measure_asks(settings: Settings) -> dict:
    import psutil

    from assistant.core import Assistant
    from eval.metrics import percentile
    from eval.run import run_set
    from eval.sets import load_set

    t0 = time.perf_counter()
    assistant = Assistant(settings)
    load_s = time.perf_counter() - t0
    report = run_set(load_set(PROJECT_ROOT / "eval" / "sets" / "dev.yaml"), assistant, k=5)
    stages: dict[str, list[float]] = {}
    for row in report["results"]:
        stages.setdefault("total", []).append(row["latency_ms"])
    qs = [r["question"] for r in report["results"]]
    for q in qs:
        t = assistant.ask(q).timings
        for key in ("embed_ms", "dense_ms", "lexical_ms", "fusion_ms", "answer_ms"):
            stages.setdefault(key[:-3], []).append(t[key])
    summary = report["summary"]
    return {"load_s": load_s, "rss_mb": psutil.Process().memory_info().rss / 2**20,
            "hit_at_1": summary["hit_at_1"], "mrr": summary["mrr"],
            "hit_at_k": summary["hit_at_k"], "abstention": summary["abstention_accuracy"],
            "false_abstention": summary["false_abstention_rate"],
            **{f"{k}_p50": percentile(v, 50) for k, v in stages.items()},
            **{f"{k}_p95": percentile(v, 95) for k, v in stages.items()}}


def build(size: int, data: Path) -> dict:
    """Generate the distractors and ingest them with the bundled corpus into `data`."""
    from bench.distractors import generate
    from ingest.pipeline import ingest

    extra = data / "distractors"
    generate(extra, size)
    settings = Settings(data_dir=data, model_cache=PROJECT_ROOT / "data" / "models")
    t0 = time.perf_counter()
    report = ingest([settings.corpus_dir, extra], settings)
    ingest_s = time.perf_counter() - t0
    return {"size": size, "chunks": report.chunks_total, "ingest_s": ingest_s,
            "ingest_cps": report.chunks_embedded / ingest_s,
            "embed_share": report.embed_seconds / ingest_s,
            "chroma_mb": du(settings.chroma_dir) / 2**20,
            "lexical_mb": settings.lexical_path.stat().st_size / 2**20}


def env_for(data: Path, chroma_url: str | None = None) -> dict[str, str]:
    env = {**os.environ, "NPT_DATA_DIR": str(data),
           "NPT_MODEL_CACHE": str(PROJECT_ROOT / "data" / "models")}
    if chroma_url:
        env["NPT_CHROMA_URL"] = chroma_url
    return env


def measure(data: Path, chroma_url: str | None = None) -> dict:
    """Ask figures in a fresh process (nothing cached from the build)."""
    res = subprocess.run([sys.executable, __file__, "--measure-only"],
                         env=env_for(data, chroma_url), capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def cold_start(data: Path, question: str = "What does stepping stone 10 propose?",
               runs: int = 3) -> float:
    """Median wall time of a new `npt-assistant ask` process: interpreter start to answer."""
    cli = shutil.which("npt-assistant") or str(Path(sys.executable).with_name("npt-assistant"))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([cli, "ask", question], env=env_for(data), capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


# The first Chinese text a process meets loads the Chinese segmenter (~0.8 s): the worst case.
COLD_ZH = "第十个阶石提出了什么？"


def quickstart(size: int, data: Path) -> dict:
    """The llama-index quickstart over the same files: ingest, disk, latency, dev quality."""
    from bench.quickstart import _embed_model, build_quickstart, score_quickstart

    settings = Settings(data_dir=data, model_cache=PROJECT_ROOT / "data" / "models")
    folder = data / "quickstart"
    shutil.rmtree(folder, ignore_errors=True)
    embed_model = _embed_model(settings)
    embed_model.get_text_embedding("warm-up")
    t0 = time.perf_counter()
    retriever = build_quickstart(settings, folder, embed_model, extra=data / "distractors")
    ingest_s = time.perf_counter() - t0
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    nodes = chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(
        anonymized_telemetry=False)).get_collection("quickstart").count()
    out = {"ingest_s": ingest_s, "nodes": nodes, "chroma_mb": du(folder) / 2**20,
           **{k: v for k, v in score_quickstart(retriever).items() if k != "latencies"}}
    shutil.rmtree(folder, ignore_errors=True)
    return out


def peer(size: int, data: Path) -> dict:
    """The strong llama-index peer over the same files: ingest, disk, latency, dev quality."""
    from bench.peer import PeerAssistant, build_peer, headline, our_chunk_texts, score, set_path
    from bench.quickstart import _embed_model

    settings = Settings(data_dir=data, model_cache=PROJECT_ROOT / "data" / "models")
    folder = data / "peer"
    embed_model = _embed_model(settings)
    embed_model.get_text_embedding("warm-up")  # model load is not part of the ingest
    built = build_peer(settings.corpus_dir, folder, embed_model, extra=data / "distractors")
    chroma_mb = du(folder) / 2**20
    h = headline(score(PeerAssistant(built, our_chunk_texts(settings)), set_path("dev")))
    shutil.rmtree(folder, ignore_errors=True)
    return {"ingest_s": built.ingest_s, "stages": built.stages, "nodes": len(built.nodes),
            "chroma_mb": chroma_mb, **{k: h[k] for k in ("hit_at_1", "mrr", "hit_at_k", "p50_ms",
                                                          "p95_ms", "must_abstain", "scored")}}


def server(data: Path) -> dict:
    """The same queries through HttpClient against `chroma run` serving the same files."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    proc = subprocess.Popen([chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path",
                             str(data / "chroma")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        return measure(data, f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--root", type=Path, default=PROJECT_ROOT / "data" / "scale",
                    help="one data dir per size; an index already built there is measured again, "
                         "not rebuilt (delete the dir to rebuild)")
    ap.add_argument("--build-only", action="store_true", help="build the indexes, measure later")
    ap.add_argument("--build", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--quickstart", action="store_true",
                    help="also build and score the llama-index quickstart on the same files")
    ap.add_argument("--quickstart-one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--peer", action="store_true",
                    help="also build and score the strong llama-index peer (bench/peer.py) on the "
                         "same files")
    ap.add_argument("--peer-one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure_only:
        print(json.dumps(measure_asks(Settings())))
        return
    if args.quickstart_one:
        print(json.dumps(quickstart(args.quickstart_one, args.data)))
        return
    if args.peer_one:
        print(json.dumps(peer(args.peer_one, args.data)))
        return
    if args.build:
        print(json.dumps(build(args.build, args.data)))
        return
    results_path = args.root / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for size in args.sizes:
        data = args.root / str(size)
        built = data / "build.json"
        if not built.exists():
            # A build that was stopped resumes: ingest is incremental, and the figures then
            # count only what this run embedded.
            data.mkdir(parents=True, exist_ok=True)
            res = subprocess.run([sys.executable, __file__, "--build", str(size), "--data",
                                  str(data)], capture_output=True, text=True, check=True)
            built.write_text(res.stdout.strip().splitlines()[-1])
            print(built.read_text(), flush=True)
        if args.build_only:
            if str(size) in results:  # a rebuilt index: its ingest figures replace the old ones
                results[str(size)].update({k: v for k, v in json.loads(built.read_text()).items()
                                           if k.startswith(("ingest", "embed"))})
                results_path.write_text(json.dumps(results, indent=1))
            continue
        row = json.loads(built.read_text())
        # Bring a kept index up to date with the code (a new BM25 format, say): only what
        # changed is redone, and these seconds are not reported.
        subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(PROJECT_ROOT / "corpus"),
                        str(data / "distractors")],
                       env=env_for(data), capture_output=True, check=True)
        # Sizes now, not at build time: the file formats may have changed since.
        settings = Settings(data_dir=data)
        row["chroma_mb"] = du(settings.chroma_dir) / 2**20
        row["lexical_mb"] = settings.lexical_path.stat().st_size / 2**20
        row["catalog_mb"] = settings.catalog_path.stat().st_size / 2**20
        row["embedded"] = measure(data)
        row["cold_s"] = cold_start(data)
        row["cold_zh_s"] = cold_start(data, COLD_ZH)
        row["server"] = server(data)
        for name, wanted in (("quickstart", args.quickstart), ("peer", args.peer)):
            if wanted:
                row[name] = _other_pipeline(name, size, data, row["embedded"])
            elif name in results.get(str(size), {}):
                row[name] = results[str(size)][name]
        row["measured"] = time.strftime("%Y-%m-%d %H:%M")
        row["previous"] = _summary(results.get(str(size)))
        results[str(size)] = row
        args.root.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(results, indent=1))
        print(json.dumps(row), flush=True)
    if results:
        write([results[k] for k in sorted(results, key=int)])


def _other_pipeline(name: str, size: int, data: Path, ours: dict) -> dict:
    """Measure the quickstart or the peer on this index in a process of its own, with our
    figures from the same run beside it."""
    res = subprocess.run([sys.executable, __file__, f"--{name}-one", str(size), "--data", str(data)],
                         capture_output=True, text=True, check=True)
    row = json.loads(res.stdout.strip().splitlines()[-1])
    row["measured"] = time.strftime("%Y-%m-%d %H:%M")
    row["ours_same_run"] = {k: ours[k] for k in ("total_p50", "total_p95", "hit_at_1", "mrr",
                                                 "hit_at_k")}
    return row


def _summary(row: dict | None) -> dict | None:
    """The headline figures of a size's previous run, kept beside the new one."""
    if not row or "embedded" not in row:
        return None
    e = row["embedded"]
    return {"measured": row.get("measured"), "ask_p50": e["total_p50"], "ask_p95": e["total_p95"],
            "cold_s": row["cold_s"], "cold_zh_s": row.get("cold_zh_s")}


PEER_NOTE = ("The strong llama-index peer of docs/BENCHMARKS.md (bench/peer.py) has a path here "
             "too: `bench/scale.py --sizes 1000 10000 100000 --peer` builds it on the same files "
             "with the distractors and scores it on the dev set beside ours from the same run. "
             "Not yet measured at these sizes.")


def rewrite() -> None:
    """Write docs/SCALE.md again from data/scale/results.json (no measuring)."""
    results = json.loads((PROJECT_ROOT / "data" / "scale" / "results.json").read_text())
    write([results[k] for k in sorted(results, key=int)])


def write(rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = ["# Scale: the bundled corpus plus synthetic distractors", "",
             f"Measured {time.strftime('%Y-%m-%d')} on this 2-core machine by `bench/scale.py` "
             "(distractors from `bench/distractors.py`, seed 7). Dev-set quality is measured with "
             "the distractors in the index.", "",
             "| chunks | measured | ingest chunks/s | embed share of ingest | Chroma MB | BM25 MB | "
             "catalog MB | cold start s (English / Chinese question) | index load s | "
             "RSS MB | ask p50 / p95 ms (embedded) | embed p50 | "
             "dense search p50 | BM25 p50 | fusion p50 | compose p50 | ask p50 / p95 ms (chroma "
             "server) | hit@1 | MRR | hit@5 | false abstention |", "|" + "---|" * 21]
    for r in rows:
        e, s = r["embedded"], r["server"]
        lines.append(f"| {r['chunks']:,} | {r.get('measured', '–')} | {r['ingest_cps']:.1f} | "
                     f"{r['embed_share']:.0%} | "
                     f"{r['chroma_mb']:.0f} | {r['lexical_mb']:.1f} | "
                     f"{r.get('catalog_mb', 0):.1f} | {r['cold_s']:.1f} / "
                     f"{r.get('cold_zh_s', float('nan')):.1f} | "
                     f"{e['load_s']:.1f} | {e['rss_mb']:.0f} | "
                     f"{e['total_p50']:.0f} / {e['total_p95']:.0f} | {e['embed_p50']:.1f} | "
                     f"{e['dense_p50']:.1f} | {e['lexical_p50']:.1f} | {e['fusion_p50']:.1f} | "
                     f"{e['answer_p50']:.1f} | {s['total_p50']:.0f} / {s['total_p95']:.0f} | "
                     f"{e['hit_at_1']:.3f} | {e['mrr']:.3f} | {e['hit_at_k']:.3f} | "
                     f"{e['false_abstention']:.3f} |")
    earlier = [(r["chunks"], r["previous"]) for r in rows if r.get("previous")]
    if earlier:
        lines += ["", "The run before, for the same sizes (the same code unless a commit came "
                  "between): " + "; ".join(
                      f"{n:,} chunks at {p['measured']}: ask p50 / p95 {p['ask_p50']:.0f} / "
                      f"{p['ask_p95']:.0f} ms, cold start {p['cold_s']:.1f}"
                      + (f" / {p['cold_zh_s']:.1f}" if p.get("cold_zh_s") else "") + " s"
                      for n, p in earlier) + "."]
    qs_rows = [r for r in rows if "quickstart" in r]
    if qs_rows:
        lines += ["", "The plain llama-index quickstart on the same files (SimpleDirectoryReader, "
                  "default SentenceSplitter, VectorStoreIndex on embedded Chroma, same embedder, "
                  "top-5), built and scored by `--quickstart`, beside our figures from that same "
                  "run (the table above may come from a later run):", "",
                  "| chunks (ours) | measured | quickstart nodes | ingest s | Chroma MB | "
                  "retrieve p50 / p95 ms | hit@1 | MRR | hit@5 | ours, same run: ask p50 / p95 "
                  "ms, hit@1 / MRR / hit@5 |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in qs_rows:
            q = r["quickstart"]
            o = q.get("ours_same_run")
            ours = (f"{o['total_p50']:.0f} / {o['total_p95']:.0f}, {o['hit_at_1']:.3f} / "
                    f"{o['mrr']:.3f} / {o['hit_at_k']:.3f}") if o else "–"
            lines.append(f"| {r['chunks']:,} | {q.get('measured', '–')} | {q['nodes']:,} | "
                         f"{q['ingest_s']:.0f} | {q['chroma_mb']:.0f} | "
                         f"{q['p50_ms']:.0f} / {q['p95_ms']:.0f} | {q['hit_at_1']:.3f} | "
                         f"{q['mrr']:.3f} | {q['hit_at_k']:.3f} | {ours} |")
    peer_rows = [r for r in rows if "peer" in r]
    if peer_rows:
        lines += ["", "The strong llama-index peer (bench/peer.py: MarkdownNodeParser + "
                  "SentenceSplitter 256/32, our e5 in embedded Chroma + bm25s on jieba tokens, "
                  "QueryFusionRetriever reciprocal_rerank, top-5; it cannot abstain), built and "
                  "scored on the dev set by `--peer`, beside our figures from that same run:", "",
                  "| chunks (ours) | measured | peer nodes | ingest s | Chroma MB | "
                  "retrieve p50 / p95 ms | hit@1 | MRR | hit@5 | ours, same run: ask p50 / p95 "
                  "ms, hit@1 / MRR / hit@5 |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in peer_rows:
            p = r["peer"]
            o = p["ours_same_run"]
            lines.append(f"| {r['chunks']:,} | {p['measured']} | {p['nodes']:,} | "
                         f"{p['ingest_s']:.0f} | {p['chroma_mb']:.0f} | "
                         f"{p['p50_ms']:.0f} / {p['p95_ms']:.0f} | {p['hit_at_1']:.3f} | "
                         f"{p['mrr']:.3f} | {p['hit_at_k']:.3f} | {o['total_p50']:.0f} / "
                         f"{o['total_p95']:.0f}, {o['hit_at_1']:.3f} / {o['mrr']:.3f} / "
                         f"{o['hit_at_k']:.3f} |")
    else:
        lines += ["", PEER_NOTE]
    lines += ["", "![ask latency against corpus size](scale.png)", "",
              "How to read it:", "",
              "- The distractors are synthetic working papers (`kind: user`) whose sentences "
              "recombine the corpus's own phrases: near-paraphrases of the stepping stones, a "
              "worst case for ranking. Ranking is source-aware (docs/RETRIEVAL.md): the bundled "
              "corpus is ranked as if alone and user passages are merged in when clearly closer, "
              "so quality moves only where a distractor is closer to the question than the "
              "stone by more than the margin.",
              "- Ingest figures come from the run that built each index (kept in "
              "`data/scale/<size>/build.json`); a build that shared the CPU with other work "
              "is slower than the embedder allows, so compare them with care. Ask figures are "
              "measured afterwards in fresh processes.",
              "- Cold start: a new `npt-assistant ask` process, interpreter start to printed "
              "answer (median of 3), for an English question and for a Chinese one (the first "
              "Chinese text loads the segmenter, ~0.8 s). Index load: `Assistant(settings)` in "
              "a warm interpreter. A start reads the passage catalog and the BM25 arrays written "
              "at ingest (`ingest/catalog.py`); it used to page every passage out of Chroma "
              "(22 s at 100k chunks, session 2).",
              "- This machine's speed drifts by 10-20 % within an hour (the same question "
              "encoding measured 25-32 ms with two threads): compare rows measured close together, "
              "and repeat a run before reading much into a few milliseconds.",
              "- Questions are encoded with one BLAS thread per core outside the chat server "
              "(`query_threads`, ingest/settings.py). Runs before 2026-11-24 23:20 used one "
              "thread, ~10 ms slower per question (the quickstart's retrieve figures, and ours "
              "in the 'same run' column, come from such a run: both used the same encoder).",
              "- Server: the same `ask` with Chroma behind `chroma run` on 127.0.0.1 "
              "(`NPT_CHROMA_URL`); the difference is HTTP and serialisation per query.", ""]
    (PROJECT_ROOT / "docs" / "SCALE.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    fig, ax = plt.subplots(figsize=(6, 4))
    sizes = [r["chunks"] for r in rows]
    for key, label in (("embedded", "embedded Chroma"), ("server", "chroma server")):
        ax.plot(sizes, [r[key]["total_p50"] for r in rows], marker="o", label=f"p50, {label}")
        ax.plot(sizes, [r[key]["total_p95"] for r in rows], marker="x", linestyle="--",
                label=f"p95, {label}")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("ask latency (ms)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(PROJECT_ROOT / "docs" / "scale.png", dpi=110)


if __name__ == "__main__":
    main()
