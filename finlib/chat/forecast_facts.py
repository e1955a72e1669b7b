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


def _invoice(row: pd.Series, late_days: int) -> dict[str, Any]:
    return {
        "invoice_number": None if pd.isna(row["invoice_number"]) else str(row["invoice_number"]),
        "amount": _money(row["amount"]),
        "due_date": _day(row["due_date"]),
        "predicted_payment_date": _day(row["predicted_payment_date"]),
        "earliest_date_10pct": _day(row["low_date"]),
        "latest_date_90pct": _day(row["high_date"]),
        "predicted_days_after_due": None if pd.isna(row["days_late"]) else int(row["days_late"]),
        "predicted_late": bool(row["days_late"] > late_days),
    }


def customer_forecast(figures: ForecastFigures, alias: str) -> dict[str, Any]:
    """One customer's open invoices with predicted dates (largest first, at most ``OPEN_INVOICE_ROWS``)."""
    invoices = figures.forecast.invoices
    theirs = invoices[invoices["alias"] == alias]
    if theirs.empty:
        return {"open_invoice_count": 0}
    shown = theirs.sort_values("amount", ascending=False, kind="stable").head(OPEN_INVOICE_ROWS)
    return {
        "open_invoice_count": len(theirs),
        "open_amount": _money(theirs["amount"].sum()),
        "expected_payment_dates_from": _day(theirs["predicted_payment_date"].min()),
        "expected_payment_dates_to": _day(theirs["predicted_payment_date"].max()),
        "largest_open_invoices": [_invoice(row, figures.late_days) for _, row in shown.iterrows()],
    }


def forecast_facts(figures: ForecastFigures, question: str) -> dict[str, Any]:
    """The forecast sections of a facts pack: method and error always; cash-in and late lists when asked."""
    forecast = figures.forecast
    cash = figures.backtest.cash_score(forecast.method) if figures.backtest else None
    facts: dict[str, Any] = {
        "payment_forecast": {
            "as_of": forecast.as_of.strftime("%Y-%m-%d"),
            "method": DATE_METHODS[forecast.method].label,
            "typical_error_days": figures.typical_error_days,
            "interval": "earliest and latest dates are the 10th and 90th percentiles",
            "open_invoice_count": len(forecast.invoices),
        }
    }
    if CASH_TOPIC.search(question):
        weeks = forecast.weeks.frame()
        facts["cash_in_forecast"] = {
            "next_4_weeks_expected": _money(weeks["expected"].iloc[:NEAR_WEEKS].sum()),
            "next_13_weeks_expected": _money(weeks["expected"].sum()),
            "typical_weekly_error_share": None if cash is None else round(cash.wape, 3),
            "weeks": [
                {"week_start": _day(w.week_start), "expected": _money(w.expected), "low": _money(w.low),
                 "high": _money(w.high)}
                for w in weeks.itertuples(index=False)
            ],
        }  # fmt: skip
    if LATE_TOPIC.search(question):
        late = forecast.invoices[forecast.invoices["days_late"] > figures.late_days]
        shown = late.sort_values("amount", ascending=False, kind="stable").head(LATE_ROWS)
        facts["predicted_late_invoices"] = {
            "late_after_days": figures.late_days,
            "count": len(late),
            "amount": _money(late["amount"].sum()) if len(late) else 0.0,
            "largest": [{"alias": row["alias"], **_invoice(row, figures.late_days)} for _, row in shown.iterrows()],
        }
    return facts
