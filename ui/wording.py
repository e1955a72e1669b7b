"""Sentences the pages show about results, including why a number is missing; pure functions, no Streamlit.

They sit next to ``ui.format`` (which they use) rather than in finlib: they decide how a result reads on this
screen, not what it is. Every function takes plain values so the tests can state the wording as a table.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from finlib.analytics.kpis import KpiReport
from finlib.currency import Currency
from ui.format import format_compact, format_count, format_date, format_days, format_share


def plural(count: int | float, noun: str, nouns: str | None = None) -> str:
    """``1 invoice``, ``3 invoices``, ``1,204 invoices``."""
    whole = int(count)
    return f"{format_count(whole)} {noun if whole == 1 else (nouns or noun + 's')}"


def describe_span(first: date | datetime | None, last: date | datetime | None) -> str:
    """``from 5 Jan 2025 to 20 Mar 2025``, or ``on 5 Jan 2025`` when both are the same day."""
    if first is None or last is None or pd.isna(first) or pd.isna(last):
        return ""
    if pd.Timestamp(first).normalize() == pd.Timestamp(last).normalize():
        return f"on {format_date(first)}"
    return f"from {format_date(first)} to {format_date(last)}"


def describe_trend(trend: str, invoice_count: int) -> str:
    """The trend as the customer header says it; one invoice has no trend, so it says that instead."""
    if invoice_count < 2:
        return "No trend yet (one invoice)"
    return f"Trend **{trend}**"


def describe_steadiness(
    paid_count: int, avg_delay_days: float | None, delay_std_days: float | None, on_time_share: float | None
) -> str:
    """How steady a customer's payments are, or why that cannot be said yet."""
    if paid_count == 0:
        return "Steadiness: nothing paid yet, so there is no payment pattern."
    if paid_count == 1 or delay_std_days is None or pd.isna(delay_std_days):
        return (
            f"Steadiness: one paid invoice so far ({format_days(avg_delay_days)} to pay); a spread needs at least two."
        )
    if on_time_share is None or pd.isna(on_time_share):
        punctuality = "no due dates to compare with"
    elif on_time_share == 0:
        punctuality = "has paid no invoice by its due date"
    elif on_time_share == 1:
        punctuality = "has paid every invoice by its due date"
    else:
        punctuality = f"pays {format_share(on_time_share)} of invoices by the due date"
    return (
        f"Steadiness: usually pays within ±{format_days(delay_std_days)} of the average "
        f"(standard deviation), and {punctuality}."
    )


def describe_missing_payments(invoice_count: int, paid_count: int) -> str | None:
    """Why days to pay and payment forecasts are missing for a selection, or None when some invoice is paid."""
    if invoice_count == 0 or paid_count > 0:
        return None
    return (
        "No invoice in this selection has a payment date yet, so there is no average days to pay, no delay "
        "chart and no predicted payment date. If the file has a payment-date column, check that it is mapped "
        "on the Projects page."
    )


def describe_past_prediction(
    predicted: date | datetime | None,
    as_of: date | datetime | None,
    outstanding: float | None,
    overdue: float | None,
) -> str | None:
    """The caveat for a predicted payment date that is already behind the ledger's as-of date, else None.

    ``already past: 1.20K open, 300 overdue`` when invoices are open (the payment is late, not coming), or
    ``already past: no open invoice`` when nothing is left to pay until a new invoice arrives.
    """
    if predicted is None or as_of is None or pd.isna(predicted) or pd.isna(as_of):
        return None
    if pd.Timestamp(predicted).normalize() >= pd.Timestamp(as_of).normalize():
        return None
    if outstanding is None or pd.isna(outstanding) or outstanding <= 0:
        return "already past: no open invoice"
    overdue_value = 0.0 if overdue is None or pd.isna(overdue) else overdue
    return f"already past: {format_compact(outstanding)} open, {format_compact(overdue_value)} overdue"


def describe_view(report: KpiReport, currency: Currency | None = None) -> str:
    """What the Overview shows and what its changes compare with, in one caption."""
    dates = report.dates
    activity = report.activity
    text = (
        f"Balances as of {format_date(dates.as_of)}; activity from {format_date(dates.period.start)} to "
        f"{format_date(dates.period.end)} ({plural(dates.period.days, 'day')}): "
        f"{plural(activity.invoice_count, 'invoice')} to {plural(activity.customer_count, 'customer')}. "
        f"Amounts include tax, in {currency.label if currency else 'the ledger’s currency'}. "
    )
    if dates.previous is None or dates.previous_as_of is None:
        return text + f"Changes: {dates.why_no_comparison}. Choose a shorter period to compare."
    return text + (
        f"Changes: activity against {format_date(dates.previous.start)} – {format_date(dates.previous.end)}; "
        f"balances against {format_date(dates.previous_as_of)}."
    )
