"""Reading the explanatory notes and their Chinese renderings the way the tests compare them:
sections as ingest sees them, and the facts a sentence carries in either language (dates,
years, named parts such as "step 9", "Action 20", "Article IX", "阶石8", "第九条")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.documents import Unit
from ingest.loaders import load_document, load_manifest
from ingest.structure import structure
from tests.conftest import CORPUS, RAW_PAPER

MANIFEST = load_manifest(CORPUS)
ORIGINALS = {e["id"]: name for name, e in MANIFEST.items() if e.get("kind") == "note"}
RENDERINGS = {e["renders"]: name for name, e in MANIFEST.items()
              if e.get("kind") == "rendering" and e.get("language") == "zh" and e.get("renders")
              in ORIGINALS}
NOTES = sorted(n for n in ORIGINALS.values() if n.endswith(".note.en.md"))  # glossary aside


def sections(name: str) -> list[Unit]:
    """Return the units of a corpus file in reading order, as ingest structures them."""
    return structure(load_document(CORPUS / name, MANIFEST[name]))


def paper_units() -> dict[str, Unit]:
    """Return the units of the official Chinese paper by id (sponsors, fn-star, ss-1 …)."""
    return {u.id: u for u in sections(RAW_PAPER.name)}


def zh_list(listing: str) -> list[str]:
    """"甲、乙和丙" -> ["甲", "乙", "丙"] (only the last 和 joins two names)."""
    *head, last = re.sub(r"\s", "", listing).split("、")
    return head + last.rsplit("和", 1)


def en_list(listing: str) -> list[str]:
    """"A, the B and C" -> ["A", "B", "C"]."""
    *head, last = listing.split(", ")
    return [re.sub(r"^the ", "", n) for n in head + last.rsplit(" and ", 1)]


def automatic_id(title: str) -> str:
    """The id a heading gets without an explicit anchor (ingest.structure._slug's rule)."""
    return re.sub(r"[^a-z0-9\u3400-\u9fff]+", "-", title.lower()).strip("-")[:48] or "section"


# --- dates -------------------------------------------------------------------------------

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_M = "(" + "|".join(_MONTHS) + ")"
Date = tuple[int, int, int | None]  # (year, month, day or None for "June 2019")


def _month(name: str) -> int:
    return _MONTHS.index(name) + 1


def dates_en(text: str) -> set[Date]:
    """Every date an English text gives: "17 April to 12 May 1995", "4–28 January 2022",
    "5 March 1970", "June 2019"."""
    found: set[Date] = set()

    def cross(m: re.Match[str]) -> str:
        y = int(m[5])
        found.update({(y, _month(m[2]), int(m[1])), (y, _month(m[4]), int(m[3]))})
        return " "

    def same(m: re.Match[str]) -> str:
        y, mo = int(m[4]), _month(m[3])
        found.update({(y, mo, int(m[1])), (y, mo, int(m[2]))})
        return " "

    def single(m: re.Match[str]) -> str:
        found.add((int(m[3]), _month(m[2]), int(m[1])))
        return " "

    text = re.sub(rf"\b(\d{{1,2}}) {_M} to (\d{{1,2}}) {_M} (\d{{4}})", cross, text)
    text = re.sub(rf"\b(\d{{1,2}})\s*(?:to|–|-)\s*(\d{{1,2}}) {_M} (\d{{4}})", same, text)
    text = re.sub(rf"\b(\d{{1,2}}) {_M} (\d{{4}})", single, text)
    found.update((int(m[2]), _month(m[1]), None) for m in re.finditer(rf"{_M} (\d{{4}})", text))
    return found


def dates_zh(text: str) -> set[Date]:
    """Every date a Chinese text gives: "1995年4月17日至5月12日", "2022年1月4日至28日",
    "1970年3月5日", "2019年6月" (spaces, as in the extracted paper, are ignored)."""
    text = re.sub(r"\s", "", text)
    found: set[Date] = set()

    def span(m: re.Match[str]) -> str:
        y, mo = int(m[1]), int(m[2])
        found.add((y, mo, int(m[3])))
        if m[5]:
            found.add((y, int(m[4]) if m[4] else mo, int(m[5])))
        return " "

    text = re.sub(r"(\d{4})年(\d{1,2})月(\d{1,2})日(?:至(?:(\d{1,2})月)?(\d{1,2})日)?", span, text)
    found.update((int(m[1]), int(m[2]), None) for m in re.finditer(r"(\d{4})年(\d{1,2})月", text))
    return found


def years_en(text: str) -> set[int]:
    return {int(y) for y in re.findall(r"\b((?:19|20)\d{2})\b", text)}


def years_zh(text: str) -> set[int]:
    return {int(y) for y in re.findall(r"((?:19|20)\d{2})(?=年)", text)}  # not "2019冠状病毒病"


# --- named parts -------------------------------------------------------------------------

_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9,
          "X": 10, "XI": 11}
_ZH_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
           "十": 10, "十一": 11}


def _numbers(run: str, value: dict[str, int] | None = None) -> set[int]:
    """The numbers of a run such as "1 to 22", "20 and 21", "1, 4, 5", "7至9", "I to III"."""
    tokens = re.findall(r"[0-9]+|[IVX]+|[一二三四五六七八九十]+|to|至", run)
    out: list[int | str] = []
    for t in tokens:
        out.append(t if t in ("to", "至") else (value[t] if value else int(t)))
    numbers: set[int] = set()
    for i, t in enumerate(out):
        if t in ("to", "至") and 0 < i < len(out) - 1:
            numbers.update(range(int(out[i - 1]) + 1, int(out[i + 1])))
        elif isinstance(t, int):
            numbers.add(t)
    return numbers


_EN_JOIN = r"(?:\s*(?:,|and|to|or|–)\s*(?:{kw}\s*)?{num})*"
_ZH_JOIN = r"(?:(?:至|和|、|及|或)(?:{kw})?{num})*"


def _find(pattern: str, text: str, value: dict[str, int] | None = None) -> set[int]:
    return {n for m in re.finditer(pattern, text) for n in _numbers(m[1], value)}


def parts_en(text: str) -> dict[str, set[int]]:
    """The named parts an English text mentions, by kind: step, action, stone, decision,
    article ("Articles I to III" counts I, II and III)."""
    def kw(words: str, num: str = r"\d+(?![\d/])") -> str:  # not "decision 73/546"
        return rf"\b(?:{words})\s*({num}{_EN_JOIN.format(kw=f'(?:{words})', num=num)})\b"

    roman = r"(?:XI|X|IX|VIII|VII|VI|V|IV|III|II|I)(?![A-Za-z])"
    return {
        "step": _find(kw("[Ss]teps?"), text),
        "action": _find(kw("[Aa]ctions?"), text),
        "stone": _find(kw("(?:[Ss]tepping )?[Ss]tones?"), text),
        "decision": _find(kw("[Dd]ecisions?"), text),
        "article": _find(kw("Articles?", roman), text, _ROMAN),
    }


def parts_zh(text: str) -> dict[str, set[int]]:
    """The named parts a Chinese text mentions: 第9步, 行动20, 阶石8, 决定2, 第九条."""
    num = r"\d+"
    cn = "[一二三四五六七八九十]+"
    return {
        "step": _find(rf"第({num}步{_ZH_JOIN.format(kw='第', num=num + '步')})", text),
        "action": _find(rf"行动({num}{_ZH_JOIN.format(kw='行动', num=num)})", text),
        "stone": _find(rf"阶石({num}{_ZH_JOIN.format(kw='阶石', num=num)})", text),
        "decision": _find(rf"决定({num}{_ZH_JOIN.format(kw='决定', num=num)})", text),
        "article": _find(rf"第({cn}条{_ZH_JOIN.format(kw='第', num=cn + '条')})", text, _ZH_NUM),
    }


@dataclass
class Pair:
    """One section of a note beside the same section of its Chinese rendering."""

    anchor: str
    en: Unit
    zh: Unit


def pairs(note: str) -> list[Pair]:
    """Return the sections of a note paired by anchor with its rendering's (same order)."""
    original = sections(note)
    rendering = {u.id: u for u in sections(RENDERINGS[MANIFEST[note]["id"]])}
    return [Pair(u.id, u, rendering[u.id]) for u in original if u.id in rendering]
