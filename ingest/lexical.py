"""The persisted lexical index: BM25 over chunk text, jieba for Chinese, stemmed English words.

Built and updated at ingest, loaded once by the assistant; never rebuilt per question.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

from ingest import npzfile

log = logging.getLogger(__name__)

_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9]+(?:[-'][a-z0-9]+)*")
_EN_STOP = set("""a an and are as at be been but by can could did do does for from has have how
i if in into is it its itself may might must not of on or our shall should so such than that the
their them then there these they this those to up us was we were what when where which who whom
why will with would you your about also any each other more most only own same both between
during before after above below over under again further once here all some no nor very s t
just don now say says said paper document text corpus tell me please""".split())
_ZH_STOP = set("的 了 和 与 及 或 在 是 对 为 其 之 也 就 都 而 并 把 被 从 以 等 中 上 下 这 那 "
               "什么 哪些 怎么 如何 是否 吗 呢 文件 这份 该 有 有关 关于 方面 说 提到 一个 一项".split())
FORMAT = 7  # 6: Snowball English (Porter2) stems; 7: compiled arrays in an .npz file


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    # PyStemmer (C): Porter2, which keeps "news", "deploy", "use" apart from their neighbours
    # better than Porter did, and imports in 1 ms where nltk pulled in scikit-learn and pandas
    # (~0.6-1.9 s of every cold start).
    import Stemmer

    return Stemmer.Stemmer("english")


_JIEBA_LOCK = threading.Lock()
_jieba_ready = None  # the initialised module, once a Chinese text needed it
_pending_words: set[str] = set()  # glossary terms to teach it when it starts


def _jieba():  # type: ignore[no-untyped-def]
    # Started on the first Chinese text, not at import: its dictionary takes ~0.8 s to load,
    # which an English question should not pay. Thread-safe: the server may warm it up in
    # the background while the first questions arrive.
    global _jieba_ready
    if _jieba_ready is None:
        with _JIEBA_LOCK:
            if _jieba_ready is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                for word in sorted(_pending_words):
                    jieba.add_word(word, freq=2000)
                _jieba_ready = jieba
    return _jieba_ready


def add_words(words: Iterable[str]) -> None:
    """Teach the Chinese segmenter terms (from the glossary) so they stay whole tokens."""
    new = {w for w in words if re.fullmatch(r"[\u3400-\u9fff]{2,}", w)}
    with _JIEBA_LOCK:
        _pending_words.update(new)
        ready = _jieba_ready
    if ready is not None:
        for word in sorted(new):
            ready.add_word(word, freq=2000)


def warm_up() -> None:
    """Load the Chinese segmenter now (a server calls this in the background at start)."""
    _jieba()


_BRITISH = re.compile(r"(?<=\w{3})is(e|ed|es|ing|ation|ations)$")


@lru_cache(maxsize=50000)
def _stem(word: str) -> str:
    # "recognised" and "recognized" must meet: fold British -ise spellings first. Applied
    # to questions and passages alike, so a word that is only ever "-ise" stays consistent.
    word = _BRITISH.sub(r"iz\1", word)
    return _stemmer().stemWord(word) if word.isalpha() and len(word) > 3 else word


def tokenize(text: str) -> list[str]:
    """Return the lexical terms of a text: stemmed English words and Chinese words."""
    terms: list[str] = []
    for run in _RUNS.findall(text.lower()):
        if "\u3400" <= run[0] <= "\ufaff":
            for word in _jieba().lcut_for_search(run):
                if word not in _ZH_STOP and (len(word) > 1 or word in "核"):
                    terms.append(word)
        elif run not in _EN_STOP:
            terms.append(_stem(run))
            if "-" in run:
                # The parts too: "nuclear-weapon States" must also meet "nuclear weapon
                # states", and "risk-reduction centres" meet "reducing risk".
                terms += [_stem(p) for p in run.split("-") if p and p not in _EN_STOP]
    return terms


class LexicalIndex:
    """BM25 (k1=1.2, b=0.75) over a set of chunks, updatable by chunk id.

    Two forms of one index: term counts per chunk (`docs`, what ingest edits) and compiled
    arrays (what search reads, and what is saved). A loaded index starts from the arrays and
    builds `docs` only if someone edits it, so a start at 100k chunks reads one file and
    compiles nothing (it took 3 s from JSON)."""

    def __init__(self, docs: dict[str, dict[str, int]] | None = None,
                 glossary: list[dict[str, list[str]]] | None = None) -> None:
        self._docs: dict[str, dict[str, int]] | None = docs or {}
        self.glossary: list[dict[str, list[str]]] = glossary or []
        self.stamp = ""  # the ingest run that wrote it (see ingest/catalog.py)
        # Each glossary name's terms, tokenised at ingest: an English question that meets
        # "plutonium" expands to 钚 without loading the Chinese segmenter (0.7 s) to cut it.
        self.names: dict[str, list[str]] = {}
        self._compiled = False

    # -- updating ---------------------------------------------------------------------------
    @property
    def docs(self) -> dict[str, dict[str, int]]:
        """Term counts per chunk id (built from the arrays the first time it is asked for)."""
        if self._docs is None:
            self._docs = {cid: self.counts(cid) for cid in self.ids}
        return self._docs

    def add(self, chunk_id: str, text: str) -> None:
        self.docs[chunk_id] = dict(Counter(tokenize(text)))
        self._compiled = False

    def remove(self, chunk_ids: Iterable[str]) -> None:
        docs = self.docs
        for cid in chunk_ids:
            docs.pop(cid, None)
        self._compiled = False

    def subset(self, chunk_ids: Iterable[str]) -> LexicalIndex:
        """Return the index of these chunks alone (their own IDF and mean length)."""
        return LexicalIndex({cid: self.counts(cid) for cid in chunk_ids if self.has(cid)},
                            self.glossary)

    def save(self, path: Path, stamp: str = "") -> None:
        """Write atomically: a crash mid-write leaves the previous file in place."""
        if not self._compiled:
            self._compile()
        names = {n: tokenize(n) for entry in self.glossary
                 for n in entry.get("en", []) + entry.get("zh", [])}
        npzfile.write(path, {"format": FORMAT, "stamp": stamp, "ids": self.ids, "vocab": self.vocab,
                             "glossary": self.glossary, "names": names},
                      {"row_at": self._row_at, "row_terms": self._row_terms, "row_tf": self._row_tf,
                       "term_at": self._term_at, "term_rows": self._term_rows,
                       "term_tf": self._term_tf})

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        """Return the saved index; an empty one when there is none, or it is unreadable or old."""
        found = npzfile.read(path, FORMAT)
        if found is None:
            return cls()
        header, arrays = found
        index = cls(glossary=header.get("glossary", []))
        index._docs = None  # built from the arrays only if ingest edits the index
        index.stamp = header.get("stamp", "")
        index.names = header.get("names", {})
        index._arrays(header["ids"], header["vocab"], arrays)
        add_words(w for entry in index.glossary for w in entry.get("zh", []))
        return index

    # -- compiling ----------------------------------------------------------------------------
    def _compile(self) -> None:
        """Turn the term counts into arrays: terms per chunk, and chunks per term (postings)."""
        docs = self.docs
        vocab = sorted({t for terms in docs.values() for t in terms})
        number = {t: j for j, t in enumerate(vocab)}
        row_at = np.cumsum([0] + [len(t) for t in docs.values()], dtype=np.int64)
        row_terms = np.fromiter((number[t] for terms in docs.values() for t in terms),
                                dtype=np.int32, count=int(row_at[-1]))
        # A passage is at most a few hundred tokens: 16 bits hold any term count.
        row_tf = np.fromiter((min(tf, 65535) for terms in docs.values() for tf in terms.values()),
                             dtype=np.uint16, count=int(row_at[-1]))
        rows = np.repeat(np.arange(len(docs), dtype=np.int32), np.diff(row_at))
        order = np.argsort(row_terms, kind="stable")
        term_at = np.concatenate([[0], np.cumsum(np.bincount(row_terms, minlength=len(vocab)))])
        self._arrays(list(docs), vocab, {
            "row_at": row_at, "row_terms": row_terms, "row_tf": row_tf,
            "term_at": term_at.astype(np.int64), "term_rows": rows[order],
            "term_tf": row_tf[order]})

    def _arrays(self, ids: list[str], vocab: list[str], a: Mapping[str, np.ndarray]) -> None:
        self._ids, self.vocab = ids, vocab
        self._row_at, self._row_terms, self._row_tf = a["row_at"], a["row_terms"], a["row_tf"]
        self._term_at, self._term_rows = a["term_at"], a["term_rows"]
        self._term_tf = a["term_tf"]
        self._number = {t: j for j, t in enumerate(vocab)}
        self._row: dict[str, int] | None = None
        n = len(ids)
        rows = np.repeat(np.arange(n), np.diff(self._row_at))
        self.lengths = np.bincount(rows, weights=self._row_tf, minlength=n).astype(np.float32)
        self.avgdl = float(self.lengths.mean()) if n else 1.0
        df = np.diff(self._term_at).astype(np.float64)
        self._idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        self._term_tf_f = self._term_tf.astype(np.float32)
        self._compiled = True

    # -- reading --------------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        """Chunk ids in row order (the order of `scores`)."""
        if not self._compiled:
            self._compile()
        return self._ids

    def has(self, chunk_id: str) -> bool:
        if self._docs is not None:
            return chunk_id in self._docs
        return chunk_id in self._rows()

    def counts(self, chunk_id: str) -> dict[str, int]:
        """Return a chunk's term counts ({} for an unknown id)."""
        if self._docs is not None:
            return dict(self._docs.get(chunk_id, {}))
        row = self._rows().get(chunk_id)
        if row is None:
            return {}
        lo, hi = self._row_at[row], self._row_at[row + 1]
        return {self.vocab[j]: int(tf) for j, tf in
                zip(self._row_terms[lo:hi].tolist(), self._row_tf[lo:hi].tolist(), strict=True)}

    def _rows(self) -> dict[str, int]:
        if self._row is None:
            self._row = {cid: i for i, cid in enumerate(self.ids)}
        return self._row

    def term_idf(self, term: str) -> float:
        """Return a term's IDF (0 when no chunk has it)."""
        if not self._compiled:
            self._compile()
        j = self._number.get(term)
        return float(self._idf[j]) if j is not None else 0.0

    def max_idf(self) -> float:
        if not self._compiled:
            self._compile()
        n = len(self.ids)
        return math.log(1 + (n - 0.5) / 1.5) if n else 1.0

    def scores(self, terms: dict[str, float]) -> np.ndarray:
        """Return the BM25 score of every chunk (in self.ids order) for weighted query terms."""
        if not self._compiled:
            self._compile()
        out = np.zeros(len(self.ids), dtype=np.float32)
        k1, b = 1.2, 0.75
        for term, weight in terms.items():
            j = self._number.get(term)
            if j is None:
                continue
            lo, hi = self._term_at[j], self._term_at[j + 1]
            rows, tf = self._term_rows[lo:hi], self._term_tf_f[lo:hi]
            norm = k1 * (1 - b + b * self.lengths[rows] / self.avgdl)
            out[rows] += weight * self._idf[j] * tf * (k1 + 1) / (tf + norm)
        return out

    def __len__(self) -> int:
        return len(self._docs) if self._docs is not None else len(self.ids)
