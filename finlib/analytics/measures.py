"""Ledger measures: filters, invoice order, the portfolio summary, monthly series, delays, rankings, breakdowns.

Every function is pure and vectorised; an empty ledger gives empty frames or ``None`` values, never an error.
The balance date and the open/overdue rules are ``periods`` and ``balances``'s (re-exported here for callers
that only need a measure); a period's activity is ``activity``'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from finlib.analytics import balances
from finlib.analytics.balances import AGING_BUCKETS, days_past_due, ledger_as_of, open_mask
from finlib.analytics.periods import DAY, days_to_pay, resolve_as_of
from finlib.names import normalise_names

__all__ = ["AGING_BUCKETS", "DAY", "days_past_due", "ledger_as_of", "open_mask", "resolve_as_of"]

RANKABLE = ("total_amount", "avg_payment_delay_days", "overdue_amount")


def payment_delay_days(ledger: pd.DataFrame) -> pd.Series:
    """Payment date minus invoice date in days, per row (NaN for unpaid invoices)."""
    return days_to_pay(ledger)


def invoice_number_rank(numbers: pd.Series) -> np.ndarray:
    """Integer ranks of invoice numbers: shorter first, then text order; missing last.

    For numbers that share a prefix and a padding style this is their natural order ("INV-999" before
    "INV-1000"), without a regular expression per row (which costs seconds at a million rows).
    """
    codes, uniques = pd.factorize(numbers, sort=True)
    lengths = pd.Series(uniques).astype("str").str.len().to_numpy()
    by_length = np.lexsort((np.arange(len(uniques)), lengths))
    unique_rank = np.empty(len(uniques), dtype=np.int64)
    unique_rank[by_length] = np.arange(len(uniques))
    # Missing numbers (code -1) pick the extra last rank.
    ranks: np.ndarray = np.append(unique_rank, len(uniques))[codes]
    return ranks


def sort_invoices(ledger: pd.DataFrame) -> pd.DataFrame:
    """Rows ordered by invoice date, ties by invoice number (natural order), then file order."""
    ranks = invoice_number_rank(ledger["invoice_number"])
    order = np.lexsort((ranks, ledger["invoice_date"].to_numpy()))
    return ledger.iloc[order]


@dataclass(frozen=True)
class Portfolio:
    """Headline KPIs of a ledger as of a date; ``None`` where a figure does not exist (nothing paid, no ledger)."""

    as_of: pd.Timestamp | None
    invoice_count: int
    customer_count: int
    total_invoiced: float
    total_collected: float
    outstanding: float
    overdue: float
    overdue_count: int
    avg_payment_delay_days: float | None
    dso: float | None
    paid_on_time_share: float | None
    first_invoice_date: pd.Timestamp | None
    last_invoice_date: pd.Timestamp | None


EMPTY_PORTFOLIO = Portfolio(None, 0, 0, 0.0, 0.0, 0.0, 0.0, 0, None, None, None, None, None)


def compute_portfolio(ledger: pd.DataFrame, as_of: pd.Timestamp | None = None) -> Portfolio:
    """Headline KPIs of a ledger as of a date (default: ``resolve_as_of``).

    ``dso`` is DSO by the countback method (``balances``); ``total_collected`` is the cash received by ``as_of``
    (a settled credit note is not cash). ``paid_on_time_share`` is the share of paid invoices with a due date
    that were paid on or before it.
    """
    as_of = resolve_as_of(ledger) if as_of is None else pd.Timestamp(as_of)
    if as_of is None:
        return EMPTY_PORTFOLIO
    amount = ledger["amount"]
    open_rows = open_mask(ledger, as_of)
    overdue_rows = open_rows & (ledger["due_date"] < as_of)
    paid = ledger["payment_date"].notna() & (ledger["payment_date"] <= as_of)
    return Portfolio(
        as_of=as_of,
        invoice_count=int(len(ledger)),
        customer_count=int(ledger["customer_key"].nunique()),
        total_invoiced=float(amount.sum()),
        total_collected=float(amount[paid & (amount > 0)].sum()),
        outstanding=float(amount[open_rows].sum()),
        overdue=float(amount[overdue_rows].sum()),
        overdue_count=int(overdue_rows.sum()),
        avg_payment_delay_days=_mean_or_none(payment_delay_days(ledger)[paid & (amount > 0)]),
        dso=balances.compute_balances(ledger, as_of).dso_countback,
        # Two columns masked, not the frame: a mask over every text column copies a million strings.
        paid_on_time_share=_on_time_share(ledger[["due_date", "payment_date"]][paid & (amount > 0)]),
        first_invoice_date=_timestamp_or_none(ledger["invoice_date"].min()),
        last_invoice_date=_timestamp_or_none(ledger["invoice_date"].max()),
    )


def _timestamp_or_none(value: Any) -> pd.Timestamp | None:
    return None if pd.isna(value) else pd.Timestamp(value)


def _mean_or_none(values: pd.Series) -> float | None:
    values = values.dropna()
    return float(values.mean()) if len(values) else None


def _on_time_share(paid: pd.DataFrame) -> float | None:
    with_due = paid[paid["due_date"].notna()]
    if with_due.empty:
        return None
    return float((with_due["payment_date"] <= with_due["due_date"]).mean())


def filter_ledger(
    ledger: pd.DataFrame,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    service_types: Iterable[str] | None = None,
    locations: Iterable[str] | None = None,
    managers: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Rows with an invoice date in [start, end] (whole days) and in the chosen categories; empty choice = all.

    Managers match by normalised name, so any spelling of a manager selects all of their rows.
    """
    keep = pd.Series(True, index=ledger.index)
    if start is not None:
        keep &= ledger["invoice_date"] >= pd.Timestamp(start).normalize()
    if end is not None:
        keep &= ledger["invoice_date"] < pd.Timestamp(end).normalize() + DAY
    if service_types:
        keep &= ledger["service_type"].isin(list(service_types))
    if locations:
        keep &= ledger["location"].isin(list(locations))
    if managers:
        wanted = normalise_names(pd.Series(list(managers), dtype="str"))
        keep &= ledger["sales_manager_key"].isin(wanted.dropna())
    return ledger[keep]


def monthly_series(ledger: pd.DataFrame, window: int = 3) -> pd.DataFrame:
    """Per calendar month: invoiced (by invoice month), collected (by payment month), invoice count, moving average.

    Months between the first and last are all present (zeros where nothing happened);
    ``invoiced_moving_average`` is the mean of invoiced over the last ``window`` months (fewer at the start).
    """
    columns = ["month", "invoiced", "collected", "invoice_count", "invoiced_moving_average"]
    if ledger.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns}).astype(
            {"month": "datetime64[ns]", "invoice_count": "int64"}
        )
    invoice_month = ledger["invoice_date"].dt.to_period("M")
    paid = ledger["payment_date"].notna()
    payment_month = ledger.loc[paid, "payment_date"].dt.to_period("M")
    months = pd.period_range(
        min(invoice_month.min(), payment_month.min()) if paid.any() else invoice_month.min(),
        max(invoice_month.max(), payment_month.max()) if paid.any() else invoice_month.max(),
        freq="M",
    )
    by_invoice = ledger["amount"].groupby(invoice_month)
    invoiced = by_invoice.sum().reindex(months, fill_value=0.0)
    frame = pd.DataFrame(
        {
            "month": months.to_timestamp().astype("datetime64[ns]"),
            "invoiced": invoiced.to_numpy(dtype="float64"),
            "collected": ledger.loc[paid, "amount"]
            .groupby(payment_month)
            .sum()
            .reindex(months, fill_value=0.0)
            .to_numpy(dtype="float64"),
            "invoice_count": by_invoice.size().reindex(months, fill_value=0).to_numpy(dtype="int64"),
        }
    )
    frame["invoiced_moving_average"] = frame["invoiced"].rolling(window, min_periods=1).mean()
    return frame


def delay_distribution(ledger: pd.DataFrame) -> pd.DataFrame:
    """One row per paid invoice with its payment delay in days (credit notes are not payments)."""
    paid = ledger[ledger["payment_date"].notna() & (ledger["amount"] > 0)]
    columns = ["customer_name", "customer_key", "invoice_number", "invoice_date", "payment_date", "amount"]
    result = paid[columns].copy()
    result["delay_days"] = payment_delay_days(paid)
    return result.reset_index(drop=True)


def aging_buckets(ledger: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Open invoices per aging bucket (``balances.aging_buckets``) at ``as_of`` (default: the ledger's latest date)."""
    return balances.aging_buckets(ledger, resolve_as_of(ledger) if as_of is None else pd.Timestamp(as_of))


def top_customers(stats: pd.DataFrame, by: str = "total_amount", n: int = 10) -> pd.DataFrame:
    """The ``n`` customers with the highest ``by`` (ties by name); customers without a value are left out.

    For ``overdue_amount`` only customers with something overdue are ranked.
    """
    if by not in stats.columns:
        raise ValueError(f"Cannot rank customers by {by!r}; choose one of {', '.join(RANKABLE)}.")
    ranked = stats[stats[by].notna()]
    if by == "overdue_amount":
        ranked = ranked[ranked[by] > 0]
    ranked = ranked.sort_values("customer", kind="stable").sort_values(by, ascending=False, kind="stable")
    return ranked.head(n).reset_index(drop=True)


def breakdown(ledger: pd.DataFrame, by: str = "service_type", as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Totals per value of a column (service_type, location, sales_manager, ...), largest invoiced first.

    Rows without a value are grouped under ``None``. Columns: the ``by`` column, ``invoice_count``,
    ``customer_count``, ``total_invoiced``, ``total_collected``, ``outstanding``, ``overdue``,
    ``avg_payment_delay_days``.
    """
    as_of = resolve_as_of(ledger) if as_of is None else pd.Timestamp(as_of)
    columns = [
        by,
        "invoice_count",
        "customer_count",
        "total_invoiced",
        "total_collected",
        "outstanding",
        "overdue",
        "avg_payment_delay_days",
    ]
    if as_of is None:
        return pd.DataFrame(columns=columns)
    amount = ledger["amount"]
    open_rows = open_mask(ledger, as_of)
    paid = ledger["payment_date"].notna() & (ledger["payment_date"] <= as_of)
    parts = pd.DataFrame(
        {
            by: ledger[by],
            "customer_key": ledger["customer_key"],
            "amount": amount,
            "collected": amount.where(paid, 0.0),
            "outstanding": amount.where(open_rows, 0.0),
            "overdue": amount.where(open_rows & (ledger["due_date"] < as_of), 0.0),
            "delay": payment_delay_days(ledger).where(paid),
        }
    )
    grouped = parts.groupby(by, dropna=False, sort=False)
    result = grouped.agg(
        invoice_count=("amount", "size"),
        customer_count=("customer_key", "nunique"),
        total_invoiced=("amount", "sum"),
        total_collected=("collected", "sum"),
        outstanding=("outstanding", "sum"),
        overdue=("overdue", "sum"),
        avg_payment_delay_days=("delay", "mean"),
    ).reset_index()
    result[by] = result[by].astype(object).where(result[by].notna(), None)
    return result.sort_values(["total_invoiced"], ascending=False, kind="stable").reset_index(drop=True)[columns]


def customer_invoices(
    ledger: pd.DataFrame, customer_key: str, as_of: pd.Timestamp | None = None, window: int = 3
) -> pd.DataFrame:
    """One customer's invoices in forecast order, with ``delay_days``, ``days_overdue``, ``status``, ``moving_average``.

    ``days_overdue`` is the whole days an open invoice is past due at ``as_of`` (0 when not yet due, NaN when
    paid); ``status`` is ``paid``, ``open`` or ``overdue``; ``moving_average`` is the running mean of the last
    ``window`` invoice amounts up to each invoice (the customer forecast's moving average, drawn over time).
    """
    as_of = resolve_as_of(ledger) if as_of is None else pd.Timestamp(as_of)
    rows = sort_invoices(ledger[ledger["customer_key"] == customer_key]).reset_index(drop=True)
    rows["delay_days"] = payment_delay_days(rows)
    rows["moving_average"] = rows["amount"].rolling(window, min_periods=1).mean()
    if as_of is None:
        rows["days_overdue"] = pd.Series(dtype="float64")
        rows["status"] = pd.Series(dtype="str")
        return rows
    paid = rows["payment_date"].notna() & (rows["payment_date"] <= as_of)
    rows["days_overdue"] = days_past_due(rows, as_of).clip(lower=0).where(open_mask(rows, as_of))
    status = np.where(paid, "paid", np.where(rows["days_overdue"] > 0, "overdue", "open"))
    rows["status"] = pd.Series(status, index=rows.index, dtype="str")
    return rows
