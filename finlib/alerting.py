"""Predicted-late alerts after a refresh: load the project, forecast, and post, all off the caller's thread."""

from __future__ import annotations

import threading

from finlib import projects
from finlib.forecast import backtest_cache
from finlib.forecast.alerts import Poster, post_with_urllib, start_alerts
from finlib.forecast.outlook import Forecast, compute_forecast
from finlib.forecast.payment_dates import DEFAULT_DATE_METHOD


def notify_late_invoices(
    services: projects.Services, name: str, *, post: Poster = post_with_urllib
) -> threading.Thread | None:
    """Start the alerts of a project on a background thread; None when ``ALERT_WEBHOOK_URL`` is not set.

    The method is the best of the project's kept backtest, else the default (a refresh never waits for a backtest).
    """
    settings = services.settings

    def compute() -> Forecast:
        loaded = projects.load_project(services, name)
        kept = backtest_cache.load_backtest(settings, loaded.info.name, loaded.info.version)
        return compute_forecast(loaded.ledger, None, kept.best_date_method if kept else DEFAULT_DATE_METHOD)

    return start_alerts(settings, name, compute, post=post)
