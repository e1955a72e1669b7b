"""Predicted-late alerts: one signed JSON POST per refresh listing open invoices forecast to be paid late.

An invoice is predicted late when its predicted payment date is more than ``ALERT_LATE_DAYS`` after its due
date. Customers appear as aliases unless ``ALERT_WEBHOOK_REAL_NAMES=true``. The body is signed with
HMAC-SHA256 over ``timestamp + "." + body`` using ``ALERT_WEBHOOK_SECRET`` (headers ``X-Finlib-Timestamp`` and
``X-Finlib-Signature: sha256=<hex>``), so the receiver can check both origin and freshness. Delivery retries
connection failures, 429 and 5xx answers with exponential backoff, and runs on a background thread.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import numpy as np

from finlib.config import Settings
from finlib.forecast.outlook import Forecast, forecast_json

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 1.0
SIGNATURE_HEADER = "X-Finlib-Signature"
TIMESTAMP_HEADER = "X-Finlib-Timestamp"
# (url, body, headers, timeout) -> HTTP status; raises OSError when the server cannot be reached.
Poster = Callable[[str, bytes, dict[str, str], float], int]


def alert_payload(project: str, forecast: Forecast, late_days: int, *, real_names: bool) -> dict[str, Any] | None:
    """The alert document, or None when no open invoice is predicted more than ``late_days`` after its due date."""
    late = forecast.late_mask(late_days)
    if not late.any():
        return None
    document = forecast_json(forecast, project)
    days_late = forecast.invoices["days_late"].to_numpy(dtype="float64")
    invoices = []
    for position in np.flatnonzero(late).tolist():
        entry = dict(document["invoices"][position])
        alias = entry.pop("alias")
        if not real_names:
            entry["customer"] = alias
        entry["days_late"] = int(days_late[position])
        invoices.append(entry)
    return {
        "project": project,
        "as_of": document["as_of"],
        "method": document["method"],
        "late_after_days": late_days,
        "invoices": invoices,
    }


def sign(body: bytes, secret: str, timestamp: str) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``timestamp.body`` under ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def post_with_urllib(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body``; the HTTP status (an error status is returned, not raised)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - URL checked in Settings
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def deliver(
    settings: Settings,
    payload: dict[str, Any],
    *,
    post: Poster = post_with_urllib,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """POST the signed payload, retrying failures and 429/5xx with backoff 1, 2, 4 ... s; True when accepted."""
    url, secret = settings.alert_webhook_url, settings.alert_webhook_secret
    if not url or not secret:
        return False
    body = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
    for attempt in range(settings.alert_retries + 1):
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(body, secret, timestamp),
        }
        try:
            status = post(url, body, headers, settings.alert_timeout_s)
        except OSError as exc:
            log.warning("alert webhook unreachable (attempt %d): %s", attempt + 1, type(exc).__name__)
        else:
            if 200 <= status < 300:
                log.info("alert webhook accepted %d invoices", len(payload["invoices"]))
                return True
            if status != 429 and status < 500:
                log.warning("alert webhook refused the alert with HTTP %d; not retrying", status)
                return False
            log.warning("alert webhook answered HTTP %d (attempt %d)", status, attempt + 1)
        if attempt < settings.alert_retries:
            sleep(BACKOFF_BASE_S * 2**attempt)
    log.warning("alert webhook: giving up after %d attempts", settings.alert_retries + 1)
    return False


def start_alerts(
    settings: Settings, project: str, compute: Callable[[], Forecast], *, post: Poster = post_with_urllib
) -> threading.Thread | None:
    """Forecast and deliver on a background thread (the caller never waits); None when no webhook is set."""
    if not settings.alert_webhook_url:
        return None

    def work() -> None:
        try:
            payload = alert_payload(
                project, compute(), settings.alert_late_days, real_names=settings.alert_webhook_real_names
            )
            if payload is not None:
                deliver(settings, payload, post=post)
        except Exception:  # a background thread has no one to raise to: log it and keep the app running
            log.exception("predicted-late alerts for a project failed")

    thread = threading.Thread(target=work, name=f"alerts-{project}", daemon=False)
    thread.start()
    return thread
