"""Question cards: the questions each bundled passage answers, embedded as extra representations.

`corpus/question-cards.yaml` lists, for every passage of the bundled corpus, questions in
English and Chinese written by us (the doc2query idea, what llama-index's
QuestionsAnsweredExtractor generates). A user's question is compared with these questions as
well as with the passage: "anything about nukes staying unused forever?" is far from the text
of stepping stone 1 but close to a question its card lists. Ingest embeds the cards once into
`data/cards.npz` (question to question: both sides get e5's `query: ` prompt); the retriever
reads that file and scores a passage by its closest card question (docs/RETRIEVAL.md).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from ingest import npzfile
from ingest.embedder import Embedder
from ingest.lexical import LexicalIndex

log = logging.getLogger(__name__)
CARDS_FILE = "question-cards.yaml"
FORMAT = 1


class CardsError(ValueError):
    """The cards file is malformed; the message names the file and the entry."""


@dataclass
class Cards:
    """Card questions, each with the passage it points to, and their vectors."""

    passages: list[str]  # the passage (chunk id) each row points to
    questions: list[str]
    vectors: np.ndarray  # one L2-normalised row per question
    lexical: LexicalIndex  # one document per passage: its questions and keywords

    def __post_init__(self) -> None:
        # Row -> passage number, so `best` takes one maximum per passage in numpy (per question).
        self._ids = list(dict.fromkeys(self.passages))
        number = {p: i for i, p in enumerate(self._ids)}
        self._rows = np.array([number[p] for p in self.passages], dtype=np.int64)

    def best(self, vector: np.ndarray) -> dict[str, float]:
        """Return, per passage, the cosine of its card question closest to the vector."""
        if not len(self.questions):
            return {}
        best = np.full(len(self._ids), -1.0, dtype=np.float32)
        np.maximum.at(best, self._rows, self.vectors @ vector)
        return dict(zip(self._ids, best.tolist(), strict=True))


def read_questions(path: Path) -> list[tuple[str, str]]:
    """Return (passage id, question or keyword) pairs from a cards file; raise CardsError if
    malformed. Keywords come last for each passage and are marked by a leading "#"."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CardsError(f"{path}: cannot read the question cards ({exc})") from exc
    cards = data.get("cards") if isinstance(data, dict) else None
    if not isinstance(cards, dict):
        raise CardsError(f"{path}: expected a mapping 'cards: {{passage id: {{en: [...], zh: [...]}}}}'")
    pairs: list[tuple[str, str]] = []
    for passage, card in cards.items():
        if not isinstance(card, dict):
            raise CardsError(f"{path}: the card of {passage!r} must be a mapping with en/zh lists")
        for lang in ("en", "zh"):
            for question in card.get(lang) or []:
                if not isinstance(question, str):
                    raise CardsError(f"{path}: a question of {passage!r} ({lang}) is not text")
                pairs.append((str(passage), question.strip()))
        pairs.extend((str(passage), "#" + str(k)) for k in card.get("keywords") or [])
    return pairs


def _digest(path: Path, fingerprint: str) -> str:
    return hashlib.sha256(path.read_bytes() + fingerprint.encode()).hexdigest()[:16]


def build(corpus_dir: Path, out: Path, embedder: Embedder, known: set[str]) -> int:
    """Embed the cards of `corpus_dir` into `out` unless it is current; return rows written.

    Cards of passages that are not indexed (`known`) are skipped with a warning, so a card
    never points at nothing."""
    path = corpus_dir / CARDS_FILE
    if not path.is_file():
        out.unlink(missing_ok=True)
        lexical_path(out).unlink(missing_ok=True)
        return 0
    digest = _digest(path, embedder.fingerprint())
    current = npzfile.read(out, FORMAT)
    if current is not None and current[0].get("digest") == digest:
        return 0
    pairs = read_questions(path)
    stray = sorted({p for p, _ in pairs if p not in known})
    if stray:
        log.warning("%s: cards for passages that are not indexed are skipped: %s", path,
                    ", ".join(stray[:5]) + (" …" if len(stray) > 5 else ""))
    pairs = [(p, q) for p, q in pairs if p in known and q.strip("#")]
    # BM25 over each passage's questions and keywords: the words people use for it.
    words: dict[str, list[str]] = {}
    for passage, question in pairs:
        words.setdefault(passage, []).append(question.lstrip("#"))
    lexical = LexicalIndex()
    for passage, texts in words.items():
        lexical.add(passage, " ".join(texts))
    lexical.save(lexical_path(out), digest)
    questions = [(p, q) for p, q in pairs if not q.startswith("#")]
    vectors = embedder.many_queries([q for _, q in questions])
    npzfile.write(out, {"format": FORMAT, "digest": digest, "passages": [p for p, _ in questions],
                        "questions": [q for _, q in questions]}, {"vectors": vectors})
    return len(questions)


def lexical_path(cards_path: Path) -> Path:
    """Where the BM25 index of the cards' words lives, beside their vectors."""
    return cards_path.with_name("cards-lexical.npz")


def load(path: Path) -> Cards | None:
    """Return the embedded cards, or None when there are none (retrieval then goes without)."""
    got = npzfile.read(path, FORMAT)
    if got is None:
        return None
    header, arrays = got
    lexical = LexicalIndex.load(lexical_path(path))
    if lexical.stamp != header.get("digest"):
        lexical = LexicalIndex()  # from another run: the questions alone still count
    return Cards(list(header["passages"]), list(header["questions"]),
                 np.asarray(arrays["vectors"], dtype=np.float32), lexical)
