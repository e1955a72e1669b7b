"""The Overview balances on the same day as `finlib stats` and the chat: the whole ledger's latest date."""

from __future__ import annotations

from pathlib import Path

from helpers.app import APP, TIMEOUT_S, services
from streamlit.testing.v1 import AppTest

from finlib import projects
from finlib.analytics import measures
from ui.format import format_compact

# The last invoice is dated 15 March; payments arrive until 10 April.
LATE_PAYMENTS_CSV = b"""Customer,Invoice Date,Invoice No,Amount,Payment Date,Location
Xeno Trading,2026-01-10,X-001,1000.00,2026-04-10,Oslo
Xeno Trading,2026-02-10,X-002,2000.00,,Oslo
Yarrow Foods,2026-03-15,Y-001,500.00,2026-04-02,Bergen
Yarrow Foods,2026-01-20,Y-002,700.00,2026-02-01,Bergen
"""


def open_project(name: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.query_params["project"] = name
    at.run()
    assert not at.exception
    return at


def kpis(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_kpis_balance_on_the_latest_payment_when_it_comes_after_the_last_invoice(app_home: Path) -> None:
    projects.upload_project(services(), "late", "late.csv", LATE_PAYMENTS_CSV)
    ledger = projects.load_project(services(), "late").ledger
    expected = measures.compute_portfolio(ledger)
    assert expected.as_of == measures.resolve_as_of(ledger) == ledger["payment_date"].max()
    shown = kpis(open_project("late"))
    assert shown["Collected"] == format_compact(expected.total_collected)
    assert shown["Outstanding"] == format_compact(expected.outstanding)
    assert shown["Overdue"] == format_compact(expected.overdue)


def test_a_category_filter_keeps_the_whole_ledgers_balance_date(app_home: Path) -> None:
    projects.upload_project(services(), "late", "late.csv", LATE_PAYMENTS_CSV)
    ledger = projects.load_project(services(), "late").ledger
    at = open_project("late")
    at.multiselect(key="sidebar_location").select("Bergen").run()
    bergen = measures.filter_ledger(ledger, locations=["Bergen"])
    # Bergen's own latest date is 2 April; the whole ledger balances on 10 April.
    expected = measures.compute_portfolio(bergen, as_of=measures.resolve_as_of(ledger))
    shown = kpis(at)
    assert shown["Collected"] == format_compact(expected.total_collected)
    assert shown["Outstanding"] == format_compact(expected.outstanding)
