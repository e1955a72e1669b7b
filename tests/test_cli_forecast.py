"""The forecast and backtest commands on the demo project: the documented JSON, the as-of date, clear failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.ledgers import LEDGER_CSV

from finlib.cli import main
from finlib.forecast.payment_dates import DATE_METHODS


@pytest.fixture(scope="module")
def environ(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("cli-forecast") / "home"
    environ = {"FINLIB_HOME": str(home), "ALIAS_SALT": "cli-forecast-salt"}
    assert main(["demo"], environ=environ) == 0
    return environ


def run_json(environ: dict[str, str], capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    capsys.readouterr()
    assert main([*argv, "--json"], environ=environ) == 0
    return json.loads(capsys.readouterr().out)


def test_forecast_json_lists_every_open_invoice_with_dates_after_the_as_of_date(environ, capsys) -> None:
    payload = run_json(environ, capsys, "forecast", "demo")
    assert payload["project"] == "demo" and payload["as_of"] == "2026-10-31"
    assert payload["method"] in DATE_METHODS
    stats = run_json(environ, capsys, "stats", "demo")
    open_count = sum(c["unpaid_count"] for c in stats["customers"])
    # Every unpaid invoice but the credit note is open (a credit note is not cash to collect).
    assert len(payload["invoices"]) == open_count - sum(1 for c in stats["customers"] if c["total_amount"] < 0)
    for invoice in payload["invoices"]:
        assert invoice["alias"].startswith("CUST-")
        assert payload["as_of"] < invoice["low_date"] <= invoice["predicted_payment_date"] <= invoice["high_date"]
    assert len(payload["weeks"]) == 13


def test_forecast_as_of_an_earlier_date_sees_only_what_was_known_then(environ, capsys) -> None:
    payload = run_json(environ, capsys, "forecast", "demo", "--as-of", "2026-03-31")
    assert payload["as_of"] == "2026-03-31"
    assert all(invoice["invoice_date"] <= "2026-03-31" for invoice in payload["invoices"])
    assert all(invoice["predicted_payment_date"] > "2026-03-31" for invoice in payload["invoices"])


def test_backtest_json_scores_every_method_and_forecast_then_uses_the_best(environ, capsys) -> None:
    payload = run_json(environ, capsys, "backtest", "demo")
    assert [score["method"] for score in payload["dates"]] == list(DATE_METHODS)
    assert {"mae_days", "within_7_days", "bias_days", "interval_coverage"} <= set(payload["dates"][0])
    assert {"mae", "wape"} <= set(payload["amounts"][0])
    assert {"mae", "wape", "band_coverage"} <= set(payload["cash"][0])
    assert run_json(environ, capsys, "forecast", "demo")["method"] == payload["best_date_method"]
    capsys.readouterr()
    assert main(["forecast", "demo"], environ=environ) == 0
    assert "typical error ±" in capsys.readouterr().out


def test_the_demo_default_method_beats_invoice_date_plus_customer_mean_delay(environ, capsys) -> None:
    payload = run_json(environ, capsys, "backtest", "demo")
    scores = {score["method"]: score for score in payload["dates"]}
    assert scores[payload["best_date_method"]]["mae_days"] < scores["customer_mean"]["mae_days"]


def test_a_ledger_too_short_to_backtest_fails_in_one_line(environ, capsys, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text(LEDGER_CSV, encoding="utf-8")
    assert main(["register", "short", str(path)], environ=environ) == 0
    capsys.readouterr()
    assert main(["backtest", "short"], environ=environ) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "6 months" in error and error.count("\n") == 1


def test_a_bad_as_of_date_is_refused_in_one_line(environ, capsys) -> None:
    capsys.readouterr()
    assert main(["forecast", "demo", "--as-of", "31/03/2026"], environ=environ) == 1
    assert "--as-of must be a date like" in capsys.readouterr().err
