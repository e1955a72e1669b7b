"""The Forecast page in AppTest: open invoices with their dates, the cash-in chart, the backtest beside them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from helpers.app import SMALL_CSV, run_app, services

from finlib import projects
from finlib.forecast import backtest_cache
from finlib.forecast.outlook import compute_forecast


def test_the_forecast_page_shows_every_open_invoice_and_the_backtest_of_its_method(app_home: Path) -> None:
    at = run_app("pages/forecast.py")
    assert not at.exception, [e.value for e in at.exception]
    loaded = projects.load_project(services(), "demo")
    kept = backtest_cache.load_backtest(services().settings, "demo", loaded.info.version)
    assert kept is not None, "a small ledger is backtested on the first visit, and the result kept"
    assert at.selectbox(key="forecast_method").value == kept.best_date_method
    expected = compute_forecast(loaded.ledger, None, kept.best_date_method)
    table = next(frame.value for frame in at.dataframe if "Predicted payment" in frame.value.columns)
    assert len(table) == len(expected.invoices)
    labels = [metric.label for metric in at.metric]
    assert labels == ["Open invoices", "Cash in, next 4 weeks", "Predicted late", "Typical error of a date"]
    score = kept.date_score(kept.best_date_method)
    assert at.metric[3].value == f"± {score.mae_days:.0f} days"
    backtest = next(frame.value for frame in at.dataframe if "MAE, days" in frame.value.columns)
    assert len(backtest) == 5
    assert len(at.get("plotly_chart")) == 1


def test_an_earlier_as_of_date_forecasts_from_what_was_known_then(app_home: Path) -> None:
    at = run_app("pages/forecast.py")
    at.date_input(key="forecast_as_of").set_value(dt.date(2026, 3, 31)).run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(frame.value for frame in at.dataframe if "Predicted payment" in frame.value.columns)
    assert (table["Invoice date"] <= "2026-03-31").all()
    assert (table["Earliest (10%)"] > "2026-03-31").all()


def test_a_ledger_too_short_to_backtest_gets_forecasts_and_says_why_there_is_no_error_yet(app_home: Path) -> None:
    projects.upload_project(services(), "zephyr", "zephyr.csv", SMALL_CSV)
    at = run_app("pages/forecast.py")
    at.selectbox(key="sidebar_project").set_value("zephyr").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("too short a time to backtest" in info.value for info in at.info)
    table = next(frame.value for frame in at.dataframe if "Predicted payment" in frame.value.columns)
    assert list(table["Invoice"]) == ["Q-1"]
    at.switch_page("pages/customers.py").run()
    assert not at.exception, [e.value for e in at.exception]


def test_an_as_of_date_before_any_payment_is_refused_in_one_clear_line(app_home: Path) -> None:
    at = run_app("pages/forecast.py")
    at.date_input(key="forecast_as_of").set_value(dt.date(2025, 5, 2)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] and "Pick a later date" in at.error[0].value


def test_the_as_of_date_starts_at_the_sidebars_balance_date_and_follows_it(app_home: Path) -> None:
    at = run_app()
    at.date_input(key="sidebar_as_of").set_value(dt.date(2026, 6, 30)).run()
    at.switch_page("pages/forecast.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.date_input(key="forecast_as_of").value == dt.date(2026, 6, 30)
    assert at.date_input(key="forecast_as_of").proto.format == "DD/MM/YYYY", "the sidebar's date format"
    table = next(frame.value for frame in at.dataframe if "Predicted payment" in frame.value.columns)
    assert (table["Invoice date"] <= "2026-06-30").all()
    at.switch_page("pages/overview.py").run()
    at.date_input(key="sidebar_as_of").set_value(dt.date(2026, 5, 31)).run()
    at.switch_page("pages/forecast.py").run()
    assert at.date_input(key="forecast_as_of").value == dt.date(2026, 5, 31)
