"""The web edge: what every request passes before Gradio sees it (issue #15, item 9).

Gradio serves some routes before login by design and takes uploads the app has no use for; a
shared deployment needs more: security headers on every response, no event streams held open
without a login (nor thousands with one), a limit on wrong passwords, uploads refused (or, for
the Documents tab, taken only from a logged-in user and only up to a size), and a malformed API
call answered 400 in one log line instead of 500 with a traceback.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
MAX_BODY_BYTES = 2_000_000  # a question and a capped history fit many times over
HEARTBEATS_PER_CLIENT = 16  # open tabs of one person; each holds a stream (and a file handle)
HEARTBEATS_TOTAL = 256


@dataclass
class LoginLimiter:
    """Failed logins per client address: after `free` failures, each further attempt waits
    twice as long as the one before (1 s, 2 s, 4 s … up to `longest`); a success resets it."""

    free: int = 5
    longest: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, client: str) -> float:
        """Return how many seconds the client must wait before trying again (0: may try)."""
        with self._lock:
            count, last = self._failures.get(client, (0, 0.0))
        if count < self.free:
            return 0.0
        delay = min(2.0 ** (count - self.free), self.longest)
        return max(0.0, last + delay - self.clock())

    def failed(self, client: str) -> None:
        with self._lock:
            count, _ = self._failures.get(client, (0, 0.0))
            self._failures[client] = (count + 1, self.clock())

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


class EdgeGuard:
    """ASGI middleware in front of the Gradio app (see the module docstring)."""

    def __init__(self, app: ASGIApp, limiter: LoginLimiter | None = None,
                 upload_bytes: int = 0) -> None:
        self.app = app
        self.limiter = limiter or LoginLimiter()
        self.upload_bytes = upload_bytes  # largest upload request taken; 0: none
        self._streams: dict[str, int] = defaultdict(int)
        self._streams_lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send)
        path, method = scope.get("path", ""), scope.get("method", "GET")
        client = (scope.get("client") or ("?", 0))[0]
        if path.rstrip("/") == "/gradio_api/upload":
            await self._upload(scope, receive, send)
        elif "/heartbeat/" in path:
            await self._heartbeat(scope, receive, send, client)
        elif method == "POST" and path.rstrip("/") == "/login":
            await self._login(scope, receive, send, client)
        elif path.startswith("/gradio_api/call/"):
            await self._api_call(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Files for the Documents tab: from a logged-in user (when there is a login) and within
        `upload_bytes`, which replaces the small body limit every other request keeps."""
        if not self.upload_bytes:
            await _reply(send, 403, "This app takes no file uploads.")
        elif _needs_login(scope) and _user(scope) is None:
            await _reply(send, 401, "Not authenticated: log in to upload documents.")
        else:
            from starlette.middleware.body_limit import RequestBodyLimitMiddleware

            await RequestBodyLimitMiddleware(self.app, self.upload_bytes)(scope, receive, send)

    async def _heartbeat(self, scope: Scope, receive: Receive, send: Send, client: str) -> None:
        """A session's keep-alive stream: only for a logged-in user, and only so many open."""
        if _needs_login(scope) and _user(scope) is None:
            await _reply(send, 401, "Not authenticated.")
            return
        with self._streams_lock:
            total = sum(self._streams.values())
            if self._streams[client] >= HEARTBEATS_PER_CLIENT or total >= HEARTBEATS_TOTAL:
                full = True
            else:
                full = False
                self._streams[client] += 1
        if full:
            await _reply(send, 429, "Too many open sessions; close some tabs and reload.")
            return
        try:
            await self.app(scope, receive, send)
        finally:
            with self._streams_lock:
                self._streams[client] -= 1

    async def _login(self, scope: Scope, receive: Receive, send: Send, client: str) -> None:
        """Refuse a client that keeps failing to log in, for longer each time."""
        wait = self.limiter.wait(client)
        if wait > 0:
            log.warning("login from %s refused for %.0f s after repeated failures", client, wait)
            await _reply(send, 429, f"Too many failed logins; try again in {wait:.0f} s.",
                         [(b"retry-after", str(int(wait) + 1).encode())])
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, watch)
        if status and status[0] == 200:
            self.limiter.succeeded(client)
        else:
            self.limiter.failed(client)

    async def _api_call(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a malformed API call with 400 and one log line, not a 500 and a traceback."""
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:  # Gradio raises TypeError/KeyError on arguments it cannot map
            if started:
                raise
            log.warning("malformed API call to %s: %s", scope.get("path"), exc)
            await _reply(send, 400, f"Malformed call ({exc}). Send JSON like "
                                    '{"question": "…", "history": ["an earlier question"]}.')


def _needs_login(scope: Scope) -> bool:
    app = scope.get("app")
    return getattr(app, "auth", None) is not None or getattr(app, "auth_dependency", None) is not None


def _user(scope: Scope) -> str | None:
    """Return the logged-in user of a request, from Gradio's own session cookie."""
    app = scope.get("app")
    cookie_id = getattr(app, "cookie_id", None)
    tokens = getattr(app, "tokens", {}) or {}
    cookies = _cookies(scope)
    for name in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"):
        if name in cookies and cookies[name] in tokens:
            return str(tokens[cookies[name]])
    return None


def _cookies(scope: Scope) -> dict[str, str]:
    from http.cookies import SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    for key, value in scope.get("headers") or []:
        if key == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is no login
                return {}
    return {k: m.value for k, m in jar.items()}


def _with_headers(send: Send) -> Send:
    """Return `send` adding the security headers to the response (keeping any already set)."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            present = {k.lower() for k, _ in headers}
            headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


async def _reply(send: Send, status: int, message: str,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def guarded(limiter: LoginLimiter | None = None, upload_bytes: int = 0) -> dict[str, Any]:
    """Return the FastAPI arguments that put the guard in front of a Gradio app (uploads of up
    to `upload_bytes` a request allowed; none with 0)."""
    from starlette.middleware import Middleware

    return {"middleware": [Middleware(EdgeGuard, limiter=limiter, upload_bytes=upload_bytes)],
            "max_body_size": MAX_BODY_BYTES}
