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


def test_documents_yaml_beside_the_files_declares_kind_and_title(tmp_path: Path) -> None:
    (tmp_path / "npt.txt").write_text("Each Party shall have the right to withdraw.", encoding="utf-8")
    (tmp_path / "documents.yaml").write_text(
        "documents:\n  - file: npt.txt\n    title: The NPT\n    kind: official\n", encoding="utf-8")
    doc = load_document(tmp_path / "npt.txt", load_manifest(tmp_path)["npt.txt"])
    assert (doc.title, doc.kind) == ("The NPT", "official")


def test_a_file_described_in_both_manifests_is_refused(tmp_path: Path) -> None:
    for name in ("corpus.yaml", "documents.yaml"):
        (tmp_path / name).write_text("documents:\n  - file: a.txt\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"documents.yaml: a.txt is also described in .*corpus.yaml"):
        load_manifest(tmp_path)


def test_ingest_kind_flag_applies_unless_the_file_names_its_own(tmp_path: Path) -> None:
    plain = tmp_path / "plain.md"
    plain.write_text("# Plain\n\nText.\n", encoding="utf-8")
    own = tmp_path / "own.md"
    own.write_text("---\nkind: note\n---\n# Own\n\nText.\n", encoding="utf-8")
    assert load_document(plain, default_kind="official").kind == "official"
    assert load_document(own, default_kind="official").kind == "note"
    assert load_document(own, {"kind": "rendering"}, default_kind="official").kind == "rendering"
    assert load_document(plain).kind == "user"


def test_yaml_aliases_are_refused_in_manifests_and_front_matter(tmp_path: Path) -> None:
    laughs = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a]\n'
    (tmp_path / "documents.yaml").write_text(laughs + "documents: [*b]\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="aliases"):
        load_manifest(tmp_path)
    path = tmp_path / "laughs.md"
    path.write_text(f"---\n{laughs}---\ntext\n", encoding="utf-8")
    with pytest.raises(LoadError, match="aliases"):
        load_document(path)


def _docx_with(path: Path, member: str, size: int) -> None:
    """Write a real DOCX with one member replaced by `size` bytes of spaces (compressed ~1000x)."""
    import io
    import zipfile

    import docx

    base = io.BytesIO()
    docx.Document().save(base)
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != member:
                out.writestr(info, src.read(info))
        with out.open(member, "w") as f:
            block = b" " * (1 << 20)
            for _ in range(size >> 20):
                f.write(block)


def test_zip_bomb_docx_is_refused_fast_with_little_memory(tmp_path: Path) -> None:
    import time
    import tracemalloc

    path = tmp_path / "bomb.docx"
    _docx_with(path, "word/document.xml", 264 << 20)  # the 264 MB of XML from issue 15
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(LoadError, match=r"unpacks to 277,\d{3},\d{3} bytes, over the 80,000,000-byte"):
        load_document(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.perf_counter() - started < 1.0 and peak < 10_000_000
    assert str(path) in str(pytest.raises(LoadError, load_document, path).value)


def test_text_over_the_limit_is_refused_naming_the_file(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "long.docx"
    document = docx.Document()
    for _ in range(400):
        document.add_paragraph("The Parties shall report on verification every year. " * 5)
    document.save(str(path))
    with pytest.raises(LoadError, match=r"long.docx: more than 60,000 characters of text"):
        load_document(path, max_bytes=60_000)


def test_docx_member_lying_about_its_size_cannot_inflate_past_it(tmp_path: Path) -> None:
    import struct
    import time
    import tracemalloc
    import zipfile

    path = tmp_path / "liar.docx"
    _docx_with(path, "word/document.xml", 64 << 20)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("word/document.xml")
    # Declare 1,000 bytes in the local header and in the central directory entry.
    struct.pack_into("<I", raw, info.header_offset + 22, 1000)
    central = raw.rindex(b"word/document.xml") - 46  # the name follows a 46-byte header
    assert raw[central:central + 4] == b"PK\x01\x02"
    struct.pack_into("<I", raw, central + 24, 1000)
    path.write_bytes(bytes(raw))
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(LoadError, match="broken DOCX"):
        load_document(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.perf_counter() - started < 2.0 and peak < 30_000_000


def test_ingest_kind_flag_reaches_every_file_of_the_folder(tmp_path: Path) -> None:
    from assistant.cli import build_parser
    from ingest.pipeline import IngestReport, load_all
    from ingest.settings import Settings

    args = build_parser().parse_args(["ingest", "--kind", "official", str(tmp_path)])
    assert args.kind == "official"
    (tmp_path / "npt.md").write_text("# The NPT\n\nArticle text.\n", encoding="utf-8")
    (tmp_path / "memo.md").write_text("---\nkind: note\n---\n# Memo\n\nOur note.\n", encoding="utf-8")
    report = IngestReport()
    docs = load_all(sorted(tmp_path.iterdir()), Settings(data_dir=tmp_path / "data"), report,
                    kind=args.kind)
    assert {d.id: d.kind for d in docs} == {"npt": "official", "memo": "note"} and report.ok


def test_a_declared_kind_is_kept_in_documents_yaml_for_later_ingests(tmp_path: Path) -> None:
    from ingest.manifest import declare

    (tmp_path / "documents.yaml").write_text(
        "documents:\n  - file: other.md\n    title: Other\n", encoding="utf-8")
    path = tmp_path / "npt.md"
    path.write_text("# The NPT\n\nText.\n", encoding="utf-8")
    declare(path, kind="official")
    declare(path, title="The Treaty")
    entries = load_manifest(tmp_path)
    assert entries["npt.md"] == {"file": "npt.md", "kind": "official", "title": "The Treaty"}
    assert entries["other.md"]["title"] == "Other"
    assert load_document(path, entries["npt.md"]).kind == "official"
    with pytest.raises(ManifestError, match="cannot declare"):
        declare(path, kind="rumour")


def test_a_kind_given_once_with_ingest_kind_is_remembered_by_later_ingests(tmp_path: Path) -> None:
    from ingest.pipeline import IngestReport, load_all
    from ingest.settings import Settings

    (tmp_path / "npt.md").write_text("# The NPT\n\nArticle text.\n", encoding="utf-8")
    own = tmp_path / "own.md"
    own.write_text("---\nkind: note\n---\n# Own\n\nText.\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    files = [tmp_path / "npt.md", own]
    load_all(files, settings, IngestReport(), kind="official")
    again = {d.id: d.kind for d in load_all(files, settings, IngestReport())}  # no --kind now
    assert again == {"npt": "official", "own": "note"}
