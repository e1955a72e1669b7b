"""A real-browser journey: streamlit run on 127.0.0.1, driven by Debian's headless Chromium through Playwright.

Open the app, switch project, see the Overview charts render, open a customer, switch presentation mode on and
reload (the mode comes back from the page address);
a screenshot of every page is saved under ``artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from helpers.browser import (
    ROOT,
    app_text,
    chromium,
    go_to,
    isolated_environ,
    new_tab,
    require_chromium,
    running_app,
    settle,
    shoot,
)

from finlib import projects
from finlib.config import load_settings
from finlib.privacy.aliasing import AliasBook
from finlib.privacy.scanner import NameScanner, find_real_names

ARTIFACTS = ROOT / "artifacts"
STEP_TIMEOUT_MS = 60_000
SALT = "browser-test-salt"
# Streamlit scrolls inside its own container, so a full-page screenshot is only as tall as the viewport.
VIEWPORT_HEIGHT_PX = 2600
SECOND_PROJECT_CSV = (
    b"Customer,Invoice Date,Invoice No,Amount,Payment Date,Location\n"
    b"Zephyr Widgets,2025-01-05,Z-1,1200.00,2025-02-01,Oslo\n"
    b"Zephyr Widgets,2025-02-05,Z-2,1300.00,2025-03-10,Oslo\n"
    b"Zephyr Widgets,2025-03-07,Z-3,1250.00,2025-04-02,Oslo\n"
    b"Quasar Foods,2025-01-20,Q-1,800.00,,Bergen\n"
    b"Quasar Foods,2025-03-20,Q-2,950.00,2025-05-02,Bergen\n"
)


@dataclass(frozen=True)
class Server:
    """The running app and the demo project's aliases (to check presentation mode against)."""

    url: str
    aliases: AliasBook


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app under ``streamlit run`` with a fresh data home holding the demo and a second project."""
    require_chromium()
    home = tmp_path_factory.mktemp("browser") / "home"
    environ = isolated_environ(home, SALT)
    services = projects.Services(load_settings(environ, dotenv_path=None))
    projects.ensure_demo_project(services)
    projects.upload_project(services, "zephyr", "zephyr.csv", SECOND_PROJECT_CSV)
    aliases = projects.load_project(services, "demo").aliases
    services.engine.dispose()
    with running_app(environ, tmp_path_factory.mktemp("browser-log") / "streamlit.log") as app:
        yield Server(app.url, aliases)


@pytest.fixture(scope="module")
def browser_page(server: Server) -> Iterator[object]:
    with chromium() as browser:
        yield new_tab(browser, STEP_TIMEOUT_MS, viewport={"width": 1440, "height": VIEWPORT_HEIGHT_PX})


def _choose(page: object, container: str, label: str, option: str) -> None:
    box = page.locator(f'{container} [data-testid="stSelectbox"]', has_text=label).first  # type: ignore[attr-defined]
    box.locator('input[role="combobox"]').click()
    page.locator('[role="option"]', has_text=option).first.click()  # type: ignore[attr-defined]
    settle(page)


def test_journey_through_every_page(server: Server, browser_page: object) -> None:
    page = browser_page
    page.goto(server.url)  # type: ignore[attr-defined]
    settle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] svg.main-svg')  # type: ignore[attr-defined]
    assert "Overview" in app_text(page)
    shoot(page, ARTIFACTS, "01-overview-demo")

    _choose(page, '[data-testid="stSidebar"]', "Project", "zephyr")
    assert "project=zephyr" in page.url  # type: ignore[attr-defined]
    page.wait_for_selector('[data-testid="stPlotlyChart"] svg.main-svg')  # type: ignore[attr-defined]
    assert "Zephyr" in app_text(page) or page.locator('[data-testid="stMetricValue"]').count() == 6  # type: ignore[attr-defined]
    shoot(page, ARTIFACTS, "02-overview-zephyr")

    _choose(page, '[data-testid="stSidebar"]', "Project", "demo")
    go_to(page, "Customers")
    _choose(page, '[data-testid="stMain"]', "Customer", "ABC Company")
    page.wait_for_selector('[data-testid="stPlotlyChart"] svg.main-svg')  # type: ignore[attr-defined]
    assert page.locator('[data-testid="stMetricValue"]').count() >= 6  # type: ignore[attr-defined]
    assert "ABC Company" in app_text(page)
    shoot(page, ARTIFACTS, "03-customers")

    go_to(page, "Chat")
    question = page.locator('[data-testid="stChatInput"] textarea')  # type: ignore[attr-defined]
    question.fill("What is the expected payment amount and date for ABC Company?")
    question.press("Enter")
    settle(page)
    page.wait_for_selector('[data-testid="stChatMessage"]', state="visible")  # type: ignore[attr-defined]
    answer = app_text(page)
    assert "ABC Company" in answer and "without a language model" in answer
    assert "CUST-" not in answer.split("What the model")[0]
    shoot(page, ARTIFACTS, "04-chat")

    for title, name in (("Projects", "05-projects"), ("Privacy", "06-privacy")):
        go_to(page, title)
        assert "Traceback" not in app_text(page)
        shoot(page, ARTIFACTS, name)

    page.locator('[data-testid="stSidebar"] label', has_text="Presentation mode").click()  # type: ignore[attr-defined]
    settle(page)
    go_to(page, "Overview")
    page.wait_for_selector('[data-testid="stPlotlyChart"] svg.main-svg')  # type: ignore[attr-defined]
    shoot(page, ARTIFACTS, "07-overview-presentation")
    assert not find_real_names(app_text(page), NameScanner.from_book(server.aliases))
    go_to(page, "Customers")
    page.wait_for_selector('[data-testid="stPlotlyChart"] svg.main-svg')  # type: ignore[attr-defined]
    shoot(page, ARTIFACTS, "08-customers-presentation")
    text = app_text(page)
    assert "CUST-" in text
    assert not find_real_names(text, NameScanner.from_book(server.aliases))

    # A reload (F5) starts a new session: presentation mode must come back from the page address.
    assert "presentation=on" in page.url  # type: ignore[attr-defined]
    page.reload()  # type: ignore[attr-defined]
    settle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] svg.main-svg')  # type: ignore[attr-defined]
    shoot(page, ARTIFACTS, "09-customers-reloaded-presentation")
    text = app_text(page)
    assert "CUST-" in text
    assert not find_real_names(text, NameScanner.from_book(server.aliases))
