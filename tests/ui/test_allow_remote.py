"""`chat --allow-remote` serves a non-loopback address without a login, on purpose.

Without the flag the same command is refused (tests/ui/test_startup.py)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from ingest.settings import PROJECT_ROOT
from tests.ui.conftest import free_port


def fetch(url: str, wait: float = 60.0) -> int:
    """Return the status of a GET, retrying while the server is still binding its port."""
    deadline = time.time() + wait
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                return int(resp.status)
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ConnectionRefusedError) or time.time() > deadline:
                raise
            time.sleep(0.5)


def test_allow_remote_serves_every_address_without_a_login(bundled_settings) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**os.environ, "NPT_DATA_DIR": str(bundled_settings.data_dir),
           "NPT_MODEL_CACHE": str(bundled_settings.models_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "chat", "--host", "0.0.0.0",
                             "--port", str(port), "--allow-remote"], env=env, cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout],  # type: ignore[union-attr]
                     daemon=True).start()
    try:
        seen, deadline = "", time.time() + 240
        while f"ready on http://0.0.0.0:{port}" not in seen:
            try:
                seen += lines.get(timeout=2)
            except queue.Empty:
                assert proc.poll() is None and time.time() < deadline, \
                    f"never got ready (exit status {proc.poll()}):\n{seen[-3000:]}"
        assert "refusing" not in seen
        for path in ("/", "/gradio_api/info"):  # no login in the way
            assert fetch(f"http://127.0.0.1:{port}{path}") == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
