"""Where a passage sits, worded for the interface language: locators in answers and sources,
labels and questions for the topics offered when a question is not covered.

Retrieval gives each passage one locator, in the language of its document's structure (the
Chinese paper's places are named in English, "Annex, stepping stone 7"). The UI words them
here, from the catalog: a note's Chinese section name is its Chinese rendering's locator."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from assistant.answer import Citation, short_title, zh_locator
from assistant.conversation import is_follow_up
from assistant.ui.strings import PAPER_PLACES_ZH, STONE_HEADINGS_ZH, t
from ingest.cards import Cards
from ingest.documents import Chunk

_STONE = re.compile(r"[Ss]tepping stone (\d+)")
_CJK = re.compile(r"[\u3400-\u9fff]")
# "热线和降低风险中心（hotlines and risk-reduction centres）": a gloss a Chinese label can drop.
_LATIN_GLOSS = re.compile(r"\s*[（(][^（）()\u3400-\u9fff]*[A-Za-z][^（）()\u3400-\u9fff]*[）)]")


def zh_place(locator: str) -> str:
    """Return a Chinese wording of a locator: the paper's places translated, a Latin-only gloss
    in parentheses dropped; anything else (a user's heading) as it is."""
    if locator in PAPER_PLACES_ZH:
        return PAPER_PLACES_ZH[locator]
    head = locator.split(":", 1)[0]  # "Annex, paragraph 1: earlier commitments…" → its place
    for candidate in (locator, head):
        worded = zh_locator(candidate)
        if worded != candidate:
            return worded
    stripped = _LATIN_GLOSS.sub("", locator).strip()
    return stripped if _CJK.search(stripped) else locator


def zh_title(title: str) -> str:
    """Return a Chinese document title without its gloss ("…逐条说明（说明，非官方中文译写）")."""
    return re.split(r"\s*[（(]", title, maxsplit=1)[0].strip() or title


class Places:
    """Locators and topic labels in either interface language, built once from the catalog."""

    def __init__(self, chunks: Mapping[str, Chunk], groups: Mapping[str, list[Chunk]],
                 cards: Cards | None = None) -> None:
        self.chunks = chunks
        # The first question card of a passage in each language: our own wording of what it
        # answers, the question that finds it best (a templated one often abstains).
        self._asks: dict[tuple[str, str], str] = {}
        for passage, question in zip(cards.passages, cards.questions, strict=True) if cards else ():
            # A card leaning on a pronoun would be read as a follow-up to the last question.
            if question.endswith(("?", "？")) and not is_follow_up(question):
                self._asks.setdefault((passage, "zh" if _CJK.search(question) else "en"), question)
        self._zh: dict[str, Chunk] = {}  # any member of a passage group → its Chinese member
        self._en: dict[str, Chunk] = {}  # … → its English member
        for members in groups.values():
            by_language = {m.language: m for m in members}
            for m in members:
                if "zh" in by_language:
                    self._zh[m.id] = by_language["zh"]
                if "en" in by_language:
                    self._en[m.id] = by_language["en"]

    def of(self, c: Citation, lang: str) -> str:
        """Return where a cited passage sits, in the interface language."""
        if lang != "zh":
            if not _CJK.search(c.locator):
                return c.locator
            english = self._en.get(c.chunk_id)
            return english.locator if english is not None else c.locator
        chinese = self._zh.get(c.chunk_id)
        if chinese is not None and chinese.doc_kind != "official":
            # Our Chinese rendering of a note names the section in Chinese; the official paper
            # names its places in English, worded below.
            return zh_place(chinese.locator)
        return zh_place(c.locator)

    def stone(self, chunk_id: str) -> int | None:
        """Return the number of the stepping stone a passage is (or renders), else None."""
        chunk = self.chunks.get(chunk_id)
        if chunk is None:
            return None
        original = self.chunks.get(chunk.renders or chunk.id, chunk)
        m = _STONE.search(original.locator)
        return int(m.group(1)) if m and original.unit_kind == "stone" else None

    def topic(self, chunk_id: str, lang: str) -> str:
        """Return a label that tells a topic apart: a stone's number and heading, a note's title
        and section."""
        n = self.stone(chunk_id)
        if n is not None:
            heading = STONE_HEADINGS_ZH.get(n, "") if lang == "zh" else self._heading(chunk_id)
            sep = "：" if lang == "zh" else ": "
            return t(lang, "stone").format(n=n) + (sep + heading if heading else "")
        chunk = self._member(chunk_id, lang)
        if chunk is None:
            return chunk_id
        if lang == "zh":
            return f"{zh_title(chunk.doc_title)}：{zh_place(chunk.locator)}"
        return f"{short_title(chunk.doc_title)}: {chunk.locator}"

    def question(self, chunk_id: str, lang: str) -> str:
        """Return a question that asks about a topic (what clicking its label sends)."""
        n = self.stone(chunk_id)
        if n is not None:
            return t(lang, "ask_stone").format(n=n)
        chunk = self._member(chunk_id, lang)
        if chunk is None:
            return chunk_id
        card = self._asks.get((chunk.renders or chunk.id, lang))
        if card is not None:
            return card
        place = zh_place(chunk.locator) if lang == "zh" else chunk.locator
        title = zh_title(chunk.doc_title) if lang == "zh" else short_title(chunk.doc_title)
        return t(lang, "ask_section").format(title=title, place=place)

    def _member(self, chunk_id: str, lang: str) -> Chunk | None:
        """The passage of a group in a language (the rendering for a Chinese reader of a note)."""
        table = self._zh if lang == "zh" else self._en
        return table.get(chunk_id) or self.chunks.get(chunk_id)

    def _heading(self, chunk_id: str) -> str:
        """A stone's English heading, from our rendering's locator ("…: crisis communication")."""
        english = self._en.get(chunk_id)
        if english is None or ":" not in english.locator:
            return ""
        return english.locator.split(":", 1)[1].strip()


@functools.lru_cache(maxsize=1)
def places_for(retriever: Any) -> Places:
    """Return the places of a loaded index, built once per index (a reload brings a new one)."""
    return Places(retriever.chunks, retriever.groups, getattr(retriever, "cards", None))
