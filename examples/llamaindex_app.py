"""Use the assistant's index from your own llama-index app.

    .venv/bin/python examples/llamaindex_app.py "Which hotlines does the paper propose?"
    .venv/bin/python examples/llamaindex_app.py --hybrid "…"    # our retriever, your query engine
    .venv/bin/python examples/llamaindex_app.py --answer "…"    # our cited answer as a Response

The data dir is the assistant's (`NPT_DATA_DIR`, default ./data; `NPT_CHROMA_URL` for a Chroma
server); run `npt-assistant ingest` first. Everything stays offline.
"""

from __future__ import annotations

import argparse

import chromadb
from chromadb.config import Settings as ChromaSettings
from llama_index.core import Settings as LlamaSettings
from llama_index.core import VectorStoreIndex
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.response_synthesizers import ResponseMode
from llama_index.core.schema import NodeWithScore
from llama_index.vector_stores.chroma import ChromaVectorStore

from assistant.llamaindex import E5Embedding
from ingest.settings import Settings, apply_offline_env


def vector_retrieve(settings: Settings, question: str, k: int) -> list[NodeWithScore]:
    """llama-index's own vector index over our Chroma collection: dense retrieval only."""
    chroma = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        host, _, port = settings.chroma_url.split("://")[-1].rstrip("/").partition(":")
        client = chromadb.HttpClient(host=host, port=int(port or 8000), settings=chroma)
    else:
        client = chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma)
    store = ChromaVectorStore(chroma_collection=client.get_collection(settings.collection))
    # The index was built with e5 and its `passage: ` prompt: questions need its `query: ` one.
    index = VectorStoreIndex.from_vector_store(store, embed_model=E5Embedding(settings))
    return index.as_retriever(similarity_top_k=k).retrieve(question)


def main() -> None:
    """Print the passages (or the answer) a llama-index app gets for one question."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("question")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--hybrid", action="store_true",
                      help="our hybrid retriever (e5 + BM25, grouped) in RetrieverQueryEngine")
    mode.add_argument("--answer", action="store_true",
                      help="our query engine: the cited answer (extractive, or LLM if configured)")
    ap.add_argument("-k", type=int, default=5, help="passages to retrieve")
    args = ap.parse_args()
    apply_offline_env()
    settings = Settings()
    # Offline: no default OpenAI LLM or embedding may be resolved behind our back.
    LlamaSettings.llm = None
    LlamaSettings.embed_model = E5Embedding(settings)
    if args.hybrid or args.answer:
        from assistant.core import Assistant
        from assistant.llamaindex import AssistantQueryEngine, AssistantRetriever

        assistant = Assistant(settings)
        engine = (AssistantQueryEngine(assistant, k=args.k) if args.answer else
                  RetrieverQueryEngine.from_args(AssistantRetriever(assistant, k=args.k),
                                                 response_mode=ResponseMode.NO_TEXT))
        response = engine.query(args.question)
        if args.answer:
            print(response, "\n")  # our answer's text: extractive, or the checked LLM answer
        nodes = response.source_nodes
    else:
        nodes = vector_retrieve(settings, args.question, args.k)
    for n in nodes:
        print(f"{n.score:.3f}  {n.node.node_id}  {n.node.metadata.get('locator', '')}")


if __name__ == "__main__":
    main()
