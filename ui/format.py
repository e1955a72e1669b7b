"""How numbers, dates and deltas read on screen: one place, so every page says "1.2M" the same way."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd

from finlib.currency import Currency

MISSING_TEXT = "—"


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def format_amount(value: float | None, *, decimals: int = 0) -> str:
    """Full amount with thousands separators: ``1,234,567``; negatives as ``-1,234``."""
    if _is_missing(value):
        return MISSING_TEXT
    return f"{float(value):,.{decimals}f}"  # type: ignore[arg-type]


def format_compact(value: float | None) -> str:
    """Short amount for cards and axis labels: ``950``, ``12.4K``, ``3.25M``, ``1.1B``."""
    if _is_missing(value):
        return MISSING_TEXT
    number = float(value)  # type: ignore[arg-type]
    size = abs(number)
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= threshold:
            scaled = number / threshold
            digits = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0
            return f"{scaled:,.{digits}f}{suffix}"
    return f"{number:,.0f}"


def with_currency(text: str, currency: Currency | None) -> str:
    """An amount already written (``1.29M``, ``-12.4K``) with the currency's symbol: ``€1.29M``, ``-CHF 12.4K``."""
    if currency is None or text == MISSING_TEXT:
        return text
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    gap = " " if currency.symbol[-1:].isalpha() else ""
    return f"{sign}{currency.symbol}{gap}{digits}"


def amount_header(header: str, currency: Currency | None) -> str:
    """A table header of an amount column naming the currency: ``Amount (€)``."""
    return f"{header} ({currency.symbol})" if currency else header


def format_days(value: float | None) -> str:
    """A number of days: ``23.4 days``, ``1 day``."""
    if _is_missing(value):
        return MISSING_TEXT
    number = float(value)  # type: ignore[arg-type]
    if math.isclose(number, round(number)):
        whole = int(round(number))
        return f"{whole:,} day" if abs(whole) == 1 else f"{whole:,} days"
    return f"{number:,.1f} days"


def format_number(value: float | None, *, decimals: int = 1) -> str:
    """A plain number with separators and one decimal: ``47.2``, ``1,204.0``."""
    if _is_missing(value):
        return MISSING_TEXT
    return f"{float(value):,.{decimals}f}"  # type: ignore[arg-type]


def format_share(value: float | None) -> str:
    """A fraction as a percentage: ``0.825`` → ``82.5%``."""
    if _is_missing(value):
        return MISSING_TEXT
    return f"{float(value) * 100:,.1f}%"  # type: ignore[arg-type]


def format_date(value: date | datetime | str | None) -> str:
    """A date as ``12 Mar 2025`` (unambiguous for day-first and month-first readers)."""
    if _is_missing(value):
        return MISSING_TEXT
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return f"{stamp.day} {stamp:%b %Y}"


def format_count(value: int | float | None) -> str:
    """A whole count with separators."""
    if _is_missing(value):
        return MISSING_TEXT
    return f"{int(value):,}"  # type: ignore[arg-type]


def format_delta_amount(current: float | None, previous: float | None) -> str | None:
    """Change between two periods for ``st.metric``: ``+1.2M (+8.3%)``; None when there is nothing to compare."""
    if _is_missing(current) or _is_missing(previous):
        return None
    change = float(current) - float(previous)  # type: ignore[arg-type]
    text = ("+" if change >= 0 else "-") + format_compact(abs(change))
    if previous:
        text += f" ({change / abs(float(previous)) * 100:+.1f}%)"  # type: ignore[arg-type]
    return text


def format_delta_days(current: float | None, previous: float | None) -> str | None:
    """Change in a number of days for ``st.metric``: ``+2.5 days``."""
    if _is_missing(current) or _is_missing(previous):
        return None
    change = float(current) - float(previous)  # type: ignore[arg-type]
    return f"{change:+.1f} days"
