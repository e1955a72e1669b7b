"""Forecast facts for the chat: open invoices' predicted payment dates, cash-in, predicted-late invoices.

Drawn from ``finlib.forecast`` (the method the backtest chose, with its typical error) and keyed by alias only:
no name or name key enters these facts; ``build_facts`` still passes every string through ``alias_strings``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from finlib.errors import ForecastError
from finlib.forecast.backtest import BacktestResult, run_backtest
from finlib.forecast.outlook import Forecast, compute_forecast
from finlib.forecast.payment_dates import DATE_METHODS, DEFAULT_DATE_METHOD

log = logging.getLogger(__name__)

# A chat session backtests small ledgers itself (well under a second); larger ones quote no typical error.
CHAT_BACKTEST_ROWS = 20_000
OPEN_INVOICE_ROWS = 5
LATE_ROWS = 5
NEAR_WEEKS = 4
CASH_TOPIC = re.compile(r"cash|collect|come in|coming in|receive|inflow|next (?:month|weeks?)", re.IGNORECASE)
LATE_TOPIC = re.compile(r"will be late|predicted late|going to be late|pay late|late", re.IGNORECASE)


@dataclass(frozen=True)
class InvoiceForecast:
    """One open invoice's predicted payment date, with its 10–90% interval (``alias`` in the predicted-late list)."""

    invoice_number: str | None
    amount: float
    due_date: str | None
    predicted_payment_date: str | None
    earliest_date_10pct: str | None
    latest_date_90pct: str | None
    predicted_days_after_due: int | None
    predicted_late: bool
    alias: str | None = None


@dataclass(frozen=True)
class CustomerPaymentForecast:
    """A mentioned customer's open invoices and when they are predicted to be paid."""

    open_invoice_count: int
    open_amount: float | None = None
    expected_payment_dates_from: str | None = None
    expected_payment_dates_to: str | None = None
    largest_open_invoices: tuple[InvoiceForecast, ...] = ()


@dataclass(frozen=True)
class PaymentForecastFacts:
    """The forecast's date, method and typical error (always in a pack that has a forecast)."""

    as_of: str
    method: str
    typical_error_days: float | None
    interval: str
    open_invoice_count: int


@dataclass(frozen=True)
class CashWeekFacts:
    """Expected collections of one week, with its 10–90% band."""

    week_start: str | None
    expected: float
    low: float
    high: float


@dataclass(frozen=True)
class CashInForecast:
    """Expected collections over the next weeks (when the question is about cash)."""

    next_4_weeks_expected: float
    next_13_weeks_expected: float
    typical_weekly_error_share: float | None
    weeks: tuple[CashWeekFacts, ...]


@dataclass(frozen=True)
class LateInvoicesForecast:
    """Open invoices predicted to be paid more than ``late_after_days`` after their due date (when asked)."""

    late_after_days: int
    count: int
    amount: float
    largest: tuple[InvoiceForecast, ...]


@dataclass(frozen=True)
class ForecastSections:
    """The forecast parts of a facts pack: the method always, cash-in and late invoices when the question asks."""

    payment_forecast: PaymentForecastFacts
    cash_in_forecast: CashInForecast | None = None
    predicted_late_invoices: LateInvoicesForecast | None = None


FORECAST_FACT_TYPES = (
    InvoiceForecast, CustomerPaymentForecast, PaymentForecastFacts, CashWeekFacts, CashInForecast,
    LateInvoicesForecast, ForecastSections,
)  # fmt: skip


@dataclass(frozen=True)
class ForecastFigures:
    """A project's forecast as of its latest date, and the backtest it was chosen by (if any)."""

    forecast: Forecast
    backtest: BacktestResult | None
    late_days: int

    @property
    def typical_error_days(self) -> float | None:
        """The method's backtest MAE in days, when a backtest is at hand."""
        score = self.backtest.date_score(self.forecast.method) if self.backtest else None
        return None if score is None else round(score.mae_days, 1)


def compute_forecast_figures(
    ledger: pd.DataFrame, *, backtest: BacktestResult | None = None, late_days: int = 14, window: int = 3
) -> ForecastFigures | None:
    """The forecast the chat quotes; None when the ledger has no payment history to forecast from."""
    if backtest is None and len(ledger) <= CHAT_BACKTEST_ROWS:
        try:
            backtest = run_backtest(ledger, window=window)
        except ForecastError:
            backtest = None
    method = backtest.best_date_method if backtest else DEFAULT_DATE_METHOD
    try:
        return ForecastFigures(compute_forecast(ledger, None, method), backtest, late_days)
    except ForecastError:
        log.info("no forecast for the chat: %s", "too little payment history")
        return None


def _day(value: Any) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _money(value: Any) -> float:
    return round(float(value), 2)


def _invoice(row: pd.Series, late_days: int, alias: str | None = None) -> InvoiceForecast:
    return InvoiceForecast(
        invoice_number=None if pd.isna(row["invoice_number"]) else str(row["invoice_number"]),
        amount=_money(row["amount"]),
        due_date=_day(row["due_date"]),
        predicted_payment_date=_day(row["predicted_payment_date"]),
        earliest_date_10pct=_day(row["low_date"]),
        latest_date_90pct=_day(row["high_date"]),
        predicted_days_after_due=None if pd.isna(row["days_late"]) else int(row["days_late"]),
        predicted_late=bool(row["days_late"] > late_days),
        alias=alias,
    )


def customer_forecast(figures: ForecastFigures, alias: str) -> CustomerPaymentForecast:
    """One customer's open invoices with predicted dates (largest first, at most ``OPEN_INVOICE_ROWS``)."""
    invoices = figures.forecast.invoices
    theirs = invoices[invoices["alias"] == alias]
    if theirs.empty:
        return CustomerPaymentForecast(open_invoice_count=0)
    shown = theirs.sort_values("amount", ascending=False, kind="stable").head(OPEN_INVOICE_ROWS)
    return CustomerPaymentForecast(
        open_invoice_count=len(theirs),
        open_amount=_money(theirs["amount"].sum()),
        expected_payment_dates_from=_day(theirs["predicted_payment_date"].min()),
        expected_payment_dates_to=_day(theirs["predicted_payment_date"].max()),
        largest_open_invoices=tuple(_invoice(row, figures.late_days) for _, row in shown.iterrows()),
    )


def forecast_facts(figures: ForecastFigures, question: str) -> ForecastSections:
    """The forecast sections of a facts pack: method and error always; cash-in and late lists when asked."""
    forecast = figures.forecast
    cash = figures.backtest.cash_score(forecast.method) if figures.backtest else None
    method = PaymentForecastFacts(
        as_of=forecast.as_of.strftime("%Y-%m-%d"),
        method=DATE_METHODS[forecast.method].label,
        typical_error_days=figures.typical_error_days,
        interval="earliest and latest dates are the 10th and 90th percentiles",
        open_invoice_count=len(forecast.invoices),
    )
    cash_in = None
    if CASH_TOPIC.search(question):
        weeks = forecast.weeks.frame()
        cash_in = CashInForecast(
            next_4_weeks_expected=_money(weeks["expected"].iloc[:NEAR_WEEKS].sum()),
            next_13_weeks_expected=_money(weeks["expected"].sum()),
            typical_weekly_error_share=None if cash is None else round(cash.wape, 3),
            weeks=tuple(
                CashWeekFacts(_day(w.week_start), _money(w.expected), _money(w.low), _money(w.high))
                for w in weeks.itertuples(index=False)
            ),
        )
    late_invoices = None
    if LATE_TOPIC.search(question):
        late = forecast.predicted_late(figures.late_days)
        shown = late.sort_values("amount", ascending=False, kind="stable").head(LATE_ROWS)
        late_invoices = LateInvoicesForecast(
            late_after_days=figures.late_days,
            count=len(late),
            amount=_money(late["amount"].sum()) if len(late) else 0.0,
            largest=tuple(_invoice(row, figures.late_days, row["alias"]) for _, row in shown.iterrows()),
        )
    return ForecastSections(method, cash_in, late_invoices)
