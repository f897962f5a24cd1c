"""A folder yields only what is inside it: links out are refused, broken links reported.

Issue #15, item 4: `data/documents/innocent.md -> /outside/secret.txt` was indexed and quoted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ingest.pipeline import ingest
from tests.conftest import PROJECT_ROOT
from tests.ingest.test_faults import cli_env
from tests.ingest.test_pipeline import snapshot

NOTE = "# Note\n\n## Hotlines\n\nHotlines reduce the risk of accidents.\n"


def linked_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A documents folder with one real file, one link inside, and every kind of bad link."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("The launch codes are 0000.", encoding="utf-8")
    docs = tmp_path / "documents"
    (docs / "sub").mkdir(parents=True)
    (docs / "note.md").write_text(NOTE, encoding="utf-8")
    os.symlink(docs / "note.md", docs / "sub" / "same-note.md")  # inside: fine, indexed once
    os.symlink(secret, docs / "innocent.md")  # out of the folder
    os.symlink(outside, docs / "shared")  # a folder out of it
    os.symlink(docs / "missing.md", docs / "dangling.md")
    os.symlink(docs / "loop-b.md", docs / "loop-a.md")
    os.symlink(docs / "loop-a.md", docs / "loop-b.md")
    os.symlink(docs, docs / "sub" / "back-up")  # a folder loop
    return docs, secret


def test_links_out_of_the_folder_are_refused_and_broken_ones_reported(make_settings,
                                                                      tmp_path: Path) -> None:
    docs, secret = linked_folder(tmp_path)
    settings = make_settings(corpus_dir=tmp_path / "none")
    report = ingest([docs], settings)
    assert report.added == ["note"]  # the real file, once, whatever links point at it
    assert "secret" not in " ".join(snapshot(settings)) and not any(
        "launch codes" in c for c in _texts(settings))
    lines = "\n".join(report.errors)
    assert f"{docs / 'innocent.md'}: a symbolic link to {secret}, outside the folder" in lines
    assert f"{docs / 'shared'}: a symbolic link to {secret.parent}, outside the folder" in lines
    assert f"{docs / 'dangling.md'}: a symbolic link to {docs / 'missing.md'}, which does " \
           "not exist" in lines
    assert f"{docs / 'loop-a.md'}: a symbolic link that loops" in lines
    assert f"{docs / 'loop-b.md'}: a symbolic link that loops" in lines
    assert len(report.errors) == 5  # the folder loop inside the folder is not followed


def test_the_cli_names_each_refused_link_and_exits_2(tmp_path: Path) -> None:
    docs, _ = linked_folder(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(docs)],
                          env=cli_env(tmp_path / "data", tmp_path / "none"), cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr
    err = " ".join(proc.stderr.split())  # rich wraps long lines
    assert "innocent.md: a symbolic link to" in err and "refused" in err
    assert "dangling.md" in err and "loop-a.md" in err and "Traceback" not in err


def _texts(settings) -> list[str]:  # type: ignore[no-untyped-def]
    from ingest.store import Store

    return [c.text for c in Store(settings).all_chunks()]
