"""Concurrent browser sessions against a running app: one Chromium, one context per session, for a bounded time.

Each session opens the app, then for the given time cycles through every page in the sidebar and flips the
Overview period, timing how long each step takes to settle (the script finished and the page shows the step's
result). An error is an exception box, a traceback, a page error in the browser, or a step that does not settle
within its timeout.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

from helpers.browser import CHROMIUM, CHROMIUM_ARGS

STEP_TIMEOUT_MS = 90_000

PAGE_TITLES = ("Customers", "Chat", "Projects", "Privacy", "Overview")
PERIODS = ("6M", "All")
# The script finished this run and the page's first heading reads the expected title.
SETTLED_ON = """title => {
    const app = document.querySelector('[data-testid="stApp"]');
    const heading = document.querySelector('[data-testid="stApp"] h1');
    return app && app.dataset.testScriptState === 'notRunning' && heading && heading.innerText.trim() === title;
}"""
# The Overview's "Activity, <start> – <end>" heading: a period button settled when the script finished and the
# heading names another period than before the click. Waiting for "running, then not running" instead raced: under
# load the rerun may not start within any fixed wait, and the old page then passed for the new one.
ACTIVITY_HEADING = """() => {
    const heading = [...document.querySelectorAll('[data-testid="stApp"] h3')]
        .find(h => h.innerText.trim().startsWith('Activity'));
    return heading ? heading.innerText.trim() : '';
}"""
PERIOD_SETTLED = """before => {
    const app = document.querySelector('[data-testid="stApp"]');
    const heading = [...document.querySelectorAll('[data-testid="stApp"] h3')]
        .find(h => h.innerText.trim().startsWith('Activity'));
    return app && app.dataset.testScriptState === 'notRunning' && heading && heading.innerText.trim() !== before;
}"""


@dataclass
class LoadReport:
    """What the sessions did: settle time of every step, the errors, and the completed page cycles."""

    sessions: int
    duration_s: float
    settle_s: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cycles: list[int] = field(default_factory=list)

    def percentile(self, share: float) -> float:
        """The settle time below which ``share`` of the steps fall (nearest rank)."""
        ordered = sorted(self.settle_s)
        return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else float("nan")

    def summary(self) -> str:
        """One line with the figures the issue asks for (memory is reported by the caller)."""
        return (
            f"{self.sessions} sessions for {self.duration_s:.0f} s: {len(self.settle_s)} steps, "
            f"{sum(self.cycles)} page cycles, {len(self.errors)} errors; settle p50 {self.percentile(0.5):.2f} s, "
            f"p95 {self.percentile(0.95):.2f} s, max {max(self.settle_s, default=float('nan')):.2f} s"
            + (f", mean {statistics.fmean(self.settle_s):.2f} s" if self.settle_s else "")
        )

    def record(self, step: str, seconds: float) -> None:
        """One settled step."""
        self.settle_s.append(seconds)
        self.by_step.setdefault(step, []).append(seconds)

    def breakdown(self) -> str:
        """Median and maximum settle time of each kind of step."""
        return "; ".join(
            f"{step} {statistics.median(times):.2f}/{max(times):.2f} s" for step, times in self.by_step.items()
        )


async def _check(page: object, where: str, report: LoadReport) -> None:
    if await page.locator('[data-testid="stException"]').count():  # type: ignore[attr-defined]
        report.errors.append(f"{where}: an exception box")
    if await page.get_by_text("Traceback").count():  # type: ignore[attr-defined]
        report.errors.append(f"{where}: a traceback")


async def _step(page: object, report: LoadReport, where: str, action: object, title: str, step: str) -> bool:
    started = time.perf_counter()
    try:
        await action  # type: ignore[misc]
        await page.wait_for_function(SETTLED_ON, arg=title, polling=100, timeout=STEP_TIMEOUT_MS)  # type: ignore[attr-defined]
    except Exception as error:  # a timeout or a closed page: count it, keep the other sessions going
        report.errors.append(f"{where}: {type(error).__name__}: {str(error).splitlines()[0]}")
        return False
    report.record(step, time.perf_counter() - started)
    await _check(page, where, report)
    return True


async def _period(page: object, report: LoadReport, where: str, period: str) -> bool:
    started = time.perf_counter()
    before = ""
    try:
        before = await page.evaluate(ACTIVITY_HEADING)  # type: ignore[attr-defined]
        button = page.get_by_test_id("stSidebar").get_by_role("radio", name=period, exact=True)  # type: ignore[attr-defined]
        await button.click(no_wait_after=True)
        await page.wait_for_function(PERIOD_SETTLED, arg=before, polling=100, timeout=STEP_TIMEOUT_MS)  # type: ignore[attr-defined]
    except Exception as error:
        report.errors.append(
            f"{where}: {type(error).__name__}: {str(error).splitlines()[0]}; clicked {period} "
            f"with heading {before!r}; then {await _state(page)}"
        )
        return False
    report.record("period", time.perf_counter() - started)
    await _check(page, where, report)
    return True


STATE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const heading = [...document.querySelectorAll('[data-testid="stApp"] h3')]
        .find(h => h.innerText.trim().startsWith('Activity'));
    const radios = [...document.querySelectorAll('[data-testid="stSidebar"] [role="radio"]')]
        .map(r => r.innerText.trim() + '=' + r.getAttribute('aria-checked'));
    return `script ${app && app.dataset.testScriptState}, heading ${heading && heading.innerText.trim()}, `
        + `periods ${radios.join(' ')}, status ${document.querySelector('[data-testid="stStatusWidget"]')?.innerText}`;
}"""


async def _state(page: object) -> str:
    """What the page showed when a step failed: script state, the Activity heading, the period buttons."""
    try:
        return str(await page.evaluate(STATE))  # type: ignore[attr-defined]
    except Exception as error:  # a closed page
        return f"state unknown ({type(error).__name__})"


async def _session(browser: object, url: str, duration_s: float, report: LoadReport, number: int) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = await context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    page.on("pageerror", lambda error: report.errors.append(f"session {number}: page error {error}"))
    cycles = 0
    try:
        if not await _step(page, report, f"session {number} open", page.goto(url), "Overview", "open"):
            return
        deadline = time.monotonic() + duration_s
        while time.monotonic() < deadline:
            for title in PAGE_TITLES:
                link = page.locator('[data-testid="stSidebarNav"] a', has_text=title).first
                if not await _step(
                    page, report, f"session {number} {title}", link.click(no_wait_after=True), title, title
                ):
                    return
            if not await _period(page, report, f"session {number} period", PERIODS[cycles % len(PERIODS)]):
                return
            cycles += 1
    finally:
        report.cycles.append(cycles)
        await context.close()


async def _drive(url: str, sessions: int, duration_s: float) -> LoadReport:
    from playwright.async_api import async_playwright

    report = LoadReport(sessions, duration_s)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            await asyncio.gather(*(_session(browser, url, duration_s, report, n) for n in range(sessions)))
        finally:
            await browser.close()
    return report


def drive_sessions(url: str, sessions: int, duration_s: float) -> LoadReport:
    """Run ``sessions`` concurrent browser sessions against ``url``, each for ``duration_s`` after it opened."""
    return asyncio.run(_drive(url, sessions, duration_s))
