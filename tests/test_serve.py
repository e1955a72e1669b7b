"""`python -m finlib serve`: one process serving the dashboard at / and the API beside it, seen by a real browser."""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers.browser import SETTLED

from finlib.cli import main

ROOT = Path(__file__).parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SERVER_START_TIMEOUT_S = 90
STEP_TIMEOUT_MS = 60_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m finlib serve` on a free port with a fresh data home and nothing configured."""
    for base, _home in _serve(tmp_path_factory, {}):
        yield base


def _environ(home: Path, extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ, "FINLIB_HOME": str(home), "ALIAS_SALT": "serve-test-salt", "DATABASE_URL": "", "DB_HOST": "",
        "AWS_S3_BUCKET": "", "LITE_LLM_API_KEY": "", "LITE_LLM_API_BASE": "", **extra,
    }  # fmt: skip


def _serve(tmp_path_factory: pytest.TempPathFactory, extra: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """Start `python -m finlib serve`; yields its base URL and data home once, and stops it afterwards."""
    home = tmp_path_factory.mktemp("serve") / "home"
    environ = _environ(home, extra)
    port = _free_port()
    log = (tmp_path_factory.mktemp("serve-log") / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "finlib", "serve", "--port", str(port)],
        cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"finlib serve did not start; see {log.name}")
            time.sleep(0.5)
        yield base, home
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_the_served_api_answers_beside_the_dashboard(served: str) -> None:
    listed = httpx.get(f"{served}/api/projects", timeout=120)
    assert listed.status_code == 200 and [p["name"] for p in listed.json()] == ["demo"]
    stats = httpx.get(f"{served}/api/projects/demo/stats", timeout=120)
    assert stats.status_code == 200 and stats.json()["portfolio"]["invoice_count"] == 481
    question = {"project_name": "demo", "query": "What is the expected payment amount and date for ABC Company?"}
    answer = httpx.post(f"{served}/query", json=question, timeout=120)
    assert answer.status_code == 200 and "ABC Company" in answer.json()["answer"]
    assert httpx.get(f"{served}/openapi.json", timeout=30).json()["info"]["title"] == "Invoice analytics API"
    assert httpx.get(f"{served}/api/nothing", timeout=30).status_code == 404


def test_a_connections_later_responses_do_not_wait_for_the_clients_acknowledgement(served: str) -> None:
    # With Nagle's algorithm on (Streamlit binds its socket without TCP_NODELAY), every response but a
    # connection's first sends its body only once the client acknowledged the headers: ~40 ms each on Linux.
    scripts = re.findall(r"\./(static/js/[\w.-]+\.js)", httpx.get(f"{served}/", timeout=30).text)
    assert len(scripts) >= 10
    seconds = []
    with httpx.Client(base_url=served, timeout=30) as client:  # one keep-alive connection
        for path in scripts[:10] * 2:
            started = time.perf_counter()
            assert client.get(f"/{path}").status_code == 200
            seconds.append(time.perf_counter() - started)
    assert statistics.median(seconds[1:]) < 0.03, [round(s * 1000) for s in seconds]


def test_the_dashboard_renders_from_the_same_process(served: str) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("FINLIB_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1600})
            page.set_default_timeout(STEP_TIMEOUT_MS)
            for path, marker in (("/", "Overview"), ("/customers", "Customer"), ("/docs", "Invoice analytics API")):
                page.goto(served + path)
                if path != "/docs":
                    page.wait_for_selector(SETTLED)
                    page.wait_for_selector('[data-testid="stSidebarNav"]')
                else:
                    page.wait_for_load_state("networkidle")
                text = page.locator("body").inner_text()
                assert marker in text and "Traceback" not in text, path
            page.goto(served + "/api")
            page.wait_for_selector(SETTLED)
            page.wait_for_selector("text=Your API tokens")
            assert "without the API" not in page.locator("body").inner_text(), "this process serves the API"
            page.goto(served + "/")
            # A session's first run draws a blank chart first (ui.preload): wait for the cards of the finished run.
            page.wait_for_selector(f'{SETTLED} [data-testid="stMetricValue"]')
            page.wait_for_selector('[data-testid="stPlotlyChart"] svg.main-svg')
            assert page.locator('[data-testid="stMetricValue"]').count() >= 4
        finally:
            browser.close()


def _logged(home: Path, text: str) -> str:
    """The app log once it holds ``text`` (the warm-up runs in the server's background): fails after a minute."""
    log = home / "app.log"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        logged = log.read_text(encoding="utf-8") if log.exists() else ""
        if text in logged:
            return logged
        time.sleep(0.2)
    pytest.fail(f"no {text!r} in {log}")


def test_a_fresh_server_registers_the_demo_before_any_visitor_and_shows_it_warmed(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from finlib import projects
    from finlib.config import load_settings

    server = _serve(tmp_path_factory, {})
    base, home = next(server)
    try:
        _logged(home, "start-up warm-up: imports")  # nothing but the health check has asked the server anything
        services = projects.Services(load_settings({"FINLIB_HOME": str(home), "ALIAS_SALT": "serve-test-salt"}))
        assert [info.name for info in projects.list_projects(services)] == ["demo"]
        services.engine.dispose()
        if not CHROMIUM.exists():
            return
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 1600})
                page.set_default_timeout(STEP_TIMEOUT_MS)
                page.goto(base + "/")
                page.wait_for_selector(SETTLED)
                page.wait_for_selector('[data-testid="stMetricValue"]')
                text = page.locator('[data-testid="stMain"]').inner_text()
                assert "Overview" in text and "AED" in text and "Traceback" not in text  # the demo's currency
            finally:
                browser.close()
    finally:
        server.close()


def test_a_server_whose_database_is_down_starts_and_its_warm_up_logs_why(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = _serve(tmp_path_factory, {"DATABASE_URL": "postgresql+psycopg2://nobody@127.0.0.1:9/none"})
    base, home = next(server)
    try:
        logged = _logged(home, "start-up warm-up stopped")
        assert "Cannot reach the database at 127.0.0.1:9/none" in logged and "Traceback" not in logged
        answer = httpx.get(f"{base}/api/projects", timeout=60)
        assert answer.status_code == 503 and answer.json()["error"] == "database unavailable"
    finally:
        server.close()


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_serve_refuses_a_port_that_cannot_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str], port: str) -> None:
    environ = {"FINLIB_HOME": str(tmp_path / "home"), "ALIAS_SALT": "serve-test-salt"}
    assert main(["serve", "--port", port], environ=environ) == 1
    assert "--port must be between 0 and 65535" in capsys.readouterr().err


def test_with_sign_in_by_proxy_headers_the_served_api_wants_a_token(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from finlib import tokens
    from finlib.config import load_settings
    from finlib.projects import Services

    extra = {"STREAMLIT_SERVER_TRUSTED_USER_HEADERS": '{"X-Email": "email"}', "FINLIB_ADMINS": "boss@example.com"}
    server = _serve(tmp_path_factory, extra)
    base, home = next(server)
    try:
        refused = httpx.get(f"{base}/api/projects", timeout=120)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorised"
        services = Services(
            load_settings({"FINLIB_HOME": str(home), "ALIAS_SALT": "serve-test-salt"}, dotenv_path=None)
        )
        secret = tokens.create_token(services, "boss@example.com").secret
        listed = httpx.get(f"{base}/api/projects", headers={"Authorization": f"Bearer {secret}"}, timeout=120)
        assert listed.status_code == 200 and [p["name"] for p in listed.json()] == ["demo"]
    finally:
        server.close()
