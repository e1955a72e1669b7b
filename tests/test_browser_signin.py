"""Sign-in in a real browser: streamlit run with st.login against a local OpenID Connect provider on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from helpers.browser import (
    ROOT,
    _wait_until_healthy,
    chromium,
    free_port,
    isolated_environ,
    require_chromium,
    settle,
)
from helpers.oidc_provider import CLIENT_ID, CLIENT_SECRET, OIDCProvider, start_oidc_provider

from finlib import access, projects
from finlib.access import LOCAL_USER
from finlib.config import load_settings

SALT = "browser-signin-salt"
STEP_TIMEOUT_MS = 60_000
PAGE_PATHS = ("", "customers", "chat", "projects", "privacy")
OPEN_CONTEXTS: list[object] = []


@pytest.fixture(autouse=True)
def close_sessions() -> Iterator[None]:
    """Each user's browser session ends with its test, so the next one does not queue behind it."""
    yield
    while OPEN_CONTEXTS:
        OPEN_CONTEXTS.pop().close()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def provider() -> Iterator[OIDCProvider]:
    provider = start_oidc_provider()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="module")
def app(provider: OIDCProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """The app with sign-in required; the demo shared with a viewer and an analyst. Yields (url, real names)."""
    require_chromium()
    folder = tmp_path_factory.mktemp("signin")
    environ = isolated_environ(folder / "home", SALT)
    services = projects.Services(load_settings(environ, dotenv_path=None))
    projects.ensure_demo_project(services)
    for principal, role in [("viv@example.com", "viewer"), ("ann@example.com", "analyst")]:
        access.add_member(services.engine, services.settings, LOCAL_USER, "demo", principal, role)
    names = projects.load_project(services, "demo").aliases.real_names()
    services.engine.dispose()
    port = free_port()
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-test-cookie-secret-of-some-length"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n',
        encoding="utf-8",
    )
    log = folder / "streamlit.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--secrets.files", str(secrets)],
            cwd=ROOT, env={**environ, "AUTHLIB_INSECURE_TRANSPORT": "1"}, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(url, process, log)
            yield url, names
        finally:
            process.terminate()
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as browser:
        yield browser


def sign_in(browser: object, url: str, provider: OIDCProvider, email: str) -> object:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})  # type: ignore[attr-defined]
    OPEN_CONTEXTS.append(context)
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    page.goto(url)
    settle(page)
    assert "Sign in with your company account" in page.locator('[data-testid="stApp"]').inner_text()
    provider.next_email = email
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/**")
    settle(page)
    return page


def text_of(page: object) -> str:
    return page.locator('[data-testid="stApp"]').inner_text()  # type: ignore[attr-defined]


def test_a_viewer_signs_in_and_never_sees_a_real_name_on_any_page(app, provider, browser) -> None:
    url, names = app
    page = sign_in(browser, url, provider, "viv@example.com")
    assert "viv@example.com" in text_of(page)
    for path in PAGE_PATHS:
        page.goto(f"{url}/{path}")  # type: ignore[attr-defined]
        settle(page)
        shown = (text_of(page) + page.content()).lower()  # type: ignore[attr-defined]
        assert "viv@example.com" in shown, path  # still signed in, on this page
        assert [name for name in names if name.lower() in shown] == [], path


def test_an_analyst_signs_in_and_sees_real_names(app, provider, browser) -> None:
    url, names = app
    page = sign_in(browser, url, provider, "ann@example.com")
    page.goto(f"{url}/customers")  # type: ignore[attr-defined]
    settle(page)
    assert any(name in text_of(page) for name in names)


def test_a_user_without_membership_signs_in_and_sees_only_a_message(app, provider, browser) -> None:
    url, names = app
    page = sign_in(browser, url, provider, "eve@example.com")
    shown = text_of(page)
    assert "no project is shared with you" in shown
    assert [name for name in names if name in shown] == []
