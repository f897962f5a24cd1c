"""The facts of the notes that can be checked mechanically: the sponsor and supporter lists
against the paper itself, key dates, counts, what the CTBT does, where review conferences met,
and that a question naming "step 9", "Action 20", "decision 2" or "Article IX" finds a section."""

from __future__ import annotations

import re

import pytest

from tests.conftest import CORPUS
from tests.corpus.notes import (
    MANIFEST,
    NOTES,
    RENDERINGS,
    dates_en,
    dates_zh,
    en_list,
    pairs,
    paper_units,
    parts_en,
    parts_zh,
    sections,
    zh_list,
)

# The paper's Chinese names of States, in English as our notes and rendering give them.
STATES = {
    "阿根廷": "Argentina", "加拿大": "Canada", "芬兰": "Finland", "德国": "Germany",
    "印度尼西亚": "Indonesia", "日本": "Japan", "约旦": "Jordan", "哈萨克斯坦": "Kazakhstan",
    "荷兰": "Netherlands", "新西兰": "New Zealand", "挪威": "Norway",
    "大韩民国": "Republic of Korea", "西班牙": "Spain", "瑞典": "Sweden", "瑞士": "Switzerland",
    "阿塞拜疆": "Azerbaijan", "比利时": "Belgium", "文莱达鲁萨兰国": "Brunei Darussalam",
    "柬埔寨": "Cambodia", "丹麦": "Denmark", "多米尼加共和国": "Dominican Republic",
    "格鲁吉亚": "Georgia", "几内亚": "Guinea", "几内亚比绍": "Guinea-Bissau",
    "洪都拉斯": "Honduras", "冰岛": "Iceland", "卢森堡": "Luxembourg",
    "毛里塔尼亚": "Mauritania", "北马其顿": "North Macedonia", "帕劳": "Palau",
    "菲律宾": "Philippines", "葡萄牙": "Portugal", "摩尔多瓦共和国": "Republic of Moldova",
    "乌拉圭": "Uruguay", "埃塞俄比亚": "Ethiopia",
}
STOCKHOLM = "stockholm-initiative.note.en.md"


def text(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def section(name: str, anchor: str) -> str:
    return next(u.text for u in sections(name) if u.id == anchor)


def after(label: str, body: str) -> str:
    """The list that follows `label` up to the end of its sentence."""
    m = re.search(re.escape(label) + r"(.+?)[.。]", body)
    assert m is not None, label
    return m[1]


def paper_sponsors() -> list[str]:
    return zh_list(paper_units()["sponsors"].text.replace("提交的联合工作文件", ""))


def paper_supporters() -> list[str]:
    note = paper_units()["fn-star"].text
    return zh_list(note.replace("本工作文件的内容还得到", "").replace("的支持。", ""))


def test_the_paper_names_15_sponsors_and_19_supporters() -> None:
    assert len(paper_sponsors()) == 15 and len(paper_supporters()) == 19
    assert set(paper_sponsors()) | set(paper_supporters()) <= set(STATES)


def test_sponsors_in_the_notes_are_the_papers_list_in_its_order() -> None:
    english = [STATES[s] for s in paper_sponsors()]
    note = section(STOCKHOLM, "the-working-paper")
    assert en_list(after("Fifteen States submitted the working paper: ", note)) == english
    rendering = section(RENDERINGS["note-stockholm"], "the-working-paper")
    assert zh_list(after("提交该工作文件的有15个国家：", rendering)) == paper_sponsors()
    ours = sections("stepping-stones-wp.en.md")[1].text  # our English rendering of the paper
    assert en_list(after("submitted by ", ours)) == english


def test_supporters_in_the_notes_are_the_papers_footnote_in_its_order() -> None:
    english = [STATES[s] for s in paper_supporters()]
    note = section(STOCKHOLM, "the-working-paper")
    listing = after("A further 19 States supported its content without sponsoring it: ", note)
    assert en_list(listing) == english
    rendering = section(RENDERINGS["note-stockholm"], "the-working-paper")
    assert zh_list(after("另有19个国家支持该文件的内容，但不是提案国：", rendering)) == paper_supporters()


def test_initiative_members_are_the_sponsors_and_ethiopia_and_the_notes_say_they_differ() -> None:
    note = section(STOCKHOLM, "the-stockholm-initiative")
    members = en_list(after("It was launched with 16 members: ", note))
    assert sorted(members) == sorted([STATES[s] for s in paper_sponsors()] + ["Ethiopia"])
    assert "not the same list" in note and "except Ethiopia" in section(STOCKHOLM, "the-working-paper")
    rendering = section(RENDERINGS["note-stockholm"], "the-stockholm-initiative")
    assert sorted(zh_list(after("该倡议发起时有16个成员：", rendering))) == sorted(
        paper_sponsors() + ["埃塞俄比亚"])
    assert "并不是同一份名单" in rendering
    assert "except Ethiopia" in text("glossary.en-zh.md") and "除埃塞俄比亚以外" in text("glossary.zh.md")


def all_dates() -> set[tuple[int, int, int | None]]:
    english = [n for n in MANIFEST if n.endswith(".md") and MANIFEST[n]["language"] == "en"]
    chinese = [n for n in MANIFEST if n.endswith(".md") and MANIFEST[n]["language"] == "zh"]
    return {d for n in english for d in dates_en(text(n))} | {d for n in chinese for d in dates_zh(text(n))}


@pytest.mark.parametrize("year, month, days", [
    (1968, 7, {1}),     # opened for signature
    (1970, 3, {5}),     # entry into force
    (2020, 3, {5}),     # fiftieth anniversary
    (2020, 2, {25}),    # Berlin ministerial meeting
    (2022, 1, {4, 28}),  # the review conference the paper was written for
])
def test_key_dates_are_the_same_wherever_the_corpus_gives_them(year: int, month: int, days: set[int]) -> None:
    given = {d for (y, m, d) in all_dates() if (y, m) == (year, month) and d is not None}
    assert given == days


def test_the_notes_dates_for_berlin_and_the_conference_are_the_papers() -> None:
    paper = dates_zh(paper_units()["title"].text) | dates_zh(paper_units()["p-1"].text)
    assert paper == {(2022, 1, 4), (2022, 1, 28), (2020, 2, 25)}
    assert paper <= dates_en(text(STOCKHOLM)) and paper <= dates_zh(text(RENDERINGS["note-stockholm"]))


def test_the_npt_has_191_parties_wherever_a_count_is_given() -> None:
    english = " ".join(text(n) for n in [*NOTES, "glossary.en-zh.md"])
    chinese = " ".join(text(RENDERINGS[MANIFEST[n]["id"]]) for n in [*NOTES, "glossary.en-zh.md"])
    assert set(re.findall(r"(\d+) States parties", english)) == {"191"}
    assert set(re.findall(r"(\d+)个缔约国", chinese)) == {"191"}


def test_there_are_22_stepping_stones_wherever_a_count_is_given() -> None:
    assert len([u for u in paper_units() if u.startswith("ss-")]) == 22
    english = " ".join(text(n) for n in [*NOTES, "glossary.en-zh.md"])
    chinese = " ".join(text(RENDERINGS[MANIFEST[n]["id"]]) for n in [*NOTES, "glossary.en-zh.md"])
    assert set(re.findall(r"\b(\d+) (?:stepping stones|near-term)", english)) == {"22"}
    assert set(re.findall(r"(\d+)项(?:阶石|短期)", chinese)) == {"22"}


def test_no_note_says_the_ctbt_bans_explosions_as_if_it_were_in_force() -> None:
    for name in [*NOTES, "glossary.en-zh.md"]:
        for sentence in re.split(r"(?<=\.)\s|\n\n", text(name)):
            if re.search(r"ban(s|ning)? all nuclear explosions", sentence):
                assert re.search(r"\bwould ban\b", sentence), (name, sentence)
                assert "not entered into force" in sentence, (name, sentence)
        rendering = text(RENDERINGS[MANIFEST[name]["id"]])
        for sentence in re.split(r"(?<=。)|\n\n", rendering):
            if "禁止一切核爆炸" in sentence:
                assert "将" in sentence and "尚未生效" in sentence, (name, sentence)


def test_review_conferences_met_in_geneva_until_1990_and_in_new_york_since_1995() -> None:
    for note, anchor in [("npt-treaty.note.en.md", "article-viii-amendments-and-review-conferences"),
                         ("npt-review-cycle.note.en.md", "review-conferences")]:
        english = section(note, anchor)
        assert "Geneva from 1975 to 1990" in english and "New York since 1995" in english
        assert re.search(r"majority of the parties (?:may )?asks?", english)  # VIII(3): on request
        chinese = section(RENDERINGS[MANIFEST[note]["id"]], anchor)
        assert "1975年至1990年在日内瓦" in chinese and "1995年起在纽约" in chinese
        assert "缔约国过半数" in chinese and "请求" in chinese
    assert "every five years since" not in " ".join(text(n) for n in NOTES)


def test_the_notes_name_the_states_outside_the_treaty() -> None:
    english = section("npt-treaty.note.en.md", "membership")
    for state in ("India", "Israel", "Pakistan", "South Sudan"):
        assert state in english
    assert "Democratic People's Republic of Korea, which announced its withdrawal in 2003" in english
    chinese = section(RENDERINGS["note-npt-treaty"], "membership")
    for state in ("印度", "以色列", "巴基斯坦", "南苏丹", "朝鲜民主主义人民共和国"):
        assert state in chinese
    assert "2003年宣布退出" in chinese


def test_stone_16_is_only_a_related_theme_of_action_22() -> None:
    note = section("npt-2010-action-plan.note.en.md", "reporting-and-transparency")
    assert "builds on" not in note and "related theme" in note
    assert "all States parties commit" in section("npt-2010-action-plan.note.en.md", "disarmament-actions")


# --- named parts: "step 9", "Action 20", "decision 2", "Article IX(3)" find their section ---

COVERED = {  # note: (kind, every number that a question may name)
    "npt-2000-13-steps.note.en.md": ("step", set(range(1, 14))),
    "npt-treaty.note.en.md": ("article", set(range(1, 12))),
    "npt-1995.note.en.md": ("decision", {1, 2, 3}),
}


@pytest.mark.parametrize("note", sorted(COVERED))
def test_every_numbered_part_has_a_section_whose_heading_and_body_name_it(note: str) -> None:
    kind, numbers = COVERED[note]
    for language, read in (("en", parts_en), ("zh", parts_zh)):
        found: set[int] = set()
        for pair in pairs(note):
            unit = pair.en if language == "en" else pair.zh
            named = read(unit.locator)[kind]  # the heading: "Steps 10 to 13", "第十条"
            assert named <= read(unit.text)[kind], (language, pair.anchor)  # …and the body
            found |= named
        assert found == numbers, language


def test_every_disarmament_action_of_2010_is_named_by_number_in_both_languages() -> None:
    for pair in pairs("npt-2010-action-plan.note.en.md"):
        if pair.anchor in ("disarmament-actions", "reporting-and-transparency"):
            assert parts_en(pair.en.text)["action"] == parts_zh(pair.zh.text)["action"]
    english = " ".join(u.text for u in sections("npt-2010-action-plan.note.en.md")
                       if u.id in ("disarmament-actions", "reporting-and-transparency"))
    assert parts_en(english)["action"] == set(range(1, 23))
