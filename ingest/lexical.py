"""The persisted lexical index: BM25 over chunk text, jieba for Chinese, stemmed English words.

Built and updated at ingest, loaded once by the assistant; never rebuilt per question.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

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
FORMAT = 6  # 6: Snowball English (Porter2) stems instead of NLTK's Porter


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
    """BM25 (k1=1.2, b=0.75) over a set of chunks, updatable by chunk id."""

    def __init__(self, docs: dict[str, dict[str, int]] | None = None,
                 glossary: list[dict[str, list[str]]] | None = None) -> None:
        self.docs: dict[str, dict[str, int]] = docs or {}
        self.glossary: list[dict[str, list[str]]] = glossary or []
        self._compiled = False

    # -- updating ---------------------------------------------------------------------------
    def add(self, chunk_id: str, text: str) -> None:
        self.docs[chunk_id] = dict(Counter(tokenize(text)))
        self._compiled = False

    def remove(self, chunk_ids: Iterable[str]) -> None:
        for cid in chunk_ids:
            self.docs.pop(cid, None)
        self._compiled = False

    def save(self, path: Path) -> None:
        """Write atomically: a crash mid-write leaves the previous file in place."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        try:
            with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=3) as fh:
                json.dump({"format": FORMAT, "docs": self.docs, "glossary": self.glossary}, fh,
                          ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)  # a half-written file must not sit beside the good one
            raise

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        if not path.is_file():
            return cls()
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
        if data.get("format") != FORMAT:
            log.warning("%s has an old format; it will be rebuilt on the next ingest", path)
            return cls()
        index = cls(data["docs"], data.get("glossary", []))
        add_words(w for entry in index.glossary for w in entry.get("zh", []))
        return index

    # -- searching --------------------------------------------------------------------------
    def _compile(self) -> None:
        self.ids = list(self.docs)
        n = len(self.ids)
        self.lengths = np.array([sum(d.values()) for d in self.docs.values()], dtype=np.float32)
        self.avgdl = float(self.lengths.mean()) if n else 1.0
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for i, terms in enumerate(self.docs.values()):
            for term, tf in terms.items():
                rows, tfs = postings.setdefault(term, ([], []))
                rows.append(i)
                tfs.append(tf)
        self.postings = {t: (np.array(r, dtype=np.int32), np.array(f, dtype=np.float32))
                         for t, (r, f) in postings.items()}
        self.idf = {t: math.log(1 + (n - len(r) + 0.5) / (len(r) + 0.5))
                    for t, (r, _) in self.postings.items()}
        self._compiled = True

    def term_idf(self, term: str) -> float:
        """Return a term's IDF (0 when no chunk has it)."""
        if not self._compiled:
            self._compile()
        return self.idf.get(term, 0.0)

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
        norm = k1 * (1 - b + b * self.lengths / self.avgdl)
        for term, weight in terms.items():
            hit = self.postings.get(term)
            if hit is None:
                continue
            rows, tf = hit
            out[rows] += weight * self.idf[term] * tf * (k1 + 1) / (tf + norm[rows])
        return out

    def __len__(self) -> int:
        return len(self.docs)
