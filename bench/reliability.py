"""Load and concurrent-writer checks for docs/RELIABILITY.md.

    .venv/bin/python bench/reliability.py [--part load|writers|all] [--sessions 50]
                                          [--seconds 120] [--writers 2,4]

load: 50 concurrent API sessions for 2 minutes; zero errors, every answer identical to the one
the same server gives to the question asked alone, server memory at start, peak and end.
writers: 2 and 4 ingests of different folders started at once on one data dir (a copy of the
bundled index) while API sessions ask questions; every run exits 0, no question fails, no
document is lost, Chroma = catalog = BM25. Each part rewrites its own section of the document
(between its markers) and leaves the rest, which describes the fault tests, as written."""

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
WSTART, WEND = "<!-- writers:start -->", "<!-- writers:end -->"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=["load", "writers", "all"], default="all")
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--writers", default="2,4", help="numbers of concurrent ingests to run")
    args = ap.parse_args()
    if args.part in ("load", "all"):
        _write_section(START, END, load_section(args.sessions, args.seconds))
    if args.part in ("writers", "all"):
        counts = [int(n) for n in args.writers.split(",") if n.strip()]
        _write_section(WSTART, WEND, writers_section(counts))


def load_section(sessions: int, seconds: float) -> list[str]:
    from bench.load import run_load
    from bench.run import machine

    r = run_load(Settings(), sessions=sessions, seconds=seconds)
    print(json.dumps(r), flush=True)
    return [
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
        "server answers at most `concurrency` (4) questions at once and the rest wait their turn."]


def writers_section(counts: list[int]) -> list[str]:
    from bench.run import machine
    from bench.writers import run_writers

    rows = []
    for n in counts:
        r = run_writers(Settings(), writers=n)
        print(json.dumps(r), flush=True)
        rows.append(
            f"| {r['writers']} | {r['documents_added']} | {r['seconds']:.0f} | "
            f"{' '.join(map(str, r['ingest_exit']))} | {r['waited']} | {r['lost_documents']} | "
            f"{r['chroma']} / {r['catalog']} / {r['bm25']} | {r['question_answers']} | "
            f"{r['question_errors']} |")
    return [
        f"Measured on {machine()} by `bench/reliability.py --part writers`: on a copy of the "
        "bundled index, N `npt-assistant ingest` runs of different folders (10 documents each) "
        "started at once while a chat server on the same data dir answered 4 `gradio_client` "
        "sessions' questions.", "",
        "| ingests at once | documents added | seconds | exit statuses | runs that waited for "
        "the lock | documents lost | passages Chroma / catalog / BM25 | questions answered | "
        "question errors |",
        "|---|---|---|---|---|---|---|---|---|", *rows]


def _write_section(start: str, end: str, lines: list[str]) -> None:
    """Replace the text between two markers of the document (added at its end if missing)."""
    text = DOC.read_text(encoding="utf-8")
    section = "\n".join([start, *lines, end])
    if start not in text:
        text = text.rstrip("\n") + "\n\n" + start + "\n" + end + "\n"
    DOC.write_text(text[:text.index(start)] + section + text[text.index(end) + len(end):],
                   encoding="utf-8")


if __name__ == "__main__":
    main()
