"""The KPI report of a view: balances as of a date, activity over a period, the comparison, and a monthly trend.

One function answers for the Overview, the ``kpis`` command, the exports and the chat, so "Collected" or "DSO"
means the same thing everywhere. Balances are computed from the ledger as it is (category filters applied by the
caller) at the balance date; no invoice-date period is applied to them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from finlib.analytics.activity import Activity, compute_activity, monthly_activity
from finlib.analytics.balances import AGING_BUCKETS, Balances, balance_trend, compute_balances
from finlib.analytics.periods import DAY, Period, ViewDates, month_ends
from finlib.currency import Currency, currency_json

MONTHLY_COLUMNS = (
    "month", "invoiced", "collected", "outstanding", "overdue", "current", *AGING_BUCKETS[1:], "open_invoices",
    "dso_countback", "best_possible_dso", "add", "cei", "overdue_share", "avg_days_past_due", "avg_days_to_pay",
    "weighted_days_to_pay", "on_time_share", "invoice_count", "paid_count",
)  # fmt: skip
# The monthly columns as a reader sees them (the Excel workbook's Monthly sheet).
MONTHLY_HEADERS = {
    "month": "Month",
    "invoiced": "Invoiced",
    "collected": "Collected (cash received)",
    "outstanding": "Outstanding",
    "overdue": "Overdue",
    "current": "Not yet due",
    "1-30": "1-30 days past due",
    "31-60": "31-60 days past due",
    "61-90": "61-90 days past due",
    "over_90": "Over 90 days past due",
    "open_invoices": "Open invoices",
    "dso_countback": "DSO (countback), days",
    "best_possible_dso": "Best possible DSO, days",
    "add": "ADD (average days delinquent), days",
    "cei": "CEI",
    "overdue_share": "Overdue share",
    "avg_days_past_due": "Average days past due (overdue invoices)",
    "avg_days_to_pay": "Average days to pay",
    "weighted_days_to_pay": "Weighted average days to pay",
    "on_time_share": "Paid on time",
    "invoice_count": "Invoices issued",
    "paid_count": "Invoices paid",
}


@dataclass(frozen=True)
class KpiReport:
    """Balances and activity of a view, with the same figures for the period before when it lies in the ledger."""

    dates: ViewDates
    balances: Balances
    activity: Activity
    previous_balances: Balances | None
    previous_activity: Activity | None

    @property
    def comparable(self) -> bool:
        """Whether there is a period before to compare with."""
        return self.previous_activity is not None


def compute_kpis(ledger: pd.DataFrame, dates: ViewDates) -> KpiReport:
    """The KPI report of ``ledger`` (already narrowed by category filters) for the given dates."""
    previous_balances = previous_activity = None
    if dates.previous is not None and dates.previous_as_of is not None:
        previous_balances = compute_balances(ledger, dates.previous_as_of)
        previous_activity = compute_activity(ledger, dates.previous)
    return KpiReport(
        dates=dates,
        balances=compute_balances(ledger, dates.as_of),
        activity=compute_activity(ledger, dates.period),
        previous_balances=previous_balances,
        previous_activity=previous_activity,
    )


def cei_values(opening: np.ndarray, invoiced: np.ndarray, closing: np.ndarray, current: np.ndarray) -> np.ndarray:
    """CEI per row of the four arrays (NaN where the collectible amount is not positive); see ``activity``."""
    collectible = opening + invoiced - current
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(collectible > 0, (opening + invoiced - closing) / collectible * 100, np.nan)


def monthly_kpis(ledger: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Every KPI per calendar month the period touches: activity in the month, balances as of its last day.

    The last month's balances are as of the period's end when it ends before the month does.
    """
    ends = month_ends(period.start, period.end)
    months = pd.PeriodIndex(ends.to_period("M"))
    activity = monthly_activity(ledger, months)
    if not len(months):
        return pd.DataFrame({column: pd.Series(dtype="float64") for column in MONTHLY_COLUMNS})
    # Closing and opening balances of every month in one pass over the ledger.
    starts = pd.DatetimeIndex(months.to_timestamp(how="start") - DAY)
    both = balance_trend(ledger, ends.append(starts))
    closing, opening = both.iloc[: len(ends)].reset_index(drop=True), both.iloc[len(ends) :]
    frame = closing.drop(columns="date")
    for column in activity.columns:
        frame[column] = activity[column].to_numpy()
    frame["month"] = months.to_timestamp().astype("datetime64[ns]")
    frame["cei"] = cei_values(
        opening["outstanding"].to_numpy(),
        frame["invoiced"].to_numpy(),
        frame["outstanding"].to_numpy(),
        frame["current"].to_numpy(),
    )
    return frame[list(MONTHLY_COLUMNS)]


def _number(value: Any, digits: int = 2) -> float | None:
    if value is None:
        return None
    number = float(value)
    return round(number, digits) if math.isfinite(number) else None


def _day(value: pd.Timestamp) -> str:
    return str(pd.Timestamp(value).strftime("%Y-%m-%d"))


def kpis_payload(
    project: str, report: KpiReport, monthly: pd.DataFrame, currency: Currency | None = None
) -> dict[str, Any]:
    """The ``kpis --json`` document: project, its currency, as_of, period, balances, activity, the monthly trend."""
    balances, activity = report.balances, report.activity
    return {
        "project": project,
        "currency": currency_json(currency),
        "as_of": _day(report.dates.as_of),
        "period": {"from": _day(report.dates.period.start), "to": _day(report.dates.period.end)},
        "balances": {
            "outstanding": _number(balances.outstanding),
            "overdue": _number(balances.overdue),
            "open_invoices": balances.open_invoices,
            "aging": {
                bucket: _number(amount) for bucket, amount in zip(AGING_BUCKETS, balances.aging.amounts(), strict=True)
            },
            "dso_countback": _number(balances.dso_countback, 1),
            "best_possible_dso": _number(balances.best_possible_dso, 1),
            "add": _number(balances.add, 1),
        },
        "activity": {
            "invoiced": _number(activity.invoiced),
            "collected": _number(activity.collected),
            "cei": _number(activity.cei, 1),
            "avg_days_to_pay": _number(activity.avg_days_to_pay, 1),
            "on_time_share": _number(activity.on_time_share, 4),
        },
        "monthly": [
            {
                "month": row.month.strftime("%Y-%m"),
                "invoiced": _number(row.invoiced),
                "collected": _number(row.collected),
                "outstanding": _number(row.outstanding),
                "overdue": _number(row.overdue),
                "dso_countback": _number(row.dso_countback, 1),
                "cei": _number(row.cei, 1),
            }
            for row in monthly.itertuples(index=False)
        ],
    }
