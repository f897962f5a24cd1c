"""What a drafter takes away: the copy box holds whole sentences and a source list, and the
conversation exports as Markdown and Word with every question, answer and cited passage beside
its original or rendering (files checked after a real download from the browser)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from assistant.ui.export import conversation_markdown, copy_text, whole_quote, write_exports
from assistant.ui.places import places_for


def _docx_text(path: Path) -> str:
    from docx import Document

    return "\n".join(p.text for p in Document(str(path)).paragraphs)


def test_the_copy_box_holds_whole_sentences_and_a_source_list(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What does the paper say about the CTBT?")
    text = copy_text(answer, places_for(assistant.retriever))
    body, sources = text.split("\nSources:\n")
    assert "…" not in body
    for c in answer.citations:
        assert f"{whole_quote(c)} [{c.number}]" in body
        assert f"[{c.number}] {c.doc_title}, " in sources
    assert "Annex, stepping stone 12" in sources


def test_a_chinese_answer_is_copied_with_chinese_places(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("文件的附件标题是什么？")
    text = copy_text(answer, places_for(assistant.retriever))
    assert "出处：" in text and "附件标题" in text and "Annex heading" not in text


def test_a_quote_cut_for_the_chat_is_copied_whole(assistant) -> None:  # type: ignore[no-untyped-def]
    c = assistant.ask("What does the paper say about the CTBT?").citations[0]
    sentence = whole_quote(c)
    cut = replace(c, quote=sentence[:60].rstrip() + " …", quote_span=(c.quote_span[0],
                                                                     c.quote_span[0] + 60))
    assert whole_quote(cut) == sentence


def test_the_exports_hold_every_question_answer_and_cited_passage(assistant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    answers = [assistant.ask("What does the paper say about hotlines?"),
               assistant.ask("《不扩散条约》是哪一天生效的？")]
    md, docx = write_exports(answers, "en", tmp_path, places_for(assistant.retriever))
    for text in (md.read_text(encoding="utf-8"), _docx_text(docx)):
        for answer in answers:
            assert answer.question in text
            for c in answer.citations:
                assert whole_quote(c) in text
                assert c.passage.splitlines()[0] in text
                other = c.original or c.rendering
                assert other is not None and other.text.splitlines()[0] in text
        assert "Original (Chinese, official)" in text and "English (unofficial rendering)" in text


def test_an_abstention_exports_its_topics(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What does the paper say about nuclear submarines?")
    text = conversation_markdown([answer], "en", places_for(assistant.retriever), "now")
    assert "does not cover" in text and "Stepping stone" in text


def test_the_export_buttons_download_the_conversation(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("#question textarea", "What does the paper say about hotlines?")
    page.click("#send")
    page.wait_for_selector("#sources #turn-0", timeout=30_000)
    page.fill("#question textarea", "文件对全面禁止核试验条约说了什么？")
    page.click("#send")
    page.wait_for_selector("#sources #turn-1", timeout=30_000)
    page.wait_for_function("!document.querySelector('#export-docx').disabled", timeout=10_000)
    with page.expect_download() as md:
        page.click("#export-md")
    with page.expect_download() as docx:
        page.click("#export-docx")
    assert md.value.suggested_filename.endswith(".md")
    assert docx.value.suggested_filename.endswith(".docx")
    texts = [Path(md.value.path()).read_text(encoding="utf-8"), _docx_text(Path(docx.value.path()))]
    for text in texts:
        assert "What does the paper say about hotlines?" in text
        assert "文件对全面禁止核试验条约说了什么？" in text
        assert "热线和降低风险中心" in text  # the official Chinese of stone 10 …
        assert "hotlines and risk-reduction centres" in text  # … beside our English rendering
        assert "Comprehensive Nuclear-Test-Ban Treaty" in text  # stone 12's rendering
