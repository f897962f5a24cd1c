"""Load check: N concurrent gradio_client sessions against a local server for S seconds.

Every answer given under load is compared with the answer the same server gave to the same
question asked alone, before the load: concurrency must not change what the assistant says."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from ingest.settings import PROJECT_ROOT, Settings


def fingerprint(result: dict) -> tuple:
    """What must not change under load: the text, the cited passages, abstention."""
    return (result["text"], tuple(c["chunk_id"] for c in result["citations"]),
            result["abstained"])


def run_load(settings: Settings, sessions: int = 20, seconds: float = 60.0) -> dict[str, Any]:
    """Return latency percentiles, errors, answers that differ from the one-at-a-time answer,
    throughput and server RSS at start, end and peak."""
    import psutil
    from gradio_client import Client

    from eval.metrics import percentile
    from eval.sets import load_set

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # The server runs in its own process, as in production: the client threads here must not
    # share its interpreter lock.
    env = {**os.environ, "NPT_DATA_DIR": str(settings.data_dir),
           "NPT_MODEL_CACHE": str(settings.models_dir)}
    server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "chat", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    server.stdout.readline()  # "… ready on …": models and index are loaded
    time.sleep(1.0)
    proc = psutil.Process(server.pid)
    url = f"http://127.0.0.1:{port}/"
    questions = [t.question for i in load_set(PROJECT_ROOT / "eval" / "sets" / "dev.yaml").items
                 for t in i.turns]
    # A question waiting in the server's queue is not a failure: the clients wait as a browser
    # does (httpx's default 5 s read timeout would count queueing under load as errors).
    alone = Client(url, verbose=False, httpx_kwargs={"timeout": 300})
    reference = {q: fingerprint(alone.predict(q, None, api_name="/ask")) for q in questions}
    rss_start = proc.memory_info().rss
    rss_samples = [rss_start]
    latencies: list[float] = []
    errors: list[str] = []
    differing: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        client = Client(url, verbose=False, httpx_kwargs={"timeout": 300})
        i = n
        while time.monotonic() < deadline:
            q = questions[i % len(questions)]
            i += sessions
            t0 = time.perf_counter()
            try:
                result = client.predict(q, None, api_name="/ask")
                ok = isinstance(result, dict) and "text" in result
            except Exception as exc:  # counted, reported
                ok, result = False, repr(exc)
            with lock:
                if ok:
                    latencies.append((time.perf_counter() - t0) * 1000)
                    if fingerprint(result) != reference[q]:
                        differing.append(q)
                else:
                    errors.append(str(result)[:200])

    def sample_memory() -> None:
        while time.monotonic() < deadline:
            time.sleep(2.0)
            rss_samples.append(proc.memory_info().rss)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(sessions)]
    threads.append(threading.Thread(target=sample_memory))
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    rss_end = proc.memory_info().rss
    server.terminate()
    server.wait(timeout=30)
    return {"sessions": sessions, "seconds": elapsed, "answers": len(latencies),
            "distinct_questions": len(reference), "errors": len(errors),
            "error_samples": errors[:3], "differing": len(differing),
            "differing_samples": sorted(set(differing))[:3],
            "rss_peak_mb": max(rss_samples) / 2**20,
            "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
            "per_second": len(latencies) / elapsed, "rss_start_mb": rss_start / 2**20,
            "rss_end_mb": rss_end / 2**20}
