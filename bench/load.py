"""Load check: N concurrent gradio_client sessions against a local server for S seconds."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from ingest.settings import PROJECT_ROOT, Settings


def run_load(settings: Settings, sessions: int = 20, seconds: float = 60.0) -> dict[str, Any]:
    """Return latency percentiles, error count, throughput and server RSS before/after."""
    import psutil
    from gradio_client import Client

    from assistant.ui.app import launch
    from eval.metrics import percentile
    from eval.sets import load_set

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = psutil.Process()
    demo = launch(settings, port=port, block=False)
    url = f"http://127.0.0.1:{port}/"
    questions = [t.question for i in load_set(PROJECT_ROOT / "eval" / "sets" / "dev.yaml").items
                 for t in i.turns]
    rss_start = proc.memory_info().rss
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        client = Client(url, verbose=False)
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
                else:
                    errors.append(str(result)[:200])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(sessions)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    rss_end = proc.memory_info().rss
    demo.close()
    return {"sessions": sessions, "seconds": elapsed, "answers": len(latencies),
            "errors": len(errors), "error_samples": errors[:3],
            "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
            "per_second": len(latencies) / elapsed, "rss_start_mb": rss_start / 2**20,
            "rss_end_mb": rss_end / 2**20}
