"""What a new delegate needs first: the paper, its 22 stones by theme, the glossary, questions."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from assistant.retrieve import Retriever
from assistant.ui.strings import t
from ingest.documents import glossary_fields

# How we group the stones for orientation (our reading, also in note-stockholm).
THEMES: list[tuple[str, str, list[int]]] = [
    ("Role of nuclear weapons and doctrine", "核武器的作用与核理论", [1, 4, 5]),
    ("Reducing arsenals and arms control", "削减武库与军备控制", [2, 3]),
    ("Transparency and reporting", "透明度与报告", [6, 19, 20, 21]),
    ("Security assurances and nuclear-weapon-free zones", "安全保证与无核武器区", [7, 8]),
    ("Nuclear risk reduction", "降低核风险", [9, 10, 11]),
    ("Testing and fissile material", "核试验与裂变材料", [12, 13, 14]),
    ("Verification", "核查", [15]),
    ("Inclusion and education", "包容与教育", [16, 17, 18]),
    ("The review process", "审议进程", [22]),
]

FIRST_QUESTIONS = {
    "en": ["Who submitted the Stepping Stones working paper?",
           "What does the paper say about New START?",
           "Which risk reduction measures does the paper propose?",
           "What are negative security assurances?",
           "Which earlier NPT commitments does the paper say remain valid?",
           "What does Article VI of the NPT require?"],
    "zh": ["这份工作文件是哪些国家提交的？", "文件对全面禁止核试验条约说了什么？",
           "文件提出了哪些降低核风险的措施？", "“核拥有国”是什么意思？",
           "文件对审议周期作出了什么承诺？"],
}


@dataclass
class Stone:
    number: int
    zh: str
    en: str


def stones(retriever: Retriever) -> dict[int, Stone]:
    """Return the stepping stones found in the index, with their renderings."""
    out: dict[int, Stone] = {}
    for group, members in retriever.groups.items():
        original = retriever.chunks.get(group)
        if original is None or original.unit_kind != "stone":
            continue
        m = re.search(r"(\d+)$", original.locator)
        if not m:
            continue
        en = next((c.text for c in members if c.renders == group), "")
        out[int(m.group(1))] = Stone(int(m.group(1)), original.text, en)
    return out


@dataclass
class Term:
    """One glossary entry as the table lists it: its English and Chinese names, and the
    wording the working paper itself uses (empty when the paper does not use the term)."""

    en: str
    zh: str
    paper: str

    def matches(self, query: str) -> bool:
        q = query.strip().casefold()
        return not q or any(q in cell.casefold() for cell in (self.en, self.zh, self.paper))


def glossary_terms(retriever: Retriever) -> list[Term]:
    """Return the indexed glossary's entries, in the glossary's order."""
    terms = []
    for entry in retriever.lexical.glossary:
        chunk = retriever.chunks.get(entry["chunk"][0]) if entry.get("chunk") else None
        parsed = glossary_fields(chunk.text) if chunk is not None else None
        paper = parsed[0].get("in paper", []) if parsed else []
        terms.append(Term("; ".join(entry["en"]), "；".join(entry["zh"]), "；".join(paper)))
    return terms


def glossary_html(terms: list[Term], lang: str, query: str | None = "") -> str:
    """Return the glossary as an HTML table (proportional font, wrapping cells), filtered."""
    query = query or ""
    shown = [term for term in terms if term.matches(query)]
    head = "".join(f"<th>{html.escape(t(lang, key))}</th>"
                   for key in ("gloss_en", "gloss_zh", "gloss_paper"))
    rows = "".join(f'<tr><td lang="en">{html.escape(term.en)}</td>'
                   f'<td lang="zh">{html.escape(term.zh)}</td>'
                   f'<td lang="zh">{html.escape(term.paper)}</td></tr>' for term in shown)
    if not shown:
        count = t(lang, "gloss_none").format(q=query.strip())
    else:
        count = t(lang, "gloss_count").format(shown=len(shown), total=len(terms))
    return (f'<div class="gloss-count">{html.escape(count)}</div>'
            f'<table class="glossary"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>')


def theme_title(theme: tuple[str, str, list[int]], lang: str) -> str:
    """Return a theme's title in the interface language."""
    return theme[1] if lang == "zh" else theme[0]


def about_markdown(lang: str) -> str:
    """Return the short orientation text (facts checked against the paper and our notes)."""
    if lang == "zh":
        return (
            "**《推进核裁军的阶石》** 是提交给原定于 2022 年 1 月 4 日至 28 日在纽约举行的"
            "《不扩散条约》审议大会的联合工作文件。\n\n"
            "- **提交国（15 个）**：阿根廷、加拿大、芬兰、德国、印度尼西亚、日本、约旦、哈萨克斯坦、荷兰、"
            "新西兰、挪威、大韩民国、西班牙、瑞典和瑞士。\n"
            "- **支持国（19 个，见脚注）**：阿塞拜疆、比利时、文莱达鲁萨兰国等。\n"
            "- **来源**：部长们于 2020 年 2 月 25 日在柏林通过的《部长宣言》及其附件所列的 22 个阶石"
            "（斯德哥尔摩核裁军倡议）。\n"
            "- **语料**：中文正式文本；英文为我们的非正式译文，说明和术语表亦为非正式材料。")
    return (
        "**Stepping stones for advancing nuclear disarmament** is a joint working paper "
        "submitted to the NPT Review Conference then scheduled for New York, 4–28 January 2022.\n\n"
        "- **Sponsors (15):** Argentina, Canada, Finland, Germany, Indonesia, Japan, Jordan, "
        "Kazakhstan, the Netherlands, New Zealand, Norway, the Republic of Korea, Spain, Sweden "
        "and Switzerland.\n"
        "- **Supporters (19, in a footnote):** Azerbaijan, Belgium, Brunei Darussalam and others.\n"
        "- **Origin:** the Ministerial Declaration adopted in Berlin on 25 February 2020, whose "
        "annex lists the 22 stepping stones (the Stockholm Initiative for Nuclear Disarmament).\n"
        "- **This corpus:** the official text is the Chinese version; the English rendering, the "
        "explanatory notes and the glossary are ours and unofficial.")


def stone_html(stone: Stone, lang: str) -> str:
    """Return one stone as inert HTML: Chinese original beside the English rendering."""
    label = html.escape(t(lang, "stone").format(n=stone.number))
    return (f'<div class="stone"><div class="stone-n">{label}</div><div class="pair">'
            f'<div lang="zh">{html.escape(stone.zh)}</div>'
            f'<div lang="en">{html.escape(stone.en)}</div></div></div>')
