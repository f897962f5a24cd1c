"""The regression gate: a run compared with a baseline report, and every reason it fails.

A run fails when (eval/FORMAT.md, "The gate"):
- a value the baseline has is missing or None now, overall or for a language;
- fewer items, scored turns, or turns defining a metric than in the baseline;
- the embedder or the corpus fingerprint changed, unless the change is accepted;
- a gated metric got worse by more than one question's worth or the tolerance, whichever is
  larger, overall or for a language.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

HIGHER_BETTER = ("hit_at_1", "hit_at_k", "mrr", "recall_at_k", "citation_precision",
                 "citation_recall", "answer_match", "abstention_accuracy")
LOWER_BETTER = ("false_abstention_rate",)
GATED = (*HIGHER_BETTER, *LOWER_BETTER)
# Reported beside the gate but not gating: they depend on the machine and its load.
INFORMATIONAL = ("cited_chars_median", "latency_p50_ms", "latency_p95_ms")
# A change of either means the figures measure something else: a new baseline is due.
IDENTITY = ("embedder", "corpus_fingerprint")
# The key a result row uses for a summary metric, when it differs.
ROW_KEY = {"false_abstention_rate": "false_abstention"}
# Summaries are rounded to 4 decimals: differences this small are rounding, not change.
SLACK = 2e-4
ALL = "all"


class BaselineError(Exception):
    """The baseline cannot be compared with: not a report of this harness, or of another set."""


@dataclass
class Change:
    """One metric in one group (all, or a language), baseline against now."""

    group: str
    metric: str
    old: float | None
    new: float | None
    allowed: float | None  # how much worse it may get; None when not gated
    status: str  # better | worse | same | regressed | missing | new | not gated

    @property
    def delta(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return round(self.new - self.old, 4)


@dataclass
class Verdict:
    """Every change, the reasons the gate fails (empty: it passes), and what to know besides."""

    changes: list[Change] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures)


def check_baseline(old: Any, set_name: str | None = None) -> dict[str, Any]:
    """Return the baseline if it can be compared with; raise BaselineError saying why not."""
    if not isinstance(old, dict):
        raise BaselineError(f"not a report (a JSON {type(old).__name__}, not an object)")
    summary = old.get("summary")
    if not isinstance(summary, dict) or not any(_number(summary.get(m)) for m in GATED):
        raise BaselineError("it has no summary with any gated metric "
                            f"({', '.join(GATED)}); use a report.json written by `eval run`")
    if not isinstance(old.get("results"), list) or not old["results"]:
        raise BaselineError("it has no per-turn 'results'; use a report.json written by "
                            "`eval run`")
    by_lang = old.get("by_lang", {})
    if not isinstance(by_lang, dict) or not all(isinstance(v, dict) for v in by_lang.values()):
        raise BaselineError("'by_lang' is not an object of per-language summaries")
    if set_name is not None and old.get("set") != set_name:
        raise BaselineError(f"it is a report of set {old.get('set')!r}, this run is of "
                            f"{set_name!r}")
    return old


def gate(old: dict[str, Any], new: dict[str, Any], tolerance: float = 0.02,
         accept_config_change: bool = False) -> Verdict:
    """Return the verdict on a new report against a baseline (see the module docstring)."""
    check_baseline(old)
    verdict = Verdict()
    _identity(old, new, accept_config_change, verdict)
    _sizes(old, new, verdict)
    old_counts, new_counts = _counts(old), _counts(new)
    groups = [ALL, *sorted(old.get("by_lang") or {})]
    for group in groups:
        before, now = _summary(old, group), _summary(new, group)
        assert before is not None  # check_baseline: every group of the baseline is an object
        if now is None:
            verdict.failures.append(f"no {group} turns were scored now (the baseline scored "
                                    f"{before.get('scored_turns', '?')})")
            continue
        _missing(group, before, now, verdict)
        for metric in GATED:
            n_old = old_counts[group][_row_key(metric)]
            n_new = new_counts[group][_row_key(metric)]
            if n_new < n_old:
                verdict.failures.append(f"{metric} ({group}) is measured on fewer turns: "
                                        f"{n_old} in the baseline, {n_new} now")
            change = _change(group, metric, before.get(metric), now.get(metric),
                             max(n_old, n_new), tolerance)
            if change is not None:
                verdict.changes.append(change)
                if change.status == "regressed":
                    verdict.failures.append(
                        f"{metric} ({group}) got worse by {abs(change.delta or 0):.4f}: "
                        f"{change.old} -> {change.new}, more than the {change.allowed:.4f} "
                        "allowed")
        if group == ALL:
            for metric in INFORMATIONAL:
                a, b = before.get(metric), now.get(metric)
                if _number(a) and _number(b):
                    verdict.changes.append(Change(group, metric, a, b, None, "not gated"))
    _settings_notes(old, new, verdict)
    return verdict


def _identity(old: dict[str, Any], new: dict[str, Any], accept: bool, verdict: Verdict) -> None:
    """An embedder or corpus change fails the gate unless accepted; the set hash is a note."""
    for key in IDENTITY:
        a = (old.get("config") or {}).get(key)
        b = (new.get("config") or {}).get(key)
        if a == b:
            continue
        what = f"{key} changed since the baseline: {a!r} -> {b!r}"
        if accept:
            verdict.notes.append(f"{what} (accepted)")
        else:
            verdict.failures.append(f"{what}; the figures measure another index. Rerun with "
                                    "--accept-config-change to compare anyway, and commit a "
                                    "new baseline")
    a, b = old.get("set_sha256"), new.get("set_sha256")
    if a is None:
        verdict.notes.append("the baseline does not record its set file's sha256")
    elif a != b:
        verdict.notes.append(f"the set file changed since the baseline (sha256 {a[:12]} -> "
                             f"{str(b)[:12]})")
    if old.get("k") != new.get("k"):
        verdict.notes.append(f"k differs: {old.get('k')} in the baseline, {new.get('k')} now")


def _sizes(old: dict[str, Any], new: dict[str, Any], verdict: Verdict) -> None:
    """Fewer items or scored turns than the baseline fails: dropped questions cannot pass."""
    n_old, n_new = len(old["results"]), len(new.get("results") or [])
    if n_new == 0:
        verdict.failures.append("nothing was scored")
    elif n_new < n_old:
        verdict.failures.append(f"fewer scored turns: {n_old} in the baseline, {n_new} now")
    items_old, items_new = old.get("items"), new.get("items")
    if isinstance(items_old, int) and isinstance(items_new, int) and items_new < items_old:
        verdict.failures.append(f"fewer items: {items_old} in the baseline, {items_new} now")


def _missing(group: str, before: dict[str, Any], now: dict[str, Any], verdict: Verdict) -> None:
    """A value the baseline has and the run lacks: a renamed or broken metric must not pass."""
    for key, value in before.items():
        if _number(value) and now.get(key) is None:
            verdict.failures.append(f"{key} ({group}) is missing now (baseline {value})")
            if key in GATED:
                verdict.changes.append(Change(group, key, value, None, None, "missing"))


def _change(group: str, metric: str, a: Any, b: Any, n: int, tolerance: float) -> Change | None:
    if not _number(a):
        return Change(group, metric, None, b, None, "new") if _number(b) else None
    if not _number(b):
        return None  # reported by _missing
    worse = (a - b) if metric in HIGHER_BETTER else (b - a)
    # One question moves a mean over n turns by 1/n: a smaller tolerance would fail a group
    # of few questions on any single one.
    allowed = max(tolerance, 1.0 / n if n else 0.0)
    if worse > allowed + SLACK:
        status = "regressed"
    elif worse > SLACK:
        status = "worse"
    elif worse < -SLACK:
        status = "better"
    else:
        status = "same"
    return Change(group, metric, a, b, round(allowed, 4), status)


def _summary(report: dict[str, Any], group: str) -> dict[str, Any] | None:
    if group == ALL:
        return report.get("summary") or {}
    found = (report.get("by_lang") or {}).get(group)
    return found if isinstance(found, dict) else None


def _counts(report: dict[str, Any]) -> dict[str, Counter[str]]:
    """Turns that define each metric, overall and per language, from the result rows."""
    counts: dict[str, Counter[str]] = {ALL: Counter()}
    for row in report.get("results") or []:
        metrics = row.get("metrics") or {}
        lang = row.get("lang") or "(none)"
        for c in (counts[ALL], counts.setdefault(lang, Counter())):
            c.update(k for k, v in metrics.items() if v is not None)
    return counts


def _row_key(metric: str) -> str:
    return ROW_KEY.get(metric, metric)


def _settings_notes(old: dict[str, Any], new: dict[str, Any], verdict: Verdict) -> None:
    """Every configuration value that differs, so a tuning change is never invisible."""
    a, b = _flat(old.get("config") or {}), _flat(new.get("config") or {})
    differ = [k for k in sorted(a.keys() & b.keys()) if a[k] != b[k] and k not in IDENTITY]
    if differ:
        verdict.notes.append("configuration differs from the baseline: " + "; ".join(
            f"{k} {a[k]} -> {b[k]}" for k in differ))
    if b.keys() - a.keys():
        verdict.notes.append("not recorded in the baseline: " + ", ".join(sorted(b.keys() - a.keys())))
    if a.keys() - b.keys():
        verdict.notes.append("recorded in the baseline only: " + ", ".join(sorted(a.keys() - b.keys())))


def _flat(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and key in ("settings", "tuning"):
            out.update(_flat(value, ""))  # settings and tuning values read as their own names
        elif isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
