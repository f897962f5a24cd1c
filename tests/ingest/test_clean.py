"""The cleaner and structure reader turn the raw PDF extraction into the paper's units."""

from __future__ import annotations

import re

from ingest.clean import clean
from ingest.loaders import load_document
from ingest.structure import structure
from tests.conftest import RAW_PAPER


def paper_units():  # type: ignore[no-untyped-def]
    return structure(load_document(RAW_PAPER, {"id": "stepping-stones-wp", "kind": "official"}))


def test_raw_paper_yields_exactly_22_stepping_stones_in_order() -> None:
    stones = [u for u in paper_units() if u.kind == "stone"]
    assert [u.id for u in stones] == [f"ss-{n}" for n in range(1, 23)]
    assert stones[0].text.startswith("核武器国家承认需要确保永远不再使用核武器")
    assert stones[0].text.endswith("并推动核裁军。")
    assert stones[9].text.startswith("核武器国家改善或建立彼此之间的危机沟通")  # after a page break
    assert stones[-1].text.startswith("所有国家承诺加强《不扩散条约》审议周期")
    assert stones[-1].text.endswith("审议进程的努力。")
    assert stones[9].locator == "Annex, stepping stone 10"


def test_preamble_paragraphs_title_sponsors_and_closing_are_recognised() -> None:
    units = {u.id: u for u in paper_units()}
    assert units["title"].text == "2022年1月4日至28日，纽约\n推进核裁军的阶石"
    assert units["sponsors"].text.startswith("阿根廷、加拿大")
    assert units["sponsors"].text.endswith("提交的联合工作文件")
    assert units["p-1"].text.startswith("部长们在2020年2月25日于柏林")
    assert [units[f"annex-p-{n}"].text[:4] for n in (1, 2, 3)] == ["我们重申", "这些阶石", "我们承诺"]
    assert units["annex-p-4"].text.startswith("认识到各国的不同视角")
    assert units["annex-p-4"].locator.endswith("(closing)")


def test_footnotes_are_their_own_units_linked_to_their_markers() -> None:
    units = {u.id: u for u in paper_units()}
    assert units["fn-star"].text.startswith("本工作文件的内容还得到阿塞拜疆")
    assert units["fn-1"].text.startswith("可查阅 www.auswaertiges-amt.de")
    assert units["sponsors"].refs == ["fn-star"] and units["fn-star"].ref_by == "sponsors"
    assert units["p-1"].refs == ["fn-1"] and units["fn-1"].ref_by == "p-1"
    # The markers are gone from the body text: "《部长宣言》1" reads "《部长宣言》".
    assert "《部长宣言》并在该宣言" in units["p-1"].text
    assert not units["sponsors"].text.endswith("*")


def test_chinese_lines_join_without_spaces_and_latin_words_keep_one() -> None:
    text = " 这是一个很长的中文句子，在这里\n\n断开了行。\n\n Words broken\n\nacross lines here.\n\n"
    blocks = [b for b in clean(text) if b.is_content]
    assert blocks[0].text == "这是一个很长的中文句子，在这里断开了行。"
    assert blocks[1].text == "Words broken across lines here."


def test_no_space_is_left_between_chinese_characters_in_any_unit() -> None:
    for unit in paper_units():
        assert not re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]", unit.text), unit.id


def test_pdf_link_leftover_and_separator_are_artefacts_not_content() -> None:
    units = paper_units()
    assert not any(u.text.startswith("http://") for u in units)
    assert not any("_____" in u.text for u in units)


def test_every_character_of_a_unit_points_at_the_same_character_in_the_source() -> None:
    doc = load_document(RAW_PAPER)
    for unit in structure(doc):
        assert len(unit.offsets) == len(unit.text)
        for ch, off in zip(unit.text, unit.offsets, strict=True):
            assert ch.isspace() or doc.text[off] == ch, (unit.id, ch, off)
            assert unit.span[0] <= off < unit.span[1]
