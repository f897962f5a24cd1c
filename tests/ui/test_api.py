"""Scripted use through gradio_client, and the app working with no network at all."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def test_gradio_client_can_ask(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    result = client.predict("What does the paper say about the CTBT?", None, api_name="/ask")
    assert result["citations"][0]["locator"] == "Annex, stepping stone 12"
    assert result["abstained"] is False


PROBE = """
import json, socket, sys
from ingest.settings import Settings
from assistant.ui.app import launch
s = socket.socket(); s.settimeout(2)
print("outside:", s.connect_ex(("93.184.216.34", 80)), flush=True)
with socket.socket() as f:
    f.bind(("127.0.0.1", 0)); port = f.getsockname()[1]
demo = launch(Settings(), port=port, block=False)
from gradio_client import Client
answer = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(
    "Which crisis communication tools are proposed?", None, api_name="/ask")
print("ANSWER", json.dumps(answer["citations"][0]["locator"]), flush=True)
demo.close()
"""


def test_app_starts_and_answers_with_the_network_unreachable(bundled_settings) -> None:
    if shutil.which("unshare") is None:
        raise AssertionError("util-linux unshare is needed to cut the network")
    env = {**os.environ, "NPT_DATA_DIR": str(bundled_settings.data_dir),
           "NPT_MODEL_CACHE": str(bundled_settings.models_dir)}
    # A new network namespace has only a loopback device: nothing outside can be reached.
    cmd = ["unshare", "-n", "sh", "-c", f"ip link set lo up && exec {sys.executable} -c '{PROBE}'"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "outside: 101" in proc.stdout  # ENETUNREACH
    assert 'ANSWER "Annex, stepping stone 10"' in proc.stdout
