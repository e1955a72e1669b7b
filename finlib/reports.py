"""Reports: the JSON documents the CLI's ``--json`` and the HTTP API both return, one builder per command.

The CLI prints them and the API sends them, so the two faces cannot drift apart. Each builder starts from a
``LoadedProject`` (the caller decides how it is loaded and cached) and returns plain JSON values. With
``aliases_only`` a report is computed on the presentation ledger and holds no real name anywhere: customer
and people names are aliases, and the normalised name keys are replaced by the aliases too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from finlib.config import Settings
from finlib.currency import Currency
from finlib.errors import ProjectError
from finlib.ingest.ledger import EVERY_EXTRA
from finlib.names import normalise_names
from finlib.projects import LoadedProject

if TYPE_CHECKING:
    from finlib.analytics.measures import Portfolio
    from finlib.forecast.backtest import BacktestResult
    from finlib.forecast.outlook import Forecast


# The ledger columns each command reads (``projects.load_project(columns=...)``).
KPI_COLUMNS = ("customer_key", "invoice_date", "due_date", "payment_date", "amount")
BACKTEST_COLUMNS = (*KPI_COLUMNS, "service_type", "location", EVERY_EXTRA)
FORECAST_COLUMNS = (*BACKTEST_COLUMNS, "invoice_number", "customer_name", "customer_alias")
# The ledger columns a chat session reads (``projects.load_project(columns=...)``): with both alias columns the
# alias book holds every kind of name, so the name scanner is the whole ledger's.
CHAT_COLUMNS = (
    "customer_key", "customer_name", "customer_alias", "invoice_number", "invoice_date", "due_date",
    "payment_date", "amount", "service_type", "location", "sales_manager", "sales_manager_key",
    "sales_manager_alias", EVERY_EXTRA,
)  # fmt: skip


def parse_as_of(text: str, label: str = "--as-of") -> pd.Timestamp:
    """A YYYY-MM-DD date, or ProjectError naming the option that held it."""
    try:
        return pd.to_datetime(text, format="%Y-%m-%d")
    except ValueError as exc:
        raise ProjectError(f"{label} must be a date like 2026-03-31, got {text[:40]!r}.") from exc


def report_ledger(loaded: LoadedProject, *, aliases_only: bool = False) -> pd.DataFrame:
    """The ledger a report is computed on: as loaded, or the presentation copy whose names are aliases."""
    if not aliases_only:
        return loaded.ledger
    from finlib.privacy.presentation import present_ledger  # with the name scanner: only alias-only reports

    presented = present_ledger(loaded.ledger, loaded.aliases)
    # The keys are normalised real names; an alias-only report keys customers and people by alias instead.
    return presented.assign(
        customer_key=normalise_names(presented["customer_name"]),
        sales_manager_key=normalise_names(presented["sales_manager"]),
    )


@dataclass(frozen=True)
class StatsTable:
    """A project's portfolio figures and per-customer statistics, before one customer is picked and JSON made."""

    project: str
    portfolio: Portfolio
    customers: pd.DataFrame
    currency: Currency | None = None


def compute_stats_table(
    loaded: LoadedProject, settings: Settings, *, as_of: pd.Timestamp | None = None, aliases_only: bool = False
) -> StatsTable:
    """Portfolio and per-customer statistics of the ledger as of a date (default: its latest date)."""
    from finlib.analytics import customer_stats, measures, periods

    ledger = report_ledger(loaded, aliases_only=aliases_only)
    if as_of is not None:
        periods.check_asked_as_of(ledger, as_of)
    # The balance date every page uses (the ledger's latest date unless one is given).
    dates = periods.resolve_view_dates(ledger, as_of=as_of)
    as_of = dates.as_of if dates is not None else None
    if as_of is not None:
        ledger = measures.ledger_as_of(ledger, as_of)
    stats = customer_stats.compute_customer_stats(
        ledger,
        window=settings.moving_avg_window,
        trend_threshold=settings.trend_threshold,
        as_of=as_of,
    )
    portfolio = measures.compute_portfolio(ledger, as_of=as_of)
    return StatsTable(loaded.info.name, portfolio, stats, loaded.info.currency)


def stats_document(table: StatsTable, customer: str | None = None) -> dict[str, Any]:
    """The ``stats --json`` document of a table, for every customer or the one named ``customer``."""
    from finlib import summaries
    from finlib.analytics import customer_stats

    # In an alias-only table the customer is named by alias: a real name would confirm who is behind one.
    stats = select_customer(table.customers, customer) if customer else table.customers
    # One shape and one rounding with the figures `stats` reads as stored at registration (finlib.summaries).
    summary = summaries.Summary(
        customers=customer_stats.customer_stats_records(stats),
        portfolio=customer_stats.portfolio_json(table.portfolio),
    )
    return summaries.stats_document(table.project, summary, currency=table.currency)


def stats_report(
    loaded: LoadedProject,
    settings: Settings,
    *,
    customer: str | None = None,
    as_of: pd.Timestamp | None = None,
    aliases_only: bool = False,
) -> dict[str, Any]:
    """The ``stats --json`` document: portfolio figures and per-customer statistics and forecasts."""
    return stats_document(compute_stats_table(loaded, settings, as_of=as_of, aliases_only=aliases_only), customer)


def kpis_report(
    loaded: LoadedProject,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    as_of: pd.Timestamp | None = None,
    aliases_only: bool = False,
) -> dict[str, Any]:
    """The ``kpis --json`` document: balances as of a date, activity over a period, the monthly trend."""
    from finlib.analytics import kpis, periods

    if start is not None and end is not None and end < start:
        raise ProjectError(
            f"The period ends ({end:%Y-%m-%d}) before it starts ({start:%Y-%m-%d}); give its first day first."
        )
    ledger = report_ledger(loaded, aliases_only=aliases_only)
    if as_of is not None:
        periods.check_asked_as_of(ledger, as_of)
    dates = periods.resolve_view_dates(ledger, start, end, as_of)
    if dates is None:
        raise ProjectError(f"Project {loaded.info.name!r} has no invoices, so there are no KPIs to compute.")
    report = kpis.compute_kpis(ledger, dates)
    monthly = kpis.monthly_kpis(ledger, dates.period)
    return kpis.kpis_payload(loaded.info.name, report, monthly, loaded.info.currency)


def select_customer(stats: pd.DataFrame, wanted: str) -> pd.DataFrame:
    """The one customer row whose normalised name is ``wanted``'s, or ProjectError with close names.

    The same rule as ``summaries.select_customer`` on stored records (``summaries.customer_positions``).
    """
    from finlib import summaries

    keys, labels = stats["customer_key"].tolist(), stats["customer"].tolist()
    return stats.iloc[summaries.customer_positions(keys, labels, wanted)]


@dataclass(frozen=True)
class ForecastReport:
    """A forecast with the backtest that chose its method (None before one ran) and its ``--json`` document."""

    forecast: Forecast
    backtest: BacktestResult | None
    project: str

    @property
    def document(self) -> dict[str, Any]:
        """The ``forecast --json`` document (built when asked: a million-row ledger has ~200k open invoices)."""
        from finlib.forecast import outlook

        return outlook.forecast_json(self.forecast, self.project)


def forecast_report(
    loaded: LoadedProject,
    settings: Settings,
    *,
    as_of: pd.Timestamp | None = None,
    method: str | None = None,
    aliases_only: bool = False,
) -> ForecastReport:
    """The ``forecast --json`` document: each open invoice's predicted payment date and 13 weeks of cash-in.

    Without ``method`` the best date method of the project's kept backtest is used, else the default one.
    """
    from finlib.analytics import periods
    from finlib.forecast import backtest_cache, outlook, payment_dates

    if as_of is not None:
        periods.check_asked_as_of(loaded.ledger, as_of)
    kept = backtest_cache.load_backtest(settings, loaded.info.name, loaded.info.version)
    chosen = method or (kept.best_date_method if kept else payment_dates.DEFAULT_DATE_METHOD)
    forecast = outlook.compute_forecast(report_ledger(loaded, aliases_only=aliases_only), as_of, chosen)
    return ForecastReport(forecast, kept, loaded.info.name)


@dataclass(frozen=True)
class BacktestReport:
    """A backtest and its ``--json`` document."""

    result: BacktestResult
    document: dict[str, Any]


def backtest_report(loaded: LoadedProject, settings: Settings) -> BacktestReport:
    """The ``backtest --json`` document (method names and error figures only, no names), kept per version."""
    from finlib.forecast import backtest_cache

    result = backtest_cache.cached_backtest(loaded.ledger, settings, loaded.info.name, loaded.info.version)
    return BacktestReport(result, {"project": loaded.info.name, **result.to_json()})
