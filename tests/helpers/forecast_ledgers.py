"""Generated ledgers with known payment-delay distributions, for the forecast and backtest tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ledger_frames import make_ledger

KNOWN_MEANS = (15.0, 30.0, 60.0)  # customer c pays after KNOWN_MEANS[c % 3] days on average
KNOWN_SPREAD = 5.0


def generated_ledger(customers: int = 30, months: int = 24, seed: int = 3) -> pd.DataFrame:
    """Monthly invoices per customer from 2024-01-01; delay ~ Normal(KNOWN_MEANS[c % 3], KNOWN_SPREAD), >= 1 day.

    Payments after the ledger's last invoice date are left out (unknown yet), as in a real export.
    """
    rng = np.random.default_rng(seed)
    rows = []
    end = pd.Timestamp("2024-01-01") + pd.DateOffset(months=months)
    for customer in range(customers):
        for month in range(months):
            invoice = pd.Timestamp("2024-01-01") + pd.DateOffset(months=month, days=int(rng.integers(0, 28)))
            delay = max(1, round(rng.normal(KNOWN_MEANS[customer % 3], KNOWN_SPREAD)))
            payment = invoice + pd.Timedelta(days=delay)
            rows.append(
                {
                    "customer_name": f"Customer {customer:02d}",
                    "invoice_date": invoice.strftime("%Y-%m-%d"),
                    "invoice_number": f"INV-{customer:02d}-{month:02d}",
                    "amount": float(round(rng.lognormal(8, 0.3), 2)),
                    "payment_date": payment.strftime("%Y-%m-%d") if payment <= end else None,
                }
            )
    return make_ledger(rows)
