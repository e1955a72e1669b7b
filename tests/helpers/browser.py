"""The app under a real ``streamlit run`` and Debian's Chromium: start, settle, and what left 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
SERVER_START_TIMEOUT_S = 90
SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# Everything that could point the app at machine-wide services is blanked, so it uses the given data home.
BLANKED = ("DATABASE_URL", "DB_HOST", "AWS_S3_BUCKET", "S3_ALLOWED_BUCKETS", "AWS_ENDPOINT_URL",
           "LITE_LLM_API_KEY", "LITE_LLM_API_BASE")  # fmt: skip


class ServerFailed(RuntimeError):
    """The app did not start; the message names its log."""


@dataclass(frozen=True)
class RunningApp:
    """A started server (``streamlit run app.py`` or ``python -m finlib serve``): base URL, process id, log file."""

    url: str
    pid: int
    log: Path


def require_chromium() -> None:
    """Skip the calling test without Debian's Chromium; fail instead where CI demands the browser tests."""
    import pytest

    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)"
    if os.environ.get("FINLIB_REQUIRE_BROWSER"):
        pytest.fail(reason)
    pytest.skip(reason)


def isolated_environ(home: Path, salt: str) -> dict[str, str]:
    """This process's environment with the app pointed at ``home`` and every outside service switched off."""
    return {**os.environ, **dict.fromkeys(BLANKED, ""), "FINLIB_HOME": str(home), "ALIAS_SALT": salt}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_app(environ: Mapping[str, str], log: Path, *, served: bool = False) -> Iterator[RunningApp]:
    """``streamlit run app.py`` (``served``: ``python -m finlib serve``) from the repository root, until exit.

    From the root, so that ``.streamlit/config.toml`` applies; ``served`` adds the API and the start-up warm-up.
    """
    port = free_port()
    if served:
        command = [sys.executable, "-m", "finlib", "serve", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=dict(environ), stdout=output, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(url, process, log)
            yield RunningApp(url, process.pid, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise ServerFailed(f"the server did not start; see {log}")
        time.sleep(0.3)


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Debian Chromium driven by Playwright, closed on exit (never Playwright's own download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def new_tab(browser: object, step_timeout_ms: int, **options: object) -> object:
    """A page in its own context with the suite's step timeout (``options``: viewport, accept_downloads, ...)."""
    page = browser.new_page(**options)  # type: ignore[attr-defined]
    page.set_default_timeout(step_timeout_ms)
    return page


def shoot(page: object, folder: Path, name: str) -> None:
    """A full-page screenshot kept for a human to look at after the run."""
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def go_to(page: object, title: str) -> None:
    """Open a page by its title in the sidebar navigation and wait until it settled."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()  # type: ignore[attr-defined]
    settle(page)


def main_text(page: object) -> str:
    """The text of the page's main area (the sidebar left out)."""
    return page.locator('[data-testid="stMain"]').inner_text()  # type: ignore[attr-defined]


def app_text(page: object) -> str:
    """The text of the whole app: sidebar, main area and the chat input's bottom block."""
    return page.locator('[data-testid="stApp"]').inner_text()  # type: ignore[attr-defined]


def settle(page: object) -> None:
    """Wait until the script has finished running and the page stopped changing."""
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    page.wait_for_selector(SETTLED)  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    page.wait_for_timeout(500)  # type: ignore[attr-defined]


def is_local(url: str, base: str) -> bool:
    """Whether a request stays on the app's own origin (``data:`` and ``blob:`` never leave the browser)."""
    return url.startswith((base + "/", "data:", "blob:")) or url == base


def _process_tree(pid: int) -> Iterator[int]:
    """A process and all its live descendants."""
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            children = [
                c for task in Path(f"/proc/{current}/task").iterdir() for c in (task / "children").read_text().split()
            ]
        except OSError:
            continue
        yield current
        pending.extend(int(child) for child in children)


def memory_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (the parser server and its children), in KiB."""
    total = 0
    for current in _process_tree(pid):
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total


def cpu_seconds_by_process(pid: int) -> dict[int, float]:
    """CPU time (user + system) used so far by a process and by each of its live descendants."""
    used = {}
    for current in _process_tree(pid):
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[current] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: proc(5)
    return used
