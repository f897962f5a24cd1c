"""Several app servers on one Chroma server (issue #20): what a second host pays to start.

    .venv/bin/python bench/hosts.py --chunks 100000

Builds, on a `chroma run` server on 127.0.0.1, an index of the bundled corpus plus synthetic
distractor papers (bench/distractors.py) through host A's ordinary ingest. Then, each in a fresh
process with an empty data dir, host B starts:
- with the side files A's ingest published on the server (the normal case),
- with nothing published (an index written before publishing existed): BM25 and catalog
  rebuilt from the passages read back out of Chroma;
and asks the dev set through the server (warm p50 / p95). Also timed: publishing the side files
once more, as the end of an ingest does. Writes docs/DEPLOY-BENCH.md.

The distractors' vectors are pseudo-random unit vectors (seeded by the text), not e5 vectors:
embedding 100k passages on 2 cores takes over an hour and says nothing about starting a host.
The bundled corpus is embedded for real, so questions find their passages; retrieval quality
with real distractors is docs/SCALE.md's subject, not this bench's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.settings import PROJECT_ROOT, Settings, apply_offline_env  # noqa: E402

apply_offline_env()
MODELS = PROJECT_ROOT / "data" / "models"
DISTRACTOR = re.compile(r"^(Section \d+|第 \d+ 节)\n")
RUNS = 3


class CheapDistractors:
    """The real embedder, except for distractor passages, which get seeded random vectors."""

    def __init__(self, real) -> None:  # type: ignore[no-untyped-def]
        self.real = real

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.real, name)

    def passages(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.real.dim), dtype=np.float32)
        real = [i for i, t in enumerate(texts) if not DISTRACTOR.match(t)]
        if real:
            out[real] = self.real.passages([texts[i] for i in real])
        for i, text in enumerate(texts):
            if not DISTRACTOR.match(text):
                continue
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.real.dim).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


def chroma_server(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    proc = subprocess.Popen([chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path",
                             str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("chroma run did not start")


def build_host_a(url: str, root: Path, chunks: int) -> dict:
    from bench.distractors import generate
    from ingest.embedder import Embedder
    from ingest.pipeline import ingest

    settings = Settings(data_dir=root / "host-a", model_cache=MODELS, chroma_url=url)
    extra = root / "distractors"
    generate(extra, chunks)
    t0 = time.perf_counter()
    report = ingest([settings.corpus_dir, extra], settings,
                    embedder=CheapDistractors(Embedder(settings)))  # type: ignore[arg-type]
    assert report.ok, report.errors
    return {"chunks": report.chunks_total, "ingest_s": time.perf_counter() - t0,
            "side_files_mb": sum(p.stat().st_size for p in settings.data_dir.glob("*.npz")) / 2**20}


def start_b(url: str, root: Path) -> dict:
    """In this (fresh) process: host B's start from an empty data dir, then the dev set."""
    from assistant.core import Assistant
    from eval.metrics import percentile
    from eval.sets import load_set

    data = root / "host-b"
    shutil.rmtree(data, ignore_errors=True)
    settings = Settings(data_dir=data, model_cache=MODELS, chroma_url=url)
    t0 = time.perf_counter()
    assistant = Assistant(settings)
    start_s = time.perf_counter() - t0
    questions = [t.question for item in load_set(PROJECT_ROOT / "eval/sets/dev.yaml").items
                 for t in item.turns][:150]
    assistant.ask(questions[0])
    latencies = []
    for q in questions:
        t = time.perf_counter()
        assistant.ask(q)
        latencies.append((time.perf_counter() - t) * 1000)
    return {"start_s": start_s, "passages": len(assistant.retriever.chunks),
            "ask_p50_ms": percentile(latencies, 50), "ask_p95_ms": percentile(latencies, 95)}


def in_fresh_process(what: str, url: str, root: Path, chunks: int = 0) -> dict:
    done = subprocess.run([sys.executable, __file__, "--one", what, "--url", url, "--root", str(root),
                           "--chunks", str(chunks)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def republish(url: str, root: Path) -> dict:
    from ingest.published import publish
    from ingest.store import Store

    settings = Settings(data_dir=root / "host-a", model_cache=MODELS, chroma_url=url)
    store = Store(settings)
    stamp = store.stamp(store.collection(create=False))
    t0 = time.perf_counter()
    sent = publish(store, settings, stamp)
    return {"publish_s": time.perf_counter() - t0, "published_mb": sent / 2**20}


def drop_published(url: str, root: Path) -> dict:
    from ingest.store import Store

    store = Store(Settings(data_dir=root / "host-a", chroma_url=url))
    store.drop_side("files")
    return {}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        if args.one == "build":
            print(json.dumps(build_host_a(args.url, args.root, args.chunks)))
            return
        step = {"start-b": start_b, "republish": republish, "drop": drop_published}[args.one]
        print(json.dumps(step(args.url, args.root)))
        return
    root = Path(tempfile.mkdtemp(prefix="npt-hosts-"))
    proc, url = chroma_server(root / "chroma")
    try:
        row: dict = {"load_before": os.getloadavg()[0], "cores": os.cpu_count()}
        row["a"] = in_fresh_process("build", url, root, args.chunks)
        row["republish"] = in_fresh_process("republish", url, root)
        row["b_published"] = [in_fresh_process("start-b", url, root) for _ in range(RUNS)]
        in_fresh_process("drop", url, root)
        row["b_rebuilt"] = [in_fresh_process("start-b", url, root) for _ in range(RUNS)]
        row["load_after"] = os.getloadavg()[0]
        row["measured"] = time.strftime("%Y-%m-%d %H:%M")
        print(json.dumps(row, indent=1))
        write(row)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def write(row: dict) -> None:
    def med(runs: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    pub, reb = row["b_published"], row["b_rebuilt"]
    lines = [
        "# Several app servers on one Chroma server: host B's start",
        "",
        f"Measured {row['measured']} by `bench/hosts.py` on this {row['cores']}-core machine "
        f"(load average {row['load_before']:.2f} before, {row['load_after']:.2f} after; nothing "
        "else of ours was running). Chroma: `chroma run` on 127.0.0.1. Medians of "
        f"{RUNS} fresh processes each.",
        "",
        f"Index: {row['a']['chunks']:,} passages (bundled corpus + synthetic distractors with "
        f"pseudo-random vectors; see the bench's docstring). Side files: "
        f"{row['a']['side_files_mb']:.1f} MB; publishing them once more took "
        f"{row['republish']['publish_s']:.1f} s.",
        "",
        "| host B starts … | start s (median) | ask p50 / p95 ms through the server |",
        "|---|---|---|",
        f"| with the published side files | {med(pub, 'start_s'):.1f} | "
        f"{med(pub, 'ask_p50_ms'):.0f} / {med(pub, 'ask_p95_ms'):.0f} |",
        f"| nothing published: rebuilt from Chroma | {med(reb, 'start_s'):.1f} | "
        f"{med(reb, 'ask_p50_ms'):.0f} / {med(reb, 'ask_p95_ms'):.0f} |",
        "",
        f"Ratio rebuild / published start: {med(reb, 'start_s') / med(pub, 'start_s'):.1f}×.",
        "",
        "Raw figures:",
        "",
        "```json",
        json.dumps(row, indent=1),
        "```",
        "",
    ]
    (PROJECT_ROOT / "docs" / "DEPLOY-BENCH.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
