"""The Customers page with more customers than its list holds, and a customer with more invoices than its table lists.

The limits are lowered for these tests (a project of a thousand customers would take the suite's time, not test
more): the page reads them when it runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.app import run_app, services
from streamlit.testing.v1 import AppTest

from finlib import projects
from ui import customer_picker, tables, url_state

# Totals invoiced: Zephyr 3,750 > Quasar 1,700 > Nova Trading 900 > Orion Trading 400 > Lyra 100.
MANY_CUSTOMERS_CSV = (
    b"Customer,Invoice Date,Invoice No,Amount,Payment Date\n"
    b"Zephyr Widgets,2025-01-05,Z-1,1200.00,2025-02-01\n"
    b"Zephyr Widgets,2025-02-05,Z-2,1300.00,2025-03-10\n"
    b"Zephyr Widgets,2025-03-05,Z-3,1250.00,\n"
    b"Quasar Foods,2025-01-20,Q-1,800.00,2025-02-14\n"
    b"Quasar Foods,2025-02-20,Q-2,900.00,\n"
    b"Nova Trading,2025-02-01,N-1,900.00,2025-03-01\n"
    b"Orion Trading,2025-02-10,O-1,400.00,\n"
    b"Lyra Labs,2025-03-01,L-1,100.00,2025-03-20\n"
)
LISTED = 2


@pytest.fixture
def many(app_home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A project of five customers on a page whose list holds two; each customer's key by name."""
    monkeypatch.setattr(customer_picker, "MAX_LISTED_CUSTOMERS", LISTED)
    projects.upload_project(services(), "many", "many.csv", MANY_CUSTOMERS_CSV)
    ledger = projects.load_project(services(), "many").ledger
    return dict(zip(ledger["customer_name"], ledger["customer_key"], strict=False))


def open_customers(project: str = "many") -> AppTest:
    at = run_app()
    at.selectbox(key="sidebar_project").set_value(project).run()
    at.switch_page("pages/customers.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_customer(at: AppTest) -> str:
    return str(at.subheader[0].value)


def test_past_the_limit_the_list_holds_the_largest_customers_and_a_search_box_finds_the_others(
    many: dict[str, str],
) -> None:
    at = open_customers()
    picker = at.selectbox(key=customer_picker.SELECT_KEY)
    assert picker.options == ["Quasar Foods", "Zephyr Widgets"], "the two largest, by name"
    assert shown_customer(at) == "Zephyr Widgets", "the largest first"
    assert at.text_input(key=customer_picker.SEARCH_KEY).value == ""
    assert any("2 largest by amount invoiced of the 5 customers" in caption.value for caption in at.caption)


def test_typing_part_of_a_name_lists_the_matches_and_shows_the_largest_at_once(many: dict[str, str]) -> None:
    at = open_customers()
    at.text_input(key=customer_picker.SEARCH_KEY).input("trading").run()
    assert not at.exception
    assert at.selectbox(key=customer_picker.SELECT_KEY).options == ["Nova Trading", "Orion Trading"]
    assert shown_customer(at) == "Nova Trading"
    at.selectbox(key=customer_picker.SELECT_KEY).set_value(many["Orion Trading"]).run()
    assert shown_customer(at) == "Orion Trading"
    at.text_input(key=customer_picker.SEARCH_KEY).input("orion").run()
    assert shown_customer(at) == "Orion Trading", "a narrower search keeps the customer it still matches"


def test_a_search_that_matches_nobody_says_so_and_keeps_the_customer_shown(many: dict[str, str]) -> None:
    at = open_customers()
    at.text_input(key=customer_picker.SEARCH_KEY).input("no such name").run()
    assert not at.exception
    assert [warning.value for warning in at.warning] == ["No customer's name contains “no such name”."]
    assert shown_customer(at) == "Zephyr Widgets"


def test_a_customer_opened_from_the_worklist_is_shown_and_listed_though_not_among_the_largest(
    many: dict[str, str],
) -> None:
    at = open_customers()
    at.text_input(key=customer_picker.SEARCH_KEY).input("quasar").run()
    at.session_state[url_state.OPEN_CUSTOMER_STATE] = many["Lyra Labs"]
    at.run()
    assert shown_customer(at) == "Lyra Labs"
    assert at.text_input(key=customer_picker.SEARCH_KEY).value == "", "the earlier search no longer hides it"
    assert "Lyra Labs" in at.selectbox(key=customer_picker.SELECT_KEY).options


def test_a_customer_named_in_the_page_address_is_shown_though_not_among_the_largest(many: dict[str, str]) -> None:
    ledger = projects.load_project(services(), "many").ledger
    alias = str(ledger.loc[ledger["customer_name"] == "Orion Trading", "customer_alias"].iloc[0])
    at = AppTest.from_file(str(Path(__file__).parents[1] / "app.py"), default_timeout=90)
    at.query_params.update({"project": "many", "customer": alias})
    at.run()
    at.switch_page("pages/customers.py").run()
    assert not at.exception
    assert shown_customer(at) == "Orion Trading"


def test_up_to_the_limit_every_customer_is_listed_without_a_search_box(many: dict[str, str]) -> None:
    two_customers = MANY_CUSTOMERS_CSV.split(b"\nNova")[0] + b"\n"  # Zephyr and Quasar
    projects.upload_project(services(), "few", "few.csv", two_customers)
    at = open_customers("few")
    assert at.selectbox(key=customer_picker.SELECT_KEY).options == ["Quasar Foods", "Zephyr Widgets"]
    assert not at.text_input, "no search box"


def test_a_customer_with_more_invoices_than_the_table_lists_shows_the_first_and_says_the_download_has_all(
    many: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables, "MAX_TABLE_ROWS", 2)
    at = open_customers()
    assert shown_customer(at) == "Zephyr Widgets"
    table = at.dataframe[0].value
    assert len(table) == 2
    assert table["Invoice"].tolist() == ["Z-3", "Z-2"], "the open one, then the latest paid: the whole list's order"
    assert any("first 2 of 3 invoices" in caption.value for caption in at.caption)


def test_the_worklist_and_the_customers_page_compute_every_customers_figures_once_per_view(
    many: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from finlib.analytics import customer_stats, worklist

    computed: list[int] = []

    def counted(ledger: object, **options: object) -> object:
        computed.append(1)
        return compute(ledger, **options)

    compute = customer_stats.compute_customer_stats
    monkeypatch.setattr(customer_stats, "compute_customer_stats", counted)
    monkeypatch.setattr(worklist, "compute_customer_stats", counted)
    at = open_customers()
    at.switch_page("pages/worklist.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Zephyr Widgets" in frame.value["Customer"].tolist() for frame in at.dataframe)
    assert len(computed) == 1


def test_a_customers_charts_are_built_once_per_view_and_customer_and_as_the_chart_builders_draw_them(
    many: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import charts, data
    from ui.customer_figures import customer_figures

    built: list[str] = []
    amounts_figure = charts.customer_amounts_figure

    def counted(invoices: object, **options: object) -> object:
        built.append("amounts")
        return amounts_figure(invoices, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(charts, "customer_amounts_figure", counted)
    at = open_customers()
    at.switch_page("pages/overview.py").run()
    at.switch_page("pages/customers.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) == 2
    assert built == ["amounts"], "a rerun on cached results reuses the figures"

    version = projects.get_project(services(), "many").version
    key, filters = data.ViewKey("many", version, "test"), data.LedgerFilters()
    zephyr = many["Zephyr Widgets"]
    figures = customer_figures(services(), key, filters, zephyr, 1250.0, 30.0, None)
    invoices = data.compute_customer_invoices(services(), key, filters, zephyr)
    numbered = invoices.assign(chart_row=range(len(invoices)))
    assert figures.amounts == amounts_figure(numbered, predicted_amount=1250.0, currency=None)
    paid = numbered[numbered["delay_days"].notna()]
    assert figures.delays == charts.customer_delays_figure(paid, 30.0)
    assert customer_figures(services(), key, filters, many["Orion Trading"], 400.0, None, None).delays is None
