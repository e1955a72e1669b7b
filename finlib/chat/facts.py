"""The facts pack: the bounded, aliases-only summary of a ledger that a chat question is answered from.

Every figure is computed by ``analytics`` and ``forecast``, never by the model. Records are built from
whitelisted columns (aliases, numbers, dates; never a name column), lists are cut to a few rows whatever the
size of the ledger, and at the end every string of the pack, keys included, goes through ``alias_strings``,
because free-text fields such as locations and service types can contain real names too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from finlib.analytics import customer_stats, measures
from finlib.chat.forecast_facts import ForecastFigures, compute_forecast_figures, customer_forecast, forecast_facts
from finlib.privacy.scanner import NameEntry, NameScanner, alias_strings

RANK_ROWS = 5
BREAKDOWN_ROWS = 8
MONTHLY_ROWS = 12
MAX_MENTIONED = 8
MANAGER_CUSTOMER_ROWS = 5
CUSTOMER_FIELDS = (
    "alias", "invoice_count", "total_amount", "average_amount", "moving_average", "trend",
    "avg_payment_delay_days", "delay_std_days", "on_time_share", "last_payment_date", "predicted_next_payment_date",
    "predicted_next_amount", "first_invoice_date", "last_invoice_date", "paid_count", "unpaid_count",
    "outstanding_amount", "overdue_amount",
)  # fmt: skip
MANAGER_FIELDS = (
    "alias", "invoice_count", "customer_count", "total_invoiced", "total_collected", "outstanding", "overdue",
    "avg_payment_delay_days",
)  # fmt: skip
TOPICS = {
    "monthly": r"month|monthly|trend|over time|season|quarter|year|growth|history|recent",
    "aging": r"aging|ageing|overdue|past due|bucket|late|outstanding|owe",
    "service_type": r"service|product|type|category|line",
    "location": r"location|region|city|branch|site|where|country|area",
    "sales_manager": r"manager|sales ?person|salespe|account owner|rep\b|team|portfolio",
}


@dataclass(frozen=True)
class ProjectFigures:
    """The per-project figures a facts pack draws from, computed once per ledger."""

    ledger: pd.DataFrame
    stats: pd.DataFrame
    managers: pd.DataFrame
    portfolio: dict[str, Any]
    forecast: ForecastFigures | None = None


def compute_project_figures(
    ledger: pd.DataFrame, *, window: int = 3, trend_threshold: float = 0.05, late_days: int = 14
) -> ProjectFigures:
    """Customer and manager statistics, portfolio KPIs and the forecast of a ledger that carries alias columns."""
    stats = customer_stats.compute_customer_stats(ledger, window=window, trend_threshold=trend_threshold)
    managers = customer_stats.compute_manager_stats(ledger)
    forecast = compute_forecast_figures(ledger, late_days=late_days, window=window)
    return ProjectFigures(ledger, stats, managers, measures.compute_portfolio(ledger), forecast)


def _plain(value: Any) -> Any:
    """A JSON-safe scalar: ISO dates, floats rounded to cents, None for missing."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float):
        # Cents for amounts; shares and small ratios keep enough digits to be quoted as percentages.
        return (round(value, 2) if abs(value) >= 10 else round(value, 4)) if math.isfinite(value) else None
    if value is pd.NA:
        return None
    return value


def _records(frame: pd.DataFrame, fields: Sequence[str]) -> list[dict[str, Any]]:
    present = [f for f in fields if f in frame.columns]
    return [{k: _plain(v) for k, v in zip(present, row, strict=True)} for row in frame[present].itertuples(False)]


def _ranking(stats: pd.DataFrame, by: str, fields: Sequence[str], *, ascending: bool = False) -> list[dict[str, Any]]:
    ranked = stats[stats[by].notna()]
    if by in ("overdue_amount", "outstanding_amount"):
        ranked = ranked[ranked[by] > 0]
    ranked = ranked.sort_values(["alias"], kind="stable").sort_values(by, ascending=ascending, kind="stable")
    return _records(ranked.head(RANK_ROWS), ["alias", *fields])


def _trend_summary(stats: pd.DataFrame) -> dict[str, Any]:
    counts = stats["trend"].value_counts()
    change = (stats["moving_average"] - stats["average_amount"]) / stats["average_amount"].abs()
    growing = stats.assign(change_share=change)[stats["trend"] == "increasing"]
    shrinking = stats.assign(change_share=change)[stats["trend"] == "decreasing"]
    fields = ["alias", "average_amount", "moving_average", "change_share"]
    return {
        "customers_by_trend": {t: int(counts.get(t, 0)) for t in customer_stats.TRENDS},
        "fastest_growing": _records(growing.sort_values("change_share", ascending=False).head(RANK_ROWS), fields),
        "fastest_shrinking": _records(shrinking.sort_values("change_share").head(RANK_ROWS), fields),
    }


def _breakdown(ledger: pd.DataFrame, by: str) -> list[dict[str, Any]]:
    if ledger[by].notna().sum() == 0:
        return []
    table = measures.breakdown(ledger, by=by).head(BREAKDOWN_ROWS)
    return _records(table, [by, *MANAGER_FIELDS[1:]])


def _manager_facts(figures: ProjectFigures, entry: NameEntry) -> dict[str, Any]:
    row = figures.managers[figures.managers["sales_manager_key"] == entry.key]
    facts: dict[str, Any] = {"alias": entry.alias}
    if row.empty:
        facts["note"] = "no invoices with this sales manager"
        return facts
    facts.update(_records(row, MANAGER_FIELDS)[0])
    customer_keys = figures.ledger.loc[figures.ledger["sales_manager_key"] == entry.key, "customer_key"].unique()
    theirs = figures.stats[figures.stats["customer_key"].isin(customer_keys)]
    facts["largest_customers"] = _ranking(theirs, "total_amount", ["total_amount", "outstanding_amount"])[
        :MANAGER_CUSTOMER_ROWS
    ]
    return facts


def wanted_topics(question: str) -> set[str]:
    """The optional sections a question asks for (monthly series, aging, breakdowns)."""
    text = question.casefold()
    return {topic for topic, pattern in TOPICS.items() if re.search(pattern, text)}


def build_facts(
    figures: ProjectFigures,
    mentioned: Iterable[NameEntry],
    question: str,
    scanner: NameScanner,
    *,
    currency: str | None = None,
) -> dict[str, Any]:
    """The facts pack for one question: portfolio, mentioned customers and people, rankings, and what it asks for."""
    entries = list(dict.fromkeys(mentioned))
    customers = [e for e in entries if e.kind == "customer"][:MAX_MENTIONED]
    people = [e for e in entries if e.kind == "person"][:MAX_MENTIONED]
    stats = figures.stats
    by_key = stats.set_index("customer_key", drop=False)
    mentioned_customers = []
    for entry in customers:
        if entry.key in by_key.index:
            record = _records(by_key.loc[[entry.key]], CUSTOMER_FIELDS)[0]
            record["alias"] = entry.alias
            if figures.forecast is not None:
                record["payment_forecast"] = customer_forecast(figures.forecast, entry.alias)
        else:
            record = {"alias": entry.alias, "note": "no invoices for this customer"}
        mentioned_customers.append(record)
    portfolio = {k: _plain(v) for k, v in figures.portfolio.items()}
    pack: dict[str, Any] = {
        "as_of": portfolio.get("as_of"),
        "currency": currency,
        "portfolio": portfolio,
        "mentioned_customers": mentioned_customers,
        "mentioned_sales_managers": [_manager_facts(figures, e) for e in people],
        "rankings": {
            "largest_customers_by_total_invoiced": _ranking(stats, "total_amount", ["total_amount", "invoice_count"]),
            "slowest_payers_by_avg_delay_days": _ranking(
                stats, "avg_payment_delay_days", ["avg_payment_delay_days", "paid_count"]
            ),
            "fastest_payers_by_avg_delay_days": _ranking(
                stats, "avg_payment_delay_days", ["avg_payment_delay_days", "paid_count"], ascending=True
            ),
            "most_overdue": _ranking(stats, "overdue_amount", ["overdue_amount", "unpaid_count"]),
            "largest_outstanding": _ranking(stats, "outstanding_amount", ["outstanding_amount", "unpaid_count"]),
        },
        "trends": _trend_summary(stats) if not stats.empty else {},
        "aging_of_open_invoices": _records(
            measures.aging_buckets(figures.ledger), ["bucket", "invoice_count", "amount"]
        ),
    }
    topics = wanted_topics(question)
    if "monthly" in topics:
        monthly = measures.monthly_series(figures.ledger).tail(MONTHLY_ROWS)
        pack["monthly"] = [
            {**r, "month": str(r["month"])[:7]}
            for r in _records(monthly, ["month", "invoiced", "collected", "invoice_count", "invoiced_moving_average"])
        ]
    for column in ("service_type", "location"):
        if column in topics:
            pack[f"by_{column}"] = _breakdown(figures.ledger, column)
    if "sales_manager" in topics and not figures.managers.empty:
        pack["by_sales_manager"] = _records(figures.managers.head(BREAKDOWN_ROWS), MANAGER_FIELDS)
    if figures.forecast is not None:
        pack.update(forecast_facts(figures.forecast, question))
    return alias_strings(pack, scanner)


def describe_facts() -> str:
    """What the fields of a facts pack mean, for the system prompt."""
    return (
        "Amounts are invoice totals including tax. Delays are days from invoice date to payment date over paid "
        "invoices. predicted_next_amount is the mean of the customer's last invoices (moving_average); "
        "predicted_next_payment_date is the last payment date plus the average delay (the original formula). "
        "payment_forecast holds each open invoice's predicted payment date from the backtested method, with its "
        "typical error in days; cash_in_forecast the expected collections per week; prefer these for 'when will "
        "X pay', 'what cash comes in' and 'which invoices will be late', and quote the typical error. "
        "on_time_share and paid_on_time_share are fractions (0.87 = 87%). Rankings list at most "
        f"{RANK_ROWS} entries; the portfolio covers every customer. Dates are YYYY-MM-DD."
    )
