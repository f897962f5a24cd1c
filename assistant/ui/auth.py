"""The UI login: where the password comes from, and how it is kept.

`--auth user:password` shows in `ps` to every user of the machine, so the password can come
from a file (`--auth-file`, `NPT_AUTH_FILE`) or the environment (`NPT_AUTH`) instead. A file
may hold the password itself or, better, its scrypt hash (`npt-assistant hash-password`):
then nothing on disk gives the password away.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path

log = logging.getLogger(__name__)

SCHEME = "scrypt"
_N, _R, _P = 2**14, 8, 1  # ~50 ms and 16 MB per check: slow to guess, fine for a login


class AuthError(ValueError):
    """The login setting cannot be used; the message says which setting and how to fix it."""


def hash_password(password: str, salt: bytes | None = None) -> str:
    """Return `scrypt$N$r$p$salt$hash` for a password (salt: 16 random bytes)."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    encode = base64.urlsafe_b64encode
    return f"{SCHEME}${_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


def verify(password: str, stored: str) -> bool:
    """Return True when `password` matches `stored` (a hash from hash_password, or plain)."""
    if not stored.startswith(SCHEME + "$"):
        return hmac.compare_digest(password.encode(), stored.encode())
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=base64.urlsafe_b64decode(salt),
                             n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.urlsafe_b64decode(digest))


def parse(line: str, where: str) -> tuple[str, str]:
    """Return (user, password or hash) from `user:password`; AuthError names `where`."""
    user, sep, secret = line.strip().partition(":")
    if not sep or not user or not secret:
        raise AuthError(f"{where} must look like user:password (or user:scrypt$… from "
                        "`npt-assistant hash-password`)")
    return user, secret


def from_file(path: Path) -> tuple[str, str]:
    """Return (user, password or hash) from the first non-empty line of a file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuthError(f"cannot read the login file {path} ({exc.strerror})") from exc
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise AuthError(f"the login file {path} is empty; write user:password in it")
    return parse(lines[0], f"the login file {path}")


def exposed(path: Path, secret: str) -> bool:
    """True when a file holding a plain password can be read by other users."""
    mode = path.stat().st_mode
    return not secret.startswith(SCHEME + "$") and bool(mode & (stat.S_IRGRP | stat.S_IROTH))


def checker(user: str, secret: str) -> Callable[[str, str], bool]:
    """Return the function Gradio calls with what a person typed at the login form."""

    def check(name: str, password: str) -> bool:
        # Always run the (slow) password check, so a wrong name answers no faster.
        ok = verify(password, secret)
        return ok and hmac.compare_digest(name.encode(), user.encode())

    return check


def credentials(auth: str | None, auth_file: Path | str | None, env_auth: str | None
                ) -> Callable[[str, str], Awaitable[bool]] | None:
    """Return the login check from the first setting given: `auth` (user:password), then
    `auth_file` or NPT_AUTH_FILE, then NPT_AUTH; None when no login is configured."""
    auth_file = auth_file or os.environ.get("NPT_AUTH_FILE") or None
    if auth:
        user, secret = parse(auth, "--auth")
    elif auth_file:
        path = Path(auth_file)
        user, secret = from_file(path)
        if exposed(path, secret):
            log.warning("%s holds a plain password and other users can read it: store a hash "
                        "(`npt-assistant hash-password %s > %s`) and chmod 600 it", path, user,
                        path)
    elif env_auth:
        user, secret = parse(env_auth, "NPT_AUTH")
    else:
        return None
    check = checker(user, secret)

    async def login(name: str, password: str) -> bool:
        # scrypt takes ~50 ms: off the event loop, so other requests are not held up.
        return await asyncio.to_thread(check, name, password)

    return login
