"""The bundled corpus is consistent: every document described, renderings aligned, glossary true."""

from __future__ import annotations

import re

import yaml

from ingest.chunk import chunk_document
from ingest.loaders import SUPPORTED, load_document, load_manifest
from ingest.pipeline import glossary_entries
from ingest.structure import structure
from tests.conftest import CORPUS, RAW_PAPER

MANIFEST = load_manifest(CORPUS)


def load(name: str):  # type: ignore[no-untyped-def]
    return load_document(CORPUS / name, MANIFEST[name])


def test_working_paper_is_the_supplied_file_unchanged() -> None:
    shared = CORPUS.parent.parent / "shared" / "corpus" / RAW_PAPER.name
    if shared.exists():  # present beside the repo in development and CI
        assert RAW_PAPER.read_bytes() == shared.read_bytes()
    assert RAW_PAPER.read_bytes().startswith(" 2022 年 1 月 4 日至 28 日".encode())


def test_every_file_is_described_in_the_manifest_with_kind_language_source() -> None:
    # Every document, that is; side files such as question-cards.yaml are not documents.
    files = {p.name for p in CORPUS.iterdir() if p.is_file() and p.suffix in SUPPORTED}
    assert files == set(MANIFEST)
    for name, entry in MANIFEST.items():
        assert entry["kind"] in ("official", "rendering", "note"), name
        assert entry["language"] in ("en", "zh"), name
        assert entry.get("source"), name
        if entry["kind"] != "official":
            assert "not an official text" in entry["source"], name


def test_front_matter_agrees_with_the_manifest() -> None:
    for name, entry in MANIFEST.items():
        if not name.endswith(".md"):
            continue
        text = (CORPUS / name).read_text(encoding="utf-8")
        front = yaml.safe_load(re.match(r"---\n(.*?)\n---\n", text, re.S).group(1))  # type: ignore[union-attr]
        for key in ("id", "title", "kind", "language", "renders"):
            assert front.get(key) == entry.get(key), (name, key)
        assert front.get("official") is False, name


def test_rendering_covers_all_22_stones_and_every_unit_links_to_an_original_unit() -> None:
    original = {u.id for u in structure(load(RAW_PAPER.name))}
    rendering = structure(load("stepping-stones-wp.en.md"))
    ids = [u.id for u in rendering]
    assert [i for i in ids if i.startswith("ss-")] == [f"ss-{n}" for n in range(1, 23)]
    for unit in rendering:
        assert unit.renders in original, unit.id
    # Every content unit of the original has its rendering.
    assert original - set(ids) == set()


def test_rendering_chunks_link_to_existing_original_chunks() -> None:
    originals = {c.id for c in chunk_document(load(RAW_PAPER.name), 380)}
    for chunk in chunk_document(load("stepping-stones-wp.en.md"), 380):
        assert chunk.renders in originals, chunk.id


def test_glossary_terms_marked_as_used_by_the_paper_occur_in_it() -> None:
    paper = re.sub(r"\s", "", load(RAW_PAPER.name).text)
    text = (CORPUS / "glossary.en-zh.md").read_text(encoding="utf-8")
    used = [t.strip() for line in re.findall(r"^- in paper: (.+)$", text, re.M)
            for t in line.split(";")]
    assert len(used) >= 30
    missing = [t for t in used if re.sub(r"\s", "", t) not in paper]
    assert missing == []


def test_glossary_names_the_instruments_the_issue_lists() -> None:
    chunks = chunk_document(load("glossary.en-zh.md"), 380)
    entries = glossary_entries(chunks)
    english = {name.lower() for e in entries for name in e["en"]}
    for term in ("new start", "ctbt", "ctbto", "international monitoring system", "fmct", "nwfz",
                 "negative security assurances", "ipndv", "group of governmental experts",
                 "open-ended working group", "nws", "nnws", "possessor states",
                 "declaratory policy", "entanglement", "strategic stability", "risk reduction",
                 "hotlines"):
        assert term in english, term
    new_start = next(e for e in entries if "New START" in e["en"])
    assert "进一步削减和限制进攻性战略武器措施条约" in new_start["zh"]


def test_sponsor_and_supporter_counts_in_the_notes_match_the_paper() -> None:
    units = {u.id: u for u in structure(load(RAW_PAPER.name))}
    def states(listing: str) -> list[str]:
        *head, last = listing.split("、")
        return head + last.rsplit("和", 1)  # "…、瑞典和瑞士": only the last 和 joins two names

    sponsors = states(units["sponsors"].text.replace("提交的联合工作文件", ""))
    supporters = states(units["fn-star"].text.replace("本工作文件的内容还得到", "")
                        .replace("的支持。", ""))
    assert len(sponsors) == 15 and len(supporters) == 19
    note = (CORPUS / "stockholm-initiative.note.en.md").read_text(encoding="utf-8")
    assert "Fifteen States submitted" in note and "A further 19 States" in note
