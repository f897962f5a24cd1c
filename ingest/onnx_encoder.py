"""The e5 encoder on ONNX Runtime: the model directory's ONNX export, no torch.

Why: importing torch + transformers + sentence-transformers costs seconds of a cold start, and
their per-call overhead is most of a question's encode. The converter (ingest/e5_convert.py)
exports the same weights once to `onnx/model.onnx` (input ids and attention mask in, last
hidden state out); this runs it with the directory's own `tokenizer.json`, prompts, mean
pooling and L2 normalisation, and gives sentence-transformers' vectors (tested: cosine ≥ 0.9999;
bench/run.py --encoders measures it against the alternatives)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ONNX_FILE = "onnx/model.onnx"


def has_onnx_export(path: Path, model_file: str = ONNX_FILE) -> bool:
    """True for a sentence-transformers dir of Transformer + mean pooling + Normalize with an export."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1]
                   for m in json.loads((path / "modules.json").read_text("utf-8"))]
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text("utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")
    return (modules == ["Transformer", "Pooling", "Normalize"] and bool(mean_only)
            and (path / model_file).is_file() and (path / "tokenizer.json").is_file())


class OnnxEncoder:
    """Mean-pooled, normalised sentence vectors from an ONNX export of a sentence-transformers dir."""

    def __init__(self, path: Path, threads: int = 0, model_file: str = ONNX_FILE) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # 0: one per core
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path / model_file), options,
                                            providers=["CPUExecutionProvider"])
        config = _read_json(path / "config_sentence_transformers.json")
        self.prompts: dict[str, str] = config.get("prompts") or {}
        self.max_tokens = int(_read_json(path / "sentence_bert_config.json").get(
            "max_seq_length", 512))
        self.dim = int(_read_json(path / "1_Pooling" / "config.json")["word_embedding_dimension"])
        pad = int(_read_json(path / "config.json").get("pad_token_id", 0))
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.enable_padding(pad_id=pad, pad_token=self.tokenizer.id_to_token(pad) or "")

    def token_ids(self, text: str) -> list[int]:
        """Return the token ids the model sees for `text` (prompt not added)."""
        return list(self.tokenizer.encode(text).ids)

    def encode(self, texts: list[str], prompt_name: str | None = None,
               batch_size: int = 16) -> np.ndarray:
        """Return one L2-normalised float32 row per text, the named prompt prepended."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = self.prompts.get(prompt_name or "", "")
        # Batches of similar length waste little on padding; rows go back in input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            out[rows] = self._batch([prefix + texts[i] for i in rows])
        return out

    def _batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text("utf-8"))
    except OSError:
        return {}
