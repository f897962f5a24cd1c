"""The sources panel shows a passage beside its counterpart, Chinese first, each side labelled
by its language and what it is: a Chinese reader of a note sees our Chinese rendering first
with the English note beside it, as an English reader of a stone sees the official Chinese."""

from __future__ import annotations

import re

from assistant.ui.render import source_card


def _sides(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<div lang="(en|zh)"><div class="lbl">([^<]*)</div>', html)


def test_a_chinese_question_on_a_note_shows_the_chinese_rendering_first(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("《不扩散条约》是哪一天生效的？")
    note = next(c for c in answer.citations if c.chunk_id.startswith("note-npt-treaty.zh#"))
    sides = _sides(source_card(note, 0, "zh"))
    assert [lang for lang, _ in sides] == ["zh", "en"]
    assert "非正式译文" in sides[0][1] and "说明" in sides[1][1]


def test_an_english_question_on_a_stone_shows_the_official_chinese_first(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What does stepping stone 10 propose?")
    sides = _sides(source_card(answer.citations[0], 0, "en"))
    assert sides == [("zh", "Original (Chinese, official)"), ("en", "English (unofficial rendering)")]
