"""The notes explain the treaty in our own words: no note repeats a run of 7 or more words of
the official treaty text. A user who needs the exact wording adds the treaty as a document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import CORPUS
from tests.corpus.notes import NOTES

# The authentic English treaty text, kept beside the repository as test data (never bundled).
TREATY = CORPUS.parent.parent / "shared" / "reference" / "npt-treaty.en.md"
RUN = 7
# Names may be quoted whole: a user searches for them.
PROPER_NAMES = ("Treaty on the Non-Proliferation of Nuclear Weapons",)


def paragraphs(text: str) -> list[list[str]]:
    """Lower-case words of each paragraph (a run never crosses a heading or a paragraph)."""
    text = re.sub(r"<!--.*?-->|\A---\n.*?\n---\n|\{#[^}]*\}", " ", text, flags=re.S)
    for name in PROPER_NAMES:
        text = re.sub(re.escape(name), "\n\n", text, flags=re.I)
    blocks = re.split(r"\n\s*\n|\n(?=#)|\n(?=\d+\. )", text)
    words = (re.findall(r"[a-z0-9]+(?:['’-][a-z0-9]+)*", b.lower()) for b in blocks)
    return [w for w in words if w]


def copied_runs(note: str, treaty: str, n: int = RUN) -> list[str]:
    """Every maximal run of at least n consecutive words the note shares with the treaty."""
    grams = {tuple(p[i:i + n]) for p in paragraphs(treaty) for i in range(len(p) - n + 1)}
    runs = []
    for words in paragraphs(note):
        i = 0
        while i <= len(words) - n:
            if tuple(words[i:i + n]) not in grams:
                i += 1
                continue
            j = i + n
            while j < len(words) and tuple(words[j - n + 1:j + 1]) in grams:
                j += 1
            runs.append(" ".join(words[i:j]))
            i = j
    return runs


def test_copied_runs_finds_a_sentence_taken_from_the_treaty() -> None:
    treaty = "## Article VII\n\nNothing in this Treaty affects the right of any group of States."
    assert copied_runs("It says nothing in this Treaty affects the right of any group.", treaty) == [
        "nothing in this treaty affects the right of any group"]
    assert copied_runs("Groups of States keep the right to make zones.", treaty) == []


@pytest.mark.skipif(not TREATY.exists(), reason=f"the official treaty text is test data kept "
                    f"beside the repository ({TREATY}); without it there is nothing to compare")
@pytest.mark.parametrize("note", [*NOTES, "glossary.en-zh.md"])
def test_no_note_repeats_seven_words_of_the_treaty(note: str) -> None:
    treaty = TREATY.read_text(encoding="utf-8")
    assert copied_runs((CORPUS / note).read_text(encoding="utf-8"), treaty) == []


def test_the_treaty_note_points_to_the_official_text_for_exact_wording() -> None:
    note = (CORPUS / "npt-treaty.note.en.md").read_text(encoding="utf-8")
    assert "official treaty text as a document of their own" in note
    assert Path(CORPUS / "npt-treaty.note.zh.md").read_text(encoding="utf-8").count("正式文本") >= 1
