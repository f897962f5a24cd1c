"""Concurrent writers: N `npt-assistant ingest` runs of different folders started at once on
one data dir, while gradio_client sessions ask questions of a chat server on the same index.

What must hold (issue #15, item 3): every run exits 0, no question fails, no document is
lost, and Chroma, the catalog and the BM25 index list exactly the same passages."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ingest.settings import Settings

QUESTIONS = ["What does the paper say about hotlines?", "Which States submitted the paper?",
             "文件对全面禁止核试验条约说了什么？", "What are negative security assurances?"]


def make_folders(root: Path, writers: int, docs: int) -> dict[str, Path]:
    """Return one folder per writer with `docs` documents of their own words each."""
    folders = {}
    for w in range(writers):
        folder = root / f"writer{w}"
        folder.mkdir(parents=True)
        for d in range(docs):
            name = f"w{w}doc{d}"
            (folder / f"{name}.md").write_text(
                f"# Report {name}\n\n## Hotlines\n\nReport {name} finds that hotlines reduce "
                f"risk.\n\n## Testing\n\nReport {name} supports the test-ban treaty.\n",
                encoding="utf-8")
            folders[name] = folder
    return folders


def _env(data: Path, settings: Settings) -> dict[str, str]:
    return {**os.environ, "NPT_DATA_DIR": str(data), "NPT_MODEL_CACHE": str(settings.models_dir),
            "NPT_CORPUS_DIR": str(settings.corpus_dir)}


def _server(data: Path, settings: Settings) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "chat", "--port", str(port)],
                              env=_env(data, settings), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    server.stdout.readline()  # "… ready on …"
    for _ in range(300):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    return server, f"http://127.0.0.1:{port}/"


def _ask_until(url: str, stop: threading.Event, sessions: int) -> dict[str, Any]:
    """Ask questions from `sessions` clients until `stop`; return counts and error samples."""
    from gradio_client import Client

    answers: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        client = Client(url, verbose=False, httpx_kwargs={"timeout": 300})
        i = n
        while not stop.is_set():
            try:
                result = client.predict(QUESTIONS[i % len(QUESTIONS)], None, api_name="/ask")
                ok = isinstance(result, dict) and result.get("error") is None
                problem = "" if ok else str(result.get("error"))[:200]
            except Exception as exc:  # counted and reported
                ok, problem = False, repr(exc)[:200]
            with lock:
                (answers.append(1) if ok else errors.append(problem))
            i += sessions

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(sessions)]
    for t in threads:
        t.start()
    stop.wait()
    for t in threads:
        t.join()
    return {"answers": len(answers), "errors": len(errors), "error_samples": errors[:3]}


def _agreement(data: Path, settings: Settings) -> dict[str, Any]:
    """Count what Chroma, the catalog and BM25 hold, and the documents among them."""
    from ingest.catalog import Catalog
    from ingest.lexical import LexicalIndex
    from ingest.store import Store

    here = settings.model_copy(update={"data_dir": data})
    store = Store(here)
    stored = set(store.ids(store.collection(create=False)))
    catalog = Catalog.load(here.catalog_path)
    listed = set(catalog.ids) if catalog is not None else set()
    lexical = set(LexicalIndex.load(here.lexical_path).ids)
    return {"chroma": len(stored), "catalog": len(listed), "bm25": len(lexical),
            "agree": stored == listed == lexical,
            "documents": {cid.split("#", 1)[0] for cid in stored}}


def run_writers(settings: Settings, writers: int, docs: int = 10, sessions: int = 4
                ) -> dict[str, Any]:
    """Run `writers` ingests at once against a copy of the bundled index, with questions."""
    work = Path(tempfile.mkdtemp(prefix=f"npt-writers{writers}-"))
    data = work / "data"
    try:
        if settings.catalog_path.exists():
            shutil.copytree(settings.data_dir, data,
                            ignore=shutil.ignore_patterns("models", ".ingest.lock", "*.tmp"))
        else:
            subprocess.run([sys.executable, "-m", "assistant.cli", "ingest"], check=True,
                           env=_env(data, settings))
        folders = make_folders(work / "folders", writers, docs)
        server, url = _server(data, settings)
        stop = threading.Event()
        asked: dict[str, Any] = {}
        asker = threading.Thread(target=lambda: asked.update(_ask_until(url, stop, sessions)))
        asker.start()
        started = time.perf_counter()
        runs = [subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", str(folder)],
                                 env=_env(data, settings), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
                for folder in sorted(set(folders.values()))]
        outcomes = [(run.wait(timeout=3600), (run.stderr.read() if run.stderr else ""))
                    for run in runs]
        seconds = time.perf_counter() - started
        stop.set()
        asker.join()
        server.terminate()
        server.wait(timeout=60)
        held = _agreement(data, settings)
        lost = sorted(set(folders) - held.pop("documents"))
        return {"writers": writers, "documents_added": len(folders), "seconds": seconds,
                "ingest_exit": [rc for rc, _ in outcomes],
                "waited": sum("waiting" in err for _, err in outcomes),
                "lost_documents": len(lost), "lost_samples": lost[:5], **held,
                "question_answers": asked.get("answers", 0),
                "question_errors": asked.get("errors", 0),
                "question_error_samples": asked.get("error_samples", [])}
    finally:
        shutil.rmtree(work, ignore_errors=True)
