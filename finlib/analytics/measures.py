"""Portfolio analytics on the ledger frame: KPIs, filters, period deltas, monthly series, delays, aging, rankings.

Every function is pure and vectorised; an empty ledger gives empty frames or ``None`` values, never an error.

Conventions shared with ``forecast``:

- ``as_of`` defaults to the latest invoice or payment date in the ledger (due dates lie in the future and are
  not evidence of how current the data is).
- An invoice is *open* at ``as_of`` when it was issued on or before ``as_of`` and not paid by then
  (no payment date, or a payment date after ``as_of``). With the default ``as_of`` that is simply "unpaid".
- An open invoice is *overdue* when its due date is before ``as_of``; days past due are whole days.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from finlib.names import normalise_names

DAY = pd.Timedelta(days=1)
DSO_WINDOW_DAYS = 90
AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
_AGING_EDGES_DAYS = [-np.inf, 0, 30, 60, 90, np.inf]
RANKABLE = ("total_amount", "avg_payment_delay_days", "overdue_amount")


def resolve_as_of(ledger: pd.DataFrame) -> pd.Timestamp | None:
    """Latest invoice or payment date in the ledger; ``None`` for an empty ledger."""
    latest = pd.concat([ledger["invoice_date"], ledger["payment_date"]]).max()
    return None if pd.isna(latest) else pd.Timestamp(latest)


def ledger_as_of(ledger: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The ledger as it stood on ``as_of``: invoices issued by then, payments made after it not yet received."""
    known = ledger[ledger["invoice_date"] <= as_of]
    later = known["payment_date"] > as_of
    if not later.any():
        return known
    return known.assign(payment_date=known["payment_date"].mask(later))


def payment_delay_days(ledger: pd.DataFrame) -> pd.Series:
    """Payment date minus invoice date in days, per row (NaN for unpaid invoices)."""
    return (ledger["payment_date"] - ledger["invoice_date"]) / DAY


def open_mask(ledger: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """True for invoices issued by ``as_of`` and not paid by then."""
    unpaid = ledger["payment_date"].isna() | (ledger["payment_date"] > as_of)
    return (ledger["invoice_date"] <= as_of) & unpaid


def days_past_due(ledger: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Whole days from due date to ``as_of`` (negative when not yet due, NaN without a due date)."""
    return np.floor((as_of - ledger["due_date"]) / DAY)


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
    return np.append(unique_rank, len(uniques))[codes]


def sort_invoices(ledger: pd.DataFrame) -> pd.DataFrame:
    """Rows ordered by invoice date, ties by invoice number (natural order), then file order."""
    ranks = invoice_number_rank(ledger["invoice_number"])
    order = np.lexsort((ranks, ledger["invoice_date"].to_numpy()))
    return ledger.iloc[order]


def compute_portfolio(ledger: pd.DataFrame, as_of: pd.Timestamp | None = None) -> dict[str, Any]:
    """Headline KPIs of a ledger as of a date (default: ``resolve_as_of``).

    ``dso`` (days sales outstanding) = outstanding at ``as_of`` / amount invoiced in the 90 days up to ``as_of``
    * 90; ``None`` when nothing positive was invoiced in that window. ``paid_on_time_share`` is the share of
    paid invoices with a due date that were paid on or before it.
    """
    as_of = resolve_as_of(ledger) if as_of is None else pd.Timestamp(as_of)
    if as_of is None:
        return _empty_portfolio()
    amount = ledger["amount"]
    open_rows = open_mask(ledger, as_of)
    overdue_rows = open_rows & (ledger["due_date"] < as_of)
    paid = ledger["payment_date"].notna() & (ledger["payment_date"] <= as_of)
    outstanding = float(amount[open_rows].sum())
    recent = (ledger["invoice_date"] > as_of - DSO_WINDOW_DAYS * DAY) & (ledger["invoice_date"] <= as_of)
    recent_invoiced = float(amount[recent].sum())
    return {
        "as_of": as_of,
        "invoice_count": int(len(ledger)),
        "customer_count": int(ledger["customer_key"].nunique()),
        "total_invoiced": float(amount.sum()),
        "total_collected": float(amount[paid].sum()),
        "outstanding": outstanding,
        "overdue": float(amount[overdue_rows].sum()),
        "overdue_count": int(overdue_rows.sum()),
        "avg_payment_delay_days": _mean_or_none(payment_delay_days(ledger)[paid & (amount > 0)]),
        "dso": outstanding / recent_invoiced * DSO_WINDOW_DAYS if recent_invoiced > 0 else None,
        "paid_on_time_share": _on_time_share(ledger[paid & (amount > 0)]),
        "first_invoice_date": _timestamp_or_none(ledger["invoice_date"].min()),
        "last_invoice_date": _timestamp_or_none(ledger["invoice_date"].max()),
    }


def _empty_portfolio() -> dict[str, Any]:
    numbers = dict.fromkeys(("total_invoiced", "total_collected", "outstanding", "overdue"), 0.0)
    counts = dict.fromkeys(("invoice_count", "customer_count", "overdue_count"), 0)
    unknown = dict.fromkeys(("avg_payment_delay_days", "dso", "paid_on_time_share"), None)
    return {"as_of": None, **counts, **numbers, **unknown, "first_invoice_date": None, "last_invoice_date": None}


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


def period_before(start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The period of equal length (whole days) that ends the day before ``start``."""
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    previous_end = start - DAY
    return previous_end - (end - start), previous_end


def previous_period(ledger: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Rows invoiced in the period of equal length just before [start, end]."""
    previous_start, previous_end = period_before(start, end)
    return filter_ledger(ledger, previous_start, previous_end)


def compute_kpi_deltas(
    ledger: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, as_of: pd.Timestamp | None = None
) -> dict[str, dict[str, Any]]:
    """Portfolio of [start, end] and of the equal period before it, each as of its own end, and their differences.

    Returns ``{"current": {...}, "previous": {...}, "delta": {...}}``; a delta is ``None`` when either side is.
    ``as_of`` of the current period is ``end``, capped at ``as_of`` (default: the latest date in ``ledger``;
    pass the whole ledger's date when ``ledger`` is a filtered part, so every view balances on the same day).
    """
    latest = resolve_as_of(ledger) if as_of is None else pd.Timestamp(as_of)
    previous_start, previous_end = period_before(start, end)
    current_as_of = pd.Timestamp(end).normalize()
    if latest is not None:
        current_as_of = min(current_as_of, latest)
    current = compute_portfolio(filter_ledger(ledger, start, end), as_of=current_as_of)
    previous = compute_portfolio(filter_ledger(ledger, previous_start, previous_end), as_of=previous_end)
    delta: dict[str, Any] = {}
    for key, value in current.items():
        before = previous[key]
        if isinstance(value, (int, float)) and isinstance(before, (int, float)):
            delta[key] = value - before
        else:
            delta[key] = None
    return {"current": current, "previous": previous, "delta": delta}


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
    """Open invoices by days past due: current (not yet due), 1-30, 31-60, 61-90, 90+; every bucket, in order."""
    as_of = resolve_as_of(ledger) if as_of is None else pd.Timestamp(as_of)
    if as_of is None:  # an empty ledger
        open_rows, days = ledger, pd.Series(0.0, index=ledger.index)
    else:
        open_rows = ledger[open_mask(ledger, as_of)]
        # An open invoice without a due date cannot be late: it counts as current.
        days = days_past_due(open_rows, as_of).fillna(0)
    bucket = pd.cut(days, _AGING_EDGES_DAYS, labels=list(AGING_BUCKETS), right=True)
    grouped = open_rows["amount"].groupby(bucket, observed=False)
    return pd.DataFrame(
        {
            "bucket": list(AGING_BUCKETS),
            "invoice_count": grouped.size().reindex(AGING_BUCKETS, fill_value=0).to_numpy(dtype="int64"),
            "amount": grouped.sum().reindex(AGING_BUCKETS, fill_value=0.0).to_numpy(dtype="float64"),
        }
    )


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


def customer_invoices(ledger: pd.DataFrame, customer_key: str, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """One customer's invoices in forecast order, with ``delay_days``, ``days_overdue`` and ``status``.

    ``days_overdue`` is the whole days an open invoice is past due at ``as_of`` (0 when not yet due, NaN when
    paid); ``status`` is ``paid``, ``open`` or ``overdue``.
    """
    as_of = resolve_as_of(ledger) if as_of is None else pd.Timestamp(as_of)
    rows = sort_invoices(ledger[ledger["customer_key"] == customer_key]).reset_index(drop=True)
    rows["delay_days"] = payment_delay_days(rows)
    if as_of is None:
        rows["days_overdue"] = pd.Series(dtype="float64")
        rows["status"] = pd.Series(dtype="str")
        return rows
    paid = rows["payment_date"].notna() & (rows["payment_date"] <= as_of)
    rows["days_overdue"] = days_past_due(rows, as_of).clip(lower=0).where(open_mask(rows, as_of))
    status = np.where(paid, "paid", np.where(rows["days_overdue"] > 0, "overdue", "open"))
    rows["status"] = pd.Series(status, index=rows.index, dtype="str")
    return rows
