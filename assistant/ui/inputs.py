"""What a caller may send with a question: a bounded history, in a language we answer.

A 20 MB `history` took 14.5 s and 2.6 GB of server memory and came back in a 39 MB answer
(issue #15, item 7); Japanese was read as Chinese and other scripts got a bare abstention
(item 10). Both are refused here with a message that says what to change.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from assistant.answer import Answer
from ingest.settings import Settings

MAX_HISTORY_ITEMS = 20  # earlier questions a follow-up can lean on; more add nothing
SUPPORTED = "English or Chinese (中文)"
# Scripts by the first word of a letter's Unicode name; Latin and Han are the ones we answer.
_ANSWERED = {"LATIN", "CJK"}
_SCRIPTS = {"HIRAGANA": "Japanese", "KATAKANA": "Japanese", "HANGUL": "Korean",
            "CYRILLIC": "Russian or another Cyrillic-script language", "ARABIC": "Arabic",
            "GREEK": "Greek", "HEBREW": "Hebrew", "DEVANAGARI": "Hindi", "THAI": "Thai"}


class InputError(ValueError):
    """What was sent with a question cannot be used; the message says why and what to send."""


def check_history(history: Any, max_chars: int) -> list[str]:
    """Return the earlier questions to read a follow-up against, or raise InputError.

    At most MAX_HISTORY_ITEMS strings of at most `max_chars` characters each (the bound on a
    question): the answer quotes at most one or two of them back, never the whole history."""
    if history is None:
        return []
    if not isinstance(history, Sequence) or isinstance(history, (str, bytes)):
        raise InputError("history must be a list of earlier questions (strings).")
    if len(history) > MAX_HISTORY_ITEMS:
        raise InputError(f"history has {len(history):,} items; send at most "
                         f"{MAX_HISTORY_ITEMS} earlier questions (the most recent ones).")
    for i, item in enumerate(history):
        if not isinstance(item, str):
            raise InputError(f"history item {i} is {type(item).__name__}, not text; send the "
                             "earlier questions as strings.")
        if len(item) > max_chars:
            raise InputError(f"history item {i} is {len(item):,} characters long; earlier "
                             f"questions are at most {max_chars:,} characters, like questions.")
    return list(history)


def unsupported_language(text: str) -> str | None:
    """Return the language a question seems to be written in when it is not one we answer
    (English or Chinese), else None."""
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            script = unicodedata.name(ch, "UNKNOWN").split(" ")[0]
            counts[script] = counts.get(script, 0) + 1
    letters = sum(counts.values())
    if not letters:
        return None
    kana = counts.get("HIRAGANA", 0) + counts.get("KATAKANA", 0)
    if kana and kana * 10 >= letters:  # Japanese mixes kana into its kanji
        return "Japanese"
    other = {s: n for s, n in counts.items() if s not in _ANSWERED}
    if sum(other.values()) * 2 <= letters:
        return None
    script = max(other, key=lambda s: other[s])
    return _SCRIPTS.get(script, f"a language in {script.title()} script")


def language_message(language: str) -> str:
    """Return the plain statement of what we answer, for a question in `language`."""
    return (f"This assistant answers questions in {SUPPORTED}; your question looks like "
            f"{language}. Please ask it in English or Chinese. "
            "本助手只回答英文或中文问题，请用英文或中文提问。")


def refusal(question: Any, history: Any, settings: Settings) -> Answer | None:
    """Return an Answer that says why a question or its history cannot be used (None: usable)."""
    try:
        check_history(history, settings.max_question_chars)
    except InputError as exc:
        return error_answer(question, str(exc))
    language = unsupported_language(question) if isinstance(question, str) else None
    return error_answer(question, language_message(language)) if language else None


def error_answer(question: Any, message: str) -> Answer:
    """An Answer carrying only an error message (the question is cut short, never echoed in
    full)."""
    text = question if isinstance(question, str) else ""
    return Answer(question=text[:200], text=message, language="en", abstained=True,
                  reason="unusable input", error=message)
