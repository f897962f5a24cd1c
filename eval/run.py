"""Run a question set through Assistant.ask, score every turn, write and compare reports."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval import metrics as M
from eval.sets import QuestionSet, SetError, load_set

log = logging.getLogger(__name__)

RETRIEVAL = ("hit_at_1", "hit_at_k", "mrr", "recall_at_k")


def corpus_fingerprint(assistant: Any) -> str:
    """Return a hash of every indexed chunk's id and content hash."""
    h = hashlib.sha256()
    catalog = assistant.retriever.chunks
    for cid, chunk_hash in sorted(zip(catalog.ids, catalog.column("hash"), strict=True)):
        h.update(f"{cid}:{chunk_hash}\n".encode())
    return h.hexdigest()[:16]


def _texts(assistant: Any, chunk_id: str, text: str, renders: str | None) -> list[str]:
    """A chunk matches through its own text and, for a rendering, the text it renders."""
    texts = [text]
    if renders and renders in assistant.retriever.chunks:
        texts.append(assistant.retriever.chunks[renders].text)
    return texts


def score_turn(assistant: Any, answer: Any, expect: Any, k: int) -> dict[str, Any]:
    """Return the per-turn result row (FORMAT.md `results` entry plus metric values)."""
    gold = expect.passages
    ranked = [M.matched_groups(_texts(assistant, r.chunk_id, r.text, r.renders), gold)
              for r in answer.retrieved[:k]]
    cited = [M.matched_groups(_texts(assistant, c.chunk_id, c.passage,
                                     assistant.retriever.chunks[c.chunk_id].renders
                                     if c.chunk_id in assistant.retriever.chunks else None), gold)
             for c in answer.citations]
    row: dict[str, Any] = {
        "abstained": answer.abstained,
        "expect_abstain": expect.abstain,
        "retrieved": [{"rank": r.rank, "chunk_id": r.chunk_id, "score": r.score,
                       "matched": bool(g), "locator": r.locator}
                      for r, g in zip(answer.retrieved[:k], ranked, strict=False)],
        "cited": [c.chunk_id for c in answer.citations],
        "cited_chars": [len(c.quote) for c in answer.citations],
        "answer": answer.text,
        "follow_up_of": answer.follow_up_of,
        "latency_ms": answer.timings.get("total_ms", 0.0),
        "retrieve_ms": answer.timings.get("retrieve_ms", 0.0),
        "answer_ms": answer.timings.get("answer_ms", 0.0),
        "metrics": {},
    }
    m = row["metrics"]
    if expect.abstain:
        m["abstention_accuracy"] = 1.0 if answer.abstained else 0.0
    else:
        m["false_abstention"] = 1.0 if answer.abstained else 0.0
        if gold:
            m["hit_at_1"] = M.hit_at(ranked, 1)
            m["hit_at_k"] = M.hit_at(ranked, k)
            m["mrr"] = M.mrr(ranked, k)
            m["recall_at_k"] = M.recall_at(ranked, len(gold), k)
            m["citation_recall"] = M.citation_recall(cited, len(gold))
            precision = M.citation_precision(cited)
            if precision is not None:
                m["citation_precision"] = precision
        if expect.answer_contains:
            m["answer_match"] = M.answer_match(answer.text, expect.answer_contains)
    return row


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Average each metric over the rows that define it (FORMAT.md's denominators)."""
    def avg(name: str) -> float | None:
        values = [r["metrics"][name] for r in rows if name in r["metrics"]]
        return round(M.mean(values), 4) if values else None  # no item defines it

    lat = [r["latency_ms"] for r in rows]
    cited = [c for r in rows if not r["abstained"] for c in r["cited_chars"]]
    summary = {name: avg(name) for name in (*RETRIEVAL, "citation_precision", "citation_recall",
                                            "answer_match", "abstention_accuracy")}
    summary["false_abstention_rate"] = avg("false_abstention")
    summary["cited_chars_median"] = M.median(cited)
    summary["latency_p50_ms"] = round(M.percentile(lat, 50), 2)
    summary["latency_p95_ms"] = round(M.percentile(lat, 95), 2)
    summary["retrieve_p50_ms"] = round(M.percentile([r["retrieve_ms"] for r in rows], 50), 2)
    summary["answer_p50_ms"] = round(M.percentile([r["answer_ms"] for r in rows], 50), 2)
    summary["scored_turns"] = len(rows)
    return summary


# Settings that say where things are or who may connect, not how an answer is made.
NOT_RECORDED = frozenset({"data_dir", "corpus_dir", "model_cache", "chroma_url", "host", "port",
                          "auth", "llm_url", "llm_api_key"})
_CJK = re.compile(r"[\u3400-\u9fff]")


def recorded_settings(settings: Any) -> dict[str, Any]:
    """Return the operator settings a report records: all but locations and secrets, and
    but the tuning (`Assistant.describe()` records it whole, under "tuning"). Read from the
    object, so a field added tomorrow is recorded too."""
    if settings is None or not hasattr(settings, "model_dump"):
        return {}
    values = settings.model_dump(mode="json")
    return {k: values[k] for k in sorted(values) if k not in NOT_RECORDED and k != "tuning"}


def machine() -> dict[str, Any]:
    """Return what the latency figures depend on: cores, load, interpreter."""
    try:
        load: float | None = round(os.getloadavg()[0], 2)
    except OSError:
        load = None
    return {"cores": os.cpu_count(), "load_avg_1min": load, "platform": platform.machine(),
            "python": platform.python_version()}


def warm_up(qset: QuestionSet, assistant: Any, k: int) -> list[str]:
    """Ask the set's first question, and its first Chinese one, before anything is timed.

    The first question a process answers pays one-off costs (the first encode, loading the
    Chinese segmenter: ~1.4 s against ~50 ms once warm); they are not the assistant's
    latency. Returns the questions asked."""
    questions = [t.question for item in qset.items for t in item.turns]
    chosen = list(dict.fromkeys(questions[:1] + [q for q in questions if _CJK.search(q)][:1]))
    for question in chosen:
        assistant.ask(question, k=k)
    return chosen


def run_set(qset: QuestionSet, assistant: Any, k: int = 5,
            progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Return the full report for a question set (not yet written to disk)."""
    rows: list[dict[str, Any]] = []
    host = machine()
    warmed = warm_up(qset, assistant, k)
    for n, item in enumerate(qset.items, 1):
        history: list[str] = []
        for t, turn in enumerate(item.turns):
            answer = assistant.ask(turn.question, history=list(history), k=k)
            history.append(turn.question)
            if turn.expect is None:
                continue
            row = {"id": item.id, "turn": t, "question": turn.question, "lang": item.lang,
                   "category": item.category, **score_turn(assistant, answer, turn.expect, k)}
            rows.append(row)
        if progress:
            progress(n, len(qset.items))
    host["load_avg_1min_end"] = machine()["load_avg_1min"]
    return {
        "set": qset.name, "k": k, "items": len(qset.items), "set_sha256": qset.sha256,
        "config": {**assistant.describe(), "corpus_fingerprint": corpus_fingerprint(assistant),
                   "settings": recorded_settings(getattr(assistant, "settings", None))},
        "machine": host, "warm_up": warmed,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **tally(rows), "results": rows,
    }


def tally(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the summary of scored rows, and the same broken down by category and language."""
    out: dict[str, Any] = {"summary": summarize(rows)}
    for key, field in (("by_category", "category"), ("by_lang", "lang")):
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            groups[r[field] or "(none)"].append(r)
        out[key] = {g: summarize(rs) for g, rs in sorted(groups.items())}
    return out


def main(set_path: Path, out_dir: Path, settings: Any, k: int = 5,
         baseline: Path | None = None, tolerance: float = 0.02,
         accept_config_change: bool = False) -> int:
    """The `npt-assistant eval run` command: 0 passes, 1 regressed, 2 bad set or baseline."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from assistant.core import Assistant
    from eval.gate import BaselineError, check_baseline, gate
    from eval.report import print_comparison, print_summary, write_reports

    console = Console()
    try:
        qset = load_set(set_path)
    except SetError as exc:
        console.print(f"[red]invalid question set[/red] {exc}", highlight=False)
        return 2
    old = None
    if baseline is not None:
        try:
            old = check_baseline(json.loads(Path(baseline).read_text(encoding="utf-8")),
                                 qset.name)
        except (OSError, ValueError, BaselineError) as exc:
            console.print(f"[red]cannot use baseline[/red] {baseline}: {exc}", highlight=False)
            return 2
    assistant = Assistant(settings)
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(f"eval {qset.name}", total=len(qset.items))
        report = run_set(qset, assistant, k, lambda n, total: bar.update(task, completed=n))
    write_reports(report, out_dir)
    print_summary(report, console)
    console.print(f"reports written to {out_dir}/report.{{json,md,png}}")
    if old is not None:
        verdict = gate(old, report, tolerance, accept_config_change)
        print_comparison(verdict, old, report, console)
        if verdict.failed:
            console.print(f"[red]the gate fails against {baseline}[/red] "
                          f"({len(verdict.failures)} reason(s) above)")
            return 1
        console.print(f"[green]the gate passes against {baseline}[/green]")
    return 0
