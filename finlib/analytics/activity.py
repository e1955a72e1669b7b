"""Activity in a period: invoiced, cash collected, how fast and how punctually invoices were paid, and CEI.

Definitions (also in the README, "Formulas"):

- *Invoiced*: amounts of invoices dated in the period (credit notes negative).
- *Collected*: cash received in the period, i.e. amounts of invoices whose payment date is in the period, whatever
  month they were issued in. A credit note settled against the account is not cash and is not collected.
- *Days to pay* of a paid invoice = payment date - invoice date. Over the invoices paid in the period:
  average days to pay (mean), weighted average days to pay (weighted by amount), on-time share (paid on or before
  the due date, among those with a due date).
- *CEI* (collection effectiveness index) = (opening receivables + invoiced - closing receivables) /
  (opening receivables + invoiced - closing current receivables) x 100, where opening receivables is the open
  balance at the end of the day before the period starts, closing receivables the open balance on its last day,
  and closing current receivables the part of it not yet due. None when the denominator is not positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from finlib.analytics.balances import Balances, compute_balances
from finlib.analytics.periods import DAY, Period, days_to_pay

_ACTIVITY_COLUMNS = (
    "invoiced", "invoice_count", "collected", "paid_count", "avg_days_to_pay", "weighted_days_to_pay",
    "on_time_share",
)  # fmt: skip


@dataclass(frozen=True)
class Activity:
    """What happened in one period (see the module docstring for every definition)."""

    period: Period
    invoiced: float
    invoice_count: int
    customer_count: int  # customers invoiced in the period
    collected: float
    paid_count: int  # invoices paid in the period (credit notes are not payments)
    avg_days_to_pay: float | None
    weighted_days_to_pay: float | None
    on_time_share: float | None
    cei: float | None


def payments(ledger: pd.DataFrame) -> pd.Series:
    """True for rows that are payments: a payment date and a positive amount (a settled credit note is not cash)."""
    return ledger["payment_date"].notna() & (ledger["amount"] > 0)


def paid_in(ledger: pd.DataFrame, period: Period, columns: list[str] | None = None) -> pd.DataFrame:
    """Invoices paid in the period (payments only); only ``columns`` of them when given."""
    when = ledger["payment_date"]
    rows = payments(ledger) & (when >= period.start) & (when < period.end + DAY)
    return (ledger if columns is None else ledger[columns])[rows]


def invoiced_in(ledger: pd.DataFrame, period: Period, columns: list[str] | None = None) -> pd.DataFrame:
    """Invoices (and credit notes) dated in the period; only ``columns`` of them when given."""
    when = ledger["invoice_date"]
    return (ledger if columns is None else ledger[columns])[(when >= period.start) & (when < period.end + DAY)]


def compute_cei(opening: Balances, invoiced: float, closing: Balances) -> float | None:
    """Collection effectiveness index of a period from its opening and closing balances and what it invoiced."""
    collectible = opening.outstanding + invoiced - closing.current
    if collectible <= 0:
        return None
    return (opening.outstanding + invoiced - closing.outstanding) / collectible * 100


def compute_activity(ledger: pd.DataFrame, period: Period) -> Activity:
    """Invoiced, collected, days to pay, on-time share and CEI of ``ledger`` over ``period``."""
    # Only the columns the figures need: a mask over the whole frame copies every text column.
    issued = invoiced_in(ledger, period, ["amount", "customer_key"])
    paid = paid_in(ledger, period, ["invoice_date", "due_date", "payment_date", "amount"])
    delays = days_to_pay(paid)
    amounts = paid["amount"]
    with_due = paid["due_date"].notna()
    invoiced = float(issued["amount"].sum())
    cei = compute_cei(compute_balances(ledger, period.start - DAY), invoiced, compute_balances(ledger, period.end))
    return Activity(
        period=period,
        invoiced=invoiced,
        invoice_count=len(issued),
        customer_count=int(issued["customer_key"].nunique()),
        collected=float(amounts.sum()),
        paid_count=len(paid),
        avg_days_to_pay=float(delays.mean()) if len(paid) else None,
        weighted_days_to_pay=float((delays * amounts).sum() / amounts.sum()) if len(paid) else None,
        on_time_share=(
            float((paid.loc[with_due, "payment_date"] <= paid.loc[with_due, "due_date"]).mean())
            if with_due.any()
            else None
        ),
        cei=cei,
    )


def monthly_activity(ledger: pd.DataFrame, months: pd.PeriodIndex) -> pd.DataFrame:
    """Per calendar month of ``months``: the activity columns (zeros, or missing averages, where nothing happened)."""
    frame = pd.DataFrame(index=months)
    invoice_month = ledger["invoice_date"].dt.to_period("M")
    frame["invoiced"] = ledger["amount"].groupby(invoice_month).sum().reindex(months, fill_value=0.0)
    frame["invoice_count"] = invoice_month.value_counts().reindex(months, fill_value=0).astype("int64")
    paid = ledger[["invoice_date", "due_date", "payment_date", "amount"]][payments(ledger)]
    paid_month = paid["payment_date"].dt.to_period("M")
    delays = days_to_pay(paid)
    on_time = (paid["payment_date"] <= paid["due_date"]).where(paid["due_date"].notna())
    grouped = pd.DataFrame(
        {"amount": paid["amount"], "delay": delays, "weighted": delays * paid["amount"], "on_time": on_time}
    ).groupby(paid_month)
    frame["collected"] = grouped["amount"].sum().reindex(months, fill_value=0.0)
    frame["paid_count"] = grouped.size().reindex(months, fill_value=0).astype("int64")
    frame["avg_days_to_pay"] = grouped["delay"].mean().reindex(months)
    frame["weighted_days_to_pay"] = (grouped["weighted"].sum() / grouped["amount"].sum()).reindex(months)
    frame["on_time_share"] = grouped["on_time"].mean().reindex(months).astype("float64")
    frame = frame.reset_index(names="month")
    return frame[["month", *_ACTIVITY_COLUMNS]]
