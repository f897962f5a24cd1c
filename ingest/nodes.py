"""A chunk as llama-index sees it: a `TextNode`, and the Chroma row llama-index's store writes.

Why: an ordinary llama-index app opens our collection with `ChromaVectorStore`, which rebuilds
each node from the row's `_node_content` and deletes a document by its `document_id`. Rows
written through llama-index's own `node_to_metadata_dict` (what `ChromaVectorStore.add` calls)
are read natively, and our own keys stay beside them, flat, for the assistant's reader
(`Chunk.from_record`).

Relations: the document is the node's SOURCE (so `ref_doc_id` is our document id and
`delete(ref_doc_id)` removes the document); an unofficial rendering names the original it renders
as its PARENT, and an original lists its renderings as CHILD nodes (a rendering is derived from
its original; llama-index has no closer relation).

llama-index is imported on first use: only ingest and `assistant/llamaindex.py` build nodes, and
the question path of the app never imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ingest.documents import KIND_LABELS, Chunk

if TYPE_CHECKING:
    from llama_index.core.schema import TextNode

# What a reader (or an LLM prompt) is shown beside the text; hashes, paths, spans, token counts,
# positions and provenance bookkeeping are for the index and never reach a prompt.
LLM_KEYS = ("doc_title", "locator", "kind_label", "source", "date")
# Written as "{value}" lines so that a node's EMBED content is exactly the text we embedded
# (`Chunk.embed_text`: the heading, or else the locator, then the passage).
METADATA_TEMPLATE = "{value}"
TEXT_TEMPLATE = "{metadata_str}\n{content}"


def node_metadata(chunk: Chunk, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the node's metadata: the chunk's own fields, the document's `extra`, the kind label."""
    return {**chunk.to_metadata(), "kind_label": KIND_LABELS.get(chunk.doc_kind, ""), **(extra or {})}


def to_node(chunk: Chunk, extra: Mapping[str, Any] | None = None,
            renderings: Iterable[Chunk] = ()) -> TextNode:
    """Return the chunk as a TextNode: document as SOURCE, original as PARENT, renderings as CHILD."""
    from llama_index.core.schema import NodeRelationship, ObjectType, RelatedNodeInfo, TextNode

    meta = node_metadata(chunk, extra)
    context = "heading" if chunk.heading else "locator" if chunk.locator else None
    relations: dict[NodeRelationship, Any] = {
        NodeRelationship.SOURCE: RelatedNodeInfo(node_id=chunk.doc_id, node_type=ObjectType.DOCUMENT,
                                                 metadata={"doc_title": chunk.doc_title})}
    if chunk.renders:
        relations[NodeRelationship.PARENT] = RelatedNodeInfo(
            node_id=chunk.renders, node_type=ObjectType.TEXT, metadata={"relation": "original"})
    children = [RelatedNodeInfo(node_id=r.id, node_type=ObjectType.TEXT,
                                metadata={"relation": "rendering", "language": r.language})
                for r in renderings]
    if children:
        relations[NodeRelationship.CHILD] = children
    return TextNode(
        id_=chunk.id, text=chunk.text, metadata=meta, relationships=relations,
        start_char_idx=chunk.span[0], end_char_idx=chunk.span[1],
        excluded_llm_metadata_keys=[k for k in meta if k not in LLM_KEYS or meta[k] in ("", None)],
        excluded_embed_metadata_keys=[k for k in meta if k != context],
        metadata_template=METADATA_TEMPLATE, metadata_separator="\n", text_template=TEXT_TEMPLATE)


def row_metadata(chunk: Chunk, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return a chunk's Chroma metadata: our flat keys plus those llama-index's Chroma store writes
    (`_node_content`, `_node_type`, `document_id`, `doc_id`, `ref_doc_id`)."""
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    meta = node_to_metadata_dict(to_node(chunk, extra), remove_text=True, flat_metadata=True)
    # As ChromaVectorStore.add does: Chroma stores no None.
    return {k: "" if v is None else v for k, v in meta.items()}
