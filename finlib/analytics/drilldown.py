"""The invoices behind a number on a chart: a month's invoicing or collections, an aging bucket, a customer's bar.

Each function answers with the same rules as the figure it explains, so the rows add up to the bar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from finlib.analytics.activity import invoiced_in, paid_in, payments
from finlib.analytics.balances import AGING_BUCKETS, aging_bucket_labels, days_past_due, open_mask
from finlib.analytics.periods import DAY, Period, ViewDates, days_to_pay

DRILL_KINDS = ("invoiced", "collected", "aging", "overdue", "customer_invoiced", "days_to_pay")
DELAY_BINS = 30


def with_status(rows: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Rows with ``delay_days``, ``days_overdue`` (open invoices, whole days, 0 when not yet due) and ``status``."""
    result = rows.copy()
    result["delay_days"] = days_to_pay(result)
    is_open = open_mask(result, as_of)
    late = days_past_due(result, as_of).clip(lower=0).where(is_open)
    result["days_overdue"] = late
    status = np.where(~is_open, "paid", np.where(late > 0, "overdue", "open"))
    result["status"] = pd.Series(status, index=result.index, dtype="str")
    return result


def overdue_first(invoices: pd.DataFrame) -> pd.DataFrame:
    """Invoices as a collector reads them: overdue (most days first), then open (oldest first), then paid (newest)."""
    rank = invoices["status"].map({"overdue": 0, "open": 1, "paid": 2}).fillna(3)
    newest_paid = -invoices["payment_date"].fillna(invoices["invoice_date"]).astype("int64")
    key = np.where(
        rank == 0,
        -invoices["days_overdue"].fillna(0),
        np.where(rank == 1, invoices["invoice_date"].astype("int64"), newest_paid),
    )
    order = np.lexsort((key, rank.to_numpy()))
    return invoices.iloc[order].reset_index(drop=True)


def delay_bins(delays: pd.Series, bins: int = DELAY_BINS) -> pd.DataFrame:
    """The days-to-pay histogram: at most ``bins`` bins of equal whole-day width, ``start`` (inclusive), ``end``
    (exclusive) and ``invoice_count``; the bars the Overview draws and ``days_to_pay`` drills into."""
    days = delays.dropna().to_numpy(dtype="float64")
    if not len(days):
        return pd.DataFrame({"start": pd.Series(dtype="int64"), "end": pd.Series(dtype="int64"),
                             "invoice_count": pd.Series(dtype="int64")})  # fmt: skip
    low, high = int(np.floor(days.min())), int(np.floor(days.max())) + 1
    width = max(1, int(np.ceil((high - low) / bins)))
    edges = np.arange(low, high + width, width, dtype="int64")
    counts = np.bincount(((days - low) // width).astype("int64"), minlength=len(edges) - 1)[: len(edges) - 1]
    return pd.DataFrame({"start": edges[:-1], "end": edges[1:], "invoice_count": counts.astype("int64")})


def parse_day_range(value: str) -> tuple[int, int]:
    """``"30:45"`` as (30, 45): days to pay from 30 up to, not including, 45."""
    try:
        start, end = (int(part) for part in value.split(":"))
    except ValueError as error:
        raise ValueError(f"No days-to-pay range {value!r}; write it as START:END in whole days.") from error
    return start, end


def month_period(month: pd.Timestamp) -> Period:
    """The calendar month containing ``month``."""
    start = pd.Timestamp(month).to_period("M").to_timestamp()
    return Period(start, start + pd.offsets.MonthEnd(0))


def drill_invoices(
    ledger: pd.DataFrame, as_of: pd.Timestamp, kind: str, value: str, period: Period | None = None
) -> pd.DataFrame:
    """The invoices behind one selected bar, with status columns, overdue first.

    ``kind``: ``invoiced`` or ``collected`` (``value`` a date in the month), ``aging`` (``value`` a bucket of
    ``AGING_BUCKETS``), ``overdue`` (``value`` a customer key: its overdue invoices at ``as_of``),
    ``customer_invoiced`` (``value`` a customer key: its invoices dated in ``period``), ``days_to_pay``
    (``value`` ``START:END``: invoices paid in ``period`` START to END-1 days after their invoice date).
    """
    if kind == "invoiced":
        rows = invoiced_in(ledger, month_period(pd.Timestamp(value)))
    elif kind == "collected":
        rows = paid_in(ledger, month_period(pd.Timestamp(value)))
    elif kind == "aging":
        if value not in AGING_BUCKETS:
            raise ValueError(f"No aging bucket {value!r}; choose one of {', '.join(AGING_BUCKETS)}.")
        open_rows = ledger[open_mask(ledger, as_of)]
        rows = open_rows[aging_bucket_labels(days_past_due(open_rows, as_of)).astype("str") == value]
    elif kind == "overdue":
        open_rows = ledger[open_mask(ledger, as_of) & (ledger["customer_key"] == value)]
        rows = open_rows[days_past_due(open_rows, as_of) > 0]
    elif kind == "customer_invoiced":
        mine = ledger[ledger["customer_key"] == value]
        rows = mine if period is None else invoiced_in(mine, period)
    elif kind == "days_to_pay":
        start, end = parse_day_range(value)
        paid = ledger[payments(ledger)] if period is None else paid_in(ledger, period)
        delay = (paid["payment_date"] - paid["invoice_date"]) / DAY
        rows = paid[(delay >= start) & (delay < end)]
    else:
        raise ValueError(f"Cannot drill into {kind!r}; choose one of {', '.join(DRILL_KINDS)}.")
    return overdue_first(with_status(rows, as_of))


def view_invoices(ledger: pd.DataFrame, dates: ViewDates) -> pd.DataFrame:
    """A view's invoices: dated in its period or open at its balance date, with status columns, overdue first."""
    dated = (ledger["invoice_date"] >= dates.period.start) & (ledger["invoice_date"] < dates.period.end + DAY)
    rows = ledger[open_mask(ledger, dates.as_of) | dated]
    return overdue_first(with_status(rows, dates.as_of))
