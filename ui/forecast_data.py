"""Cached forecasts and backtests for the Forecast and Customers pages, keyed on project version and settings.

The ledger comes from ``data.load_view_ledger``, so presentation mode forecasts on aliases only. A backtest runs
by itself for ledgers up to ``AUTO_BACKTEST_ROWS`` invoices; beyond that the page offers a button, and the
result is kept on disk (``finlib.forecast.backtest_cache``) until the file changes.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from finlib.errors import ForecastError
from finlib.forecast import backtest_cache
from finlib.forecast.amounts import compute_next_amounts
from finlib.forecast.backtest import BacktestResult
from finlib.forecast.outlook import Forecast, compute_forecast, compute_past_weeks
from finlib.projects import Services
from ui import data

AUTO_BACKTEST_ROWS = 200_000


@st.cache_data(ttl=data.CACHE_TTL_S, max_entries=data.RESULT_CACHE_ENTRIES, show_spinner="Forecasting…")
def forecast(_services: Services, key: data.ViewKey, as_of: date, method: str) -> Forecast:
    """Every invoice open on ``as_of`` with its predicted payment date, and the 13 cash-in weeks."""
    ledger = data.load_view_ledger(_services, key)
    return compute_forecast(ledger, pd.Timestamp(as_of), method)


@st.cache_data(ttl=data.CACHE_TTL_S, max_entries=data.RESULT_CACHE_ENTRIES, show_spinner=False)
def past_weeks(_services: Services, key: data.ViewKey, as_of: date, method: str) -> pd.DataFrame:
    """The forecast made 13 weeks before ``as_of`` beside what was collected (amounts only: no names)."""
    ledger = data.load_view_ledger(_services, key.with_names())
    return compute_past_weeks(ledger, pd.Timestamp(as_of), method)


def kept_backtest(services: Services, key: data.ViewKey) -> BacktestResult | None:
    """The backtest kept on disk for this project version (a small file read; not cached in memory)."""
    return backtest_cache.load_backtest(services.settings, key.project, key.version)


def backtest(services: Services, key: data.ViewKey) -> BacktestResult:
    """The project's backtest: kept on disk, or run now and kept (amounts and dates only: one entry per mode)."""
    return _backtest(services, key.with_names())


@st.cache_data(ttl=data.CACHE_TTL_S, max_entries=data.LEDGER_CACHE_ENTRIES, show_spinner="Backtesting every method…")
def _backtest(_services: Services, key: data.ViewKey) -> BacktestResult:
    ledger = data.load_view_ledger(_services, key)
    return backtest_cache.cached_backtest(ledger, _services.settings, key.project, key.version)


def backtest_if_quick(services: Services, key: data.ViewKey, rows: int) -> BacktestResult | None:
    """The backtest when kept or quick to run (a small ledger); None when it must be asked for or cannot run."""
    kept = kept_backtest(services, key)
    if kept is not None or rows > AUTO_BACKTEST_ROWS:
        return kept
    try:
        return backtest(services, key)
    except ForecastError:
        return None  # too short a history to backtest: the Forecast page says so


@st.cache_data(ttl=data.CACHE_TTL_S, max_entries=data.RESULT_CACHE_ENTRIES, show_spinner=False)
def next_amounts(_services: Services, key: data.ViewKey) -> pd.DataFrame:
    """Each customer's next invoice amount by every amount method (index: ``customer_key``)."""
    ledger = data.load_view_ledger(_services, key)
    return compute_next_amounts(ledger, _services.settings.moving_avg_window)
