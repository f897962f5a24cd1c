"""The assistant inside a llama-index app: our e5 embedding, our retriever, our query engine.

- `E5Embedding`: multilingual-e5-small with its `query: ` / `passage: ` prompts, the model that
  built the index; pass it as `embed_model` to query our Chroma collection with llama-index's own
  `VectorStoreIndex.from_vector_store(ChromaVectorStore(...))` (rows: ingest/nodes.py).
- `AssistantRetriever`: our hybrid (e5 + BM25 + question cards), grouped, source-aware retrieval,
  exactly what `Assistant.ask` ranks, as `NodeWithScore`s; the gate's verdict and evidence ride
  in each node's metadata, and the original/rendering pair in its relationships.
- `AssistantQueryEngine`: a `Response` carrying our `Answer` (extractive, or the validated LLM
  mode when `NPT_LLM_URL` is set), its text, and the retrieved passages as `source_nodes`.

This module imports llama-index at the top; nothing on the app's question path imports it.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.callbacks import CallbackManager
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.prompts.mixin import PromptMixinType
from llama_index.core.schema import NodeWithScore, QueryBundle

from assistant.answer import Answer
from assistant.core import Assistant
from assistant.retrieve import Filters
from ingest.embedder import Embedder
from ingest.nodes import to_node
from ingest.settings import Settings, apply_offline_env

__all__ = ["AssistantQueryEngine", "AssistantRetriever", "E5Embedding", "source_nodes"]


class E5Embedding(BaseEmbedding):
    """Our e5 encoder behind llama-index's embedding interface (`query: ` / `passage: ` prompts)."""

    _embedder: Embedder = PrivateAttr()

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None,
                 **kwargs: Any) -> None:
        apply_offline_env()
        embedder = embedder or Embedder(settings or Settings())
        kwargs.setdefault("model_name", embedder.fingerprint())
        kwargs.setdefault("embed_batch_size", embedder.settings.embed_batch_size)
        super().__init__(**kwargs)
        self._embedder = embedder

    @classmethod
    def class_name(cls) -> str:
        return "E5Embedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self._embedder.queries([query])[0]]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self._embedder.passages(texts)]


def source_nodes(assistant: Assistant, answer: Answer) -> list[NodeWithScore]:
    """Return the answer's ranked passages as nodes, with the gate's verdict in their metadata."""
    chunks = assistant.retriever.chunks
    cited = {c.chunk_id: c.number for c in answer.citations}
    verdict = {"abstained": answer.abstained, "abstain_reason": answer.reason,
               "coverage": answer.timings.get("coverage", 0.0),
               "gate_score": answer.timings.get("gate_score", 0.0)}
    out = []
    for hit in answer.retrieved:
        chunk = chunks[hit.chunk_id]
        members = assistant.retriever.members(assistant.retriever.group_of(chunk))
        node = to_node(chunk, renderings=[m for m in members if m.renders == chunk.id])
        added = {"rank": hit.rank, "cited_as": cited.get(hit.chunk_id, 0), **verdict,
                 **{f"signal_{k}": v for k, v in hit.signals.items()}}
        node.metadata.update(added)
        # Retrieval bookkeeping, like hashes and spans, stays out of prompts and embeddings.
        node.excluded_llm_metadata_keys += list(added)
        node.excluded_embed_metadata_keys += list(added)
        out.append(NodeWithScore(node=node, score=hit.score))
    return out


class AssistantRetriever(BaseRetriever):
    """Our hybrid, grouped, source-aware retrieval: the passages `Assistant.ask` ranks, as nodes.

    With `skip_abstained`, a question the gate declines gets no nodes at all, so nothing
    downstream (your synthesizer, your LLM) can build an answer the corpus does not support."""

    def __init__(self, assistant: Assistant, filters: Filters | None = None, k: int | None = None,
                 history: Sequence[str] = (), skip_abstained: bool = False,
                 callback_manager: CallbackManager | None = None) -> None:
        super().__init__(callback_manager=callback_manager)
        # Retrieval never calls an LLM: this view shares the index, the models and the lock, and
        # answers extractively (a few ms; that answer carries the gate's verdict).
        self._assistant = copy.copy(assistant)
        self._assistant.synthesizer = None
        self.filters, self.k, self.history = filters, k, list(history)
        self.skip_abstained = skip_abstained

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        answer = self._assistant.ask(query_bundle.query_str, self.history, self.filters, self.k)
        if answer.abstained and self.skip_abstained:
            return []
        return source_nodes(self._assistant, answer)


class AssistantQueryEngine(BaseQueryEngine):
    """A query engine whose `Response` carries our `Answer`: its text, and its passages as nodes."""

    def __init__(self, assistant: Assistant, filters: Filters | None = None, k: int | None = None,
                 history: Sequence[str] = (), callback_manager: CallbackManager | None = None
                 ) -> None:
        super().__init__(callback_manager=callback_manager)
        self.assistant, self.filters, self.k, self.history = assistant, filters, k, list(history)

    def _get_prompt_modules(self) -> PromptMixinType:
        return {}

    def _query(self, query_bundle: QueryBundle) -> Response:
        answer = self.assistant.ask(query_bundle.query_str, self.history, self.filters, self.k)
        return Response(response=answer.text, source_nodes=source_nodes(self.assistant, answer),
                        metadata={"answer": answer, "abstained": answer.abstained,
                                  "reason": answer.reason, "mode": answer.mode,
                                  "language": answer.language})

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return await asyncio.to_thread(self._query, query_bundle)
