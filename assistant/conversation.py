"""Follow-up questions: which earlier question a new one leans on (no LLM involved)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_EN_LEAD = re.compile(r"^\s*(and|also|but|so|then|what about|how about|and what about|"
                      r"what else|anything else|same for|in that case|why|how so)\b", re.I)
_EN_ANAPHORA = re.compile(r"\b(they|them|their|theirs|it|its|this|that|these|those|there|"
                          r"he|she|such|the same|above|former|latter|that area|this area)\b",
                          re.I)
_ZH_LEAD = re.compile(r"^\s*(那|那么|还有|另外|此外|而|并且|那它|它|他们|这|那些|这些|其)")
_ZH_ANAPHORA = re.compile(r"(它们|他们|其|这方面|该领域|这一点|这些|那些|上述|此事|这个|那个)")


@dataclass
class Turn:
    """An earlier question, and the text retrieval used for it (itself + its context)."""

    question: str
    context: str | None = None


def user_questions(history: Sequence[Any]) -> list[str]:
    """Return the earlier user questions from strings, (q, a) pairs or chat messages."""
    out: list[str] = []
    for item in history:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                out.append(content)
        elif isinstance(item, (list, tuple)) and item and isinstance(item[0], str):
            out.append(item[0])
    return [q for q in out if q.strip()]


_SELF_REFERENCE = re.compile(r"\b(this|the|that) (working )?(paper|document|text|corpus)\b|"
                             r"(这份|该|本)(工作)?文件", re.I)


def is_follow_up(question: str) -> bool:
    """Return True when a question only makes sense against an earlier one."""
    q = _SELF_REFERENCE.sub(" ", question.strip())
    if _EN_LEAD.search(q) or _ZH_LEAD.search(q):
        return True
    words = re.findall(r"[A-Za-z]+", q)
    if words and _EN_ANAPHORA.search(q):
        # "their arsenals", "that area": a pronoun with few content words of its own.
        return len(words) <= 12
    return bool(_ZH_ANAPHORA.search(q)) and len(q) <= 30


def resolve(question: str, history: Sequence[Any]) -> Turn:
    """Return the question with the context retrieval should add (the earlier question)."""
    earlier = user_questions(history)
    if not earlier or not is_follow_up(question):
        return Turn(question)
    # Walk back over a chain of follow-ups to the question that set the topic, keeping the
    # most recent one too: "fissile material?" → "which treaty is blocked?" → "why?".
    anchor_idx = len(earlier) - 1
    while anchor_idx > 0 and is_follow_up(earlier[anchor_idx]):
        anchor_idx -= 1
    parts = [earlier[anchor_idx]]
    if anchor_idx != len(earlier) - 1:
        parts.append(earlier[-1])
    return Turn(question, context=" ".join(parts))
