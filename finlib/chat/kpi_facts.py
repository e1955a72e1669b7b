"""Balance and KPI facts for the chat: balances as of the balance date, the monthly KPI trend, the worklist.

Computed by ``analytics.balances``, ``analytics.kpis`` and ``analytics.worklist``, the functions the Overview,
the Worklist page and ``kpis --json`` use, so the chat's DSO, overdue or aging is the pages' to the cent.
Customers appear by alias only; ``build_facts`` still passes every string through ``alias_strings``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from finlib.analytics.activity import compute_activity
from finlib.analytics.balances import compute_balances
from finlib.analytics.kpis import monthly_kpis
from finlib.analytics.periods import Period, resolve_as_of
from finlib.analytics.worklist import compute_worklist
from finlib.jsonable import json_scalar

TREND_MONTHS = 12
WORKLIST_ROWS = 10
TREND_TOPIC = re.compile(
    r"month|trend|\bdso\b|\bcei\b|\bkpis?\b|days sales|\badd\b|delinquent|over time|moved?|quarter|\bq[1-4]\b"
    r"|\b(?:19|20)\d\d\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?:19|20)\d\d\b",
    re.I,
)
WORKLIST_TOPIC = re.compile(
    r"worklist|work list|chase|follow.?up|call first|priorit|overdue|past due|\bowe|outstanding|open invoice", re.I
)


@dataclass(frozen=True)
class BalanceFacts:
    """Receivables as of the balance date: ``current`` is open and not yet due, so it is not part of ``overdue``."""

    as_of: str
    outstanding: float
    overdue: float
    current: float
    open_invoices: int
    overdue_invoices: int
    overdue_share: float | None = None
    avg_days_past_due: float | None = None
    dso_countback: float | None = None
    best_possible_dso: float | None = None
    add: float | None = None


@dataclass(frozen=True)
class KpiMonthFacts:
    """One month of the KPI trend: balances as of ``as_of`` (the month's last day), activity within the month."""

    month: str
    as_of: str
    outstanding: float | None = None
    overdue: float | None = None
    overdue_share: float | None = None
    dso_countback: float | None = None
    best_possible_dso: float | None = None
    add: float | None = None
    cei: float | None = None
    invoiced: float | None = None
    collected: float | None = None
    on_time_share: float | None = None
    avg_days_to_pay: float | None = None


@dataclass(frozen=True)
class KpiQuarterFacts:
    """One calendar quarter of the KPI trend (``2026-Q3``): invoiced and collected from ``start`` to ``end``."""

    quarter: str
    start: str
    end: str
    invoiced: float | None = None
    collected: float | None = None


@dataclass(frozen=True)
class ActivityFacts:
    """Activity over the whole ledger (its first invoice to the balance date), the Overview's default period."""

    start: str
    end: str
    invoiced: float
    invoice_count: int
    collected: float
    paid_count: int
    avg_days_to_pay: float | None = None
    weighted_days_to_pay: float | None = None
    on_time_share: float | None = None
    cei: float | None = None


@dataclass(frozen=True)
class WorklistFacts:
    """One customer of the worklist (largest overdue first), by alias."""

    alias: str
    outstanding: float
    overdue: float
    open_invoices: int
    oldest_open_invoice: str | None = None
    days_past_due: float | None = None
    avg_days_to_pay: float | None = None
    recent_days_to_pay: float | None = None
    on_time_share: float | None = None
    rating: str | None = None


KPI_FACT_TYPES = (BalanceFacts, KpiMonthFacts, KpiQuarterFacts, ActivityFacts, WorklistFacts)


@dataclass(frozen=True)
class KpiFigures:
    """The balance and activity facts of a ledger, and its KPI trend, quarters and worklist, once per ledger.

    The trend and the worklist are computed the first time a question asks for them, then kept: most questions
    need neither, and together they are about as costly as every other figure of a session.
    """

    balances: BalanceFacts | None
    activity: ActivityFacts | None = None
    ledger: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    as_of: pd.Timestamp | None = None
    window: int = 3
    trend_threshold: float = 0.05
    # compute_customer_stats(ledger) with the same window and threshold, when the caller has it
    stats: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @cached_property
    def trend(self) -> tuple[KpiMonthFacts, ...]:
        """The last ``TREND_MONTHS`` months of the KPI trend."""
        return () if self.ledger is None or self.as_of is None else trend_facts(self.ledger, self.as_of)

    @cached_property
    def quarters(self) -> tuple[KpiQuarterFacts, ...]:
        """Invoiced and collected per quarter of the trend's months."""
        if self.ledger is None:
            return ()
        return quarter_facts(self.trend, pd.Timestamp(self.ledger["invoice_date"].min()).normalize())

    @cached_property
    def worklist(self) -> tuple[WorklistFacts, ...]:
        """The first ``WORKLIST_ROWS`` customers of the worklist with an open balance."""
        if self.ledger is None or self.as_of is None:
            return ()
        return worklist_facts(
            self.ledger, self.as_of, window=self.window, trend_threshold=self.trend_threshold, stats=self.stats
        )


def _value(value: Any, digits: int = 2) -> Any:
    plain = json_scalar(value)
    return round(plain, digits) if isinstance(plain, float) else plain


def _day(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(pd.Timestamp(value).strftime("%Y-%m-%d"))


def balance_facts(ledger: pd.DataFrame, as_of: pd.Timestamp) -> BalanceFacts:
    """The balances of ``ledger`` at ``as_of`` (``analytics.balances.compute_balances``)."""
    found = compute_balances(ledger, as_of)
    return BalanceFacts(
        as_of=str(_day(found.as_of)),
        outstanding=_value(found.outstanding),
        overdue=_value(found.overdue),
        current=_value(found.current),
        open_invoices=found.open_invoices,
        overdue_invoices=found.overdue_invoices,
        overdue_share=_value(found.overdue_share, 4),
        avg_days_past_due=_value(found.avg_days_past_due, 1),
        dso_countback=_value(found.dso_countback, 1),
        best_possible_dso=_value(found.best_possible_dso, 1),
        add=_value(found.add, 1),
    )


def trend_facts(ledger: pd.DataFrame, as_of: pd.Timestamp) -> tuple[KpiMonthFacts, ...]:
    """The last ``TREND_MONTHS`` months of ``analytics.kpis.monthly_kpis`` up to ``as_of``."""
    first = pd.Timestamp(ledger["invoice_date"].min()).normalize()
    start = max(first, (as_of.to_period("M") - (TREND_MONTHS - 1)).to_timestamp())
    frame = monthly_kpis(ledger, Period(start, as_of))
    ends = (frame["month"] + pd.offsets.MonthEnd(0)).clip(upper=as_of)
    return tuple(
        KpiMonthFacts(
            month=row.month.strftime("%Y-%m"),
            as_of=str(_day(end)),
            outstanding=_value(row.outstanding),
            overdue=_value(row.overdue),
            overdue_share=_value(row.overdue_share, 4),
            dso_countback=_value(row.dso_countback, 1),
            best_possible_dso=_value(row.best_possible_dso, 1),
            add=_value(row.add, 1),
            cei=_value(row.cei, 1),
            invoiced=_value(row.invoiced),
            collected=_value(row.collected),
            on_time_share=_value(row.on_time_share, 4),
            avg_days_to_pay=_value(row.avg_days_to_pay, 1),
        )
        for row, end in zip(frame.itertuples(index=False), ends, strict=True)
    )


def quarter_facts(trend: tuple[KpiMonthFacts, ...], first: pd.Timestamp) -> tuple[KpiQuarterFacts, ...]:
    """Invoiced and collected per calendar quarter of the trend's months (the ledger's first invoice is ``first``);
    a quarter the trend starts in the middle of is left out, unless the ledger starts in it; the last runs to the
    balance date."""
    if not trend:
        return ()
    frame = pd.DataFrame(
        [(r.month, r.invoiced, r.collected) for r in trend], columns=["month", "invoiced", "collected"]
    )
    frame["quarter"] = pd.PeriodIndex(frame["month"], freq="M").asfreq("Q")
    opening = pd.Period(trend[0].month, freq="M")
    if opening.to_timestamp() > first and opening != opening.asfreq("Q").asfreq("M", how="start"):
        frame = frame[frame["quarter"] != frame["quarter"].iloc[0]]  # its first months lie before the trend
    sums = frame.groupby("quarter", sort=True)[["invoiced", "collected"]].sum()
    as_of = pd.Timestamp(trend[-1].as_of)
    return tuple(
        KpiQuarterFacts(
            quarter=f"{quarter.year}-Q{quarter.quarter}",
            start=str(_day(max(quarter.start_time, first))),
            end=str(_day(min(quarter.end_time.normalize(), as_of))),
            invoiced=_value(row.invoiced),
            collected=_value(row.collected),
        )
        for quarter, row in zip(sums.index, sums.itertuples(index=False), strict=True)
    )


def activity_facts(ledger: pd.DataFrame, as_of: pd.Timestamp) -> ActivityFacts:
    """Activity from the ledger's first invoice to ``as_of`` (``analytics.activity.compute_activity``)."""
    first = pd.Timestamp(ledger["invoice_date"].min()).normalize()
    found = compute_activity(ledger, Period(first, as_of))
    return ActivityFacts(
        start=str(_day(first)),
        end=str(_day(as_of)),
        invoiced=_value(found.invoiced),
        invoice_count=found.invoice_count,
        collected=_value(found.collected),
        paid_count=found.paid_count,
        avg_days_to_pay=_value(found.avg_days_to_pay, 1),
        weighted_days_to_pay=_value(found.weighted_days_to_pay, 1),
        on_time_share=_value(found.on_time_share, 4),
        cei=_value(found.cei, 1),
    )


def worklist_facts(
    ledger: pd.DataFrame,
    as_of: pd.Timestamp,
    *,
    window: int,
    trend_threshold: float,
    stats: pd.DataFrame | None = None,
) -> tuple[WorklistFacts, ...]:
    """The first ``WORKLIST_ROWS`` customers of the worklist with an open balance, by alias (``stats`` as in
    ``compute_worklist``)."""
    table = compute_worklist(ledger, as_of, window=window, trend_threshold=trend_threshold, stats=stats)
    table = table[table["outstanding"].astype("float64") > 0].head(WORKLIST_ROWS)
    names = ledger.drop_duplicates("customer_key").set_index("customer_key")
    aliases = names["customer_alias"] if "customer_alias" in names else pd.Series(dtype="object")
    rows = []
    for row in table.itertuples(index=False):
        rows.append(
            WorklistFacts(
                alias=str(aliases.get(row.customer_key, "")),
                outstanding=_value(row.outstanding),
                overdue=_value(row.overdue),
                open_invoices=int(row.open_invoices),
                oldest_open_invoice=_day(row.oldest_open_invoice),
                days_past_due=_value(row.days_past_due, 0),
                avg_days_to_pay=_value(row.avg_days_to_pay, 1),
                recent_days_to_pay=_value(row.recent_days_to_pay, 1),
                on_time_share=_value(row.on_time_share, 4),
                rating=row.rating,
            )
        )
    return tuple(rows)


def compute_kpi_figures(
    ledger: pd.DataFrame, *, window: int = 3, trend_threshold: float = 0.05, stats: pd.DataFrame | None = None
) -> KpiFigures:
    """Balances and activity of ``ledger`` (with alias columns) at its latest date, its trend and worklist to
    come (see ``KpiFigures``); ``stats``, when given, is ``compute_customer_stats(ledger)`` with the same window
    and threshold."""
    as_of = resolve_as_of(ledger)
    if as_of is None:
        return KpiFigures(None)
    return KpiFigures(
        balances=balance_facts(ledger, as_of),
        activity=activity_facts(ledger, as_of),
        ledger=ledger,
        as_of=as_of,
        window=window,
        trend_threshold=trend_threshold,
        stats=stats,
    )


def wants_trend(question: str) -> bool:
    """Whether the question asks about a KPI over time (DSO, CEI, months, quarters, a dated month or day, trend)."""
    return bool(TREND_TOPIC.search(question))


def wants_worklist(question: str) -> bool:
    """Whether the question asks who to chase (overdue, outstanding, the worklist)."""
    return bool(WORKLIST_TOPIC.search(question))
