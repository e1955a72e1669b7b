"""The dashboard in AppTest: every page renders for the demo project, and the widgets do what they say."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from helpers.app import PAGES, SMALL_CSV, page_strings, run_app, services

from finlib import projects
from finlib.analytics import customer_stats, measures
from finlib.analytics.overview import ViewFilters, compute_overview
from finlib.privacy.scanner import NameScanner, find_real_names
from ui.format import format_compact, format_date, with_currency


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_the_demo_project_without_an_error(app_home: Path, page: str) -> None:
    at = run_app(page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="sidebar_project").value == "demo"


def test_overview_shows_six_kpis_and_its_charts(app_home: Path) -> None:
    at = run_app()
    labels = [metric.label for metric in at.metric]
    assert labels == [
        "Outstanding", "Overdue", "Overdue share", "DSO, days", "Best possible DSO", "ADD, days",
        "Invoiced", "Collected", "CEI", "Avg days to pay", "Wtd days to pay", "Paid on time",
    ]  # fmt: skip
    weighted = next(metric for metric in at.metric if metric.label == "Wtd days to pay")
    assert weighted.help.startswith("Weighted days to pay: "), "the full name in the help"
    charts = [node for node in at.get("plotly_chart")]
    assert len(charts) == 6


def test_registering_a_url_outside_the_allowed_buckets_shows_the_error_and_stores_nothing(app_home: Path) -> None:
    at = run_app("pages/projects.py")
    at.text_input(key="projects_s3_name").input("metadata")
    at.text_input(key="projects_s3_url").input("http://169.254.169.254/latest/meta-data/ledger.csv")
    at.button(key="projects_s3_register").click().run()
    assert not at.exception
    assert at.error, "the refusal is shown"
    assert [info.name for info in projects.list_projects(services())] == ["demo"]


def test_registering_without_a_name_says_so_inline(app_home: Path) -> None:
    at = run_app("pages/projects.py")
    at.text_input(key="projects_s3_url").input("s3://somewhere/ledger.xlsx")
    at.button(key="projects_s3_register").click().run()
    assert any("project name" in error.value for error in at.error)
    assert [info.name for info in projects.list_projects(services())] == ["demo"]


def test_uploading_a_small_csv_creates_a_project_and_opens_it(app_home: Path) -> None:
    at = run_app("pages/projects.py")
    at.file_uploader(key="projects_upload_file").upload("zephyr.csv", SMALL_CSV, "text/csv")
    at.run()
    at.text_input(key="projects_upload_name").input("zephyr")
    at.button(key="projects_upload_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    stored = {info.name: info for info in projects.list_projects(services())}
    assert stored["zephyr"].row_count == 3
    assert stored["zephyr"].customer_count == 2
    assert at.selectbox(key="sidebar_project").value == "zephyr"
    assert at.query_params.get("project") in ("zephyr", ["zephyr"])


def test_a_filter_changes_the_kpis_to_what_finlib_computes_for_the_filtered_ledger(app_home: Path) -> None:
    at = run_app()
    before = at.metric[0].value
    loaded = projects.load_project(services(), "demo")
    ledger, currency = loaded.ledger, loaded.info.currency
    assert currency is not None and currency.code == "AED", "the demo states its currency"
    filters = [
        (key, column)
        for key, column in (("sidebar_location", "location"), ("sidebar_service_type", "service_type"))
        if ledger[column].notna().any()
    ]
    assert filters, "the demo ledger has a location or service type column"
    key, column = filters[0]
    choice = sorted(ledger[column].dropna().unique(), key=str.casefold)[0]
    at.multiselect(key=key).select(choice).run()
    assert not at.exception

    view = compute_overview(ledger, ViewFilters(**{f"{column}s": (choice,)}))
    assert view is not None
    values = {metric.label: metric.value for metric in at.metric}
    assert values["Invoiced"] == format_compact(view.report.activity.invoiced)
    assert values["Collected"] == format_compact(view.report.activity.collected)
    assert values["Outstanding"] == format_compact(view.report.balances.outstanding)
    assert values["Overdue"] == format_compact(view.report.balances.overdue)
    # The cards' amounts go without the currency (six share a row); their headings name it.
    headings = [header.value for header in at.subheader]
    assert any(h.startswith("Balances as of ") and h.endswith(f", in {currency.code}") for h in headings)
    assert any(h.startswith("Activity, ") and h.endswith(f", in {currency.code}") for h in headings)
    assert currency.code == "AED"
    assert values["Invoiced"] != before


BALANCE_CARDS = ("Outstanding", "Overdue", "Overdue share", "DSO, days", "Best possible DSO", "ADD, days")


def test_a_period_changes_activity_compares_it_with_the_period_before_and_leaves_balances_alone(
    app_home: Path,
) -> None:
    at = run_app()
    balances_before = {m.label: m.value for m in at.metric if m.label in BALANCE_CARDS}
    loaded = projects.load_project(services(), "demo")
    ledger = loaded.ledger
    end = measures.resolve_as_of(ledger).date()
    start = (pd.Timestamp(end) - pd.Timedelta(days=89)).date()
    at.date_input(key="sidebar_date_range").set_value((start, end)).run()
    assert not at.exception
    view = compute_overview(ledger, ViewFilters(start=start, end=end))
    assert view is not None and view.report.previous_activity is not None
    shown = {m.label: m for m in at.metric}
    assert shown["Invoiced"].value == format_compact(view.report.activity.invoiced)
    assert shown["Invoiced"].delta, "a delta against the 90 days before"
    assert {label: shown[label].value for label in BALANCE_CARDS} == balances_before
    assert any("against" in caption.value for caption in at.caption), "the caption says what the deltas compare"


def test_presentation_mode_removes_every_real_name_from_every_page(app_home: Path) -> None:
    at = run_app()
    book = projects.load_project(services(), "demo").aliases
    assert find_real_names("\n".join(page_strings(at)), NameScanner.from_book(book)), (
        "names are shown before the switch"
    )
    at.toggle(key="sidebar_presentation_mode").set_value(True).run()
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        leaked = find_real_names("\n".join(page_strings(at)), NameScanner.from_book(book))
        assert not leaked, (page, leaked)


def test_presentation_mode_can_be_switched_on_from_the_privacy_page(app_home: Path) -> None:
    at = run_app("pages/privacy.py")
    at.toggle(key="privacy_presentation_mode").set_value(True).run()
    assert at.toggle(key="sidebar_presentation_mode").value is True
    aliases = next(frame.value for frame in at.dataframe if "Alias" in frame.value.columns)
    assert "Real name" not in aliases.columns


def test_customers_page_shows_the_forecast_of_the_chosen_customer(app_home: Path) -> None:
    at = run_app("pages/customers.py")
    loaded = projects.load_project(services(), "demo")
    stats = customer_stats.compute_customer_stats(loaded.ledger)
    abc = stats[stats["customer"] == "ABC Company"].iloc[0]
    picker = at.selectbox(key="customers_select")
    assert "ABC Company" in picker.options
    picker.set_value(abc["customer_key"]).run()
    assert not at.exception
    values = {metric.label: metric.value for metric in at.metric}
    assert values["Next invoice, predicted"] == with_currency(
        format_compact(abc["predicted_next_amount"]), loaded.info.currency
    )
    assert values["Next payment, predicted"] == format_date(abc["predicted_next_payment_date"])
    assert at.subheader[0].value == "ABC Company"


def test_a_project_whose_source_vanished_says_so_and_offers_refresh_and_delete(app_home: Path) -> None:
    run_app()
    st.cache_data.clear()
    st.cache_resource.clear()  # a new app process: nothing of the ledger is held in memory
    for path in (app_home / "store").rglob("*"):
        if path.is_file():
            path.unlink()
    for path in (app_home / "cache").rglob("*"):
        if path.is_file():
            path.unlink()
    at = run_app()
    assert not at.exception
    assert at.error
    assert at.button(key="overview_failed_refresh")
    assert at.button(key="overview_failed_delete")


def test_filters_show_only_on_pages_they_shape_and_survive_a_visit_elsewhere(app_home: Path) -> None:
    at = run_app()
    options = at.multiselect(key="sidebar_location").options
    at.multiselect(key="sidebar_location").set_value([options[0]]).run()
    at.switch_page("pages/projects.py").run()
    assert not any(m.key == "sidebar_location" for m in at.multiselect)
    at.switch_page("pages/overview.py").run()
    assert at.multiselect(key="sidebar_location").value == [options[0]]


def test_the_worklist_says_outstanding_names_its_next_payment_formula_and_marks_past_dates(app_home: Path) -> None:
    at = run_app("pages/worklist.py")
    assert not at.exception, [e.value for e in at.exception]
    table = next(frame.value for frame in at.dataframe if "Customer" in frame.value.columns)
    assert "Outstanding" in table.columns and "Open balance" not in table.columns, "the Overview's word"
    assert "Next payment (original formula)" in table.columns
    as_of = measures.resolve_as_of(projects.load_project(services(), "demo").ledger)
    past = table["Next payment (original formula)"] < as_of
    assert past.any(), "the demo has next payments already past"
    assert (table["Already past"] == past).all()


def test_invoices_picked_on_a_customer_chart_are_listed_in_the_whole_tables_order(app_home: Path) -> None:
    from finlib.analytics.drilldown import overdue_first
    from ui import data

    run_app("pages/customers.py")  # registers the demo project
    demo = projects.get_project(services(), "demo")
    key, filters = data.ViewKey("demo", demo.version, "test"), data.LedgerFilters()
    ledger = projects.load_project(services(), "demo").ledger
    mixed = (  # a customer with paid, open and overdue invoices, so the order has something to keep
        (customer, invoices)
        for customer in ledger["customer_key"].value_counts().index
        for invoices in [data.compute_customer_invoices(services(), key, filters, customer)]
        if set(invoices["status"]) == {"paid", "open", "overdue"}
    )
    customer, invoices = next(mixed)
    numbered = invoices.assign(chart_row=range(len(invoices)))
    ordered = data.customer_invoices_overdue_first(services(), key, filters, customer)
    pd.testing.assert_frame_equal(ordered, overdue_first(numbered))
    picked = list(range(0, len(invoices), 3))
    listed = ordered[ordered["chart_row"].isin(picked)].reset_index(drop=True)
    pd.testing.assert_frame_equal(listed, overdue_first(numbered[numbered["chart_row"].isin(picked)]))


def test_the_overview_figures_are_built_once_per_view_and_as_the_chart_builders_draw_them(app_home: Path) -> None:
    from finlib.currency import parse_currency
    from ui import charts, data
    from ui.overview_figures import overview_figures

    run_app()  # registers the demo project
    demo = projects.get_project(services(), "demo")
    key, filters, dirham = data.ViewKey("demo", demo.version, "test"), data.LedgerFilters(), parse_currency("AED")
    figures = overview_figures(services(), key, filters, dirham)
    assert overview_figures(services(), key, filters, dirham) is figures, "a rerun reuses them"
    assert overview_figures(services(), key, filters, None) is not figures, "another currency, other axis titles"
    overview = data.compute_overview(services(), key, filters)
    assert figures is not None and overview is not None
    assert figures.monthly == charts.monthly_figure(overview.monthly, dirham)
    ranking = overview.most_overdue.rename(columns={"customer": "name"})
    assert figures.most_overdue == charts.ranking_figure(ranking, value_label="Overdue", currency=dirham)
