"""Where documents come from: the files under the given folders, and whose ids they may take.

Two rules keep what is indexed from being lost or spoofed (issue #15):
- a folder yields only files inside it: a symbolic link that leads out of it is refused, and
  links that loop or lead nowhere are reported, never silently skipped;
- the bundled corpus owns its document ids: a user's file never takes one, and never takes
  the id of another user file that is still indexed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ingest.documents import Document
from ingest.loaders import SUPPORTED
from ingest.manifest import MANIFESTS, ManifestError, load_manifest

BUNDLED, USER = "bundled", "user"


def discover(paths: Iterable[Path], problems: list[str] | None = None) -> list[Path]:
    """Return the supported files under the given files and folders, sorted, no duplicates.

    Links inside a folder are followed only while they stay inside it; every link refused,
    dangling or looping adds a line naming it to `problems`."""
    found: set[Path] = set()
    problems = [] if problems is None else problems
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.update(_walk(path, problems))
        elif path.is_symlink() and not path.exists():
            problems.append(f"{path}: a symbolic link to {os.readlink(path)}, which does not "
                            "exist; not indexed")
        else:
            found.add(path.resolve())
    return sorted(found)


def _walk(folder: Path, problems: list[str]) -> set[Path]:
    """Return the supported files inside `folder` (hidden names skipped), links checked."""
    root = folder.resolve()
    found: set[Path] = set()
    for dirpath, dirnames, filenames in os.walk(root):  # links to folders are not entered
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames) + [d for d in dirnames if (here / d).is_symlink()]:
            entry = here / name
            if name.startswith("."):
                continue
            if entry.is_symlink():
                target = _link_target(entry, root, problems)
                if target is None or target.is_dir():
                    continue  # a folder inside the root is walked in its own right
                entry = target
            if entry.suffix.lower() in SUPPORTED and entry.is_file():
                found.add(entry)
    return found


def _link_target(link: Path, root: Path, problems: list[str]) -> Path | None:
    """Return where a link inside `root` leads, or None (with a line in `problems`) when it
    loops, leads nowhere or leads outside `root`."""
    try:
        target = link.resolve(strict=True)
    except FileNotFoundError:
        problems.append(f"{link}: a symbolic link to {os.readlink(link)}, which does not exist; "
                        "not indexed")
        return None
    except (RuntimeError, OSError):  # RuntimeError: Python 3.11's word for a loop
        problems.append(f"{link}: a symbolic link that loops back on itself; not indexed")
        return None
    if target != root and root not in target.parents:
        problems.append(f"{link}: a symbolic link to {target}, outside the folder being indexed "
                        f"({root}); refused")
        return None
    return target


def origin_of(path: Path | str, corpus_dir: Path) -> str:
    """Return "bundled" for a file of the bundled corpus, else "user"."""
    corpus = corpus_dir.resolve()
    return BUNDLED if corpus in Path(path).resolve().parents else USER


def stem_id(path: Path) -> str:
    """Return the id a file gets when nothing names one (the loader's rule)."""
    return re.sub(r"[^a-z0-9.\-]+", "-", path.stem.lower()).strip("-") or "document"


def bundled_ids(corpus_dir: Path) -> dict[str, str]:
    """Return the bundled corpus's document ids and their files, from its manifest and names."""
    ids: dict[str, str] = {}
    try:
        manifest = load_manifest(corpus_dir)
    except ManifestError:
        manifest = {}  # reported when the corpus itself is ingested
    for path in discover([corpus_dir]) if corpus_dir.is_dir() else []:
        if path.name not in MANIFESTS:
            ids.setdefault(str(manifest.get(path.name, {}).get("id") or stem_id(path)), str(path))
    for name, entry in manifest.items():
        if entry.get("id"):
            ids.setdefault(str(entry["id"]), str(corpus_dir / name))
    return ids


@dataclass
class Holder:
    """An indexed document: the file it came from and the hash of what was indexed."""

    path: str
    doc_hash: str = ""
    elsewhere: bool = False  # another app host's file (a shared Chroma server)

    @property
    def present(self) -> bool:
        return self.elsewhere or Path(self.path).exists()


def claim_ids(docs: list[Document], corpus_dir: Path, indexed: Mapping[str, Holder],
              prune: bool) -> tuple[list[Document], list[str]]:
    """Return the documents that may take their ids, and a line for each one refused.

    A bundled document always keeps its id. A user document is refused when its id belongs
    to the bundled corpus, or to another file that is indexed and still there; the id of a
    file that is gone passes on only with --prune or to the same text (a moved file)."""
    reserved = {**bundled_ids(corpus_dir), **{d.id: d.path for d in docs if d.origin == BUNDLED}}
    kept: list[Document] = []
    refused: list[str] = []
    for doc in docs:
        holder = indexed.get(doc.id)
        rival = None if doc.origin == BUNDLED else _rival(doc, reserved, holder, prune)
        if rival is None:
            kept.append(doc)
        else:
            refused.append(_clash(doc, rival, doc.id in reserved, holder))
    return kept, refused


def _rival(doc: Document, reserved: Mapping[str, str], holder: Holder | None,
           prune: bool) -> str | None:
    """Return the other file that owns a user document's id, if there is one."""
    owner = reserved.get(doc.id)
    if owner is not None:
        return None if _same_file(owner, doc.path) else owner
    if holder is None or _same_file(holder.path, doc.path):
        return None
    if not holder.present and (prune or holder.doc_hash == doc.hash):
        return None  # its file is gone: pruned in this run, or the same text moved here
    return holder.path


def _same_file(a: str, b: str) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def _clash(doc: Document, other: str, bundled: bool, holder: Holder | None) -> str:
    """One line naming both files and the fix."""
    if bundled:
        owner = f"is reserved for the bundled corpus ({other})"
    elif holder is not None and not holder.present:
        owner = (f"is held by {other}, indexed but gone (`npt-assistant ingest --prune` "
                 "frees the id)")
    else:
        owner = f"is already used by {other}"
    return (f"{doc.path}: document id {doc.id!r} {owner}; not indexed, nothing was replaced. "
            "Rename the file or give it another id (front matter `id:` or documents.yaml)")
