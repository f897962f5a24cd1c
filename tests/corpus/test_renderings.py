"""Every explanatory note, and the glossary, has a Chinese rendering that a Chinese question can
find and cite: same sections, same anchors, same order, same facts, one passage per section."""

from __future__ import annotations

import re

import pytest
import yaml

from ingest.chunk import chunk_document
from ingest.loaders import detect_language, load_document
from ingest.pipeline import glossary_entries
from tests.conftest import CORPUS
from tests.corpus.notes import (
    MANIFEST,
    NOTES,
    ORIGINALS,
    RENDERINGS,
    automatic_id,
    dates_en,
    dates_zh,
    pairs,
    parts_en,
    parts_zh,
    sections,
    years_en,
    years_zh,
)

MAX_TOKENS = 380  # Settings.max_chunk_tokens
# Sections added after the notes' ids were first published (eval sets and citations refer to
# the old ones); an added section keeps the anchor it was given here, whatever its heading.
ADDED_SECTIONS: set[str] = set()


def headings(name: str) -> list[tuple[str, str | None]]:
    """(title, explicit anchor or None) of every ## heading of a markdown file."""
    text = (CORPUS / name).read_text(encoding="utf-8")
    return [(m[1].strip(), m[2]) for m in re.finditer(r"^## (.*?)(?:\s*\{#([^}]+)\})?\s*$", text, re.M)]


def front_matter(name: str) -> dict[str, object]:
    text = (CORPUS / name).read_text(encoding="utf-8")
    return yaml.safe_load(re.match(r"---\n(.*?)\n---\n", text, re.S).group(1))  # type: ignore[union-attr]


def test_every_note_and_the_glossary_has_a_chinese_rendering() -> None:
    assert set(RENDERINGS) == set(ORIGINALS), "notes without a Chinese rendering"
    for note_id, rendering in RENDERINGS.items():
        assert rendering == ORIGINALS[note_id].replace(".en.md", ".zh.md").replace(
            "glossary.en-zh.md", "glossary.zh.md"), rendering


@pytest.mark.parametrize("note_id", sorted(ORIGINALS))
def test_rendering_front_matter_says_what_it_is(note_id: str) -> None:
    rendering = RENDERINGS[note_id]
    front = front_matter(rendering)
    assert front["id"] == f"{note_id}.zh"
    assert front["kind"] == "rendering" and front["language"] == "zh"
    assert front["renders"] == note_id and front["official"] is False
    assert "非官方中文译写" in str(front["title"])
    assert "unofficial Chinese rendering" in str(front["source"])
    for key in ("id", "title", "kind", "language", "renders"):
        assert front.get(key) == MANIFEST[rendering].get(key), (rendering, key)


@pytest.mark.parametrize("name", [*ORIGINALS.values(), *RENDERINGS.values()])
def test_every_section_heading_carries_an_explicit_anchor(name: str) -> None:
    missing = [title for title, anchor in headings(name) if anchor is None]
    assert missing == []


@pytest.mark.parametrize("note", NOTES)
def test_note_anchors_are_the_ids_the_sections_always_had(note: str) -> None:
    for title, anchor in headings(note):
        assert anchor == automatic_id(title) or anchor in ADDED_SECTIONS, (title, anchor)


@pytest.mark.parametrize("note_id", sorted(ORIGINALS))
def test_rendering_has_the_same_sections_in_the_same_order(note_id: str) -> None:
    original = [u.id for u in sections(ORIGINALS[note_id])]
    rendering = [u.id for u in sections(RENDERINGS[note_id])]
    assert rendering == original


@pytest.mark.parametrize("note_id", sorted(ORIGINALS))
def test_every_section_is_one_passage_and_its_rendering_sits_beside_it(note_id: str) -> None:
    original = load_document(CORPUS / ORIGINALS[note_id], MANIFEST[ORIGINALS[note_id]])
    rendering = load_document(CORPUS / RENDERINGS[note_id], MANIFEST[RENDERINGS[note_id]])
    english = {c.id: c for c in chunk_document(original, MAX_TOKENS)}
    chinese = chunk_document(rendering, MAX_TOKENS)
    assert not [c.id for c in [*english.values(), *chinese] if "-part" in c.id], "split sections"
    assert sorted(c.renders for c in chinese) == sorted(english)  # type: ignore[type-var]


@pytest.mark.parametrize("note_id", sorted(ORIGINALS))
def test_rendering_is_written_in_chinese(note_id: str) -> None:
    for unit in sections(RENDERINGS[note_id]):
        assert detect_language(unit.text) == "zh", unit.id
        assert re.search(r"[\u4e00-\u9fff]", unit.locator), unit.id  # a Chinese heading


@pytest.mark.parametrize("note", NOTES)
def test_each_section_and_its_rendering_give_the_same_dates_and_years(note: str) -> None:
    for pair in pairs(note):
        assert dates_zh(pair.zh.text) == dates_en(pair.en.text), pair.anchor
        assert years_zh(pair.zh.text) == years_en(pair.en.text), pair.anchor


@pytest.mark.parametrize("note", NOTES)
def test_each_section_and_its_rendering_name_the_same_steps_actions_stones_articles(note: str) -> None:
    for pair in pairs(note):
        assert parts_zh(pair.zh.text) == parts_en(pair.en.text), pair.anchor


def test_chinese_glossary_has_one_prose_entry_per_english_entry() -> None:
    english = {u.id: u for u in sections("glossary.en-zh.md")}
    for unit in sections("glossary.zh.md"):
        body = unit.text.strip()
        assert "\n" not in body, f"{unit.id}: one paragraph"
        assert not re.search(r"^(en|zh|in paper):", body, re.M), f"{unit.id}: prose, no field lines"
        term, _, definition = body.partition("：")
        assert definition and re.search(r"[\u4e00-\u9fff]", term), f"{unit.id}: 术语：释义"
        assert re.fullmatch(r"[^（]*[\u4e00-\u9fff][^（]*（[^）]*[A-Za-z][^）]*）", unit.locator), (
            f"{unit.id}: heading is the Chinese term with the English in parentheses")
        # The entry names the term by one of the Chinese names the English entry lists.
        zh_names = re.search(r"^zh: (.+)$", english[unit.id].text, re.M)
        assert zh_names is not None
        assert any(n.strip() in body for n in zh_names[1].split(";")), unit.id


def test_chinese_glossary_is_not_read_as_a_second_term_list() -> None:
    rendering = load_document(CORPUS / "glossary.zh.md", MANIFEST["glossary.zh.md"])
    assert glossary_entries(chunk_document(rendering, MAX_TOKENS)) == []
