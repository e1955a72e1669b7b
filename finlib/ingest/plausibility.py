"""Plausibility of parsed dates: dates implausibly far ahead, ERP "no date" values, prepayments, no payments.

A value can be a valid date and still be wrong for a ledger: one invoice typed as 2099 would move the ledger's
as-of date (and every overdue figure) by decades. Such rows are rejected with their row numbers, never loaded
silently. A payment dated before its invoice is real (a prepayment): it loads, is counted in the load report, and
its days to pay are 0 (``finlib.analytics.measures.payment_delay_days``). A file without any payment date loads
with a warning that payment figures are not available.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from finlib.ingest import values

# A date is implausibly far ahead when more than this separates it from the file's dates before it.
MAX_GAP_DAYS = 366
_LABELS = {"invoice_date": "invoice dates", "due_date": "due dates", "payment_date": "payment dates"}

Check = tuple[np.ndarray, Callable[[int], str]]


def latest_plausible(invoice_date: pd.Series, payment: pd.Series) -> pd.Timestamp | None:
    """The latest plausible invoice or payment date, from the file alone (never today: a cached parse stays true).

    From the median invoice date on, the file's invoice and payment dates are taken in order; the first gap of
    more than ``MAX_GAP_DAYS`` ends the ledger, and the limit is a gap's length after the last date before it.
    None for a file without invoice dates.
    """
    invoices = invoice_date.dropna().to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    if not len(invoices):
        return None
    middle = (len(invoices) - 1) // 2  # the lower median: one typo in two rows cannot become the anchor
    # Selected among the days as integers (the same order): NumPy's partition of datetime64 is ~60 times slower.
    median = np.partition(invoices.view(np.int64), middle)[middle].astype("datetime64[D]")
    paid = payment.dropna().to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    days = np.sort(pd.unique(np.concatenate([invoices, paid])))
    days = days[days >= median]
    gap = np.diff(days) > np.timedelta64(MAX_GAP_DAYS, "D")
    end = days[int(np.argmax(gap))] if gap.any() else days[-1]
    return pd.Timestamp(end) + pd.Timedelta(days=MAX_GAP_DAYS)


def _day(value: pd.Timestamp) -> str:
    return str(value.strftime("%Y-%m-%d"))


def checks(invoice_date: pd.Series, payment: pd.Series) -> list[Check]:
    """Rejection checks: invoice and payment dates implausibly far ahead.

    A payment dated before its invoice is not rejected: it is a prepayment (``payment_findings`` counts it).
    """
    limit = latest_plausible(invoice_date, payment)
    if limit is None:
        return []
    shown_limit = _day(limit)

    def late(label: str, dates: pd.Series) -> Callable[[int], str]:
        return lambda position: (
            f"{label} {_day(dates.iloc[position])} is implausibly far ahead (after {shown_limit}: more than a "
            "year after the file's other dates)"
        )

    return [
        ((invoice_date > limit).to_numpy(), late("invoice date", invoice_date)),
        ((payment > limit).to_numpy(), late("payment date", payment)),
    ]


@dataclass(frozen=True)
class PaymentFindings:
    """What the loaded rows say about payments: how many have a payment date, how many were prepaid."""

    payment_dates: int
    prepayments: int
    warnings: list[str]


def payment_findings(ledger: pd.DataFrame, has_payment_column: bool) -> PaymentFindings:
    """Count payment dates and prepayments (paid before the invoice date; credit notes aside) and say what follows."""
    paid = ledger["payment_date"].notna()
    prepaid = (paid & (ledger["payment_date"] < ledger["invoice_date"]) & (ledger["amount"] >= 0)).to_numpy()
    warnings = []
    if not paid.any():
        where = "its payment date column is empty" if has_payment_column else "it has no payment date column"
        warnings.append(
            f"No payment dates: {where} (Xero and QuickBooks Online invoice exports carry none), so every invoice "
            "counts as open, and days to pay, on-time share, payment delays and payment forecasts are not available."
        )
    count = int(prepaid.sum())
    if count:
        first = int(ledger["source_row"].to_numpy()[np.flatnonzero(prepaid)[0]])
        warnings.append(
            f"{count} invoice{'s were' if count > 1 else ' was'} paid before {'their' if count > 1 else 'its'} "
            f"invoice date (prepayments; first: row {first}). They count as paid, with 0 days to pay."
        )
    return PaymentFindings(int(paid.sum()), count, warnings)


def no_date_warnings(raw: Mapping[str, pd.Series | None]) -> list[str]:
    """One warning per date column holding an ERP's "no date" (9999-12-31 and the like), read as empty."""
    warnings = []
    for canonical, column in raw.items():
        if column is None or not (
            column.dtype == object or pd.api.types.is_string_dtype(column.dtype) or column.dtype == "category"
        ):
            continue
        codes, uniques = pd.factorize(column)
        sentinel = values.no_date_mask(pd.Series(uniques, dtype=object).astype(str).str.strip()).to_numpy()
        count = int(np.append(sentinel, False)[codes].sum())
        if count:
            example = str(pd.Series(uniques)[sentinel].iloc[0]).strip()
            warnings.append(
                f"{count} {_LABELS.get(canonical, canonical)} of {example!r} were read as empty: ERPs write "
                "'no date' that way."
            )
    return warnings
