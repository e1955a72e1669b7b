"""How the offline answers write figures: amounts in full with the project's currency, dates as the pages do.

``31 Oct 2026`` for a day and ``Oct 2026`` for a month, the pages' readable format; the facts pack keeps ISO
dates (``2026-10-31``), which ``chat.numbers`` reads either way, so the written date is still checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from finlib.currency import Currency, format_amount, parse_currency
from finlib.errors import CurrencyError

if TYPE_CHECKING:
    from finlib.chat.facts import FactsPack


def readable_day(iso: str | None) -> str:
    """``2026-10-31`` as ``31 Oct 2026`` (other text unchanged; ``n/a`` when missing)."""
    if not iso:
        return "n/a"
    try:
        day = dt.date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{day.day} {day:%b %Y}"


def readable_month(iso: str | None) -> str:
    """``2026-10`` as ``Oct 2026``."""
    if not iso:
        return "n/a"
    try:
        month = dt.date.fromisoformat(f"{iso[:7]}-01")
    except ValueError:
        return iso
    return f"{month:%b %Y}"


def plural(count: int | None, word: str) -> str:
    """``1 invoice``, ``3 invoices``."""
    number = 0 if count is None else count
    return f"{number:,} {word}" if number == 1 else f"{number:,} {word}s"


@dataclass(frozen=True)
class Phrasing:
    """The writer of one answer's figures: amounts with ``currency`` (a bare number without one)."""

    currency: Currency | None = None

    def money(self, value: float | None) -> str:
        """An amount in full with the currency (``€494,123.45``)."""
        return format_amount(value, self.currency)

    @staticmethod
    def days(value: float | None) -> str:
        """A number of days with one decimal."""
        return "n/a" if value is None else f"{value:,.1f} days"

    @staticmethod
    def share(value: float | None) -> str:
        """A fraction as a percentage."""
        return "n/a" if value is None else f"{value * 100:.1f}%"

    day = staticmethod(readable_day)
    month = staticmethod(readable_month)


def phrasing_for(facts: FactsPack) -> Phrasing:
    """The phrasing of answers from ``facts``: its currency code and symbol."""
    if not facts.currency:
        return Phrasing()
    try:
        return Phrasing(parse_currency(facts.currency, facts.currency_symbol))
    except CurrencyError:
        return Phrasing()
