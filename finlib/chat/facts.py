"""The facts pack: the bounded, aliases-only summary of a ledger that a chat question is answered from.

Every figure is computed by ``analytics`` and ``forecast``, never by the model. Records are built from
whitelisted columns (aliases, numbers, dates; never a name column), lists are cut to a few rows whatever the
size of the ledger, and at the end every string of the pack, keys included, goes through ``alias_strings``,
because free-text fields such as locations and service types can contain real names too.

The pack is typed (``FactsPack`` and the row dataclasses below); ``FactsPack.to_json`` is its one conversion
to what the model reads, where a field without a value is left out. Every field name is a common word of the
name scanner (a test keeps it so), so no field name can ever be mistaken for a customer's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

import pandas as pd

from finlib.analytics import customer_stats, measures
from finlib.analytics.measures import Portfolio
from finlib.chat import kpi_facts
from finlib.chat.forecast_facts import (
    FORECAST_FACT_TYPES,
    CashInForecast,
    CustomerPaymentForecast,
    ForecastFigures,
    LateInvoicesForecast,
    PaymentForecastFacts,
    compute_forecast_figures,
    customer_forecast,
    forecast_facts,
)
from finlib.chat.kpi_facts import (
    ActivityFacts,
    BalanceFacts,
    KpiFigures,
    KpiMonthFacts,
    KpiQuarterFacts,
    WorklistFacts,
)
from finlib.jsonable import JSONScalar, JSONValue, json_scalar, to_json_object
from finlib.privacy.scanner import NameEntry, NameScanner, alias_strings

RANK_ROWS = 5
BREAKDOWN_ROWS = 8
MONTHLY_ROWS = 12
MAX_MENTIONED = 8
MANAGER_CUSTOMER_ROWS = 5
TOPICS = {
    "monthly": r"month|monthly|trend|over time|season|quarter|year|growth|history|recent",
    "aging": r"aging|ageing|overdue|past due|bucket|late|outstanding|owe",
    "service_type": r"service|product|type|category|line",
    "location": r"location|region|city|branch|site|where|country|area",
    "sales_manager": r"manager|sales ?person|salespe|account owner|rep\b|team|portfolio",
}


RowT = TypeVar("RowT")


@dataclass(frozen=True)
class CustomerFacts:
    """One customer's figures, by alias; a ranking row sets only the figures it ranks by, the rest stay None."""

    alias: str
    invoice_count: int | None = None
    total_amount: float | None = None
    average_amount: float | None = None
    moving_average: float | None = None
    trend: str | None = None
    avg_payment_delay_days: float | None = None
    delay_std_days: float | None = None
    on_time_share: float | None = None
    last_payment_date: str | None = None
    predicted_next_payment_date: str | None = None
    predicted_next_amount: float | None = None
    first_invoice_date: str | None = None
    last_invoice_date: str | None = None
    paid_count: int | None = None
    unpaid_count: int | None = None
    outstanding_amount: float | None = None
    overdue_amount: float | None = None
    change_share: float | None = None
    payment_forecast: CustomerPaymentForecast | None = None
    note: str | None = None


@dataclass(frozen=True)
class GroupFacts:
    """Totals of a group of invoices: a sales manager (by ``alias``) or a location or service type (by ``name``)."""

    alias: str | None = None
    name: str | None = None
    invoice_count: int | None = None
    customer_count: int | None = None
    total_invoiced: float | None = None
    total_collected: float | None = None
    outstanding: float | None = None
    overdue: float | None = None
    avg_payment_delay_days: float | None = None
    largest_customers: tuple[CustomerFacts, ...] | None = None
    note: str | None = None


@dataclass(frozen=True)
class PortfolioFacts:
    """The headline KPIs of the whole ledger (``analytics.measures.compute_portfolio``)."""

    as_of: str | None = None
    invoice_count: int = 0
    customer_count: int = 0
    total_invoiced: float = 0.0
    total_collected: float = 0.0
    outstanding: float = 0.0
    overdue: float = 0.0
    overdue_count: int = 0
    avg_payment_delay_days: float | None = None
    dso: float | None = None
    paid_on_time_share: float | None = None
    first_invoice_date: str | None = None
    last_invoice_date: str | None = None
    average_invoice: float | None = None  # total_invoiced / invoice_count


@dataclass(frozen=True)
class AgingFacts:
    """Open invoices in one days-past-due bucket."""

    bucket: str
    invoice_count: int
    amount: float


@dataclass(frozen=True)
class MonthFacts:
    """One month of the monthly series (``YYYY-MM``)."""

    month: str
    invoiced: float | None = None
    collected: float | None = None
    invoice_count: int | None = None
    invoiced_moving_average: float | None = None


@dataclass(frozen=True)
class Rankings:
    """The top customers by a few measures, at most ``RANK_ROWS`` each."""

    largest_customers_by_total_invoiced: tuple[CustomerFacts, ...] = ()
    slowest_payers_by_avg_delay_days: tuple[CustomerFacts, ...] = ()
    fastest_payers_by_avg_delay_days: tuple[CustomerFacts, ...] = ()
    most_overdue: tuple[CustomerFacts, ...] = ()
    largest_outstanding: tuple[CustomerFacts, ...] = ()


@dataclass(frozen=True)
class TrendFacts:
    """How many customers trend each way, and the fastest growing and shrinking ones (``change_share``)."""

    customers_by_trend: Mapping[str, int]
    fastest_growing: tuple[CustomerFacts, ...] = ()
    fastest_shrinking: tuple[CustomerFacts, ...] = ()


@dataclass(frozen=True)
class FactsPack:
    """Everything a question is answered from; optional sections are None unless the question asks for them."""

    as_of: str | None
    portfolio: PortfolioFacts
    currency: str | None = None
    currency_symbol: str | None = None
    not_customers: tuple[str, ...] = ()
    balances: BalanceFacts | None = None
    activity: ActivityFacts | None = None
    kpi_trend: tuple[KpiMonthFacts, ...] | None = None
    kpi_quarters: tuple[KpiQuarterFacts, ...] | None = None
    worklist: tuple[WorklistFacts, ...] | None = None
    mentioned_customers: tuple[CustomerFacts, ...] = ()
    mentioned_sales_managers: tuple[GroupFacts, ...] = ()
    rankings: Rankings = Rankings()
    trends: TrendFacts | None = None
    aging_of_open_invoices: tuple[AgingFacts, ...] = ()
    monthly: tuple[MonthFacts, ...] | None = None
    by_service_type: tuple[GroupFacts, ...] | None = None
    by_location: tuple[GroupFacts, ...] | None = None
    by_sales_manager: tuple[GroupFacts, ...] | None = None
    payment_forecast: PaymentForecastFacts | None = None
    cash_in_forecast: CashInForecast | None = None
    predicted_late_invoices: LateInvoicesForecast | None = None

    def to_json(self) -> dict[str, JSONValue]:
        """The pack as the model reads it (fields without a value left out)."""
        return to_json_object(self, omit_none=True)

    def breakdown(self, column: str) -> tuple[GroupFacts, ...]:
        """The rows of the ``location`` or ``service_type`` breakdown (empty when the pack has none)."""
        return {"location": self.by_location, "service_type": self.by_service_type}.get(column) or ()


CUSTOMER_FIELDS = tuple(
    f.name for f in fields(CustomerFacts) if f.name not in ("change_share", "payment_forecast", "note")
)
MANAGER_FIELDS = tuple(f.name for f in fields(GroupFacts) if f.name not in ("name", "largest_customers", "note"))
FACT_TYPES = (
    CustomerFacts, GroupFacts, PortfolioFacts, AgingFacts, MonthFacts, Rankings, TrendFacts, FactsPack,
    *FORECAST_FACT_TYPES, *kpi_facts.KPI_FACT_TYPES,
)  # fmt: skip


@dataclass(frozen=True)
class ProjectFigures:
    """The per-project figures a facts pack draws from, computed once per ledger."""

    ledger: pd.DataFrame
    stats: pd.DataFrame
    managers: pd.DataFrame
    portfolio: PortfolioFacts
    forecast: ForecastFigures | None = None
    kpis: KpiFigures | None = None


def compute_project_figures(
    ledger: pd.DataFrame, *, window: int = 3, trend_threshold: float = 0.05, late_days: int = 14
) -> ProjectFigures:
    """Every figure a facts pack draws from (stats, managers, portfolio, forecast, balances) of an aliased ledger."""
    # The forecast first, while the least is held: its arrays over every row are the session's peak memory.
    forecast = compute_forecast_figures(ledger, late_days=late_days, window=window)
    stats = customer_stats.compute_customer_stats(ledger, window=window, trend_threshold=trend_threshold)
    managers = customer_stats.compute_manager_stats(ledger)
    managers = managers.sort_values("overdue", ascending=False, kind="stable").reset_index(drop=True)
    portfolio = portfolio_facts(measures.compute_portfolio(ledger))
    kpis = kpi_facts.compute_kpi_figures(ledger, window=window, trend_threshold=trend_threshold, stats=stats)
    return ProjectFigures(ledger, stats, managers, portfolio, forecast, kpis)


def portfolio_facts(portfolio: Portfolio) -> PortfolioFacts:
    """The facts of a portfolio KPI result."""
    values: dict[str, Any] = {f.name: _figure(getattr(portfolio, f.name, None)) for f in fields(PortfolioFacts)}
    if portfolio.invoice_count:
        values["average_invoice"] = _figure(portfolio.total_invoiced / portfolio.invoice_count)
    return PortfolioFacts(**{name: value for name, value in values.items() if value is not None})


def _figure(value: object) -> JSONScalar:
    """A JSON scalar with floats rounded: cents for amounts, four places for shares and small ratios."""
    plain = json_scalar(value)
    if isinstance(plain, float):
        return round(plain, 2) if abs(plain) >= 10 else round(plain, 4)
    return plain


def _rows(kind: type[RowT], frame: pd.DataFrame, columns: Sequence[str], **renamed: str) -> tuple[RowT, ...]:
    """One ``kind`` per row of ``frame`` from ``columns`` (a column read into another field: ``field=column``)."""
    names = {column: field for field, column in renamed.items()}
    present = [c for c in columns if c in frame.columns]
    rows = frame[present].itertuples(index=False, name=None)
    built: list[RowT] = []
    for row in rows:
        values: dict[str, Any] = {names.get(c, c): _figure(v) for c, v in zip(present, row, strict=True)}
        built.append(kind(**values))
    return tuple(built)


def _ranking(
    stats: pd.DataFrame, by: str, columns: Sequence[str], *, ascending: bool = False
) -> tuple[CustomerFacts, ...]:
    ranked = stats[stats[by].notna()]
    if by in ("overdue_amount", "outstanding_amount"):
        ranked = ranked[ranked[by] > 0]
    ranked = ranked.sort_values(["alias"], kind="stable").sort_values(by, ascending=ascending, kind="stable")
    return _rows(CustomerFacts, ranked.head(RANK_ROWS), ["alias", *columns])


def _rankings(stats: pd.DataFrame) -> Rankings:
    delay = ["avg_payment_delay_days", "paid_count"]
    return Rankings(
        largest_customers_by_total_invoiced=_ranking(stats, "total_amount", ["total_amount", "invoice_count"]),
        slowest_payers_by_avg_delay_days=_ranking(stats, "avg_payment_delay_days", delay),
        fastest_payers_by_avg_delay_days=_ranking(stats, "avg_payment_delay_days", delay, ascending=True),
        most_overdue=_ranking(stats, "overdue_amount", ["overdue_amount", "unpaid_count"]),
        largest_outstanding=_ranking(stats, "outstanding_amount", ["outstanding_amount", "unpaid_count"]),
    )


def _trend_summary(stats: pd.DataFrame) -> TrendFacts:
    counts = stats["trend"].value_counts()
    change = (stats["moving_average"] - stats["average_amount"]) / stats["average_amount"].abs()
    growing = stats.assign(change_share=change)[stats["trend"] == "increasing"]
    shrinking = stats.assign(change_share=change)[stats["trend"] == "decreasing"]
    columns = ["alias", "average_amount", "moving_average", "change_share"]
    return TrendFacts(
        customers_by_trend={t: int(counts.get(t, 0)) for t in customer_stats.TRENDS},
        fastest_growing=_rows(
            CustomerFacts, growing.sort_values("change_share", ascending=False).head(RANK_ROWS), columns
        ),
        fastest_shrinking=_rows(CustomerFacts, shrinking.sort_values("change_share").head(RANK_ROWS), columns),
    )


def _breakdown(ledger: pd.DataFrame, by: str) -> tuple[GroupFacts, ...]:
    if ledger[by].notna().sum() == 0:
        return ()
    table = measures.breakdown(ledger, by=by).head(BREAKDOWN_ROWS)
    return _rows(GroupFacts, table, [by, *MANAGER_FIELDS[1:]], name=by)


def _manager_facts(figures: ProjectFigures, entry: NameEntry) -> GroupFacts:
    row = figures.managers[figures.managers["sales_manager_key"] == entry.key]
    if row.empty:
        return GroupFacts(alias=entry.alias, note="no invoices with this sales manager")
    customer_keys = figures.ledger.loc[figures.ledger["sales_manager_key"] == entry.key, "customer_key"].unique()
    theirs = figures.stats[figures.stats["customer_key"].isin(customer_keys)]
    largest = _ranking(theirs, "total_amount", ["total_amount", "outstanding_amount"])[:MANAGER_CUSTOMER_ROWS]
    (totals,) = _rows(GroupFacts, row, MANAGER_FIELDS)
    return replace(totals, alias=entry.alias, largest_customers=largest)


def _customer_facts(figures: ProjectFigures, by_key: pd.DataFrame, entry: NameEntry) -> CustomerFacts:
    if entry.key not in by_key.index:
        return CustomerFacts(alias=entry.alias, note="no invoices for this customer")
    (record,) = _rows(CustomerFacts, by_key.loc[[entry.key]], CUSTOMER_FIELDS)
    predicted = customer_forecast(figures.forecast, entry.alias) if figures.forecast is not None else None
    return replace(record, alias=entry.alias, payment_forecast=predicted)


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
    currency_symbol: str | None = None,
    not_customers: Sequence[str] = (),
) -> FactsPack:
    """The facts pack for one question: what every question gets, the names it mentions, and what it asks for."""
    entries = list(dict.fromkeys(mentioned))
    customers = [e for e in entries if e.kind == "customer"][:MAX_MENTIONED]
    people = [e for e in entries if e.kind == "person"][:MAX_MENTIONED]
    stats = figures.stats
    by_key = stats.set_index("customer_key", drop=False)
    topics, kpis, monthly = wanted_topics(question), figures.kpis, None
    if "monthly" in topics:
        series = measures.monthly_series(figures.ledger).tail(MONTHLY_ROWS)
        series = series.assign(month=series["month"].astype(str).str[:7])
        monthly = _rows(MonthFacts, series, [f.name for f in fields(MonthFacts)])
    by_manager = None
    if "sales_manager" in topics and not figures.managers.empty:
        by_manager = _rows(GroupFacts, figures.managers.head(BREAKDOWN_ROWS), MANAGER_FIELDS)
    pack = FactsPack(
        as_of=figures.portfolio.as_of,
        currency=currency,
        currency_symbol=currency_symbol if currency else None,
        not_customers=tuple(not_customers),
        balances=kpis.balances if kpis else None,
        activity=kpis.activity if kpis else None,
        kpi_trend=kpis.trend if kpis and kpi_facts.wants_trend(question) else None,
        kpi_quarters=kpis.quarters if kpis and kpi_facts.wants_trend(question) else None,
        worklist=kpis.worklist if kpis and kpi_facts.wants_worklist(question) else None,
        portfolio=figures.portfolio,
        mentioned_customers=tuple(_customer_facts(figures, by_key, e) for e in customers),
        mentioned_sales_managers=tuple(_manager_facts(figures, e) for e in people),
        rankings=_rankings(stats),
        trends=_trend_summary(stats) if not stats.empty else None,
        aging_of_open_invoices=_rows(
            AgingFacts, measures.aging_buckets(figures.ledger), ["bucket", "invoice_count", "amount"]
        ),
        monthly=monthly,
        by_service_type=_breakdown(figures.ledger, "service_type") if "service_type" in topics else None,
        by_location=_breakdown(figures.ledger, "location") if "location" in topics else None,
        by_sales_manager=by_manager,
    )
    if figures.forecast is not None:
        sections = forecast_facts(figures.forecast, question)
        pack = replace(
            pack,
            payment_forecast=sections.payment_forecast,
            cash_in_forecast=sections.cash_in_forecast,
            predicted_late_invoices=sections.predicted_late_invoices,
        )
    return alias_strings(pack, scanner)


def describe_facts() -> str:
    """What the fields of a facts pack mean, for the system prompt."""
    return (
        "Amounts are invoice totals including tax. Delays are days from invoice date to payment date over paid "
        "invoices. predicted_next_amount is the mean of the customer's last invoices (moving_average); "
        "predicted_next_payment_date is the last payment date plus the average delay. "
        "on_time_share and paid_on_time_share are fractions (0.87 = 87%). Rankings list at most "
        f"{RANK_ROWS} entries; the portfolio covers every customer. Dates are YYYY-MM-DD. Fields without a value "
        "are left out. balances are as of as_of: overdue is only invoices past their due date; current is open "
        "but not yet due, so it is not overdue. dso_countback is DSO by the countback method, best_possible_dso the "
        "same over the current amount, add is dso_countback less best_possible_dso. kpi_trend has these as of the "
        "end of each month, with that month's invoiced, collected, cei and avg_days_to_pay; kpi_quarters has "
        "invoiced and collected per quarter (YYYY-Qn). activity covers every invoice from start to end: "
        "avg_days_to_pay is days from invoice date to payment date over the invoices paid, weighted_days_to_pay the "
        "same weighted by amount, cei in percent. Write amounts in full with the currency symbol, and dates as "
        "31 October 2026. Each of not_customers is no customer here: say so."
    )
