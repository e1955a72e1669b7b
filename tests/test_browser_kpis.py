"""The analyst's journey in a real browser: worklist -> customer -> drill-down from a chart -> Excel and PDF export.

The exported files are opened and read back: the workbook's KPIs must be finlib's numbers, the PDF must carry the
view. Screenshots go to ``artifacts/`` (git-ignored).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from helpers.browser import (
    ROOT,
    chromium,
    go_to,
    isolated_environ,
    main_text,
    new_tab,
    require_chromium,
    running_app,
    settle,
    shoot,
)
from pypdf import PdfReader

from finlib import projects
from finlib.analytics.drilldown import delay_bins
from finlib.analytics.kpis import compute_kpis
from finlib.analytics.overview import ViewFilters, compute_overview
from finlib.analytics.periods import resolve_view_dates
from finlib.analytics.worklist import compute_worklist
from finlib.config import load_settings

ARTIFACTS = ROOT / "artifacts"
STEP_TIMEOUT_MS = 90_000
VIEWPORT = {"width": 1440, "height": 2600}
SALT = "browser-kpi-salt"
GRID_HEADER_PX = 36
GRID_ROW_PX = 35


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, projects.LoadedProject]]:
    require_chromium()
    home = tmp_path_factory.mktemp("browser-kpis") / "home"
    environ = isolated_environ(home, SALT)
    services = projects.Services(load_settings(environ, dotenv_path=None))
    projects.ensure_demo_project(services)
    loaded = projects.load_project(services, "demo")
    services.engine.dispose()
    with running_app(environ, tmp_path_factory.mktemp("browser-kpis-log") / "streamlit.log") as running:
        yield running.url, loaded


@pytest.fixture(scope="module")
def page(app: tuple[str, projects.LoadedProject]) -> Iterator[object]:
    with chromium() as browser:
        yield new_tab(browser, STEP_TIMEOUT_MS, viewport=VIEWPORT, accept_downloads=True)


def _download(page: object, label: str, target: Path) -> bytes:
    with page.expect_download() as info:  # type: ignore[attr-defined]
        page.locator('[data-testid="stDownloadButton"] button', has_text=label).first.click()  # type: ignore[attr-defined]
    download = info.value
    download.save_as(str(target))
    assert download.suggested_filename.startswith("demo-")
    return target.read_bytes()


def test_worklist_to_customer_to_drill_down_to_exports(
    app: tuple[str, projects.LoadedProject], page: object, tmp_path: Path
) -> None:
    url, loaded = app
    dates = resolve_view_dates(loaded.ledger)
    assert dates is not None
    worklist = compute_worklist(loaded.ledger, dates.as_of)
    first = str(worklist.iloc[0]["customer"])

    page.goto(url)  # type: ignore[attr-defined]
    settle(page)
    go_to(page, "Worklist")
    grid = page.locator('[data-testid="stDataFrame"]').first  # type: ignore[attr-defined]
    grid.wait_for()
    assert "largest overdue first" in main_text(page)
    shoot(page, ARTIFACTS, "kpi-01-worklist")
    box = grid.bounding_box()
    # The row marker of the first row: selecting it opens that customer.
    page.mouse.click(box["x"] + 12, box["y"] + GRID_HEADER_PX + GRID_ROW_PX / 2)  # type: ignore[attr-defined]
    settle(page)
    page.wait_for_selector('h3:has-text("' + first + '")')  # type: ignore[attr-defined]
    assert "customer=CUST-" in page.url  # type: ignore[attr-defined]
    assert "overdue first" in main_text(page)
    shoot(page, ARTIFACTS, "kpi-02-customer")
    amounts = page.locator('[data-testid="stPlotlyChart"]').first  # type: ignore[attr-defined]
    amounts.scroll_into_view_if_needed()
    amounts.locator("g.points path.point").first.click(force=True)
    settle(page)
    page.wait_for_selector("text=Showing the 1 invoice selected on the charts")  # type: ignore[attr-defined]

    go_to(page, "Overview")
    page.wait_for_selector('[data-testid="stPlotlyChart"] svg.main-svg')  # type: ignore[attr-defined]
    aging = page.locator('[data-testid="stPlotlyChart"]').nth(2)  # type: ignore[attr-defined]
    aging.scroll_into_view_if_needed()
    aging.locator("g.point path").last.click(force=True)
    settle(page)
    page.wait_for_selector('h3:has-text("days past due")')  # type: ignore[attr-defined]
    assert "Over 90 days past due" in main_text(page)
    shoot(page, ARTIFACTS, "kpi-03-drilldown")
    delays = page.locator('[data-testid="stPlotlyChart"]').nth(3)  # type: ignore[attr-defined]
    delays.scroll_into_view_if_needed()
    delays.locator("g.point path").first.click(force=True)
    settle(page)
    page.wait_for_selector('h3:has-text("days after their invoice date")')  # type: ignore[attr-defined]
    bins = delay_bins(compute_overview(loaded.ledger, ViewFilters()).delays["delay_days"])  # type: ignore[union-attr]
    first_bin = f"Invoices paid {bins.iloc[0]['start']}–{bins.iloc[0]['end'] - 1} days after their invoice date"
    assert first_bin in main_text(page), "the histogram's first bar: the fastest payments of the period"

    report = compute_kpis(loaded.ledger, dates)
    workbook = openpyxl.load_workbook(io.BytesIO(_download(page, "Excel workbook", tmp_path / "view.xlsx")))
    assert workbook.sheetnames == ["View", "KPIs", "Aging", "Monthly", "Worklist", "Invoices"]
    kpis = {row[1]: row[2] for row in workbook["KPIs"].iter_rows(min_row=2, values_only=True)}
    assert kpis["Outstanding"] == pytest.approx(report.balances.outstanding)
    assert kpis["Collected (cash received)"] == pytest.approx(report.activity.collected)
    assert workbook["Worklist"]["A2"].value == first

    pdf = _download(page, "PDF report", tmp_path / "view.pdf")
    text = "\n".join(page_text.extract_text() for page_text in PdfReader(io.BytesIO(pdf)).pages)
    assert "Receivables report: demo" in text
    assert f"AED {report.balances.outstanding:,.2f}" in text, "the demo states its currency, AED"
    assert first in text
