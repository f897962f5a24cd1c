"""The web edge of a shared deployment (issue #15, item 9).

Seen before: without login `/gradio_api/heartbeat/<anything>` answered 200 and held the stream
open (2,000 held = 2,000 file handles); logged in, `/gradio_api/upload` kept files of any size
(now: only logged in, only up to the file limit, for the Documents tab);
no security headers; 500 wrong passwords at 1,600/s; `--auth user:pass` in `ps`; a malformed
`/gradio_api/call/v2/ask` answered 500 with a traceback in the log."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.ui.app import launch
from assistant.ui.auth import hash_password
from assistant.ui.edge import HEARTBEATS_PER_CLIENT, LoginLimiter
from tests.ui.conftest import free_port

HEADERS = {"x-frame-options": "DENY", "content-security-policy": "frame-ancestors 'none'",
           "x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


def fetch(url: str, data: bytes | None = None, headers: dict | None = None,
          method: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def wait_for_port(port: int, seconds: float = 60.0) -> None:
    """Return once a server listens on the port ("ready" is printed just before it does)."""
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port}")


def login(url: str, user: str, password: str) -> tuple[int, str]:
    """POST the login form; return the status and the session cookie it set."""
    status, headers, _ = fetch(url + "/login", data=f"username={user}&password={password}".encode(),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    cookie = headers.get("set-cookie", "").split(";")[0]
    return status, cookie


@pytest.fixture
def guarded_app(assistant, bundled_settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app behind a login, with a login limiter that forgets quickly."""
    port = free_port()
    demo = launch(bundled_settings, port=port, block=False, assistant=assistant,
                  auth="delegate:s3cret", limiter=LoginLimiter(free=5, longest=60.0))
    yield f"http://127.0.0.1:{port}"
    demo.close()


def test_every_response_carries_the_security_headers(guarded_app: str) -> None:
    for path in ("/", "/config", "/gradio_api/info", "/login", "/no-such-page"):
        _, headers, _ = fetch(guarded_app + path)
        for name, value in HEADERS.items():
            assert headers.get(name) == value, (path, name, headers.get(name))


def test_heartbeats_need_a_login_and_a_client_holds_only_so_many(guarded_app: str) -> None:
    status, _, _ = fetch(guarded_app + "/gradio_api/heartbeat/anything")
    assert status == 401  # answered at once, nothing held open
    _, cookie = login(guarded_app, "delegate", "s3cret")
    host, port = guarded_app.removeprefix("http://").split(":")
    held = []
    for i in range(HEARTBEATS_PER_CLIENT + 1):
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", f"/gradio_api/heartbeat/session{i}", headers={"Cookie": cookie})
        held.append((conn, conn.getresponse()))
    try:
        statuses = [resp.status for _, resp in held]
        assert statuses[:HEARTBEATS_PER_CLIENT] == [200] * HEARTBEATS_PER_CLIENT
        assert statuses[-1] == 429
    finally:
        for conn, _ in held:
            conn.close()


def test_uploads_need_a_login_and_stay_within_the_limit(guarded_app: str) -> None:
    """The Documents tab takes files: only from a logged-in user, and none over the limit."""
    def body(size: int) -> bytes:
        return (b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.txt\"\r\n"
                b"Content-Type: text/plain\r\n\r\n" + b"x" * size + b"\r\n--b--\r\n")

    form = {"Content-Type": "multipart/form-data; boundary=b"}
    status, _, reply = fetch(guarded_app + "/gradio_api/upload", data=body(100_000), headers=form)
    assert status == 401 and b"log in" in reply
    _, cookie = login(guarded_app, "delegate", "s3cret")
    status, _, reply = fetch(guarded_app + "/gradio_api/upload", data=body(100_000),
                             headers={"Cookie": cookie, **form})
    assert status == 200 and b"x.txt" in reply
    # Past the limit of one request the body is not even read (Gradio's own limit a file,
    # max_file_size, refuses a file past settings.max_file_bytes as it arrives).
    host, port = guarded_app.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("POST", "/gradio_api/upload")
    for key, value in {"Cookie": cookie, **form, "Content-Length": str(10**10)}.items():
        conn.putheader(key, value)
    conn.endheaders(body(10))
    assert conn.getresponse().status == 413
    conn.close()


def test_wrong_passwords_are_refused_for_longer_each_time(guarded_app: str) -> None:
    for _ in range(5):
        assert login(guarded_app, "delegate", "guess")[0] == 400
    status, headers, body = fetch(guarded_app + "/login", data=b"username=delegate&password=s3cret",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 429 and int(headers["retry-after"]) >= 1  # even the right one, for now
    assert b"Too many failed logins" in body


def test_the_login_limiter_doubles_the_wait_and_forgets_on_success() -> None:
    now = [1000.0]
    limiter = LoginLimiter(free=3, longest=8.0, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.wait("a") == 0.0
        limiter.failed("a")
    assert limiter.wait("a") == 1.0 and limiter.wait("b") == 0.0  # per client address
    for expected in (2.0, 4.0, 8.0, 8.0):
        now[0] += 100
        limiter.failed("a")
        assert limiter.wait("a") == expected
    limiter.succeeded("a")
    assert limiter.wait("a") == 0.0


def test_password_from_a_hashed_file_never_on_the_command_line_and_malformed_calls_are_400(
        bundled_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    auth_file = tmp_path / "login"
    auth_file.write_text(f"delegate:{hash_password('correct horse')}\n", encoding="utf-8")
    auth_file.chmod(0o600)
    port = free_port()
    env = {**os.environ, "NPT_DATA_DIR": str(bundled_settings.data_dir),
           "NPT_MODEL_CACHE": str(bundled_settings.models_dir), "NPT_AUTH_FILE": str(auth_file)}
    env.pop("NPT_AUTH", None)
    server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "chat", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        assert server.stdout is not None and "ready on" in server.stdout.readline()
        wait_for_port(port)
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes().decode()
        assert "correct horse" not in cmdline and "delegate" not in cmdline
        assert "correct horse" not in auth_file.read_text()  # hashed at rest
        assert login(url, "delegate", "wrong")[0] == 400
        status, cookie = login(url, "delegate", "correct horse")
        assert status == 200 and cookie
        for body in (b"{}", b'{"data": 5}', b'{"question": "hi", "nonsense": 1}'):
            status, _, reply = fetch(url + "/gradio_api/call/v2/ask", data=body, method="POST",
                                     headers={"Cookie": cookie, "Content-Type": "application/json"})
            assert status == 400, (body, status, reply)
            message = json.loads(reply)["error"]
            assert message.startswith("Malformed call") and '{"question": ' in message
        time.sleep(0.5)
    finally:
        server.terminate()
        _, err = server.communicate(timeout=60)
    assert "Traceback" not in err, err[-3000:]
    assert err.count("malformed API call") == 3
    assert json.dumps("correct horse") not in err
