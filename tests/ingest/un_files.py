"""Build PDF, DOCX and HTML files at test time from a small markdown text, the way real
United Nations documents look: a running header with the document symbol, a "page N" footer,
bold larger article headings, a web page wrapped in navigation, a byline and a footer.

The treaty text itself (`../shared/reference/npt-treaty.en.md`) is test data the project does
not ship; `SMALL_TREATY` is our own UN-style text so every check also runs without it."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.settings import PROJECT_ROOT

REFERENCE = PROJECT_ROOT.parent / "shared" / "reference" / "npt-treaty.en.md"
NPT_TITLE = "Treaty on the Non-Proliferation of Nuclear Weapons"
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI"]
SYMBOL = "NPT/CONF.2026/WP.99"
RUNNING_HEADER = "2026 Review Conference of the Parties to the NPT"
CONFERENCE = "2026 Review Conference of the Parties to the Treaty, New York, 27 April-22 May 2026"
MASTHEAD = ("United Nations", "Distr.: General", "3 May 2026", "Original: English")
FOOTER_WORDS = ("Cookie settings", "Privacy policy", "©")

_SENTENCE = ("The Parties shall exchange information on the verification of nuclear disarmament "
             "and shall report on it at each session of the review conference. ")
SMALL_TREATY_TITLE = "Model Agreement on Disarmament Verification Cooperation"
SMALL_TREATY = "\n\n".join(
    [f"# {SMALL_TREATY_TITLE}",
     "The States concluding this Agreement, recalling their obligations under the Treaty on "
     "the Non-Proliferation of Nuclear Weapons, have agreed as follows:"]
    + [f"## Article {r}\n\n"
       + (f"1. Each Party shall designate a national point of contact for Article {r}.\n"
          f"2. {_SENTENCE * 2}"
          if n % 3 == 0 else
          # Article II is long enough to run over a page break in the PDF.
          f"Each Party undertakes, under Article {r}, the following. " + _SENTENCE * (14 if r == "II" else 2))
       for n, r in enumerate(ROMAN)]
    + ["IN WITNESS WHEREOF the undersigned have signed this Agreement."]
)


@dataclass
class Parsed:
    """A markdown text as a title and a list of (kind, text): heading, paragraph or numbered."""

    title: str
    blocks: list[tuple[str, str]] = field(default_factory=list)


def parse(markdown: str) -> Parsed:
    """Return the title and blocks of the simple markdown the reference and SMALL_TREATY use."""
    markdown = re.sub(r"<!--.*?-->", "", markdown, flags=re.S)
    parsed = Parsed(title="")
    for para in re.split(r"\n\s*\n", markdown.strip()):
        for line in para.splitlines() if re.match(r"\d+\. ", para) else [para]:
            line = " ".join(line.split())
            if line.startswith("# "):
                parsed.title = line[2:]
            elif line.startswith("## "):
                parsed.blocks.append(("heading", line[3:]))
            elif re.match(r"\d+\. ", line):
                parsed.blocks.append(("numbered", line))
            elif line:
                parsed.blocks.append(("paragraph", line))
    return parsed


def reference_text() -> str:
    """Return the real NPT text, or skip the test with a plain reason when it is absent."""
    import pytest

    if not REFERENCE.is_file():
        pytest.skip(f"the treaty text is test data the project does not ship ({REFERENCE} absent)")
    return REFERENCE.read_text(encoding="utf-8")


def _masthead(pdf: Any) -> None:
    """A UN document's first page: the organ in large type, circulation, date, language, and
    the conference and agenda item in bold above the title."""
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(0, 10, "United Nations", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for line in ("Distr.: General", "3 May 2026", "Original: English"):
        pdf.cell(0, 5, line, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, CONFERENCE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 6, "Item 16 of the provisional agenda", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)


def build_pdf(markdown: str, path: Path, metadata_title: bool = True) -> list[str]:
    """Write a UN-style PDF; return the paragraphs that run over a page break."""
    from fpdf import FPDF

    class UNDocument(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=9)
            self.cell(0, 5, SYMBOL, align="R", new_x="LMARGIN", new_y="NEXT")
            self.cell(0, 5, RUNNING_HEADER, new_x="LMARGIN", new_y="NEXT")
            self.ln(4)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", size=9)
            self.cell(0, 5, f"page {self.page_no()}", align="C")

    doc = parse(markdown)
    pdf = UNDocument(format="A4")
    pdf.core_fonts_encoding = "windows-1252"  # typographic quotes and dashes in a core font
    if metadata_title:
        pdf.set_title(doc.title)
    pdf.set_author("United Nations")
    pdf.add_page()
    _masthead(pdf)
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, doc.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    crossing: list[str] = []
    for kind, text in doc.blocks:
        if kind == "heading":
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 13)
            pdf.cell(0, 8, text, align="C", new_x="LMARGIN", new_y="NEXT")
            continue
        pdf.set_font("Helvetica", size=11)
        page = pdf.page_no()
        pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
        if pdf.page_no() != page:
            crossing.append(text)
        pdf.ln(2)
    pdf.output(str(path))
    return crossing


def _dejavu() -> Path:
    """DejaVu TrueType fonts as matplotlib (a dependency) ships them: present on every machine
    the project installs on, so the Word-like PDF test never depends on a system font package."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def build_word_like_pdf(markdown: str, path: Path) -> None:
    """Write a PDF the way word processors do: an embedded TrueType subset, justified text, a
    title wrapped over two lines, the symbol on alternating sides and an "N/9" page number."""
    from fpdf import FPDF

    fonts = _dejavu()

    class WordDocument(FPDF):
        def header(self) -> None:
            self.set_font("Serif", size=9)
            self.cell(0, 5, SYMBOL, align="L" if self.page_no() % 2 else "R", new_x="LMARGIN",
                      new_y="NEXT")
            self.ln(3)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Serif", size=9)
            self.cell(0, 5, f"{self.page_no()}/9", align="C")

    doc = parse(markdown)
    pdf = WordDocument()
    pdf.add_font("Serif", "", str(fonts / "DejaVuSerif.ttf"))
    pdf.add_font("Serif", "B", str(fonts / "DejaVuSerif-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("Serif", "B", 14)
    pdf.multi_cell(100, 7, doc.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for kind, text in doc.blocks:
        pdf.set_font("Serif", "B" if kind == "heading" else "", 11 if kind == "heading" else 10.5)
        if kind == "heading":
            pdf.cell(0, 7, text, align="C", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.multi_cell(0, 5, text, align="J", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
    pdf.output(str(path))


def build_docx(markdown: str, path: Path) -> None:
    """Write a DOCX: a Title paragraph, the title in core properties, headings as Heading 1."""
    import docx

    doc = parse(markdown)
    document = docx.Document()
    document.core_properties.title = doc.title
    document.add_paragraph(doc.title, style="Title")
    for kind, text in doc.blocks:
        if kind == "heading":
            document.add_heading(text, level=1)
        else:
            document.add_paragraph(text)
    document.save(str(path))


def build_html(markdown: str, path: Path) -> None:
    """Write a web page: navigation, cookie banner, byline, the text in <main>, a footer."""
    doc = parse(markdown)
    body: list[str] = [f"<h1>{html.escape(doc.title)}</h1>",
                       '<p class="byline">By Staff Writer, Office for Disarmament Affairs, 3 May 2026</p>']
    items: list[str] = []
    for kind, text in doc.blocks + [("end", "")]:
        if kind == "numbered":
            items.append(f"<li>{html.escape(text.split('. ', 1)[1])}</li>")
            continue
        if items:
            body.append("<ol>" + "".join(items) + "</ol>")
            items = []
        if kind == "heading":
            body.append(f"<h2>{html.escape(text)}</h2>")
        elif kind == "paragraph":
            body.append(f"<p>{html.escape(text)}</p>")
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(doc.title)} | UNODA</title></head><body>
<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your experience.
<button>Accept all</button></p></div>
<header><a href="/">United Nations Office for Disarmament Affairs</a>
<nav><ul><li><a href="/">Home</a></li><li><a href="/wmd">Weapons of mass destruction</a></li>
<li><a href="/search">Search</a></li></ul></nav></header>
<main><article>{''.join(body)}</article></main>
<footer><p>© 2026 United Nations. Cookie settings. Privacy policy.</p></footer>
</body></html>"""
    path.write_text(page, encoding="utf-8")
