"""The view in the page address: every filter, the balance date and the customer round-trip through the URL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from helpers.app import APP, TIMEOUT_S, services
from streamlit.testing.v1 import AppTest

from finlib import projects


def open_with(params: dict[str, str | list[str]], page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def values(at: AppTest, name: str) -> list[str]:
    value = at.query_params.get(name)
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def address(at: AppTest) -> dict[str, list[str]]:
    return {name: values(at, name) for name in at.query_params}


def demo_ledger():  # noqa: ANN201 - a ledger frame
    service = services()
    projects.ensure_demo_project(service)
    return projects.load_project(service, "demo").ledger


def test_a_link_with_every_filter_opens_the_same_view_and_keeps_its_address(app_home: Path) -> None:
    ledger = demo_ledger()
    location = sorted(ledger["location"].dropna().unique())[0]
    service = sorted(ledger["service_type"].dropna().unique())[0]
    manager_alias = ledger["sales_manager_alias"].dropna().iloc[0]
    manager_key = ledger.loc[ledger["sales_manager_alias"] == manager_alias, "sales_manager_key"].iloc[0]
    params = {
        "project": "demo",
        "from": "2026-02-01",
        "to": "2026-07-31",
        "as_of": "2026-08-31",
        "location": location,
        "service": service,
        "manager": manager_alias,
    }
    at = open_with(params)
    assert at.date_input(key="sidebar_date_range").value == (date(2026, 2, 1), date(2026, 7, 31))
    assert at.date_input(key="sidebar_as_of").value == date(2026, 8, 31)
    assert at.multiselect(key="sidebar_location").value == [location]
    assert at.multiselect(key="sidebar_service_type").value == [service]
    assert at.multiselect(key="sidebar_sales_manager").value == [manager_key]
    assert any("Balances as of 31 Aug 2026" in header.value for header in at.subheader)
    assert address(at) == {name: [value] for name, value in params.items()}, "the address is kept as given"


def test_a_period_preset_and_a_customer_survive_in_the_address(app_home: Path) -> None:
    stats_alias = demo_ledger()["customer_alias"].dropna().iloc[0]
    at = open_with({"project": "demo", "period": "6M", "customer": stats_alias}, "pages/customers.py")
    start, end = at.date_input(key="sidebar_date_range").value
    assert (end - start).days in range(180, 186)
    chosen = at.selectbox(key="customers_select").value
    ledger = projects.load_project(services(), "demo").ledger
    assert ledger.loc[ledger["customer_key"] == chosen, "customer_alias"].iloc[0] == stats_alias
    assert at.query_params.get("customer") == stats_alias
    assert at.query_params.get("period") == "6M"


def test_a_filter_chosen_on_the_page_is_written_to_the_address_without_a_name(app_home: Path) -> None:
    at = open_with({"project": "demo"})
    options = at.multiselect(key="sidebar_sales_manager").options
    at.multiselect(key="sidebar_sales_manager").select(at.multiselect(key="sidebar_sales_manager").options[0]).run()
    written = values(at, "manager")
    assert len(written) == 1 and written[0].startswith("PERS-"), (written, options[0])


def test_an_address_with_nonsense_is_ignored_without_an_error(app_home: Path) -> None:
    at = open_with({"project": "demo", "from": "yesterday", "as_of": "1999-01-01", "location": "Atlantis"})
    assert not at.error
    assert at.multiselect(key="sidebar_location").value == []
    assert "as_of" not in at.query_params and "from" not in at.query_params


def worklist_text(at: AppTest) -> str:
    return " ".join(frame.value.to_string() for frame in at.dataframe)


def test_presentation_mode_is_kept_in_the_address_and_a_link_with_it_opens_with_aliases(app_home: Path) -> None:
    ledger = demo_ledger()
    names = set(ledger["customer_name"].dropna()) - set(ledger["customer_alias"].dropna())
    at = open_with({"project": "demo"}, "pages/worklist.py")
    assert at.toggle(key="sidebar_presentation_mode").value is False
    assert "presentation" not in at.query_params
    assert any(name in worklist_text(at) for name in names), "real names show outside presentation mode"
    at.toggle(key="sidebar_presentation_mode").set_value(True).run()
    assert at.query_params.get("presentation") == "on"

    reloaded = open_with({"project": "demo", "presentation": "on"}, "pages/worklist.py")
    assert reloaded.toggle(key="sidebar_presentation_mode").value is True
    assert reloaded.query_params.get("presentation") == "on"
    assert worklist_text(reloaded) and not any(name in worklist_text(reloaded) for name in names)

    reloaded.toggle(key="sidebar_presentation_mode").set_value(False).run()
    assert "presentation" not in reloaded.query_params


def test_a_period_button_ends_its_period_on_the_balance_date_and_follows_it(app_home: Path) -> None:
    at = open_with({"project": "demo"})
    at.date_input(key="sidebar_as_of").set_value(date(2026, 6, 30)).run()
    at.segmented_control(key="sidebar_period").set_value("3M").run()
    assert at.date_input(key="sidebar_date_range").value == (date(2026, 4, 1), date(2026, 6, 30))
    at.date_input(key="sidebar_as_of").set_value(date(2026, 5, 31)).run()
    assert at.date_input(key="sidebar_date_range").value == (date(2026, 3, 1), date(2026, 5, 31))
    assert (at.query_params.get("period"), at.query_params.get("as_of")) == ("3M", "2026-05-31")

    reloaded = open_with({"project": "demo", "period": "3M", "as_of": "2026-05-31"})
    assert reloaded.date_input(key="sidebar_date_range").value == (date(2026, 3, 1), date(2026, 5, 31))
