"""First pages in a real browser on a fresh server: the demo project, then a 1M-row project (issue 11's targets).

Starts the README's command, `python -m finlib serve` (``--command app``: `streamlit run app.py`; ``both``: each in
turn), in a fresh data home, opens it in Debian's Chromium through Playwright as soon as the server answers its
health check, and times from navigation until the page settled. Then a page switch and back (cached), and a
filter change (the activity period's "12M" button) and back to all dates (cached); the same for a project
registered from ``bench/data/ledger_1000000.csv`` (opened with ``?project=big``).

*Settled* is the later of two moments, both read off the page's own clock: the script run the step started has
finished (``data-test-script-state`` went to ``running``, then back to ``notRunning``; for the first page, with
the Overview's KPI cards on screen), and the browser's last long task (its main thread busy for over 50 ms:
mostly plotly drawing the charts) has ended, with none for ``QUIET_MS`` after. Steps used to stop at the
first ``notRunning`` seen 100 ms after the action: that counted a fixed 100 ms on every step and missed charts
the browser was still drawing once the script had finished (up to 0.8 s on a 2-core machine).

    python bench/browser_timing.py [--skip-big] [--command serve|app|both]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers.browser import CHROMIUM, CHROMIUM_ARGS, SETTLED, isolated_environ, running_app  # noqa: E402

BIG_FILE = ROOT / "bench" / "data" / "ledger_1000000.csv"
KPI_CARD = '[data-testid="stMetric"]'
TIMEOUT_MS = 180_000
TARGETS_S = {"demo": 2.0, "big": 4.0, "switch": 0.5}
WARM_UP_LOGGED = "start-up warm-up"
COMMANDS = {"serve": "python -m finlib serve", "app": "streamlit run app.py"}


# Installed on the page before each step: when the step began, when a script run that started after it finished
# (``finished``: at once for a page whose script already finished), when the browser's last long task ended.
WATCH_STEP = """finished => {
  (window.__finlibWatch || []).forEach(o => o.disconnect());
  const app = document.querySelector('[data-testid="stApp"]');
  const now = performance.now();
  const step = window.__finlibStep = {started: now, ran: finished, finished: finished ? now : null, busyUntil: 0};
  const script = new MutationObserver(() => {
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running') step.ran = true;
    else if (step.ran && state === 'notRunning') step.finished = performance.now();
  });
  script.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  const busy = new PerformanceObserver(list => {
    for (const task of list.getEntries()) step.busyUntil = Math.max(step.busyUntil, task.startTime + task.duration);
  });
  busy.observe({type: 'longtask', buffered: true});
  window.__finlibWatch = [script, busy];
}"""
STEP_SETTLED = """quiet => {
  const step = window.__finlibStep;
  const app = document.querySelector('[data-testid="stApp"]');
  if (step.finished === null || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  return performance.now() - Math.max(step.finished, step.busyUntil) > quiet;
}"""
# Milliseconds on the page's clock (performance.now() counts from the navigation's start) when the step settled.
STEP_SETTLED_AT = "() => Math.max(window.__finlibStep.finished, window.__finlibStep.busyUntil)"
QUIET_MS = 300


def settled_after(page: object, action: object) -> float:
    """Seconds from ``action()`` until the script run it started finished and the browser drew what it sent."""
    page.evaluate(WATCH_STEP, False)  # type: ignore[attr-defined]
    began = float(page.evaluate("() => window.__finlibStep.started"))  # type: ignore[attr-defined]
    action()  # type: ignore[operator]
    page.wait_for_function(STEP_SETTLED, arg=QUIET_MS, timeout=TIMEOUT_MS)  # type: ignore[attr-defined]
    return (float(page.evaluate(STEP_SETTLED_AT)) - began) / 1000  # type: ignore[attr-defined]


def first_page_after(page: object, url: str) -> float:
    """Seconds from navigating to ``url`` until its KPI cards are on screen and the browser drew the rest."""
    page.goto(url, timeout=TIMEOUT_MS)  # type: ignore[attr-defined]
    page.wait_for_selector(f"{SETTLED} {KPI_CARD}", timeout=TIMEOUT_MS)  # type: ignore[attr-defined]
    page.evaluate(WATCH_STEP, True)  # type: ignore[attr-defined]
    page.wait_for_function(STEP_SETTLED, arg=QUIET_MS, timeout=TIMEOUT_MS)  # type: ignore[attr-defined]
    return float(page.evaluate(STEP_SETTLED_AT)) / 1000  # type: ignore[attr-defined]


def period_button(page: object, label: str) -> object:
    """The sidebar's activity-period button ``label`` ("12M", "All")."""
    sidebar = page.locator('[data-testid="stSidebar"]')  # type: ignore[attr-defined]
    return sidebar.get_by_role("radio", name=label, exact=True).first


def time_project(url: str, query: str) -> dict[str, float]:
    """First Overview, a switch to Customers and back (cached), then the activity period changed to the last 12
    months and back to all dates (cached: the Overview of all dates was drawn before), in one browser session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        first_with_cards = first_page_after(page, f"{url}/{query}")
        switch = settled_after(page, lambda: page.get_by_role("link", name="Customers").first.click())
        back = settled_after(page, lambda: page.get_by_role("link", name="Overview").first.click())
        twelve_months = settled_after(page, lambda: period_button(page, "12M").click())  # type: ignore[attr-defined]
        all_dates = settled_after(page, lambda: period_button(page, "All").click())  # type: ignore[attr-defined]
        browser.close()
    return {
        "first Overview": first_with_cards,
        "switch to Customers": switch,
        "back to Overview (cached)": back,
        "filter: period 12 months": twelve_months,
        "filter: back to all (cached)": all_dates,
    }


def wait_for_warm_up(log: Path, after: int = 0) -> None:
    """Wait until the app log holds more than ``after`` lines of the served process's warm-up (its end)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8") if log.exists() else ""
        if text.count(WARM_UP_LOGGED) > after:
            return
        time.sleep(0.1)
    raise TimeoutError(f"no '{WARM_UP_LOGGED}' in {log}")


def main() -> None:
    """Print the timings and whether each meets its target."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-big", action="store_true", help="only the demo project")
    parser.add_argument(
        "--command",
        choices=[*COMMANDS, "both"],
        default="serve",
        help="the server to start: `python -m finlib serve` (the README's), `streamlit run app.py`, or each in turn",
    )
    parser.add_argument(
        "--after-warm-up",
        action="store_true",
        help="with `finlib serve`, open the browser once the start-up warm-up logged its end, not at the first "
        "health check (a user who opens the page a few seconds after starting the server)",
    )
    args = parser.parse_args()
    for command in COMMANDS if args.command == "both" else [args.command]:
        after_warm_up = args.after_warm_up and command == "serve"
        results = time_command(command == "serve", skip_big=args.skip_big, after_warm_up=after_warm_up)
        when = "once warmed up" if after_warm_up else "at its first health check"
        print(f"\nbrowser, fresh `{COMMANDS[command]}` opened {when} (seconds from navigation until settled)")
        for project, timings in results.items():
            for label, seconds in timings.items():
                target = TARGETS_S[project] if label == "first Overview" else TARGETS_S["switch"]
                verdict = "meets" if seconds < target else "MISSES"
                print(f"   {project:<5} {label:<28}{seconds:8.2f}   target < {target:g} s: {verdict}")


def time_command(served: bool, *, skip_big: bool, after_warm_up: bool = False) -> dict[str, dict[str, float]]:
    """The demo's, then the 1M-row project's timings, each on a fresh server started as ``served`` says."""
    home = Path(tempfile.mkdtemp(prefix="finlib-browser-timing-"))
    environ = isolated_environ(home, "browser-timing-salt")
    results: dict[str, dict[str, float]] = {}
    with running_app(environ, home / "server.log", served=served) as app:
        if after_warm_up:
            wait_for_warm_up(home / "app.log")
        results["demo"] = time_project(app.url, "")
    if not skip_big and BIG_FILE.exists():
        subprocess.run(
            [sys.executable, "-m", "finlib", "register", "big", str(BIG_FILE)],
            cwd=ROOT,
            env=environ,
            check=True,
            capture_output=True,
        )
        with running_app(environ, home / "server-big.log", served=served) as app:
            if after_warm_up:
                wait_for_warm_up(home / "app.log", after=1)
            results["big"] = time_project(app.url, "?project=big")
    return results


if __name__ == "__main__":
    main()
