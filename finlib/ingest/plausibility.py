"""Plausibility of parsed dates: payments before their invoice, dates implausibly far ahead, ERP "no date" values.

A value can be a valid date and still be wrong for a ledger. A payment dated before its invoice would give a
negative delay; one invoice typed as 2099 would move the ledger's as-of date (and every overdue figure) by
decades. Such rows are rejected with their row numbers, never loaded silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
    median = np.partition(invoices, middle)[middle]
    paid = payment.dropna().to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    days = np.sort(pd.unique(np.concatenate([invoices, paid])))
    days = days[days >= median]
    gap = np.diff(days) > np.timedelta64(MAX_GAP_DAYS, "D")
    end = days[int(np.argmax(gap))] if gap.any() else days[-1]
    return pd.Timestamp(end) + pd.Timedelta(days=MAX_GAP_DAYS)


def _day(value: pd.Timestamp) -> str:
    return str(value.strftime("%Y-%m-%d"))


def checks(invoice_date: pd.Series, payment: pd.Series, amount: pd.Series) -> list[Check]:
    """Rejection checks: implausibly late invoice and payment dates, payments before their invoice.

    A credit note (negative amount) may be settled before its date: it is not a payment and has no delay.
    """
    limit = latest_plausible(invoice_date, payment)
    late_invoice = (invoice_date > limit).to_numpy() if limit is not None else np.zeros(len(invoice_date), bool)
    late_payment = (payment > limit).to_numpy() if limit is not None else np.zeros(len(payment), bool)
    early_payment = ((payment < invoice_date) & (amount >= 0)).to_numpy()

    def late(label: str, dates: pd.Series) -> Callable[[int], str]:
        return lambda position: (
            f"{label} {_day(dates.iloc[position])} is implausibly far ahead (after {_day(limit)}: more than a "
            "year after the file's other dates)"
        )

    def before(position: int) -> str:
        return (
            f"payment date {_day(payment.iloc[position])} is before the invoice date "
            f"{_day(invoice_date.iloc[position])}"
        )

    return [
        (late_invoice, late("invoice date", invoice_date)),
        (late_payment, late("payment date", payment)),
        (early_payment, before),
    ]


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
