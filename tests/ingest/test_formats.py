"""Real files keep the structure a person reads in them: the title the document gives itself,
articles and numbered paragraphs as locators, and nothing of the page furniture (running headers,
page numbers, document symbols, navigation, bylines, cookie footers) inside any passage.

Every check runs on the real NPT (built into a PDF, a DOCX and a web page at test time, skipped
where ../shared/reference/ is absent) and on a UN-style agreement written here."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.chunk import chunk_document
from ingest.documents import Chunk, Document
from ingest.loaders import load_document
from ingest.structure import structure
from tests.ingest.un_files import (
    MASTHEAD,
    NPT_TITLE,
    ROMAN,
    RUNNING_HEADER,
    SMALL_TREATY,
    SMALL_TREATY_TITLE,
    SYMBOL,
    build_docx,
    build_html,
    build_pdf,
    build_word_like_pdf,
    reference_text,
)

SOURCES: dict[str, tuple[Callable[[], str], str]] = {
    "npt": (reference_text, NPT_TITLE),
    "small": (lambda: SMALL_TREATY, SMALL_TREATY_TITLE),
}
FORMATS = ["md", "pdf", "docx", "html"]


def build(fmt: str, markdown: str, folder: Path) -> Path:
    path = folder / f"treaty.{fmt}"
    if fmt == "md":
        path.write_text(markdown, encoding="utf-8")
    elif fmt == "pdf":
        build_pdf(markdown, path)
    elif fmt == "docx":
        build_docx(markdown, path)
    else:
        build_html(markdown, path)
    return path


def passages(path: Path) -> tuple[Document, list[Chunk]]:
    doc = load_document(path)
    return doc, chunk_document(doc, 380)


def articles_found(chunks: list[Chunk]) -> list[str]:
    """Return the articles cited by their own locator ("Article X" or "Article X, paragraph 1")."""
    return [r for r in ROMAN if any(re.fullmatch(rf"Article {r}(, paragraph \d+)?( \(part.*)?", c.locator)
                                    for c in chunks)]


@pytest.fixture(params=[(s, f) for s in SOURCES for f in FORMATS], ids=lambda p: f"{p[0]}-{p[1]}")
def treaty(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Document, list[Chunk]]:
    source, fmt = request.param
    text, title = SOURCES[source]
    doc, chunks = passages(build(fmt, text(), tmp_path))
    return title, doc, chunks


def test_the_title_is_the_one_the_document_gives_itself(treaty: tuple[str, Document, list[Chunk]]) -> None:
    title, doc, _ = treaty
    assert doc.title == title


def test_every_article_is_cited_by_its_own_locator(treaty: tuple[str, Document, list[Chunk]]) -> None:
    _, _, chunks = treaty
    found = articles_found(chunks)
    assert len(found) >= 10, (found, [c.locator for c in chunks])
    assert not any(c.locator.startswith("Paragraph") and "Article" in c.heading for c in chunks)


def test_no_paragraph_starts_mid_sentence(treaty: tuple[str, Document, list[Chunk]]) -> None:
    # Units, before the token bound: the preamble is one 750-token sentence that chunking
    # has to cut somewhere; a page break must never be the place a paragraph begins.
    _, doc, _ = treaty
    for unit in structure(doc):
        assert re.match(r"[A-Z0-9“\"(]", unit.text), (unit.locator, unit.text[:80])


def test_a_numbered_paragraph_is_cited_as_article_and_paragraph(tmp_path: Path) -> None:
    for fmt in FORMATS:
        _, chunks = passages(build(fmt, reference_text(), tmp_path))
        by_locator = {c.locator: c for c in chunks}
        assert "within 180 days" in by_locator["Article III, paragraph 4"].text, fmt
        assert by_locator["Article III, paragraph 4"].heading == "Article III"
        assert "withdraw" in by_locator["Article X, paragraph 1"].text, fmt


@pytest.mark.parametrize("source", SOURCES)
def test_pdf_running_header_footer_page_numbers_symbol_and_masthead_are_gone(
        source: str, tmp_path: Path) -> None:
    path = tmp_path / "treaty.pdf"
    build_pdf(SOURCES[source][0](), path)
    _, chunks = passages(path)
    furniture = [c for c in chunks if SYMBOL in c.text or RUNNING_HEADER in c.text
                 or re.search(r"\bpage \d+\b", c.text, re.I)
                 or any(c.text.startswith(line) for line in MASTHEAD)]
    assert furniture == []


@pytest.mark.parametrize("source", SOURCES)
def test_a_paragraph_over_a_page_break_stays_one_passage(source: str, tmp_path: Path) -> None:
    path = tmp_path / "treaty.pdf"
    crossing = build_pdf(SOURCES[source][0](), path)
    assert crossing, "the test document should run a paragraph over a page break"
    _, chunks = passages(path)
    units: dict[str, str] = {}
    for chunk in chunks:  # a passage over the token bound is split at sentences: join the parts
        unit = re.sub(r"-part\d+$", "", chunk.id)
        units[unit] = f"{units[unit]} {chunk.text}" if unit in units else chunk.text
    for paragraph in crossing:
        assert any(paragraph in text for text in units.values()), paragraph[:80]


def test_pdf_without_a_metadata_title_takes_its_largest_heading(tmp_path: Path) -> None:
    path = tmp_path / "untitled.pdf"
    build_pdf(SMALL_TREATY, path, metadata_title=False)
    assert load_document(path).title == SMALL_TREATY_TITLE


@pytest.mark.parametrize("source", SOURCES)
def test_web_page_furniture_is_dropped(source: str, tmp_path: Path) -> None:
    path = tmp_path / "treaty.html"
    build_html(SOURCES[source][0](), path)
    doc, chunks = passages(path)
    for words in ("©", "Cookie", "Privacy policy", "By Staff Writer", "Weapons of mass destruction",
                  "Accept all", "Home"):
        assert not any(words in c.text for c in chunks), words
    assert chunks[-1].text.endswith(SOURCES[source][0]().rstrip().rsplit("\n", 1)[-1])


def test_docx_title_comes_from_the_title_paragraph_when_properties_are_empty(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "treaty.docx"
    build_docx(SMALL_TREATY, path)
    document = docx.Document(str(path))
    document.core_properties.title = ""
    document.save(str(path))
    assert load_document(path).title == SMALL_TREATY_TITLE


def test_markdown_articles_as_top_level_headings_are_sections_not_titles(tmp_path: Path) -> None:
    path = tmp_path / "articles.md"
    path.write_text("# Article I\n\nFirst text.\n\n# Article II\n\nSecond text.\n", encoding="utf-8")
    doc, chunks = passages(path)
    assert doc.title == "articles"  # nothing else names it
    assert [c.locator for c in chunks] == ["Article I", "Article II"]


def test_markdown_links_are_reduced_to_their_text(tmp_path: Path) -> None:
    path = tmp_path / "links.md"
    path.write_text("# Links\n\nSee the [Preamble](../../npt/README.md#preamble) and "
                    "![a map](map.png) of the [Treaty][npt].\n", encoding="utf-8")
    doc, chunks = passages(path)
    assert chunks[0].text == "See the Preamble and a map of the Treaty."
    assert doc.text[chunks[0].span[0]:chunks[0].span[1]].endswith("[Treaty][npt].")


def test_txt_with_blank_line_paragraphs_gives_one_passage_per_paragraph(tmp_path: Path) -> None:
    path = tmp_path / "statement.txt"
    path.write_text("Statement by the delegation\n\nThe first paragraph makes a point.\n\n"
                    "The second paragraph makes another.\n\nThe third one closes.\n", encoding="utf-8")
    doc, chunks = passages(path)
    assert doc.title == "Statement by the delegation"
    assert [c.text for c in chunks if c.unit_kind == "paragraph"] == [
        "The first paragraph makes a point.", "The second paragraph makes another.",
        "The third one closes."]


def test_actions_are_cited_by_their_number(tmp_path: Path) -> None:
    path = tmp_path / "final-document.md"
    path.write_text("# Final Document\n\n## Conclusions and recommendations\n\n"
                    "Action 20: States parties should submit regular reports.\n\n"
                    "Action 21: The nuclear-weapon States are encouraged to agree on a standard "
                    "reporting form.\n", encoding="utf-8")
    _, chunks = passages(path)
    assert [c.locator for c in chunks] == ["Action 20", "Action 21"]
    assert chunks[1].heading == "Conclusions and recommendations"


def test_paragraphs_numbered_through_a_final_document_are_cited_without_their_chapter(
        tmp_path: Path) -> None:
    path = tmp_path / "final.md"
    path.write_text("# Final Document\n\n## I. Introduction\n\n1. The Conference met.\n\n"
                    "2. It adopted its agenda.\n\n## II. Review\n\n3. The Conference reviewed "
                    "the Treaty.\n\n(a) Article VI first;\n\n4. It recommends further steps.\n",
                    encoding="utf-8")
    _, chunks = passages(path)
    assert [(c.locator, c.heading) for c in chunks] == [
        ("Paragraph 1", "I. Introduction"), ("Paragraph 2", "I. Introduction"),
        ("Paragraph 3", "II. Review"), ("Paragraph 4", "II. Review")]
    assert chunks[2].text.endswith("(a) Article VI first;")  # a sub-paragraph stays with its own


def test_a_treaty_preamble_is_cited_as_the_preamble(tmp_path: Path) -> None:
    path = tmp_path / "treaty.md"
    path.write_text("# A Treaty\n\nThe States concluding this Treaty,\n\nConsidering the "
                    "devastation of a nuclear war,\n\nHave agreed as follows:\n\n## Article I\n\n"
                    "Each Party undertakes to do good.\n", encoding="utf-8")
    _, chunks = passages(path)
    assert [c.locator for c in chunks] == ["Preamble", "Article I"]
    assert "devastation" in chunks[0].text
    for fmt in ("pdf", "docx", "html"):
        _, chunks = passages(build(fmt, reference_text(), tmp_path))
        assert any(c.locator.startswith("Preamble") and "devastation" in c.text for c in chunks), fmt


@pytest.mark.parametrize("source", SOURCES)
def test_word_processor_pdf_with_embedded_font_and_justified_text(source: str, tmp_path: Path) -> None:
    text, title = SOURCES[source]
    path = tmp_path / "word.pdf"
    build_word_like_pdf(text(), path)
    doc, chunks = passages(path)
    assert doc.title == title  # no metadata: the wrapped bold title, joined again
    assert len(articles_found(chunks)) >= 10
    assert not any(SYMBOL in c.text or re.search(r"\b\d/9\b", c.text) for c in chunks)
    assert not any("  " in c.text for c in chunks)  # justified spacing reads as one space


def test_pdf_footnote_waits_for_the_paragraph_it_interrupts(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, "Article I", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 5.5, "Each Party shall report 1 on the verification of nuclear disarmament "
                   "and on the measures it has taken under this Article, and shall", new_x="LMARGIN",
                   new_y="NEXT")
    pdf.set_y(-25)
    pdf.set_font("Helvetica", size=8)
    pdf.cell(0, 4, "1 Reports are made public by the depositary.", new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 5.5, "do so every year.", new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "note.pdf"
    pdf.output(str(path))
    _, chunks = passages(path)
    assert [c.text for c in chunks] == [
        "Each Party shall report 1 on the verification of nuclear disarmament and on the measures "
        "it has taken under this Article, and shall do so every year.",
        "1 Reports are made public by the depositary."]
