"""Next-invoice amount methods on a hand-computed history, as known on the forecast date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ledger_frames import make_ledger

from finlib.forecast.amounts import day_order, invoice_order, next_invoices, predict_next_amounts
from finlib.forecast.features import day_of, prepare_ledger

AMOUNTS = [100.0, 200.0, 300.0, 600.0, 900.0]


def ledger() -> pd.DataFrame:
    rows = [
        {"customer_name": "A", "invoice_date": f"2025-0{month + 1}-01", "amount": amount}
        for month, amount in enumerate(AMOUNTS)
    ]
    return make_ledger([*reversed(rows), {"customer_name": "B", "invoice_date": "2025-06-01", "amount": 5.0}])


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("moving_average", (200 + 300 + 600) / 3),  # the original formula, last 3 invoices known on 30 April
        ("mean_all", (100 + 200 + 300 + 600) / 4),
        ("median_recent", (200 + 300) / 2),
    ],
)
def test_each_amount_method_uses_only_invoices_issued_by_the_forecast_date(method: str, expected: float) -> None:
    prepared = prepare_ledger(ledger())
    predictions = predict_next_amounts(prepared, invoice_order(prepared), day_of(pd.Timestamp("2025-04-30")), 3)
    assert predictions[method][0] == pytest.approx(expected)
    assert np.isnan(predictions[method][1])  # B had no invoice yet


def test_the_next_invoice_is_each_customers_first_after_the_forecast_date() -> None:
    prepared = prepare_ledger(ledger())
    rows = next_invoices(prepared, invoice_order(prepared), day_of(pd.Timestamp("2025-03-15")), 28.0)
    assert prepared.amount[rows].tolist() == [600.0]


def test_next_amounts_per_customer_use_all_their_invoices_and_match_the_stats_moving_average() -> None:
    from finlib.analytics.customer_stats import compute_customer_stats
    from finlib.forecast.amounts import compute_next_amounts

    amounts = compute_next_amounts(ledger(), 3)
    stats = compute_customer_stats(ledger()).set_index("customer_key")
    assert amounts.loc["a", "moving_average"] == pytest.approx(stats.loc["a", "moving_average"])
    assert amounts.loc["a", "mean_all"] == pytest.approx(sum(AMOUNTS) / 5)
    assert amounts.loc["a", "median_recent"] == pytest.approx(300.0)


def test_invoice_order_is_by_customer_then_date_then_file_row() -> None:
    # Customer codes 0..2 by first appearance: rows 0, 1, 4. Ties on a date keep file order; a missing date is last.
    names = ["B", "A", "B", "A", "C", "B", "A"]
    dates = ["2025-03-01", "2025-02-01", "2025-01-01", "2025-02-01", "2025-01-05", None, "2025-01-09"]
    rows = [{"customer_name": n, "invoice_date": d, "amount": 100.0} for n, d in zip(names, dates, strict=True)]
    prepared = prepare_ledger(make_ledger(rows))
    ranks = invoice_order(prepared)
    assert ranks.order.tolist() == [2, 0, 5, 6, 1, 3, 4]
    assert ranks.rank.tolist() == [1, 1, 0, 2, 0, 2, 0]


@pytest.mark.parametrize(
    "days",
    [
        [3.0, 1.0, np.nan, 1.0, 2.0, np.nan, 0.0, 3.0],  # whole days, ties and missing ones: the 16-bit sort
        [-5.0, 20_000.0, 20_000.0, -5.0, np.nan],  # before the epoch
        [1.5, 1.0, 1.5, np.nan, 0.25],  # a fraction of a day: the float sort
        [0.0, 70_000.0, 0.0, np.nan, 35_000.0],  # a span beyond 16 bits: the float sort
        [np.nan, np.nan, np.nan],
        [],
    ],
)
def test_day_order_is_numpys_stable_argsort_with_a_missing_day_last(days: list[float]) -> None:
    values = np.array(days, dtype="float64")
    assert day_order(values).tolist() == np.argsort(values, kind="stable").tolist()


def test_day_order_matches_numpys_stable_argsort_on_many_tied_days() -> None:
    rng = np.random.default_rng(7)
    values = rng.integers(19_000, 19_400, 50_000).astype("float64")
    values[rng.random(50_000) < 0.01] = np.nan
    assert np.array_equal(day_order(values), np.argsort(values, kind="stable"))
