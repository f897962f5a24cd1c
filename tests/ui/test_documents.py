"""The Documents tab's rules: where an upload may be stored, under which name, what is refused
and how it is said; which documents may be removed; the list; the background ingest."""

from __future__ import annotations

import os
import string
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.ui.documents import (
    DocumentRow,
    _Tab,
    list_documents,
    login_missing,
    removable,
    removal_refusal,
    status_html,
    table,
)
from assistant.ui.ingest_job import IngestJob
from assistant.ui.strings import t
from assistant.ui.uploads import ALLOWED, DocumentFolder, UploadError, safe_name
from ingest.catalog import Catalog
from ingest.documents import Chunk

PDF_HEAD = b"%PDF-1.4\n"


@pytest.mark.parametrize("given_name, stored", [
    ("../../etc/passwd.md", "passwd.md"),
    ("..\\..\\Windows\\evil.txt", "evil.txt"),
    (".hidden.md", "hidden.md"),
    ("My Report (final).PDF", "My-Report-final.pdf"),
    ("a\x00b\nc.md", "abc.md"),
    ("ｆｕｌｌｗｉｄｔｈ.md", "fullwidth.md"),
    ("NPT_RevCon-2026.v2.docx", "NPT_RevCon-2026.v2.docx"),
    ("-- .md", "document-4f6f2a4c.md"),
])
def test_an_upload_is_stored_under_a_plain_name_without_folders(given_name: str, stored: str) -> None:
    if stored.startswith("document-"):
        assert safe_name(given_name).startswith("document-") and safe_name(given_name).endswith(".md")
    else:
        assert safe_name(given_name) == stored


def test_a_name_in_chinese_keeps_its_words_and_gets_an_id_of_its_own() -> None:
    one, other = safe_name("不扩散条约.pdf"), safe_name("最后文件.pdf")
    assert one.startswith("document-") and one.endswith("-不扩散条约.pdf")
    assert one[:17] != other[:17]  # two Chinese names never share a document id


def test_a_long_name_is_cut_short() -> None:
    assert len(safe_name("x" * 500 + ".md")) <= 80 + len(".md")


@pytest.mark.parametrize("name", ["evil.exe", "no-type", "report.pdf.exe", "documents.yaml",
                                  "", "photo.PNG", "archive.zip"])
def test_other_types_are_refused_naming_the_file_and_the_accepted_types(name: str) -> None:
    with pytest.raises(UploadError) as err:
        safe_name(name)
    assert err.value.code == "type"
    assert ".pdf" in str(err.value) and ".docx" in str(err.value)
    assert "不能添加" in err.value.message("zh")


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=60), st.sampled_from(ALLOWED))
def test_no_name_leads_out_of_the_folder_or_hides(stem: str, suffix: str) -> None:
    name = safe_name(stem + suffix)
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith((".", "-")) and name.endswith(suffix)
    assert (Path("/data/documents") / name).parent == Path("/data/documents")
    assert any(c in string.ascii_letters + string.digits for c in Path(name).stem)


def test_the_accepted_types_are_those_ingest_reads() -> None:
    from ingest.loaders import SUPPORTED

    assert set(ALLOWED) == set(SUPPORTED)


# -- storing ---------------------------------------------------------------------------------

def upload(tmp_path: Path, name: str, data: bytes) -> Path:
    """A file as Gradio leaves it in its upload folder."""
    folder = tmp_path / "gradio" / "abc123"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


def test_an_upload_is_copied_into_the_documents_folder(tmp_path: Path) -> None:
    folder = DocumentFolder(tmp_path / "data", max_bytes=10_000)
    saved = folder.add(upload(tmp_path, "brief.md", b"# Brief\n\nText.\n"), "Brief on hotlines.md")
    assert saved.path == (tmp_path / "data" / "documents" / "Brief-on-hotlines.md").resolve()
    assert saved.path.read_bytes() == b"# Brief\n\nText.\n" and not saved.replaced
    assert [p.name for p in saved.path.parent.iterdir()] == ["Brief-on-hotlines.md"]  # no temp left


def test_an_oversized_file_is_refused_naming_the_file_and_the_limit(tmp_path: Path) -> None:
    folder = DocumentFolder(tmp_path / "data", max_bytes=1_000)
    with pytest.raises(UploadError) as err:
        folder.add(upload(tmp_path, "big.txt", b"x" * 2_500), "big.txt")
    assert str(err.value).startswith("big.txt: 2.5 KB, over the limit of 1.0 KB")
    assert "big.txt" in err.value.message("zh") and "1.0 KB" in err.value.message("zh")
    assert list(folder.path.iterdir()) == []


@pytest.mark.parametrize("name, data", [
    ("paper.pdf", b"<html>not a pdf</html>"),
    ("brief.docx", b"%PDF-1.4 a pdf named docx"),
    ("notes.md", b"MZ\x90\x00\x03\x00 a program"),
])
def test_content_that_does_not_fit_its_type_is_refused(tmp_path: Path, name: str, data: bytes) -> None:
    folder = DocumentFolder(tmp_path / "data", max_bytes=10_000)
    with pytest.raises(UploadError) as err:
        folder.add(upload(tmp_path, name, data), name)
    assert err.value.code == "content" and name in str(err.value)
    assert list(folder.path.iterdir()) == []


def test_an_upload_that_is_a_link_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password", encoding="utf-8")
    link = tmp_path / "gradio" / "link.txt"
    link.parent.mkdir()
    link.symlink_to(secret)
    folder = DocumentFolder(tmp_path / "data", max_bytes=10_000)
    with pytest.raises(UploadError) as err:
        folder.add(link, "link.txt")
    assert err.value.code == "link"
    assert list(folder.path.iterdir()) == []


def test_a_link_in_the_folder_is_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("keep me", encoding="utf-8")
    folder = DocumentFolder(tmp_path / "data", max_bytes=10_000)
    folder.root()
    (folder.path / "report.md").symlink_to(outside)
    with pytest.raises(UploadError) as err:
        folder.add(upload(tmp_path, "report.md", b"# New\n"), "report.md")
    assert err.value.code == "link" and "report.md" in str(err.value)
    assert outside.read_text(encoding="utf-8") == "keep me"


def test_a_documents_folder_that_is_a_link_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "documents").symlink_to(elsewhere, target_is_directory=True)
    folder = DocumentFolder(tmp_path / "data", max_bytes=10_000)
    with pytest.raises(UploadError) as err:
        folder.add(upload(tmp_path, "a.md", b"# A\n"), "a.md")
    assert err.value.code == "folder" and "symbolic link" in str(err.value)
    assert list(elsewhere.iterdir()) == []


def test_a_replaced_file_comes_back_when_ingest_refuses_the_new_one(tmp_path: Path) -> None:
    folder = DocumentFolder(tmp_path / "data", max_bytes=10_000)
    first = folder.add(upload(tmp_path, "a.md", b"# Old\n"), "a.md")
    first.keep()
    second = folder.add(upload(tmp_path, "a.md", b"# New\n"), "a.md")
    assert second.replaced and second.path.read_bytes() == b"# New\n"
    second.undo()
    assert second.path.read_bytes() == b"# Old\n"
    assert sorted(p.name for p in folder.path.iterdir()) == ["a.md"]
    third = folder.add(upload(tmp_path, "a.md", b"# Newer\n"), "a.md")
    third.keep()
    assert sorted(p.name for p in folder.path.iterdir()) == ["a.md"]


def test_remove_deletes_only_files_inside_the_folder(tmp_path: Path) -> None:
    folder = DocumentFolder(tmp_path / "data", max_bytes=10_000)
    saved = folder.add(upload(tmp_path, "a.md", b"# A\n"), "a.md")
    outside = tmp_path / "outside.md"
    outside.write_text("keep", encoding="utf-8")
    sneaky = str(folder.path.resolve()) + "/../../outside.md"
    for path in (outside, Path(sneaky), Path("a.md")):
        with pytest.raises(UploadError) as err:
            folder.remove(path, "Outside")
        assert err.value.code == "outside"
    link = folder.path / "link.md"
    link.symlink_to(outside)
    with pytest.raises(UploadError):
        folder.remove(link, "Link")
    assert outside.exists() and link.is_symlink()
    folder.remove(saved.path, "A")
    assert not saved.path.exists()


# -- listing and removing ----------------------------------------------------------------------

def chunk(doc: str, n: int, origin: str, source: str, kind: str = "user", lang: str = "en") -> Chunk:
    return Chunk(id=f"{doc}#p{n}", doc_id=doc, doc_title=doc.title(), doc_kind=kind, language=lang,
                 locator=f"Paragraph {n}", text=f"text {n}", span=(0, 1), position=n,
                 unit_kind="paragraph", origin=origin, added_by="delegate",
                 added_at="2026-12-02T17:07:00Z", source_file=source)


@pytest.fixture
def rows(tmp_path: Path) -> list[DocumentRow]:
    folder = DocumentFolder(tmp_path / "data", max_bytes=10_000).root()
    chunks = [chunk("paper", i, "bundled", "/corpus/paper.txt", "official", "zh") for i in range(3)]
    chunks += [chunk("upload", i, "user", str(folder / "upload.md")) for i in range(2)]
    chunks += [chunk("mine", 0, "user", "/home/me/docs/mine.md", "note")]
    return list_documents(Catalog.from_chunks(chunks))


def test_the_list_names_every_document_with_its_passages(rows: list[DocumentRow],
                                                         tmp_path: Path) -> None:
    assert [(r.doc_id, r.passages) for r in rows][-1] == ("paper", 3)
    assert {r.doc_id: r.passages for r in rows} == {"paper": 3, "upload": 2, "mine": 1}
    folder = DocumentFolder(tmp_path / "data", max_bytes=10_000)
    cells = {c[0]: c for c in table(rows, folder, t, "en")}
    assert cells["Paper"][1:] == ["official text", "Chinese", 3, "2026-12-02 17:07 UTC", "delegate",
                                  "bundled corpus"]
    assert cells["Upload"][6] == "uploaded: upload.md"
    assert cells["Mine"][6] == "command line: /home/me/docs"
    assert table(rows, folder, t, "zh")[-1][1:3] == ["正式文本", "中文"]


def test_only_uploads_can_be_removed_and_the_bundled_corpus_never(rows: list[DocumentRow],
                                                                   tmp_path: Path) -> None:
    folder = DocumentFolder(tmp_path / "data", max_bytes=10_000)
    assert removable(rows, folder) == [("Upload (upload.md)", "upload")]
    by_id = {r.doc_id: r for r in rows}
    assert removal_refusal(by_id["upload"], "upload", folder) is None
    bundled = removal_refusal(by_id["paper"], "paper", folder)
    assert bundled is not None and "bundled corpus and cannot be removed" in str(bundled)
    cli = removal_refusal(by_id["mine"], "mine", folder)
    assert cli is not None and "/home/me/docs" in str(cli) and "--prune" in str(cli)
    assert removal_refusal(None, "gone", folder) is not None


def test_a_login_is_required_when_one_is_configured(make_settings) -> None:  # type: ignore[no-untyped-def]
    def request(auth: object, user: str | None) -> SimpleNamespace:
        app = SimpleNamespace(auth=auth, auth_dependency=None)
        return SimpleNamespace(request=SimpleNamespace(app=app), username=user)

    open_settings = make_settings()
    assert login_missing(request(lambda u, p: True, None), open_settings)
    assert not login_missing(request(lambda u, p: True, "delegate"), open_settings)
    assert not login_missing(request(None, None), open_settings)
    assert login_missing(None, make_settings(auth="delegate:s3cret"))


# -- the edge lets uploads through only within their limit -------------------------------------

def test_uploads_pass_the_edge_within_their_own_limit_and_nothing_else_does() -> None:
    from starlette.middleware.body_limit import RequestBodyLimitMiddleware
    from starlette.testclient import TestClient

    from assistant.ui.edge import EdgeGuard

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        size, more = 0, True
        while more:
            message = await receive()
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(size).encode()})

    # the small limit every request has, outside the guard (as FastAPI puts it)
    client = TestClient(RequestBodyLimitMiddleware(EdgeGuard(app, upload_bytes=5_000), 1_000))
    assert client.post("/gradio_api/upload", content=b"x" * 4_000).status_code == 200
    assert client.post("/gradio_api/upload", content=b"x" * 6_000).status_code == 413
    assert client.post("/gradio_api/queue/join", content=b"x" * 2_000).status_code == 413
    closed = TestClient(RequestBodyLimitMiddleware(EdgeGuard(app), 1_000))
    assert closed.post("/gradio_api/upload", content=b"x").status_code == 403


# -- the tab's actions, with a real ingest ------------------------------------------------------

class Refreshing:
    """Stands in for the assistant: counts the reloads it is asked for."""

    def __init__(self) -> None:
        self.calls = 0

    def refresh(self) -> bool:
        self.calls += 1
        return True


@pytest.fixture
def small_index(make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from ingest.pipeline import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "base.md").write_text("# Base\n\n## One\n\nA bundled passage on verification.\n",
                                    encoding="utf-8")
    settings = make_settings(corpus_dir=corpus, max_file_bytes=50_000)
    assert ingest(None, settings).ok
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    return settings


def test_an_upload_is_indexed_in_the_background_then_removed(small_index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assistant = Refreshing()
    tab = _Tab(assistant, small_index, t, DocumentFolder(small_index.data_dir, 50_000))
    good = upload(tmp_path, "Kestrel brief.md", b"# Kestrel exercise\n\n## Findings\n\n"
                  b"Twelve inspectors from seven States took part in the Kestrel exercise.\n")
    bad = upload(tmp_path, "virus.exe", b"MZ")
    notes, started = tab.add([str(good), str(bad)], "official", "en", None)
    assert started and len(notes) == 1 and notes[0].startswith("virus.exe: files of type .exe")
    state = tab.job.wait(300)
    assert state.phase == "done" and state.report.added == ["kestrel-brief"], state.report.errors
    assert state.refreshed is True and assistant.calls == 1
    summary = status_html(state, t, "en")
    assert "Added:</b> Kestrel exercise" in summary and "now answers from the new index" in summary
    manifest = (small_index.data_dir / "documents" / "documents.yaml").read_text(encoding="utf-8")
    assert "kind: official" in manifest
    listed = {r.doc_id: r for r in tab.rows()}
    assert listed["kestrel-brief"].kind == "official" and listed["kestrel-brief"].origin == "user"

    refused, began = tab.remove("base", "en", None)
    assert not began and "bundled corpus" in refused[0]
    _, began = tab.remove("kestrel-brief", "en", None)
    assert began
    state = tab.job.wait(300)
    assert state.report.pruned == ["kestrel-brief"]
    assert "Removed:</b> Kestrel exercise" in status_html(state, t, "en")
    assert "kestrel-brief" not in {r.doc_id for r in tab.rows()}
    assert not (small_index.data_dir / "documents" / "Kestrel-brief.md").exists()


def test_a_file_ingest_cannot_read_is_not_kept(small_index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tab = _Tab(object(), small_index, t, DocumentFolder(small_index.data_dir, 50_000))
    broken = upload(tmp_path, "broken.pdf", PDF_HEAD + b"this is no PDF body")
    _, started = tab.add([str(broken)], "user", "en", None)
    assert started
    state = tab.job.wait(300)
    assert state.report.added == [] and [name for name, _ in state.refused] == ["broken.pdf"]
    assert not (small_index.data_dir / "documents" / "broken.pdf").exists()
    summary = status_html(state, t, "en")
    assert "Not added:</b> broken.pdf" in summary
    assert "Restart the server" in summary  # this stand-in assistant cannot reload


def test_a_file_from_outside_the_upload_folder_is_never_read(small_index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tab = _Tab(object(), small_index, t, DocumentFolder(small_index.data_dir, 50_000))
    private = tmp_path / "private.md"
    private.write_text("# Private\n", encoding="utf-8")
    notes, started = tab.add([str(private)], "user", "en", None)
    assert not started and "outside the folder" in notes[0]
    assert not (small_index.data_dir / "documents" / "private.md").exists()


def test_one_ingest_at_a_time(small_index) -> None:  # type: ignore[no-untyped-def]
    job = IngestJob(small_index, object())
    assert job.begin("add") and not job.begin("remove")
    job.abort()
    assert job.begin("remove")
    job.abort()
    assert not os.path.exists(small_index.data_dir / "documents")
