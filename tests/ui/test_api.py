"""Scripted use through gradio_client, and the app working with no network at all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys


def test_gradio_client_can_ask(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    result = client.predict("What does the paper say about the CTBT?", None, api_name="/ask")
    assert result["abstained"] is False
    assert "Annex, stepping stone 12" in [c["locator"] for c in result["citations"]]


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
print("ANSWER", json.dumps([c["locator"] for c in answer["citations"]]), flush=True)
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
    answer = next(line for line in proc.stdout.splitlines() if line.startswith("ANSWER "))
    assert "Annex, stepping stone 10" in json.loads(answer[len("ANSWER "):])


# Issue #15, item 7: a 20 MB history took 14.5 s, a 39 MB response and 2.6 GB of server memory.
def test_history_is_capped_with_a_clear_error_and_never_echoed(app_url: str) -> None:
    import http.client
    import json

    from gradio_client import Client

    client = Client(app_url, verbose=False)
    question = "And what about their arsenals?"
    too_many = [f"Earlier question number {i} about hotlines?" for i in range(21)]
    result = client.predict(question, too_many, api_name="/ask")
    assert result["error"] and "at most 20" in result["error"] and result["citations"] == []
    too_long = ["What about " + "hotlines " * 300_000]  # 2.7 MB in one item
    result = client.predict(question, ["x" * 5000], api_name="/ask")
    assert result["error"] and "at most 2,000 characters" in result["error"]
    # A body over the server's bound is refused from its announced size, before it is read.
    body = json.dumps({"question": question, "history": too_long}).encode()
    host, port = app_url.removeprefix("http://").rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.putrequest("POST", "/gradio_api/call/v2/ask")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body[:1000])
    assert conn.getresponse().status == 413
    conn.close()
    # Twenty earlier questions of the largest size are fine, and come back at most once each
    # in the one or two the follow-up leans on, never as the whole history.
    history = ["What does the paper say about nuclear risk reduction? " + "hotlines " * 215
               for _ in range(20)]
    result = client.predict(question, history, api_name="/ask")
    assert result["error"] is None
    reply = json.dumps(result, ensure_ascii=False)
    assert len(reply) < 60_000 and reply.count(history[0]) <= 2
