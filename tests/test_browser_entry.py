"""Every page as the first request of a freshly started server, in a real browser, with nothing leaving 127.0.0.1.

A shared link is often the first thing a server hears. Streamlit runs a ``pages/`` folder as legacy navigation
until the frame's ``st.navigation`` has run once, so each case starts its own server and opens the deep link
before anything else. Every request the browser makes must stay on the app's own origin (no font CDN, no
favicon service): the app shows real names and promises to work offline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.browser import (
    ROOT,
    chromium,
    is_local,
    isolated_environ,
    require_chromium,
    running_app,
    settle,
)

from finlib import projects
from finlib.config import load_settings

SALT = "entry-test-salt"
STEP_TIMEOUT_MS = 60_000
DEFAULT_PAGE = "overview"
DEFAULT_TITLE = "Overview"
UNKNOWN_PATH = "no-such-page"
# Each page file's URL path (the default page's is the root), and one a renamed page would leave behind.
ENTRY_PATHS = ["" if path.stem == DEFAULT_PAGE else path.stem for path in sorted((ROOT / "pages").glob("*.py"))] + [
    UNKNOWN_PATH
]
# What Streamlit itself logs in the console when a link names no page; the app then opens the default page.
PAGE_NOT_FOUND = "The page that you have requested does not seem to exist. Running the app's main page."


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data home with the demo project registered, shared by the servers started one after another."""
    require_chromium()
    home = tmp_path_factory.mktemp("entry") / "home"
    services = projects.Services(load_settings(isolated_environ(home, SALT), dotenv_path=None))
    projects.ensure_demo_project(services)
    services.engine.dispose()
    return home


@pytest.fixture(scope="module")
def browser(home: Path) -> Iterator[object]:
    with chromium() as browser:
        yield browser


@pytest.mark.parametrize("path", ENTRY_PATHS)
def test_a_deep_link_as_a_fresh_servers_first_request_opens_that_page_inside_the_frame(
    home: Path, browser: object, tmp_path: Path, path: str
) -> None:
    with running_app(isolated_environ(home, SALT), tmp_path / "streamlit.log") as app:
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)
        requests: list[str] = []
        console_errors: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        failed: list[str] = []
        page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
        # A failed request is checked by its URL below; the console's copy of it names no URL.
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and not message.text.startswith("Failed to load resource")
                and console_errors.append(message.text)
            ),
        )
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        try:
            page.goto(f"{app.url}/{path}")
            settle(page)
            page.wait_for_selector('[data-testid="stApp"] h1')
            exceptions = page.locator('[data-testid="stException"]').count()
            text = page.locator('[data-testid="stApp"]').inner_text()
            links = page.locator('[data-testid="stSidebarNavLink"]')
            labels = {links.nth(i).get_attribute("href"): links.nth(i).inner_text() for i in range(links.count())}
            heading = page.locator('[data-testid="stApp"] h1').first.inner_text()
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        finally:
            context.close()
        log = app.log.read_text(errors="replace")

    assert exceptions == 0
    assert "Traceback" not in text and "KeyError" not in text and "Traceback" not in log, log[-2000:]
    # The frame's navigation (titles and sections), not the legacy one listing file names ("app", "customers").
    assert "Analysis" in sidebar and "Project" in sidebar
    assert not any(label.strip().lower() == "app" for label in labels.values())
    expected = labels.get(f"{app.url}/{path}", "").split("\n")[-1] or DEFAULT_TITLE
    assert heading == expected
    assert [url for url in requests if not is_local(url, app.url)] == []
    assert set(console_errors) == ({PAGE_NOT_FOUND} if path == UNKNOWN_PATH else set())
    # Streamlit's frontend first looks for its server under the page's path (a base path), then at the root.
    probes = {f"{app.url}/{path}/_stcore/host-config", f"{app.url}/{path}/_stcore/health"}
    assert [url for url in failed if url not in probes] == []
