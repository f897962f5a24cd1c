"""npt-assistant: ingest | ask | chat | eval. A thin layer over the library; imports lazily."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.settings import Settings, apply_offline_env

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from rich.table import Table

    from ingest.pipeline import ingest

    console = Console(stderr=True)
    if args.kind and not args.paths:
        console.print("[red]error[/red] --kind declares the kind of the files or folders given "
                      "with it: name them (npt-assistant ingest --kind official PATH)")
        return 2
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("embedding", total=None)

        def tick(doc_id: str, done: int, total: int) -> None:
            bar.update(task, description=f"embedding {doc_id}", completed=done, total=total)

        def waiting(message: str) -> None:
            console.print(f"[yellow]waiting[/yellow] {message}", highlight=False, soft_wrap=True)

        report = ingest([Path(p) for p in args.paths] or None, settings, rebuild=args.rebuild,
                        prune=args.prune, progress=tick, kind=args.kind, notice=waiting,
                        wait=args.wait)
    # soft_wrap: a path cut in two by the terminal width cannot be copied back
    for line in report.errors:
        console.print(f"[red]error[/red] {line}", highlight=False, soft_wrap=True)
    for doc_id in report.missing:
        console.print(f"[yellow]note[/yellow] {doc_id}: its file is gone; "
                      "`npt-assistant ingest --prune` removes it from the index", soft_wrap=True)
    table = Table(title="ingest summary", show_header=False)
    for name, value in summary_rows(report):
        table.add_row(name, value)
    console.print(table)
    return 0 if report.ok else 2


def _named(ids: list[str], most: int = 8) -> str:
    """`3: a, b, c` — a count with the names, the list cut after `most`."""
    shown = ", ".join(sorted(ids)[:most]) + (f" … and {len(ids) - most} more" if len(ids) > most else "")
    return f"{len(ids)}" + (f": {shown}" if ids else "")


def summary_rows(report: IngestReport) -> list[tuple[str, str]]:
    """The ingest summary: what changed, document by document, and what the index now holds."""
    return [("added", _named(report.added)), ("replaced", _named(report.updated)),
            ("removed", _named(report.pruned)), ("kept", _named(report.kept)),
            ("failed files", str(len(report.errors))),
            ("documents in index", str(report.documents_total)),
            ("passages in index", str(report.chunks_total)),
            ("passages embedded", str(report.chunks_embedded)),
            ("tokens embedded", str(report.tokens_embedded)),
            ("seconds", f"{report.seconds:.1f}"), ("passages/s", f"{report.chunks_per_second:.1f}")]


def build_parser() -> argparse.ArgumentParser:
    """Return the `npt-assistant` parser: one subcommand per task, each with its own help."""
    parser = argparse.ArgumentParser(
        prog="npt-assistant",
        description="Cited answers on the Stepping Stones working paper and related NPT texts.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_ingest_parser, _ask_parser, _chat_parser, _hash_password_parser, _eval_parser):
        add(sub)
    return parser


def _ingest_parser(sub: Any) -> None:
    p = sub.add_parser("ingest", help="index documents (default: corpus/ and data/documents/)",
                       description="Index documents incrementally: unchanged ones are skipped, "
                                   "changed ones replaced. Exit status 2 if any file failed.")
    p.add_argument("paths", nargs="*", help="files or folders (.txt .md .pdf .docx .html)")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything into a new index")
    p.add_argument("--prune", action="store_true",
                   help="remove indexed documents whose files no longer exist")
    p.add_argument("--kind", choices=["official", "rendering", "note", "user"], default=None,
                   help="the kind of every given file that names none itself (front matter or "
                        "documents.yaml), e.g. --kind official for a folder of official texts")
    p.add_argument("--wait", type=float, default=600.0, metavar="SECONDS",
                   help="how long to wait for another ingest writing to the same data dir "
                        "before giving up (default 600)")
    p.set_defaults(func=_ingest)


def _ask_parser(sub: Any) -> None:
    p = sub.add_parser("ask", help="answer one question with cited passages")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    p.add_argument("--k", type=int, default=None, help="passages to retrieve (default 5)")
    p.add_argument("--doc", action="append", default=[], help="only this document id (repeat)")
    p.add_argument("--lang", choices=["en", "zh"], help="only passages in this language")
    p.add_argument("--kind", action="append", default=[],
                   choices=["official", "rendering", "note", "user"], help="only this kind")
    p.set_defaults(func=_ask)


def _chat_parser(sub: Any) -> None:
    p = sub.add_parser("chat", help="start the chat UI (Gradio)")
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--auth", default=None,
                   help="user:password required to use the UI (visible in `ps` to every user "
                        "of the machine: prefer --auth-file)")
    p.add_argument("--auth-file", type=Path, default=None, metavar="FILE",
                   help="file whose first line is user:password or user:scrypt$… (from "
                        "`npt-assistant hash-password USER`); also NPT_AUTH_FILE")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow binding a non-loopback address without --auth")
    p.set_defaults(func=_chat)


def _hash_password_parser(sub: Any) -> None:
    p = sub.add_parser("hash-password", help="print a login line for --auth-file",
                       description="Read a password (typed, or the first line of stdin) and "
                                   "print USER:scrypt$… for an --auth-file / NPT_AUTH_FILE, "
                                   "so the file never holds the password itself.")
    p.add_argument("user")
    p.set_defaults(func=_hash_password)


def _eval_parser(sub: Any) -> None:
    p = sub.add_parser("eval", help="evaluation harness")
    esub = p.add_subparsers(dest="eval_command", required=True)
    r = esub.add_parser("run", help="run a question set and write report.json/.md/.png")
    r.add_argument("set", type=Path)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--k", type=int, default=5)
    r.add_argument("--baseline", type=Path, default=None, help="an earlier report.json")
    r.add_argument("--tolerance", type=float, default=0.02,
                   help="a metric may drop by this much, or one question's worth if larger")
    r.add_argument("--accept-config-change", action="store_true",
                   help="compare even though the embedder or the corpus changed since the baseline")
    r.set_defaults(func=_eval_run)


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.core import Assistant, Filters

    if re.search(r"[\u3400-\u9fff]", args.question):
        # A Chinese question needs the segmenter (~0.8 s to load): load it while the index
        # loads, not after.
        from ingest.lexical import warm_up

        threading.Thread(target=warm_up, name="jieba-warm-up", daemon=True).start()
    assistant = Assistant(settings)
    answer = assistant.ask(args.question, k=args.k or None,
                           filters=Filters(docs=args.doc, lang=args.lang, kinds=args.kind))
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(answer.as_text())
    return 0


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.ui.app import launch

    return launch(settings, host=args.host, port=args.port, auth=args.auth,
                  allow_remote=args.allow_remote, auth_file=args.auth_file)


def _hash_password(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from assistant.ui.auth import hash_password

    # From the terminal without echo, or the first line of stdin (scripts).
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline()
    password = password.rstrip("\r\n")
    if not password:
        print("error: empty password", file=sys.stderr)
        return 2
    print(f"{args.user}:{hash_password(password)}")
    return 0


def _eval_run(args: argparse.Namespace, settings: Settings) -> int:
    from eval.run import main as eval_main

    return eval_main(args.set, args.out, settings, k=args.k, baseline=args.baseline,
                     tolerance=args.tolerance, accept_config_change=args.accept_config_change)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `npt-assistant` command; returns the exit status."""
    apply_offline_env()
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from ingest.store import StoreError

    try:
        return int(args.func(args, Settings()) or 0)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `npt-assistant ask … | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
