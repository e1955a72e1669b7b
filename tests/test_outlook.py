"""The forecast as of a date: no look-ahead, one entry per open invoice, dates after the as-of date, the JSON shape."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from helpers.forecast_ledgers import generated_ledger

from finlib.analytics.measures import ledger_as_of
from finlib.forecast.features import day_of, prepare_ledger
from finlib.forecast.outlook import compute_forecast, compute_past_weeks, forecast_json
from finlib.forecast.payment_dates import DATE_METHODS, fit_delays

AS_OF = pd.Timestamp("2025-06-30")


@pytest.mark.parametrize("method", list(DATE_METHODS))
def test_deleting_everything_after_the_as_of_date_leaves_the_forecast_identical(method: str) -> None:
    ledger = generated_ledger()
    full = compute_forecast(ledger, AS_OF, method)
    known = compute_forecast(ledger_as_of(ledger, AS_OF), AS_OF, method)
    pd.testing.assert_frame_equal(full.invoices, known.invoices)
    np.testing.assert_array_equal(full.weeks.expected, known.weeks.expected)
    np.testing.assert_array_equal(full.weeks.high, known.weeks.high)


def test_the_deleted_payments_would_change_the_forecast_if_they_were_seen() -> None:
    """The no-look-ahead test can fail: fitted on the later payments too, the same open invoices move."""
    prepared = prepare_ledger(generated_ledger())
    targets = np.flatnonzero(prepared.open_on(day_of(AS_OF)))
    when = np.full(len(targets), day_of(AS_OF))
    honest = fit_delays(prepared, day_of(AS_OF), "segments", targets, when)
    leaky = fit_delays(prepared, day_of(AS_OF + pd.Timedelta(days=180)), "segments", targets, when)
    assert np.abs(honest.quantile(0.5) - leaky.quantile(0.5)).max() >= 1.0


def test_every_invoice_open_on_the_as_of_date_gets_one_entry_and_no_other() -> None:
    ledger = generated_ledger()
    forecast = compute_forecast(ledger, AS_OF, "segments")
    open_now = (ledger["invoice_date"] <= AS_OF) & ~(ledger["payment_date"] <= AS_OF) & (ledger["amount"] > 0)
    assert sorted(forecast.invoices["invoice_number"]) == sorted(ledger.loc[open_now, "invoice_number"])


@pytest.mark.parametrize("method", ["customer_typical", "due_date_typical", "segments"])
def test_predicted_dates_and_intervals_lie_after_the_as_of_date_in_order(method: str) -> None:
    invoices = compute_forecast(generated_ledger(), AS_OF, method).invoices
    assert (invoices["low_date"] > AS_OF).all()
    assert (invoices["low_date"] <= invoices["predicted_payment_date"]).all()
    assert (invoices["predicted_payment_date"] <= invoices["high_date"]).all()


def test_an_invoice_older_than_its_customers_usual_delay_is_predicted_after_the_as_of_date() -> None:
    ledger = generated_ledger()
    # Customer 00 pays after ~15 days; make one of its invoices 100 days old and still open.
    row = ledger.index[(ledger["customer_key"] == "customer 00") & (ledger["invoice_date"] <= "2025-03-31")][-1]
    ledger.loc[row, "payment_date"] = pd.NaT
    invoices = compute_forecast(ledger, AS_OF, "customer_typical").invoices.set_index("invoice_number")
    old = invoices.loc[ledger.loc[row, "invoice_number"]]
    assert old["predicted_payment_date"] > AS_OF


def test_the_json_document_has_exactly_the_documented_shape() -> None:
    document = forecast_json(compute_forecast(generated_ledger(), AS_OF, "segments"), "acme")
    assert list(document) == ["project", "as_of", "method", "invoices", "weeks"]
    assert (document["project"], document["as_of"], document["method"]) == ("acme", "2025-06-30", "segments")
    assert list(document["invoices"][0]) == [
        "invoice_number", "customer", "alias", "invoice_date", "due_date", "amount",
        "predicted_payment_date", "low_date", "high_date", "beyond_history", "paid_in_13_weeks",
    ]  # fmt: skip
    assert [list(week) for week in document["weeks"]] == [["week_start", "expected", "low", "high"]] * 13
    assert document["weeks"][0]["week_start"] == "2025-07-01"
    json.dumps(document, allow_nan=False)


def test_past_weeks_show_the_forecast_made_13_weeks_earlier_beside_what_was_paid() -> None:
    ledger = generated_ledger()
    weeks = compute_past_weeks(ledger, AS_OF, "segments")
    earlier = compute_forecast(ledger, AS_OF - pd.Timedelta(weeks=13), "segments")
    np.testing.assert_allclose(weeks["expected"], earlier.weeks.expected)
    assert weeks["week_start"].iloc[0] == AS_OF - pd.Timedelta(weeks=13) + pd.Timedelta(days=1)
    paid = earlier.invoices.merge(ledger[["invoice_number", "payment_date"]], on="invoice_number")
    paid = paid[paid["payment_date"] <= AS_OF]
    assert weeks["actual"].sum() == pytest.approx(paid["amount"].sum())


def test_the_compact_json_of_a_large_forecast_is_the_same_document() -> None:
    import io

    from finlib.forecast.outlook import write_forecast_json

    forecast = compute_forecast(generated_ledger(), AS_OF, "segments")
    compact, indented = io.StringIO(), io.StringIO()
    write_forecast_json(forecast, "acme", compact, indent=None)
    write_forecast_json(forecast, "acme", indented, indent=2)
    assert json.loads(compact.getvalue()) == json.loads(indented.getvalue()) == forecast_json(forecast, "acme")


@pytest.mark.parametrize("slice_rows", [1, 3, 10**6])
def test_the_compact_json_written_in_slices_is_the_same_bytes_whatever_the_slice(
    monkeypatch: pytest.MonkeyPatch, slice_rows: int
) -> None:
    import io

    from finlib.forecast import outlook

    forecast = compute_forecast(generated_ledger(), AS_OF, "segments")
    assert len(forecast.invoices) > 3
    whole = io.StringIO()
    monkeypatch.setattr(outlook, "JSON_SLICE_ROWS", 10**9)
    outlook.write_forecast_json(forecast, "acme", whole, indent=None)
    sliced = io.StringIO()
    monkeypatch.setattr(outlook, "JSON_SLICE_ROWS", slice_rows)
    outlook.write_forecast_json(forecast, "acme", sliced, indent=None)
    assert sliced.getvalue() == whole.getvalue()
    assert json.loads(sliced.getvalue()) == forecast_json(forecast, "acme")


def test_the_compact_json_of_a_forecast_without_open_invoices_has_an_empty_list() -> None:
    import io

    from finlib.forecast.outlook import write_forecast_json

    forecast = compute_forecast(generated_ledger(), AS_OF, "segments")
    empty = replace(forecast, invoices=forecast.invoices.iloc[:0])
    out = io.StringIO()
    write_forecast_json(empty, "acme", out, indent=None)
    assert json.loads(out.getvalue())["invoices"] == []


def test_an_invoice_is_predicted_late_only_past_the_days_allowed_after_its_due_date() -> None:
    from finlib.forecast.outlook import Forecast

    invoices = pd.DataFrame({"invoice_number": ["A", "B", "C", "D"], "days_late": [14.0, 15.0, float("nan"), -3.0]})
    forecast = Forecast(pd.Timestamp("2026-10-31"), "segments", invoices, weeks=None)  # type: ignore[arg-type]
    assert forecast.late_mask(14).tolist() == [False, True, False, False]
    assert forecast.predicted_late(14)["invoice_number"].tolist() == ["B"]
    assert forecast.predicted_late(-5)["invoice_number"].tolist() == ["A", "B", "D"]


def test_invoices_older_than_nearly_all_history_are_flagged_share_one_date_and_carry_their_chance() -> None:
    ledger = generated_ledger()
    # Three invoices a year old and never paid: older than every delay the ledger knows (~30-60 days).
    stale = ledger[ledger["invoice_number"].isin(["INV-00-10", "INV-01-10", "INV-02-10"])].index
    ledger.loc[stale, "payment_date"] = pd.NaT
    forecast = compute_forecast(ledger, None, "segments")
    invoices = forecast.invoices.set_index("invoice_number")
    assert invoices.loc[["INV-00-10", "INV-01-10", "INV-02-10"], "beyond_history"].all()
    old = invoices[invoices["beyond_history"]]
    assert old["predicted_payment_date"].nunique() == 1  # the same remaining wait: the portfolio's tail
    young = invoices[~invoices["beyond_history"]]
    assert len(young) and young["paid_in_13_weeks"].min() > old["paid_in_13_weeks"].max()
    assert invoices["paid_in_13_weeks"].between(0, 1).all()
    entries = {e["invoice_number"]: e for e in forecast_json(forecast, "p")["invoices"]}
    assert entries["INV-00-10"]["beyond_history"] is True and 0 <= entries["INV-00-10"]["paid_in_13_weeks"] < 1


def test_the_forecast_page_says_why_stale_invoices_share_a_date() -> None:
    from ui.forecast_view import beyond_history_note

    invoices = pd.DataFrame(
        {"beyond_history": [True, True, False], "amount": [100.0, 300.0, 50.0], "paid_in_13_weeks": [0.5, 0.1, 0.9]}
    )
    note = beyond_history_note(invoices, lambda value: f"{value:,.0f}")
    assert note.startswith("2 open invoices are (400) older than nearly all paid invoices")
    assert "20% of their amount is paid within 13 weeks" in note  # (100 x 0.5 + 300 x 0.1) / 400
    assert beyond_history_note(invoices[~invoices["beyond_history"]], str) == ""
