"""Shared fixtures: real corpora in temporary data dirs, the real embedder, real Chroma."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest.settings import PROJECT_ROOT, Settings, apply_offline_env


def isolate_environment() -> None:
    """Make the suite test the defaults, whatever the developer's shell or checkout holds.

    Every NPT_* variable is dropped, and NPT_CONFIG names an empty TOML file, so an npt.toml
    in the repo root (which Settings would read) is ignored, here and in every subprocess the
    tests start. Models stay shared: fixtures pass MODEL_CACHE explicitly."""
    for key in [k for k in os.environ if k.startswith("NPT_")]:
        del os.environ[key]
    folder = tempfile.mkdtemp(prefix="npt-tests-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    empty = Path(folder) / "npt.toml"
    empty.write_text("# the test suite runs on default settings\n", encoding="utf-8")
    os.environ["NPT_CONFIG"] = str(empty)


isolate_environment()
apply_offline_env()

CORPUS = PROJECT_ROOT / "corpus"
RAW_PAPER = CORPUS / "stepping-stones-wp.zh.raw.txt"
# Small user documents for tests of user-added files: a hotline brief in both languages and an
# unrelated treaty, so a question has one right answer and one clear distractor.
USER_DOCS = {
    "hotlines.md": "# Crisis hotlines\n\n## Channels\n\nHotlines between the capitals of "
                   "nuclear-weapon States and risk reduction centres lower the risk of "
                   "nuclear use in a crisis.\n",
    "antarctic.md": "# The Antarctic Treaty\n\n## Demilitarisation\n\nThe Antarctic Treaty "
                    "reserves Antarctica for peaceful purposes; nuclear explosions and the "
                    "disposal of radioactive waste there are prohibited.\n",
    "rexian.md": "# 热线简报\n\n## 危机沟通\n\n核武器国家之间建立热线和降低风险中心，以便在危机中"
                 "降低使用核武器的风险。\n",
}
# Built models are shared across tests and runs: converting the weights takes ~10 s.
MODEL_CACHE = PROJECT_ROOT / "data" / "models"


def seconds_until(condition: Callable[[], bool], limit: float = 30.0, every: float = 0.05) -> float:
    """Seconds until `condition()` holds (polling); `limit` + 1 if it never does. For tests of
    what a running server sees "within N seconds"."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if condition():
            return time.monotonic() - start
        time.sleep(every)
    return limit + 1


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Return a factory of settings pointing at a fresh data dir under tmp_path."""

    def factory(**overrides: object) -> Settings:
        values: dict[str, object] = {"data_dir": tmp_path / "data", "model_cache": MODEL_CACHE,
                                     "corpus_dir": CORPUS}
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return factory


@pytest.fixture(scope="session")
def bundled_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of an index of the bundled corpus, ingested once per test session."""
    from ingest.pipeline import ingest

    settings = Settings(data_dir=tmp_path_factory.mktemp("bundled") / "data",
                        model_cache=MODEL_CACHE, corpus_dir=CORPUS)
    report = ingest(None, settings)
    assert report.ok, report.errors
    return settings


@pytest.fixture
def bundled_copy(bundled_settings: Settings, tmp_path: Path) -> Settings:
    """Settings of a copy of the session's bundled index (nothing is embedded again)."""
    data = tmp_path / "bundled-copy"
    shutil.copytree(bundled_settings.data_dir, data, ignore=shutil.ignore_patterns(".ingest.lock"))
    return bundled_settings.model_copy(update={"data_dir": data})


@pytest.fixture(scope="session")
def assistant(bundled_settings: Settings):  # type: ignore[no-untyped-def]
    from assistant.core import Assistant

    return Assistant(bundled_settings)


class ChromaServer:
    """A real `chroma run` on a free loopback port, started and stopped by the test."""

    def __init__(self, path: Path) -> None:
        import shutil
        import socket
        import sys

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        # The CLI ships with chromadb, a dependency: a missing one is a broken install (fail).
        chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
        self.cmd = [chroma, "run", "--host", "127.0.0.1", "--port", str(self.port), "--path", str(path)]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers; fail the test if it never does."""
        import chromadb

        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(150):
            try:
                chromadb.HttpClient(host="127.0.0.1", port=self.port).heartbeat()
                return
            except Exception:  # not listening yet
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"`chroma run` did not answer on {self.url} within 30 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    """A running Chroma server for this test (stopped afterwards)."""
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    yield server
    server.stop()
