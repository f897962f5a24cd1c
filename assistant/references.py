"""Parts a question names outright: "stepping stone 10", "第十个阶石", "annex paragraph 2",
"Article IX(3)", "step 9 of the 13 steps", "Action 20", "decision 2 of 1995", "行动20".

Such a question is about that part, whatever the similarity scores say (e5 makes all 22 stones
look alike to "what does stone 10 propose?"), and a step or an action is never the stone with
the same number. Stones, paragraphs and footnotes are found by their anchors in the paper;
articles, steps, actions and decisions by the headings (else the text) of the passages that
cover them, so a note section "Steps 10 to 13" answers "step 12", and a user's official text
with a heading "Article X" answers "Article X" as well as our note does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_ZH_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_NUM = r"(\d{1,2}|[一二两三四五六七八九十]{1,3})"
_NUMS = r"(\d{1,2}(?:\s*(?:,|and|&|or|、|和)\s*\d{1,2})*)(?!\d)"
_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii"]
_ROMAN_RE = r"(x{0,1}(?:ix|iv|v?i{0,3}))"

# (pattern, kind): group 1 holds the number(s). Kinds: ss (stepping stone), p (paragraph of
# the paper), annex-p, fn (footnote), article, step, action, decision.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(?:stepping[- ]?stones?|stones?)\s*(?:no\.?|number|#)?\s*" + _NUMS, re.I), "ss"),
    (re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\s+(?:stepping[- ]?)?stone\b", re.I), "ss"),
    (re.compile(r"第?\s*" + _NUM + r"\s*(?:个|项|块|条)?\s*阶石"), "ss"),
    (re.compile(r"阶石\s*(?:第\s*)?" + _NUM), "ss"),
    (re.compile(r"\bannex(?:'s)?,?\s+(?:paragraph|para\.?|§)\s*(\d{1,2})\b", re.I), "annex-p"),
    (re.compile(r"\b(?:paragraph|para\.?)\s*(\d{1,2})\s+of\s+the\s+annex\b", re.I), "annex-p"),
    (re.compile(r"附件\s*(?:的)?\s*第\s*" + _NUM + r"\s*段"), "annex-p"),
    (re.compile(r"\b(?:paragraph|para\.?)\s*(\d{1,2})\b(?!\s+of\s+the\s+annex)", re.I), "p"),
    (re.compile(r"(?<!附件)(?<!附件的)第\s*" + _NUM + r"\s*段"), "p"),
    (re.compile(r"\bfootnote\s*(\d{1,2})\b", re.I), "fn"),
    (re.compile(r"脚注\s*" + _NUM), "fn"),
    (re.compile(r"\barticles?\s+" + _ROMAN_RE + r"\b(?:\s*\((\d)\))?", re.I), "article"),
    (re.compile(r"\barticles?\s+(\d{1,2})\b(?:\s*\((\d)\))?", re.I), "article"),
    (re.compile(r"第\s*" + _NUM + r"\s*条(?:\s*第\s*([一二三四五六七八九\d])\s*款)?"), "article"),
    (re.compile(r"\bsteps?\s*(?:no\.?|number|#)?\s*" + _NUMS, re.I), "step"),
    (re.compile(r"第\s*" + _NUM + r"\s*(?:个|项)?\s*步(?:骤)?"), "step"),
    (re.compile(r"步骤\s*" + _NUM), "step"),
    (re.compile(r"\bactions?\s*(?:no\.?|number|#)?\s*" + _NUMS, re.I), "action"),
    (re.compile(r"第\s*" + _NUM + r"\s*(?:项|个|条)?\s*行动"), "action"),
    (re.compile(r"行动\s*(?:第\s*)?" + _NUM + r"(?!\s*年)"), "action"),
    (re.compile(r"\bdecisions?\s*(?:no\.?|number|#)?\s*" + _NUMS, re.I), "decision"),
    (re.compile(r"第\s*" + _NUM + r"\s*(?:项|个|号)?\s*决定"), "decision"),
    (re.compile(r"决定\s*" + _NUM + r"(?!\s*年)"), "decision"),
]
# What a passage's heading or text says it covers: "Steps 10 to 13", "Action 20", "Article IX".
_COVERS = re.compile(r"\b(articles?|steps?|actions?|decisions?)\s+(" + r"(?:\d{1,2}|[ivx]{1,4})"
                     r"(?:\s*(?:,|and|to|–|-)\s*(?:\d{1,2}|[ivx]{1,4}))*)\b"
                     r"(?:\s*\((\d)\)|,\s*paragraph\s+(\d))?", re.I)
_BY_NUMBER = ("article", "step", "action", "decision")


@dataclass(frozen=True)
class Part:
    """A numbered part of a text: `Part("step", 9)`; its anchor form is `step-9`."""

    kind: str
    number: int
    sub: int | None = None  # the paragraph of an article: Article IX(3)

    @property
    def anchor(self) -> str:
        return f"{self.kind}-{self.number}" + (f"({self.sub})" if self.sub else "")

    @property
    def whole(self) -> Part:
        return Part(self.kind, self.number)


def _number(text: str) -> int | None:
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    if text in _ROMAN:
        return _ROMAN.index(text) + 1
    if text == "十":
        return 10
    if text.startswith("十"):  # 十二 = 12
        return 10 + _ZH_DIGITS.get(text[1:], 0)
    if "十" in text:  # 二十二 = 22
        tens, _, ones = text.partition("十")
        return _ZH_DIGITS.get(tens, 0) * 10 + (_ZH_DIGITS.get(ones, 0) if ones else 0)
    return _ZH_DIGITS.get(text)


def _numbers(value: str) -> list[int]:
    """Return the numbers of "3 and 4", "10 to 13", "IX", "十二" (a range is expanded)."""
    tokens = re.findall(r"\d{1,2}|[ivx]{1,4}|[一二两三四五六七八九十]{1,3}|to|–|-", value, re.I)
    out: list[int] = []
    pending_range = False
    for tok in tokens:
        if tok.lower() in ("to", "–", "-"):
            pending_range = bool(out)
            continue
        n = _number(tok)
        if n is None:
            continue
        if pending_range and out and out[-1] < n <= out[-1] + 30:
            out.extend(range(out[-1] + 1, n + 1))
        else:
            out.append(n)
        pending_range = False
    return out


def parts(question: str) -> list[Part]:
    """Return the parts the question names, in the order it names them."""
    found: list[tuple[int, int, Part]] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _PATTERNS:
        for match in pattern.finditer(question):
            span = match.span()
            if any(s < span[1] and span[0] < e for s, e in taken):
                continue  # "annex paragraph 2" is not also "paragraph 2"
            taken.append(span)
            sub = _number(match.group(2)) if pattern.groups >= 2 and match.group(2) else None
            for n in _numbers(match.group(1)):
                if n > 0:
                    found.append((match.start(), len(found), Part(kind, n, sub)))
    out: list[Part] = []
    for _, _, part in sorted(found):
        if part not in out:
            out.append(part)
    return out


def anchors(question: str) -> list[str]:
    """Return the anchors (`ss-10`, `annex-p-2`, `article-6`, `step-9`) the question names."""
    return [p.anchor for p in parts(question)]


def covered_parts(text: str) -> list[Part]:
    """Return the numbered articles, steps, actions and decisions a text names."""
    out: list[Part] = []
    for match in _COVERS.finditer(text):
        kind = match.group(1).lower().rstrip("s")
        if kind != "article" and not re.search(r"\d", match.group(2)):
            continue  # roman numerals only number articles
        sub_text = match.group(3) or match.group(4)  # "Article IX(3)", "Article III, paragraph 4"
        sub = int(sub_text) if sub_text else None
        for n in _numbers(match.group(2)):
            out.append(Part(kind, n))
            if sub:
                out.append(Part(kind, n, sub))
    return out


class PartIndex:
    """Which passage groups cover each named part, best first."""

    def __init__(self, passages: Iterable[tuple[str, str, str]],
                 official: Iterable[str] = ()) -> None:
        """Index (group id, heading or locator, text) triples; `official`: groups of official
        texts, which go before our notes when both cover a part ("Article X" of the treaty a
        user added before our note on Article X)."""
        self._official = set(official)
        by_heading: dict[Part, list[str]] = {}
        by_text: dict[Part, list[tuple[int, str]]] = {}
        kind_count: dict[tuple[str, str], int] = {}
        for group, heading, text in passages:
            own = group.split("#", 1)[-1]
            doc = group.split("#", 1)[0]
            m = re.fullmatch(r"(ss|p|annex-p|fn)-(\d+)", own)
            if m:
                by_heading.setdefault(Part(m.group(1), int(m.group(2))), []).append(group)
            for part in covered_parts(heading):
                by_heading.setdefault(part, []).append(group)
            for part in covered_parts(text):
                by_text.setdefault(part, [])
                by_text[part].append((text.lower().count(part.kind), group))
                kind_count[(doc, part.kind)] = kind_count.get((doc, part.kind), 0) + 1
        self._heading = by_heading
        self._text = by_text
        self._kind_count = kind_count
        self._covers: dict[str, set[Part]] = {}
        for part, groups in by_heading.items():
            for group in groups:
                self._covers.setdefault(group, set()).add(part.whole)

    def same_part(self, a: str, b: str) -> bool:
        """True when the headings of two groups name the same article, step, action or decision."""
        return bool({p for p in self._covers.get(a, ()) if p.kind in _BY_NUMBER}
                    & self._covers.get(b, set()))

    def resolve(self, part: Part) -> list[str]:
        """Return the groups covering the part: those whose heading names it, else the text."""
        if part.sub is not None:
            # Article IX(3): the passage that is or discusses that paragraph, then the article.
            specific = self._best(part, self._heading.get(part, [])
                                  + [g for _, g in self._text.get(part, [])])
            return list(dict.fromkeys(specific + self.resolve(part.whole)))
        if part.kind == "p" and part not in self._heading:
            return self.resolve(Part("annex-p", part.number))  # "paragraph 3": the annex's
        if part in self._heading:
            return self._best(part, self._heading[part])
        if part.kind not in _BY_NUMBER or part not in self._text:
            return []
        return self._best(part, [g for _, g in sorted(self._text[part], key=lambda t: -t[0])])

    def _best(self, part: Part, groups: list[str]) -> list[str]:
        # The document that numbers this kind of part most is the one about it: "Action 20"
        # is the 2010 note's section, not the review-cycle note that mentions it in passing.
        def weight(group: str) -> int:
            return self._kind_count.get((group.split("#", 1)[0], part.kind), 0)

        ranked = sorted(dict.fromkeys(groups), key=lambda g: (g not in self._official, -weight(g)))
        if part.kind not in _BY_NUMBER:
            return ranked
        # The official text first (all its passages under that heading, in order), then the
        # best other passage (our note) beside it.
        official = sorted(g for g in ranked if g in self._official)
        return official + [g for g in ranked if g not in self._official][:1]
