"""Passages a question names outright: "stepping stone 10", "第十个阶石", "paragraph 2",
"Article VI". Such a question is about that passage, whatever the similarity scores say
(e5 makes all 22 stones look alike to "what does stone 10 propose?")."""

from __future__ import annotations

import re

_ZH_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_NUM = r"(\d{1,2}|[一二两三四五六七八九十]{1,3})"
_PATTERNS = [
    (re.compile(r"\b(?:stepping[- ]?stones?|stones?)\s*(?:no\.?|number|#)?\s*"
                r"(\d{1,2}(?:\s*(?:,|and|&|or)\s*\d{1,2})*)\b", re.I), "ss-{}"),
    (re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\s+(?:stepping[- ]?)?stone\b", re.I), "ss-{}"),
    (re.compile(r"第?\s*" + _NUM + r"\s*(?:个|项|块|条)?\s*阶石"), "ss-{}"),
    (re.compile(r"阶石\s*(?:第\s*)?" + _NUM), "ss-{}"),
    (re.compile(r"\bparagraph\s*(\d{1,2})\b", re.I), "p-{}"),
    (re.compile(r"第\s*" + _NUM + r"\s*段"), "p-{}"),
    (re.compile(r"\barticle\s+([ivx]{1,4})\b", re.I), "article-{}-"),
    (re.compile(r"第\s*([一二三四五六七八九十]{1,3})\s*条"), "article-{}-"),
]
_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi"]


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):  # 十二 = 12
        return 10 + _ZH_DIGITS.get(text[1:], 0)
    if "十" in text:  # 二十二 = 22
        tens, _, ones = text.partition("十")
        return _ZH_DIGITS.get(tens, 0) * 10 + (_ZH_DIGITS.get(ones, 0) if ones else 0)
    return _ZH_DIGITS.get(text)


def anchors(question: str) -> list[str]:
    """Return the anchors (`ss-10`, `p-2`, `article-vi-`) the question names, in order."""
    found: list[tuple[int, int, str]] = []
    for pattern, template in _PATTERNS:
        for match in pattern.finditer(question):
            value = match.group(1)
            if template.startswith("article"):
                roman = value.lower()
                if not roman.isascii():  # 第六条
                    n = _number(value)
                    roman = _ROMAN[n - 1] if n and 0 < n <= len(_ROMAN) else ""
                if roman in _ROMAN:
                    found.append((match.start(), len(found), template.format(roman)))
                continue
            for part in re.findall(r"\d+", value) or [value]:  # "stones 3 and 4"
                n = _number(part)
                if n:
                    found.append((match.start(), len(found), template.format(n)))
    out: list[str] = []
    for _, _, anchor in sorted(found):
        if anchor not in out:
            out.append(anchor)
    return out


def matches(anchor: str, chunk_id: str) -> bool:
    """True when the chunk is the passage the anchor names (prefix anchors end with '-')."""
    own = chunk_id.split("#", 1)[-1]
    return own.startswith(anchor) if anchor.endswith("-") else own == anchor
