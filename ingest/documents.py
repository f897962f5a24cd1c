"""Plain data that travels through ingestion: Document -> Unit -> Chunk (JSON-able dataclasses)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("official", "rendering", "note", "user")
KIND_LABELS_ZH = {
    "official": "正式文本",
    "rendering": "非正式译文",
    "note": "说明（非正式）",
    "user": "用户添加的文件",
}
KIND_LABELS = {
    "official": "official text",
    "rendering": "unofficial rendering",
    "note": "explanatory note (unofficial)",
    "user": "user-added document",
}


def content_hash(text: str) -> str:
    """Return a short, stable hash of a text (sha256, 16 hex digits)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Document:
    """One source file with what the manifest or its front matter says about it."""

    id: str
    title: str
    kind: str
    language: str
    path: str
    text: str  # the text as loaded (front matter removed), before cleaning
    source: str = ""
    date: str = ""
    renders: str | None = None  # id of the document this one renders (kind == rendering)
    format: str = "txt"
    hash: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    # Provenance, set by ingest (not part of the hash): "bundled" for the corpus shipped with
    # the assistant, "user" for anything added locally, with who added it and when.
    origin: str = "user"
    added_by: str = ""
    added_at: str = ""
    node: str = ""  # the app host whose files it came from (a shared Chroma server only)

    def __post_init__(self) -> None:
        if not self.hash:
            self.hash = content_hash(self.text + repr(sorted(self.header().items())))

    def header(self) -> dict[str, Any]:
        """Return the describing fields (everything but the text)."""
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "language": self.language,
            "source": self.source,
            "date": self.date,
            "renders": self.renders,
        }


@dataclass
class Unit:
    """A structural piece of a cleaned document: a stepping stone, a paragraph, a footnote…"""

    id: str  # local to the document, e.g. "ss-10", "fn-1", "p-3"
    kind: str  # title | sponsors | paragraph | stone | footnote | heading | section | term
    locator: str  # for people: "Annex, stepping stone 10"
    text: str
    span: tuple[int, int]  # character span in Document.text
    offsets: list[int] = field(default_factory=list, repr=False)  # source offset per char
    renders: str | None = None  # unit id in the rendered document
    heading: str = ""  # section path, embedded with the text to give it context
    refs: list[str] = field(default_factory=list)  # footnote unit ids referenced here
    ref_by: str | None = None  # for a footnote: the unit that carries its marker


@dataclass
class Chunk:
    """What is embedded, stored and cited."""

    id: str  # "<doc id>#<unit id>[-n]", stable across runs
    doc_id: str
    doc_title: str
    doc_kind: str
    language: str
    locator: str
    text: str
    span: tuple[int, int]
    position: int
    unit_kind: str
    heading: str = ""
    renders: str | None = None  # chunk id of the original this chunk renders
    refs: list[str] = field(default_factory=list)
    tokens: int = 0
    hash: str = ""
    doc_hash: str = ""
    # Provenance: "bundled" (shipped with the assistant) or "user" (added locally, whatever
    # kind it declares), who added it, when (UTC, ISO 8601) and from which file.
    origin: str = "user"
    added_by: str = ""
    added_at: str = ""
    source_file: str = ""
    node: str = ""  # with a shared Chroma server: the host whose `source_file` it is

    def __post_init__(self) -> None:
        if not self.hash:  # of what is embedded: a new heading means a new vector
            self.hash = content_hash(self.embed_text)

    @property
    def embed_text(self) -> str:
        """Return the text given to the embedder: the heading (or locator), then the passage.

        The document title is left out on purpose: shared by every chunk of a document, it
        made short passages look alike (dev set: hit@1 0.831 -> 0.870, docs/RETRIEVAL.md)."""
        context = self.heading or self.locator
        return f"{context}\n{self.text}" if context else self.text

    def to_metadata(self) -> dict[str, Any]:
        """Return Chroma metadata (flat scalars only)."""
        meta = asdict(self)
        meta.pop("text")
        meta["span_start"], meta["span_end"] = meta.pop("span")
        meta["refs"] = ",".join(self.refs)
        meta["renders"] = self.renders or ""
        return meta

    @classmethod
    def from_record(cls, text: str, meta: dict[str, Any]) -> Chunk:
        """Rebuild a chunk from its stored text and metadata."""
        m = dict(meta)
        # Passages stored before provenance was recorded count as added locally until the
        # next ingest says otherwise: a user's text must never pass for the bundled corpus.
        m["origin"] = m.get("origin") or "user"
        m["source_file"] = m.get("source_file") or m.get("path", "")
        span = (int(m.pop("span_start")), int(m.pop("span_end")))
        refs = [r for r in str(m.pop("refs", "")).split(",") if r]
        renders = m.pop("renders", "") or None
        fields = {k: m[k] for k in cls.__dataclass_fields__ if k in m}
        return cls(text=text, span=span, refs=refs, renders=renders, **fields)


def provenance(chunk: Chunk, lang: str = "en") -> str:
    """Return "added locally by … on … from …" for a user's passage; "" for the bundled corpus."""
    if chunk.origin == "bundled":
        return ""
    who = chunk.added_by or ("未知用户" if lang == "zh" else "an unknown user")
    when = chunk.added_at[:10] or "?"
    name = Path(chunk.source_file).name or "?"
    if lang == "zh":
        return f"本地添加：{who}，{when}，文件 {name}"
    return f"added locally by {who} on {when} from {name}"


_FIELD = re.compile(r"^(en|zh|in paper):\s*(.*)$")
_NAMES = re.compile(r"\s*[;；]\s*")


def glossary_fields(text: str) -> tuple[dict[str, list[str]], list[str]] | None:
    """Return a glossary entry's names per field ("en", "zh", "in paper") and its other lines,
    or None when the text is not a glossary entry (it needs both an en: and a zh: line)."""
    fields: dict[str, list[str]] = {}
    rest: list[str] = []
    for line in text.split("\n"):
        m = _FIELD.match(line.strip())
        if m:
            fields[m.group(1)] = [n.strip() for n in _NAMES.split(m.group(2)) if n.strip()]
        elif line.strip():
            rest.append(line.strip())
    return (fields, rest) if "en" in fields and "zh" in fields else None
