"""Each supported format loads from a file the test makes; bad files fail with the file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoadError, ManifestError, load_document, load_manifest


def test_txt_loads_with_language_detected(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("核武器国家应当报告其武库情况。", encoding="utf-8")
    doc = load_document(path)
    assert doc.id == "note" and doc.language == "zh" and doc.kind == "user"


def test_markdown_front_matter_describes_the_document(tmp_path: Path) -> None:
    path = tmp_path / "brief.md"
    path.write_text("---\nid: brief-1\ntitle: A brief\nkind: note\nlanguage: en\n"
                    "source: our own\n---\n# Heading\n\nSome text.\n", encoding="utf-8")
    doc = load_document(path)
    assert (doc.id, doc.title, doc.kind, doc.language, doc.source) == (
        "brief-1", "A brief", "note", "en", "our own")
    assert doc.text.startswith("# Heading")


def test_manifest_entry_overrides_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "brief.md"
    path.write_text("---\ntitle: Old\n---\ntext\n", encoding="utf-8")
    doc = load_document(path, {"file": "brief.md", "title": "New", "kind": "official"})
    assert doc.title == "New" and doc.kind == "official"


def test_pdf_without_headings_reads_as_plain_text(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, "Statement on nuclear risk reduction.\nStates should set up hotlines.")
    path = tmp_path / "statement.pdf"
    pdf.output(str(path))
    doc = load_document(path)
    assert doc.text == "Statement on nuclear risk reduction. States should set up hotlines.\n"
    assert doc.format == "txt"


def test_docx_paragraphs_and_headings_are_extracted(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("Verification", level=1)
    d.add_paragraph("The partnership studies dismantlement verification.")
    path = tmp_path / "paper.docx"
    d.save(str(path))
    doc = load_document(path)
    # Heading 1 sits below the Title level; one heading alone still titles the document.
    assert "## Verification" in doc.text and "dismantlement" in doc.text
    assert doc.title == "Verification"


def test_html_text_is_extracted_and_scripts_dropped(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<html><head><title>Risk</title><script>alert(1)</script></head><body>"
                    "<h2>Hotlines</h2><p>States keep <b>hotlines</b> open.</p></body></html>",
                    encoding="utf-8")
    doc = load_document(path)
    assert doc.title == "Risk"
    assert "## Hotlines" in doc.text and "States keep hotlines open." in doc.text
    assert "alert" not in doc.text


@pytest.mark.parametrize("name,content,reason", [
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"   \n\n", "empty file"),
    ("binary.txt", b"\x00\x01\x02binary\x00", "binary content"),
    ("latin1.txt", "Caf\xe9 cr\xe8me".encode("latin-1"), "not valid UTF-8"),
    ("truncated.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", "PDF"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "broken DOCX"),
    ("image.png", b"\x89PNG", "unsupported file type"),
])
def test_bad_files_raise_one_clear_error_naming_the_file(tmp_path: Path, name: str,
                                                         content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError) as err:
        load_document(path)
    assert str(path) in str(err.value) and reason in str(err.value)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 5000, encoding="utf-8")
    with pytest.raises(LoadError, match="over the 1,000-byte limit"):
        load_document(path, max_bytes=1000)


def test_malformed_manifest_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "corpus.yaml").write_text("documents:\n  - file: a.txt\n    kind: [oops\n",
                                          encoding="utf-8")
    with pytest.raises(ManifestError, match=r"corpus.yaml line \d+"):
        load_manifest(tmp_path)


def test_manifest_rejects_unknown_fields_and_kinds(tmp_path: Path) -> None:
    (tmp_path / "corpus.yaml").write_text("documents:\n  - file: a.txt\n    colour: red\n",
                                          encoding="utf-8")
    with pytest.raises(ManifestError, match="unknown field"):
        load_manifest(tmp_path)
    (tmp_path / "corpus.yaml").write_text("documents:\n  - file: a.txt\n    kind: rumour\n",
                                          encoding="utf-8")
    with pytest.raises(ManifestError, match="kind 'rumour'"):
        load_manifest(tmp_path)
