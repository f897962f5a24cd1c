"""Startup: a readable page when the index is missing; no open binding without a login."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest

from assistant.ui.app import launch
from tests.ui.conftest import free_port


def test_missing_index_serves_a_readable_error_page(make_settings, browser) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    demo = launch(make_settings(), port=port, block=False)
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
        page.wait_for_selector("#startup-error")
        text = page.inner_text("#startup-error")
        assert "cannot start" in text and "npt-assistant ingest" in text
        page.close()
    finally:
        demo.close()


def test_refuses_a_public_address_without_login(make_settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert launch(make_settings(), host="0.0.0.0", port=free_port(), block=False) == 2
    assert "refusing to serve on 0.0.0.0 without a login" in capsys.readouterr().err


def test_malformed_auth_setting_is_rejected(make_settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert launch(make_settings(), auth="nopassword", port=free_port(), block=False) == 2
    assert "user:password" in capsys.readouterr().err


def test_login_protects_the_app_config_and_the_api(assistant, bundled_settings) -> None:  # type: ignore[no-untyped-def]
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    demo = launch(bundled_settings, port=port, block=False, assistant=assistant,
                  auth="delegate:s3cret")
    try:
        # The page itself is only the generic shell: nothing of the app or the corpus.
        with urllib.request.urlopen(url + "/") as resp:
            shell = resp.read().decode(errors="replace")
        assert "hotline" not in shell.lower() and "阶石" not in shell
        for path in ("/config", "/gradio_api/info"):
            try:
                urllib.request.urlopen(url + path)
                raise AssertionError(f"{path} answered without credentials")
            except urllib.error.HTTPError as err:
                assert err.code in (401, 403), (path, err.code)
        # Refused for want of a login, not failing for some other reason.
        with pytest.raises(AuthenticationError, match="credentials were not provided"):
            Client(url + "/", verbose=False).predict("hotlines?", None, api_name="/ask")
        client = Client(url + "/", auth=("delegate", "s3cret"), verbose=False)
        assert client.predict("What does the paper say about hotlines?", None,
                              api_name="/ask")["citations"]
    finally:
        demo.close()


# Routes Gradio serves before login by design. None may carry anything of the corpus or of an
# answer: the test below fetches each and looks for corpus text in the response.
PUBLIC = re.compile(r"^/(|login/?|logout|openapi\.json|favicon\.ico|theme\.css|robots\.txt|"
                    r"manifest\.json|pwa_icon.*|svelte/.*|static/.*|assets/.*|"
                    r"gradio_api/(user|token|app_id|runs|startup-events|theme\.css|reset|cancel)/?|"
                    r"gradio_api/(custom_component|stream|heartbeat)/.*|gradio_api/.*vibe.*)$")
# Its answer (stone 10) would contain "hotlines": a leak shows in the body.
QUESTION = "What is proposed on crisis communication between capitals?"
STREAMS = ("/heartbeat/", "/stream/", "/queue/data")  # open-ended event streams: not read


def _routes(app, prefix: str = ""):  # type: ignore[no-untyped-def]
    """Every (method, path) the server answers, mounted and included routers too."""
    for route in app.routes:
        if hasattr(route, "original_router"):  # fastapi's included router
            ctx_prefix = getattr(route.include_context, "prefix", "") or ""
            yield from _routes(route.original_router, prefix + ctx_prefix)
        elif getattr(route, "methods", None):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, prefix + route.path
        elif hasattr(getattr(route, "app", None), "routes"):
            yield from _routes(route.app, prefix + (getattr(route, "path", "") or ""))


def test_every_route_refuses_or_reveals_nothing_without_login(assistant, bundled_settings) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    demo = launch(bundled_settings, port=port, block=False, assistant=assistant,
                  auth="delegate:s3cret")
    secret_file = str(bundled_settings.corpus_dir / "stepping-stones-wp.zh.raw.txt")
    try:
        app = getattr(demo, "server_app", None) or demo.app
        routes = sorted(set(_routes(app)))
        assert len(routes) > 40  # the walk reached the API router, not just the shell
        refused, public = 0, 0
        for method, path in routes:
            if any(s in path for s in STREAMS):
                continue
            url = re.sub(r"\{path_or_url:path\}|\{path:path\}", secret_file.lstrip("/"), path)
            url = re.sub(r"\{api_name\}", "ask", url)
            url = re.sub(r"\{[^}]+\}", "x", url)
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{url}", method=method,
                data=json.dumps({"data": [QUESTION, None]}).encode() if method != "GET" else None,
                headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as resp:
                    status, body = resp.status, resp.read(200_000).decode(errors="replace")
            except urllib.error.HTTPError as err:
                status, body = err.code, err.read(200_000).decode(errors="replace")
            if PUBLIC.match(path):
                public += 1
                assert not re.search(r"hotline|热线|阶石|stepping stone \d|risk reduction|降低风险", body,
                                     re.I), (method, path)
            else:
                refused += 1
                assert status in (401, 403), (method, path, status, body[:200])
        assert refused >= 30 and public >= 10
    finally:
        demo.close()
