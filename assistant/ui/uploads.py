"""Files a person adds in the Documents tab: checked, named safely, kept in `<data_dir>/documents/`.

A browser supplies a file name and bytes; neither may decide where anything is written, read or
deleted. Every path here is one sanitised name inside that one folder, a symbolic link anywhere
on the way is refused, and a file is written under a hidden name (which ingest never reads) and
renamed into place only when it is complete.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from assistant.ui.strings import t

# ingest.loaders.SUPPORTED, spelled out so the UI does not import the PDF and DOCX readers
# at start (a test keeps the two equal).
ALLOWED = (".txt", ".md", ".markdown", ".pdf", ".docx", ".html", ".htm")
TEXT_TYPES = (".txt", ".md", ".markdown", ".html", ".htm")
MAX_STEM = 80  # characters: long enough for a UN title, short for any file system
SNIFF = 8192
FOLDER = "documents"  # ingest.pipeline.default_paths indexes <data_dir>/documents too
MAX_FILES = 5  # per upload; the browser sends them in one request
FORM_BYTES = 1_000_000  # room for the multipart framing around the files


class UploadError(ValueError):
    """A file cannot be added or removed. `code` picks the message in the UI's language; its
    text (English) names the file, the rule and the fix."""

    def __init__(self, code: str, **fields: object) -> None:
        self.code, self.fields = code, fields
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        """Return the explanation in a UI language."""
        return t(lang, f"docs_err_{self.code}").format(**self.fields)


def safe_name(name: str) -> str:
    """Return the file name an upload is stored under: no folders, no hidden or control
    characters, letters (any script), digits and `-_.` only, the type checked and lower-cased.

    A name with no ASCII letter or digit (a Chinese title) gets `document-<8 hex>-` in front,
    from the original name, because ingest derives document ids from ASCII only and two such
    files would otherwise claim the same id."""
    base = re.split(r"[\\/]", str(name))[-1]
    base = unicodedata.normalize("NFKC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    stem, dot, ext = base.rpartition(".")
    suffix = f".{ext.lower()}" if dot else ""
    if suffix not in ALLOWED:
        raise UploadError("type", file=_shown(name), type=suffix or t("en", "docs_no_type"),
                          allowed=", ".join(ALLOWED))
    stem = re.sub(r"[^\w.\-]+", "-", stem)
    stem = re.sub(r"-{2,}", "-", stem).strip("-._")[:MAX_STEM].rstrip("-._")
    if not re.search(r"[A-Za-z0-9]", stem):
        tag = hashlib.sha1(str(name).encode("utf-8", "replace")).hexdigest()[:8]
        stem = f"document-{tag}" + (f"-{stem}" if stem else "")
    return stem + suffix


def _shown(name: object) -> str:
    """A name as it may appear in a message: one line, not endless."""
    text = " ".join(str(name).split())
    return text if len(text) <= 120 else text[:117] + "…"


def check_content(head: bytes, suffix: str, name: str) -> None:
    """Raise UploadError unless the first bytes of a file fit its type (a renamed program or
    image is refused before anything parses it)."""
    fits = {".pdf": head.startswith(b"%PDF-"), ".docx": head.startswith(b"PK\x03\x04")}
    ok = fits.get(suffix, b"\0" not in head)  # text types: no NUL bytes
    if not ok:
        raise UploadError("content", file=_shown(name), type=suffix.lstrip(".").upper())


@dataclass
class Saved:
    """A file just put into the folder, with the version it replaced until ingest accepts it."""

    path: Path
    original: str  # the name as uploaded, for messages
    backup: Path | None = None

    @property
    def replaced(self) -> bool:
        return self.backup is not None

    def keep(self) -> None:
        """Ingest read the new file: the previous version goes."""
        if self.backup is not None:
            self.backup.unlink(missing_ok=True)

    def undo(self) -> None:
        """Ingest refused the new file: put back what was there before (or nothing)."""
        if self.backup is not None:
            os.replace(self.backup, self.path)
        else:
            self.path.unlink(missing_ok=True)


class DocumentFolder:
    """`<data_dir>/documents/`: the only place the UI writes, reads back or deletes files."""

    def __init__(self, data_dir: Path, max_bytes: int) -> None:
        self.path = Path(data_dir) / FOLDER
        self.max_bytes = max_bytes

    def root(self) -> Path:
        """Return the folder (created when missing); refuse one that is a link or no folder,
        since writing through it would land outside the data dir."""
        if self.path.is_symlink() or (self.path.exists() and not self.path.is_dir()):
            raise UploadError("folder", folder=str(self.path))
        self.path.mkdir(parents=True, exist_ok=True)
        return self.path.resolve()

    def target(self, name: str) -> Path:
        """Return where an upload called `name` is stored; refuse a link or a non-file there."""
        root = self.root()
        path = root / safe_name(name)
        if path.parent != root:  # cannot happen after safe_name; kept as the last word
            raise UploadError("outside", file=_shown(name), folder=str(root))
        if path.is_symlink():
            raise UploadError("link", file=path.name)
        if path.exists() and not path.is_file():
            raise UploadError("not_file", file=path.name)
        return path

    def add(self, source: Path, name: str) -> Saved:
        """Copy an uploaded file into the folder under its safe name; return what was saved."""
        target = self.target(name)
        tmp = self._copy(Path(source), name, target.suffix)
        backup = None
        if target.exists():
            backup = target.with_name(f".previous-{target.name}")
            os.replace(target, backup)
        os.replace(tmp, target)  # a rename: never follows a link put there meanwhile
        return Saved(target, str(name), backup)

    def _copy(self, source: Path, name: str, suffix: str) -> Path:
        """Copy `source` to a hidden file in the folder, checking size and type; return it."""
        try:
            fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:  # ELOOP: the upload itself is a link
            raise UploadError("link" if source.is_symlink() else "unreadable",
                              file=_shown(name), reason=exc.strerror) from exc
        with os.fdopen(fd, "rb") as src:
            info = os.fstat(src.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise UploadError("not_file", file=_shown(name))
            self._check_size(info.st_size, name)
            head = src.read(SNIFF)
            check_content(head, suffix, name)
            out_fd, tmp = tempfile.mkstemp(dir=self.root(), prefix=".upload-", suffix=suffix)
            try:
                with os.fdopen(out_fd, "wb") as out:
                    out.write(head)
                    written = len(head)
                    while block := src.read(1 << 20):
                        written += len(block)
                        self._check_size(written, name)  # the file grew while being copied
                        out.write(block)
                    out.flush()
                    os.fsync(out.fileno())
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return Path(tmp)

    def _check_size(self, size: int, name: str) -> None:
        if size > self.max_bytes:
            raise UploadError("size", file=_shown(name), size=_size(size), limit=_size(self.max_bytes))

    def holds(self, path: str | Path) -> bool:
        """True when `path` is a file inside the folder reached without any link."""
        path = Path(path)
        root = self.path.resolve()
        return path.is_absolute() and path.resolve() == path and root in path.parents

    def remove(self, path: str | Path, title: str) -> None:
        """Delete one stored document file; refuse anything outside the folder or a link."""
        path = Path(path)
        if path.is_symlink():
            raise UploadError("link", file=_shown(title))
        if not self.holds(path) or self.path.is_symlink():
            raise UploadError("outside", file=_shown(title), folder=str(self.path))
        path.unlink(missing_ok=True)  # already gone: the ingest that follows prunes it


def upload_body_limit(max_file_bytes: int) -> int:
    """Return the bytes one upload request may carry: MAX_FILES files at the size limit."""
    return MAX_FILES * max_file_bytes + FORM_BYTES


def _size(size: int) -> str:
    """A size as a person reads it (decimal units, as file managers show them)."""
    if size >= 100_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{size / 1000:.1f} KB" if size >= 1000 else f"{size} bytes"
