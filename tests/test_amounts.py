"""Next-invoice amount methods on a hand-computed history, as known on the forecast date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ledger_frames import make_ledger

from finlib.forecast.amounts import invoice_order, next_invoices, predict_next_amounts
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
