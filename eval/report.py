"""report.json / report.md / report.png, the terminal summary, and baseline comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HIGHER_BETTER = ("hit_at_1", "hit_at_k", "mrr", "recall_at_k", "citation_precision",
                 "citation_recall", "answer_match", "abstention_accuracy")
LOWER_BETTER = ("false_abstention_rate",)
# Reported beside the gate but not gating: they depend on the machine's load.
INFORMATIONAL = ("cited_chars_median", "latency_p50_ms", "latency_p95_ms")
SUMMARY_ORDER = (*HIGHER_BETTER, *LOWER_BETTER, *INFORMATIONAL)


def compare(old: dict[str, Any], new: dict[str, Any], tolerance: float) -> list[dict[str, Any]]:
    """Return each metric's change; `regressed` when it got worse by more than tolerance."""
    changes = []
    same_config = {k: v for k, v in old.get("config", {}).items()
                   if new.get("config", {}).get(k) != v}
    for name in SUMMARY_ORDER:
        a = old.get("summary", {}).get(name)
        b = new.get("summary", {}).get(name)
        if a is None or b is None:
            continue
        delta = b - a
        worse = (-delta if name in HIGHER_BETTER else delta if name in LOWER_BETTER else 0.0)
        changes.append({"metric": name, "old": a, "new": b, "delta": round(delta, 4),
                        "regressed": worse > tolerance, "gating": name not in INFORMATIONAL,
                        "config_changed": sorted(same_config)})
    return changes


def print_summary(report: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    s = report["summary"]
    table = Table(title=f"{report['set']} (k={report['k']}, {s['scored_turns']} scored turns)")
    table.add_column("metric")
    table.add_column("all", justify="right")
    langs = list(report["by_lang"])
    for lang in langs:
        table.add_column(lang, justify="right")
    for name in SUMMARY_ORDER:
        table.add_row(name, _fmt(s.get(name)), *[_fmt(report["by_lang"][lang].get(name))
                                                for lang in langs])
    console.print(table)


def print_comparison(changes: list[dict[str, Any]], old: dict[str, Any], new: dict[str, Any],
                     console: Any) -> None:
    from rich.table import Table

    table = Table(title="change against baseline")
    for col in ("metric", "baseline", "now", "change", ""):
        table.add_column(col)
    for c in changes:
        mark = "[red]worse[/red]" if c["regressed"] else ""
        if not c["gating"]:
            mark = "(not gated)"
        table.add_row(c["metric"], _fmt(c["old"]), _fmt(c["new"]), f"{c['delta']:+.4f}", mark)
    console.print(table)
    if changes and changes[0]["config_changed"]:
        console.print(f"configuration differs from the baseline in: "
                      f"{', '.join(changes[0]['config_changed'])}")


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
           f"- items: {report['items']} ({s['scored_turns']} scored turns)"]
    out += [f"- {k}: `{v}`" for k, v in report["config"].items()]
    out += ["", "## Summary", "", "| metric | value |", "|---|---|"]
    out += [f"| {name} | {_fmt(s.get(name))} |" for name in SUMMARY_ORDER]
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


def chart(report: dict[str, Any], path: Path) -> None:
    """Write report.png: metrics by category, and the latency distribution."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cats = list(report["by_category"])
    names = ("hit_at_1", "mrr", "citation_precision", "abstention_accuracy")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [2, 1]})
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [report["by_category"][c].get(name) or 0.0 for c in cats]
        ax1.bar([x + i * width for x in range(len(cats))], values, width, label=name)
    ax1.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(cats))])
    ax1.set_xticklabels(cats, rotation=20, ha="right")
    ax1.set_ylim(0, 1.05)
    ax1.set_title(f"{report['set']}: metrics by category")
    ax1.legend(fontsize=8, loc="lower left")
    lat = [r["latency_ms"] for r in report["results"]]
    ax2.hist(lat, bins=20, color="#4c72b0")
    s = report["summary"]
    for q, style in (("latency_p50_ms", "--"), ("latency_p95_ms", ":")):
        ax2.axvline(s[q], color="k", linestyle=style, label=f"{q[8:11]} {s[q]:.0f} ms")
    ax2.set_title("latency per question (ms)")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(report: dict[str, Any], out_dir: Path) -> None:
    """Write report.json, report.md and report.png into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1),
                                         encoding="utf-8")
    (out_dir / "report.md").write_text(markdown(report), encoding="utf-8")
    chart(report, out_dir / "report.png")
