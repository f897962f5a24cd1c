"""What a question asks about that the corpus never mentions: the unknown-name veto.

A question that names a country, treaty, organisation, year or acronym the corpus does not
mention in either language ("What does the paper say about Iran?", "《禁止核武器条约》何时生效？",
"the 2026 Review Conference") is about something the corpus does not hold, however close its
other words are to a stepping stone. Saying which name is missing is more useful, and more
honest, than quoting the nearest stone.

A name counts as known when any of its forms (English or Chinese, from `names.tsv`) occurs
in the reference corpus or in the lexical index of the whole collection (so a user's document
about Iran makes Iran known). A capitalised word close to a corpus word by spelling
("Stockhlom") is a typo, not a new name.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

NAMES_FILE = Path(__file__).resolve().parent / "names.tsv"
_SENTENCE_START = re.compile(r"(?:^|[.?!。？！:：]\s*)[\"'“‘(]*([A-Za-z][\w'-]*)")
_CAPITALISED = re.compile(r"(?<![\w'-])([A-Z][a-z]+(?:[-'][A-Za-z]+)*|[A-Z]{2,}s?|[A-Z][A-Za-z]*[A-Z]"
                          r"[A-Za-z]*)(?![\w'-])")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_BOOK_TITLE = re.compile(r"《([^》]{2,40})》")
# Capitalised words that are not names: question words, titles of address, months.
_NOT_NAMES = frozenset("""i a an the what which who whom whose when where why how is are was were do
does did can could should would will shall may might must has have had please tell explain list
give describe compare summarize summarise and or but if in on at of for to by from with about
any anything there this that these those mr ms mrs dr sir madam dear hello hi thanks thank
january february march april may june july august september october november december yes no
ok okay q a""".split())


# Words too common to tie a year to a topic ("what happened in 2023" says nothing of what).
_CONTEXT_STOP = frozenset("""what which when where happened happen does paper about said says
were year years this that with from have been 什么 哪些 是否 怎么 如何 一年 年的 发生 情况 文件
有没有""".split())


@dataclass(frozen=True)
class Entity:
    """One thing a question may name, with all its names in both languages."""

    names: tuple[str, ...]


def load_entities(path: Path = NAMES_FILE) -> list[Entity]:
    """Return the entities of the names file (`English;alt<TAB>中文;别名` per line)."""
    out: list[Entity] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        names = [n.strip() for part in line.split("\t") for n in part.split(";") if n.strip()]
        out.append(Entity(tuple(names)))
    return out


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def _occurs(name: str, text: str) -> bool:
    """Whole-word occurrence for Latin names, substring for Chinese (no word boundaries)."""
    if _is_cjk(name):
        return name in text
    return re.search(r"(?<![a-z0-9])" + re.escape(name.lower()) + r"(?![a-z0-9])", text) is not None


class Scope:
    """Knows every name the corpus mentions; tells which names of a question it does not."""

    def __init__(self, texts: Iterable[str], indexed: Callable[[str], bool] | None = None,
                 entities: list[Entity] | None = None) -> None:
        """`texts`: the reference corpus; `indexed(name)`: is the name in any indexed passage."""
        self._blob = "\n".join(texts).lower()
        self._indexed = indexed or (lambda name: False)
        self._words = set(re.findall(r"[a-z0-9][a-z0-9'-]*", self._blob))
        self._words |= {p for w in self._words for p in re.split(r"[-']", w) if p}
        self._by_initial: dict[str, list[str]] = {}
        for w in self._words:
            if len(w) >= 4:
                self._by_initial.setdefault(w[0], []).append(w)
        self._sentences: dict[str, list[str]] = {}
        for sentence in re.split(r"(?<=[.!?。！？；;])\s*|\n", self._blob):
            for year in set(_YEAR.findall(sentence)):
                self._sentences.setdefault(year, []).append(sentence)
        entities = entities if entities is not None else load_entities()
        # Which entities the corpus knows is decided once, not per question.
        self._names: dict[str, bool] = {}
        for entity in entities:
            known = any(self.known(n) for n in entity.names)
            for name in entity.names:
                self._names[name if _is_cjk(name) else name.lower()] = known
        latin = sorted((n for n in self._names if not _is_cjk(n)), key=len, reverse=True)
        self._latin = re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, latin)) + r")(?![a-z0-9])")
        self._cjk = sorted((n for n in self._names if _is_cjk(n)), key=len, reverse=True)

    def known(self, name: str) -> bool:
        """True when the corpus (or any indexed document) mentions the name."""
        low = name.lower()
        if not _is_cjk(name) and re.fullmatch(r"[a-z0-9]+", low):
            in_corpus = low in self._words
        else:
            in_corpus = _occurs(name, self._blob)
        return in_corpus or self._indexed(name)

    def _year_in_context(self, year: str, question: str) -> bool:
        """True when some sentence of the corpus has the year and another word of the question.

        "2023" in "Did Russia suspend New START in February 2023?" is known (a sentence says
        so), but not in "What happened at the 2023 Preparatory Committee session?": the corpus
        names 2023 only for New START."""
        keys = {w for w in re.findall(r"[a-z]{4,}", question.lower()) if w not in _NOT_NAMES}
        for run in re.findall(r"[\u3400-\u9fff]+", question):
            keys |= {run[i:i + 2] for i in range(len(run) - 1)}
        keys -= _CONTEXT_STOP
        return any(year in sentence and any(k in sentence for k in keys)
                   for sentence in self._sentences.get(year, []))

    def _typo_of_known(self, word: str) -> bool:
        low = word.lower()
        if len(low) < 5:
            return False
        near = difflib.get_close_matches(low, self._by_initial.get(low[0], []), n=1, cutoff=0.8)
        return bool(near)

    def unknown(self, question: str) -> list[str]:
        """Return the names in the question the corpus never mentions (empty: none)."""
        low = question.lower()
        out: list[str] = []
        covered: list[tuple[int, int]] = []
        for m in self._latin.finditer(low):
            covered.append(m.span())
            if not self._names[m.group(0)]:
                out.append(question[m.start():m.end()])
        for name in self._cjk:
            at = question.find(name)
            if at >= 0 and not any(s <= at < e for s, e in covered):
                covered.append((at, at + len(name)))
                if not self._names[name]:
                    out.append(name)
        for m in _BOOK_TITLE.finditer(question):
            title = m.group(1)
            if not any(s <= m.start(1) < e for s, e in covered) and not self.known(title):
                out.append(f"《{title}》")
        for m in _YEAR.finditer(question):
            if not self._year_in_context(m.group(1), question):
                out.append(m.group(1))
        out.extend(self._unknown_capitalised(question, covered))
        return list(dict.fromkeys(out))

    def _unknown_capitalised(self, question: str, covered: list[tuple[int, int]]) -> list[str]:
        latin = re.findall(r"[A-Za-z]", question)
        if latin and sum(ch.isupper() for ch in latin) > 0.6 * len(latin):
            return []  # ALL CAPS typing: capitals say nothing about names
        starts = {m.start(1) for m in _SENTENCE_START.finditer(question)}
        out: list[str] = []
        for m in _CAPITALISED.finditer(question):
            word = m.group(1)
            if m.start() in starts or any(s <= m.start() < e for s, e in covered):
                continue
            base = word[:-1] if re.fullmatch(r"[A-Z]{2,}s", word) else word
            if base.lower() in _NOT_NAMES or self.known(base) or self._typo_of_known(base):
                continue
            out.append(word)
        return out
