"""The strong llama-index peer (bench/peer.py) builds on a tiny corpus, answers, and is scored by
our harness, matching through renderings."""

from __future__ import annotations

import hashlib
import math

import pytest

pytest.importorskip("llama_index.retrievers.bm25")

from llama_index.core.embeddings import BaseEmbedding  # noqa: E402

from bench.peer import (  # noqa: E402
    PeerAssistant,
    build_peer,
    our_chunk_texts,
    rendered_units,
    score,
    tokenize,
)
from ingest.settings import Settings  # noqa: E402

MANIFEST = """documents:
  - file: a.note.en.md
    id: note-a
    title: "Crisis channels (explanatory note)"
    language: en
    kind: note
    source: "test"
  - file: a.note.zh.md
    id: note-a.zh
    title: "危机渠道（说明）"
    language: zh
    kind: rendering
    renders: note-a
    source: "test"
"""
EN = """---
id: note-a
title: "Crisis channels (explanatory note)"
kind: note
language: en
source: "test"
---

# Crisis channels

## Hotlines {#hotlines}

States set up a hotline between capitals so that leaders can talk during a crisis.

## Test ban {#test-ban}

The comprehensive test-ban treaty forbids every nuclear explosion.
"""
ZH = """---
id: note-a.zh
title: "危机渠道（说明）"
kind: rendering
language: zh
renders: note-a
source: "test"
---

# 危机渠道

## 热线 {#hotlines}

各国在首都之间建立热线，以便领导人在危机期间通话。

## 禁止试验 {#test-ban}

全面禁止核试验条约禁止一切核爆炸。
"""
QUESTIONS = """name: peer-test
items:
  - id: hot-zh
    question: 热线
    lang: zh
    expect:
      passages: [["hotline between capitals"]]
  - id: ban-en
    question: Which treaty forbids every nuclear explosion?
    lang: en
    expect:
      passages: [["forbids every nuclear explosion"]]
  - id: oos
    question: What will the weather be tomorrow?
    expect: {abstain: true}
"""


class HashEmbedding(BaseEmbedding):
    """Bag of the peer's own tokens hashed into 64 dimensions: deterministic, no model."""

    def _vector(self, text: str) -> list[float]:
        v = [0.0] * 64
        for t in tokenize(text):
            v[int(hashlib.md5(t.encode()).hexdigest(), 16) % 64] += 1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.fixture(scope="module")
def peer_world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("peer")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "corpus.yaml").write_text(MANIFEST, encoding="utf-8")
    (corpus / "a.note.en.md").write_text(EN, encoding="utf-8")
    (corpus / "a.note.zh.md").write_text(ZH, encoding="utf-8")
    (root / "set.yaml").write_text(QUESTIONS, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, data_dir=root / "data")
    peer = build_peer(corpus, root / "chroma", HashEmbedding(model_name="hash"))
    return root, peer, PeerAssistant(peer, our_chunk_texts(settings))


def test_peer_builds_and_answers_in_both_languages(peer_world) -> None:  # type: ignore[no-untyped-def]
    root, peer, assistant = peer_world
    assert (root / "chroma").is_dir() and peer.ingest_s > 0
    assert {n.metadata["doc_id"] for n in peer.nodes} == {"note-a", "note-a.zh"}
    zh = assistant.ask("热线")
    assert zh.retrieved and "热线" in zh.retrieved[0].text
    assert zh.retrieved[0].renders == "note-a#hotlines"  # the rendering names what it renders
    en = assistant.ask("Which treaty forbids every nuclear explosion?")
    assert "forbids every nuclear explosion" in en.retrieved[0].text
    assert not en.abstained and len(en.retrieved) <= 5


def test_bm25_segments_chinese_and_drops_zero_scores(peer_world) -> None:  # type: ignore[no-untyped-def]
    _, peer, _ = peer_world
    lexical = peer.retriever._retrievers[1]
    hits = lexical.retrieve("热线")
    assert hits and hits[0].score > 0 and "热线" in hits[0].node.get_content()
    assert lexical.retrieve("zzzz qqqq") == []  # no shared word: nothing, not padding


def test_scored_by_our_harness_through_renderings(peer_world) -> None:  # type: ignore[no-untyped-def]
    root, _, assistant = peer_world
    report = score(assistant, root / "set.yaml")
    s = report["summary"]
    # the Chinese question's gold phrase is English: it matches through the rendered original
    assert s["hit_at_1"] == 1.0 and s["hit_at_k"] == 1.0 and s["mrr"] == 1.0
    assert report["must_abstain"] == 1 and s["abstention_accuracy"] == 0.0  # it cannot abstain


def test_a_node_over_two_sections_renders_both() -> None:
    doc = "# T\n\n## A {#a}\n\none\n\n## B {#b}\n\ntwo\n\n## C {#c}\n\nthree\n"
    assert rendered_units(doc, "one\n\n## B {#b}\n\ntwo") == ["a", "b"]
    assert rendered_units(doc, "three") == ["c"]
    assert rendered_units(doc, "# T") == []
