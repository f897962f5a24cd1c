"""report.json / report.md / report.png, the terminal summary, and baseline comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.gate import ALL, GATED, INFORMATIONAL, Verdict

SUMMARY_ORDER = (*GATED, *INFORMATIONAL)
LATENCY = ("latency_p50_ms", "latency_p95_ms")
MARK = {"regressed": "[red]REGRESSED[/red]", "missing": "[red]MISSING[/red]",
        "worse": "[yellow]worse[/yellow] (allowed)", "better": "[green]better[/green]",
        "same": "", "new": "new", "not gated": "(not gated)"}


def machine_note(report: dict[str, Any]) -> str:
    """Return which machine and load latency figures come from ("2 cores, load 0.9 → 1.4")."""
    m = report.get("machine") or {}
    if not m:
        return "machine not recorded"
    load = m.get("load_avg_1min")
    end = m.get("load_avg_1min_end")
    trend = f"{load:.2f}" + (f" → {end:.2f}" if end is not None else "") if load is not None else "?"
    return f"{m.get('cores', '?')} cores, load {trend}"


def _label(name: str, report: dict[str, Any]) -> str:
    return f"{name} ({machine_note(report)})" if name in LATENCY else name


def print_summary(report: dict[str, Any], console: Any) -> None:
    """Print the summary table: every metric overall and per language."""
    from rich.table import Table

    s = report["summary"]
    table = Table(title=f"{report['set']} (k={report['k']}, {s['scored_turns']} scored turns)")
    table.add_column("metric")
    table.add_column("all", justify="right")
    langs = list(report["by_lang"])
    for lang in langs:
        table.add_column(lang, justify="right")
    for name in SUMMARY_ORDER:
        table.add_row(_label(name, report), _fmt(s.get(name)),
                      *[_fmt(report["by_lang"][lang].get(name)) for lang in langs])
    console.print(table)


def print_comparison(verdict: Verdict, old: dict[str, Any], new: dict[str, Any],
                     console: Any) -> None:
    """Print what got better or worse against the baseline, then why the gate fails, if it does."""
    from rich.table import Table

    table = Table(title="change against the baseline")
    for col in ("group", "metric", "baseline", "now", "change", "allowed drop", ""):
        table.add_column(col, justify="right" if col in ("baseline", "now", "change") else "left")
    for c in verdict.changes:
        if c.group != ALL and c.status == "same":
            continue  # per-language rows only when something moved
        name = c.metric
        if c.metric in LATENCY:
            name = f"{c.metric} (baseline {machine_note(old)}; now {machine_note(new)})"
        table.add_row(c.group, name, _fmt(c.old), _fmt(c.new),
                      "–" if c.delta is None else f"{c.delta:+.4f}",
                      "" if c.allowed is None else f"{c.allowed:.4f}", MARK[c.status])
    console.print(table)
    for note in verdict.notes:
        console.print(f"note: {note}", highlight=False)
    for failure in verdict.failures:
        console.print(f"[red]gate:[/red] {failure}", highlight=False)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def markdown(report: dict[str, Any]) -> str:
    """Return report.md: summary, breakdowns by category and language, every failure."""
    s = report["summary"]
    out = [f"# Evaluation report: {report['set']}", "",
           f"- created: {report['created']}", f"- k: {report['k']}",
           f"- items: {report['items']} ({s['scored_turns']} scored turns)",
           f"- set file sha256: `{report.get('set_sha256', '?')}`",
           f"- machine: {machine_note(report)}"]
    config = dict(report["config"])
    tuning, settings = config.pop("tuning", {}), config.pop("settings", {})
    out += [f"- {k}: `{v}`" for k, v in config.items()]
    out += ["", "## Summary", "", "| metric | value |", "|---|---|"]
    out += [f"| {_label(name, report)} | {_fmt(s.get(name))} |" for name in SUMMARY_ORDER]
    for title, values in (("Tuning (every calibrated value)", tuning),
                          ("Settings (the others that shape retrieval and answers)", settings)):
        if values:
            out += ["", f"## {title}", "", "| name | value |", "|---|---|"]
            out += [f"| {k} | `{json.dumps(v, ensure_ascii=False)}` |" for k, v in values.items()]
    for key, title in (("by_category", "By category"), ("by_lang", "By language")):
        groups = report[key]
        cols = ("hit_at_1", "mrr", "recall_at_k", "citation_precision", "abstention_accuracy",
                "false_abstention_rate", "scored_turns")
        out += ["", f"## {title}", "", "| group | " + " | ".join(cols) + " |",
                "|---|" + "---|" * len(cols)]
        for g, m in groups.items():
            out.append(f"| {g} | " + " | ".join(_fmt(m.get(c)) for c in cols) + " |")
    failures = [r for r in report["results"] if _failed(r)]
    out += ["", f"## Failures ({len(failures)})", ""]
    for r in failures:
        out.append(f"### {r['id']} (turn {r['turn']}, {r['lang'] or '?'}, {r['category'] or '?'})")
        out.append("")
        out.append(f"- question: {r['question']}")
        if r["expect_abstain"]:
            out.append("- expected: abstain; got: an answer")
        elif r["abstained"]:
            out.append("- expected: an answer; got: abstention")
        below = [f"{k}={v:.2f}" for k, v in r["metrics"].items()
                 if v < 1.0 and k != "false_abstention"]
        if below:
            out.append(f"- below 1: {', '.join(below)}")
        top = ", ".join(f"{x['rank']}. {x['chunk_id']}{' ✓' if x['matched'] else ''}"
                        for x in r["retrieved"])
        out.append(f"- retrieved: {top}")
        out.append(f"- cited: {', '.join(r['cited']) or '—'}")
        first = r["answer"].splitlines()[0] if r["answer"] else ""
        out.append(f"- answer begins: {first[:200]}")
        out.append("")
    return "\n".join(out) + "\n"


def _failed(row: dict[str, Any]) -> bool:
    m = row["metrics"]
    if row["expect_abstain"]:
        return m.get("abstention_accuracy", 1.0) < 1.0
    return (m.get("false_abstention", 0.0) > 0 or m.get("hit_at_1", 1.0) < 1.0
            or m.get("answer_match", 1.0) < 1.0)


def figure(report: dict[str, Any]) -> Any:
    """Return the chart: metrics by category, and the latency distribution.

    Legends sit above their plots, never on them: a legend inside the axes hid a bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cats = list(report["by_category"])
    names = ("hit_at_1", "mrr", "citation_precision", "abstention_accuracy")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [2, 1]})
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [report["by_category"][c].get(name) or 0.0 for c in cats]
        ax1.bar([x + i * width for x in range(len(cats))], values, width, label=name)
    ax1.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(cats))])
    ax1.set_xticklabels(cats, rotation=20, ha="right")
    ax1.set_ylim(0, 1.05)
    ax1.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=len(names),
               title=f"{report['set']}: metrics by category", title_fontsize=9, frameon=False)
    lat = [r["latency_ms"] for r in report["results"]]
    ax2.hist(lat, bins=20, color="#4c72b0")
    s = report["summary"]
    for q, style in (("latency_p50_ms", "--"), ("latency_p95_ms", ":")):
        ax2.axvline(s[q], color="k", linestyle=style, label=f"{q[8:11]} {s[q]:.0f} ms")
    ax2.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=2, frameon=False,
               title=f"latency per question, ms ({machine_note(report)})", title_fontsize=9)
    fig.tight_layout()
    return fig


def chart(report: dict[str, Any], path: Path) -> None:
    """Write report.png (see `figure`)."""
    import matplotlib.pyplot as plt

    fig = figure(report)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def write_reports(report: dict[str, Any], out_dir: Path) -> None:
    """Write report.json, report.md and report.png into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1),
                                         encoding="utf-8")
    (out_dir / "report.md").write_text(markdown(report), encoding="utf-8")
    chart(report, out_dir / "report.png")
