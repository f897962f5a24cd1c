"""Load check for docs/RELIABILITY.md: 50 concurrent API sessions for 2 minutes.

    .venv/bin/python bench/reliability.py [--sessions 50] [--seconds 120]

Zero errors, every answer identical to the one the same server gives to the question asked
alone, and server memory at start, peak and end. Rewrites the load section of the document
(between the markers) and leaves the rest, which describes the fault tests, as written."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.settings import PROJECT_ROOT, Settings, apply_offline_env  # noqa: E402

apply_offline_env()
DOC = PROJECT_ROOT / "docs" / "RELIABILITY.md"
START, END = "<!-- load:start -->", "<!-- load:end -->"


def main() -> None:
    from bench.load import run_load
    from bench.run import machine

    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=120.0)
    args = ap.parse_args()
    r = run_load(Settings(), sessions=args.sessions, seconds=args.seconds)
    print(json.dumps(r), flush=True)
    section = "\n".join([
        START,
        f"Measured on {machine()} by `bench/reliability.py`: the chat "
        f"server in its own process on the bundled index, {r['sessions']} `gradio_client` "
        f"sessions calling `/ask` for {r['seconds']:.0f} s, cycling through the "
        f"{r['distinct_questions']} dev-set questions. Before the load, each question was asked "
        "once, alone, through the same server; every answer under load is compared with that one "
        "(text, cited passages, abstention).", "",
        "| sessions | seconds | answers | errors | answers differing from the one-at-a-time "
        "answer | answers/s | p50 ms | p95 ms | server RSS start / peak / end MB |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {r['sessions']} | {r['seconds']:.0f} | {r['answers']} | {r['errors']} | "
        f"{r['differing']} | {r['per_second']:.1f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
        f"{r['rss_start_mb']:.0f} / {r['rss_peak_mb']:.0f} / {r['rss_end_mb']:.0f} |", "",
        "Clients and server share the machine's 2 cores, so latency here is queueing: the "
        "server answers at most `concurrency` (4) questions at once and the rest wait their turn.",
        END])
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(text[:text.index(START)] + section + text[text.index(END) + len(END):],
                   encoding="utf-8")


if __name__ == "__main__":
    main()
