"""First pages in a real browser on a fresh server: the demo project, then a 1M-row project (issue 11's targets).

Starts `streamlit run app.py` (as a user does) in a fresh data home, opens it in Debian's Chromium through
Playwright, and times from navigation until the script finished (``data-test-script-state="notRunning"``) with
the Overview's KPI cards on screen. Then a page switch and back (cached), the same for a project registered
from ``bench/data/ledger_1000000.csv`` (opened with ``?project=big``).

    python bench/browser_timing.py [--skip-big]
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


def settled_after(page: object, action: object) -> float:
    """Seconds from ``action()`` until the script stopped running with KPI cards or page content drawn."""
    started = time.perf_counter()
    action()  # type: ignore[operator]
    page.wait_for_timeout(100)  # type: ignore[attr-defined]
    page.wait_for_selector(SETTLED, timeout=TIMEOUT_MS)  # type: ignore[attr-defined]
    return time.perf_counter() - started


def time_project(url: str, query: str) -> dict[str, float]:
    """First Overview, a switch to Customers, and back to Overview (cached), in one browser session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        first = settled_after(page, lambda: page.goto(f"{url}/{query}", timeout=TIMEOUT_MS))
        page.wait_for_selector(KPI_CARD, timeout=TIMEOUT_MS)
        first_with_cards = first
        switch = settled_after(page, lambda: page.get_by_role("link", name="Customers").first.click())
        back = settled_after(page, lambda: page.get_by_role("link", name="Overview").first.click())
        browser.close()
    return {"first Overview": first_with_cards, "switch to Customers": switch, "back to Overview (cached)": back}


def main() -> None:
    """Print the timings and whether each meets its target."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-big", action="store_true", help="only the demo project")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="finlib-browser-timing-"))
    environ = isolated_environ(home, "browser-timing-salt")
    results: dict[str, dict[str, float]] = {}
    with running_app(environ, home / "server.log") as app:
        results["demo"] = time_project(app.url, "")
    if not args.skip_big and BIG_FILE.exists():
        subprocess.run(
            [sys.executable, "-m", "finlib", "register", "big", str(BIG_FILE)],
            cwd=ROOT,
            env=environ,
            check=True,
            capture_output=True,
        )
        with running_app(environ, home / "server-big.log") as app:
            results["big"] = time_project(app.url, "?project=big")
    print("\nbrowser, fresh server (seconds from navigation until the script settled)")
    for project, timings in results.items():
        for label, seconds in timings.items():
            target = TARGETS_S[project] if label == "first Overview" else TARGETS_S["switch"]
            verdict = "meets" if seconds < target else "MISSES"
            print(f"   {project:<5} {label:<28}{seconds:8.2f}   target < {target:g} s: {verdict}")


if __name__ == "__main__":
    main()
