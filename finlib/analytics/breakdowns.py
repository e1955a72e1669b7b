"""Balances and activity side by side per sales manager, location or service type.

Balances (outstanding, overdue, open invoices) are as of the balance date; activity (invoiced, collected, days
to pay, on-time share) is over the period, with the definitions of ``balances`` and ``activity``. Rows without a
value are grouped under "(none)". Largest overdue first, then largest outstanding, then largest invoiced.
"""

from __future__ import annotations

import pandas as pd

from finlib.analytics.activity import invoiced_in, paid_in
from finlib.analytics.balances import days_past_due, open_mask
from finlib.analytics.periods import ViewDates, days_to_pay

BREAKDOWN_BY = {"sales_manager": "Sales manager", "location": "Location", "service_type": "Service type"}
NO_VALUE = "(none)"
BREAKDOWN_COLUMNS = (
    "value", "customer_count", "outstanding", "overdue", "overdue_share", "open_invoices", "invoiced",
    "collected", "avg_days_to_pay", "on_time_share",
)  # fmt: skip


def _labels(rows: pd.DataFrame, by: str) -> pd.Series:
    """The grouping value of each row; managers by key, shown under their display spelling."""
    if by == "sales_manager":
        names = rows.dropna(subset=["sales_manager_key"]).drop_duplicates("sales_manager_key")
        spelling = dict(zip(names["sales_manager_key"], names["sales_manager"].astype("str"), strict=True))
        shown = rows["sales_manager_key"].map(spelling).astype("object")  # all-missing keys map to float NaN
        return shown.where(shown.notna(), NO_VALUE).astype("str")
    return rows[by].astype("object").where(rows[by].notna(), NO_VALUE).astype("str")


def compute_breakdown(ledger: pd.DataFrame, dates: ViewDates, by: str) -> pd.DataFrame:
    """One row per value of ``by`` (a key of ``BREAKDOWN_BY``) with ``BREAKDOWN_COLUMNS``."""
    if by not in BREAKDOWN_BY:
        raise ValueError(f"Cannot break down by {by!r}; choose one of {', '.join(BREAKDOWN_BY)}.")
    labels = _labels(ledger, by)
    open_rows = open_mask(ledger, dates.as_of)
    overdue = open_rows & (days_past_due(ledger, dates.as_of) > 0)
    amount = ledger["amount"]
    balances = pd.DataFrame(
        {
            "value": labels,
            "customer_key": ledger["customer_key"],
            "outstanding": amount.where(open_rows, 0.0),
            "overdue": amount.where(overdue, 0.0),
            "open_invoices": open_rows.astype("int64"),
        }
    ).groupby("value")
    result = balances.agg(
        customer_count=("customer_key", "nunique"),
        outstanding=("outstanding", "sum"),
        overdue=("overdue", "sum"),
        open_invoices=("open_invoices", "sum"),
    )
    issued = invoiced_in(ledger, dates.period)
    result["invoiced"] = issued["amount"].groupby(labels.loc[issued.index]).sum()
    paid = paid_in(ledger, dates.period)
    paid_labels = labels.loc[paid.index]
    result["collected"] = paid["amount"].groupby(paid_labels).sum()
    result["avg_days_to_pay"] = days_to_pay(paid).groupby(paid_labels).mean()
    on_time = (paid["payment_date"] <= paid["due_date"]).where(paid["due_date"].notna()).astype("float64")
    result["on_time_share"] = on_time.groupby(paid_labels).mean()
    result[["invoiced", "collected"]] = result[["invoiced", "collected"]].fillna(0.0)
    result["overdue_share"] = (result["overdue"] / result["outstanding"]).where(result["outstanding"] > 0)
    result = result.reset_index().sort_values("value", kind="stable")
    result = result.sort_values(["overdue", "outstanding", "invoiced"], ascending=False, kind="stable")
    return result.reset_index(drop=True)[list(BREAKDOWN_COLUMNS)]
