"""Startup: a readable page when the index is missing; no open binding without a login."""

from __future__ import annotations

import urllib.request

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
        try:
            Client(url + "/", verbose=False).predict("hotlines?", None, api_name="/ask")
            raise AssertionError("the API answered without credentials")
        except AssertionError:
            raise
        except Exception:
            pass  # refused, as it should be
        client = Client(url + "/", auth=("delegate", "s3cret"), verbose=False)
        assert client.predict("What does the paper say about hotlines?", None,
                              api_name="/ask")["citations"]
    finally:
        demo.close()
