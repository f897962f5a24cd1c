"""What kind of answer a question wants (a date, a number, a person) and whether a text has one.

"When…", "how many…", "who chaired…" are answered by a sentence holding a date, a number or
a name. The quote chooser prefers such a sentence; the gate counts it against answering when
none of the best passages has one ("How many warheads does France have?" meets the stone on
transparency, which gives no figure), and against predictions and opinions, which no passage
of a reference corpus answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ROLE = r"(minister|ambassador|official|diplomat|chair|president|secretary|director|head|person)"
_WANTS = {
    "date": re.compile(r"^\s*when\b|\bwhat (year|date|month)\b|\bwhich (year|date|month)\b|"
                       r"\bsince when\b|什么时候|何时|哪一?年|何年|几月|哪一?天|日期|哪年", re.I),
    "number": re.compile(r"\bhow (many|much|big|large|long)\b|\bnumber of\b|\bwhat (percentage|"
                         r"share|proportion)\b|多少|几个|几次|几项|几国|几届|多大|多久|比例|百分之",
                         re.I),
    "person": re.compile(r"\bwho (is|was|were|are)? ?(the )?(chair|chairs|chaired|presided|"
                         r"president|secretary|minister|head|heads|director|leads|led|spoke)|"
                         r"\bwhich\b[^?]{0,25}\b" + _ROLE + r"\b|\bwho (signed for|spoke)\b|哪位|"
                         r"谁(担任|主持|是.{0,6}(主席|部长|秘书|外长|总干事|大使))|"
                         r"(主席|部长|秘书长|外长|总干事|执行秘书|大使)是谁", re.I),
}
_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
                 r"fourteen|fifteen|sixteen|twenty|thirty|forty|fifty|hundred|thousand|dozen|half")
_HAS = {
    "date": re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)|\b(january|february|march|april|may|"
                       r"june|july|august|september|october|november|december)\b|\d+\s*年|"
                       r"\d+\s*月|[一二三四五六七八九十〇零]+年", re.I),
    # A count: digits that are not a year, a number word, or a Chinese numeral not naming a year.
    "number": re.compile(r"(?<![\d.])(?!(?:19|20)\d\d(?!\d))\d[\d,.]*|\b(" + _NUMBER_WORDS
                         + r")\b|(?:[一二两三四五六七八九十百千万]{2,}|[一二两三四五六七八九十])"
                         r"(?=[个项次名国枚吨座届天位人家条倍])|[百千万]",
                         re.I),
    "person": re.compile(r"\b(Mr|Ms|Mrs|Dr|Minister|Ambassador|President|Secretary-General|"
                         r"Chair)\.?\s+[A-Z][a-z]+|[（(][A-Z][a-z]+ [A-Z][a-z]+[)）]"),
}
_SPECULATION = re.compile(
    r"^\s*(will|would)\b.*\b(ever|succeed|manage|likely|rejoin|collapse|happen|be safer|"
    r"be adopted|agree)\b|\b(your (view|opinion)|do you think|in your opinion|predict|"
    r"prediction|forecast|chances? (of|that)|hardest|most likely|tomorrow|next (week|month|year))\b|"
    r"明天|下周|明年|将来会|你(认为|觉得|怎么看)|看法|观点|能成功吗|能否成功|会成功吗|"
    r"前景如何|预测|最难", re.I)


_HOW_MANY_EN = re.compile(r"\bhow (?:many|much)\s+((?:[a-z-]+\s+){0,2}?[a-z-]+?)s?\b"
                          r"(?=\s+(?:do|does|did|are|is|were|was|have|has|had|make|exist|will|would|can|could|in|of|at|on|"
                          r"does)\b|\s*[?]|$)", re.I)
_HOW_MANY_ZH = re.compile(r"(?:多少|几)\s*(?:个|项|次|名|座|届|吨|枚|人)?\s*([\u4e00-\u9fff]{2})")
_SENTENCE = re.compile(r"[^.。;；!?！？]+")
_SHARE = re.compile(r"percentage|per cent|percent|proportion|share of|比例|百分", re.I)
_PERCENT = re.compile(r"%|per ?cent|百分之|成", re.I)


def counted(question: str) -> str | None:
    """Return what a "how many" question counts ("warhead", "国家"), when it says."""
    m = _HOW_MANY_EN.search(question)
    if m:
        return m.group(1).split()[-1].lower().rstrip("s")
    m = _HOW_MANY_ZH.search(question)
    return m.group(1) if m else None


@dataclass(frozen=True)
class Want:
    """What a question asks for, read once: the kind, what a count counts, a share or not."""

    kind: str  # "date" | "number" | "person"
    noun: str | None = None  # "warhead" in "how many warheads…"
    share: bool = False  # "what percentage…": only a percentage answers it

    def met_by(self, text: str) -> bool:
        """True when some sentence of the text holds it.

        A count must sit in a sentence naming what is counted ("22 … stepping stones"): any
        digit anywhere ("Action 5") would answer every "how many" question."""
        for sentence in _SENTENCE.findall(text):
            if self.share and not _PERCENT.search(sentence):
                continue
            if has(self.kind, sentence) and (self.noun is None or self.noun in sentence.lower()):
                return True
        return False


def want(question: str) -> Want | None:
    """Return what the question asks for, or None when it asks for no particular kind."""
    kind = wanted(question)
    if kind is None:
        return None
    if kind != "number":
        return Want(kind)
    return Want(kind, counted(question), bool(_SHARE.search(question)))


def answered(question: str, text: str) -> bool:
    """True when some sentence of the text holds what the question wants (or it wants nothing)."""
    asked = want(question)
    return asked is None or asked.met_by(text)


def wanted(question: str) -> str | None:
    """Return "date", "number" or "person" when the question asks for one, else None."""
    for kind in ("person", "date", "number"):
        if _WANTS[kind].search(question):
            return kind
    return None


def has(kind: str, text: str) -> bool:
    """True when the text holds an answer of that kind (a date, a number, a named person)."""
    return bool(_HAS[kind].search(text))


def speculative(question: str) -> bool:
    """True when the question asks for a prediction or an opinion, not for what a text says."""
    return bool(_SPECULATION.search(question))
