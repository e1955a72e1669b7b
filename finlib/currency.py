"""A project's currency (ISO code and symbol) and the one way an amount is written with it.

Every face writes amounts through ``format_amount``: in full (``€494,123.45``, never ``494K``), the symbol in
front when it is a sign (``€``, ``$``), the code or a letter symbol in front with a space (``CHF 1,250.00``),
and a bare number when the project states no currency. A minus sign comes first (``-€12.50``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from finlib.errors import CurrencyError

# The symbols of the common codes; any other code is written as itself.
SYMBOLS = {
    "EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹", "KRW": "₩", "RUB": "₽", "TRY": "₺",
    "ILS": "₪", "NGN": "₦", "PHP": "₱", "UAH": "₴", "VND": "₫", "THB": "฿", "PLN": "zł", "AUD": "A$", "CAD": "C$",
    "NZD": "NZ$", "HKD": "HK$", "SGD": "S$", "MXN": "MX$", "BRL": "R$", "ZAR": "R", "CHF": "CHF", "SEK": "kr",
    "NOK": "kr", "DKK": "kr", "AED": "AED", "SAR": "SAR", "QAR": "QAR", "KWD": "KWD", "EGP": "E£",
}  # fmt: skip
# A symbol written alone in a cell or amount, mapped back to its code (only the unambiguous ones).
CODES_BY_SYMBOL = {"€": "EUR", "$": "USD", "£": "GBP", "₹": "INR", "₩": "KRW", "₽": "RUB", "₺": "TRY", "₪": "ILS"}
_CODE = re.compile(r"[A-Z]{3}")
# A ledger column that states the currency: its header (an extra column keeps it after "extra:").
CURRENCY_HEADER = re.compile(
    r"(?:^|:)\s*(?:(?:invoice|document|transaction|billing)\s+)?(?:currency(?:\s+code)?|curr|ccy|cur|devise|"
    r"w(?:ä|ae)hrung|moneda|valuta|valuuta)\s*$",
    re.IGNORECASE,
)
MAX_SYMBOL_CHARS = 5


@dataclass(frozen=True)
class Currency:
    """An ISO 4217 code (``EUR``) and the symbol amounts are written with (``€``)."""

    code: str
    symbol: str

    @property
    def label(self) -> str:
        """How a table header or caption names it: ``EUR (€)``, or the code alone when they are the same."""
        return self.code if self.symbol == self.code else f"{self.code} ({self.symbol})"

    def to_json(self) -> dict[str, str]:
        """``{"code": "EUR", "symbol": "€"}``, as the JSON documents carry it."""
        return {"code": self.code, "symbol": self.symbol}


def currency_json(currency: Currency | None) -> dict[str, str] | None:
    """A project's currency in a JSON document: ``null`` when the project states none."""
    return None if currency is None else currency.to_json()


def parse_currency(code: str, symbol: str | None = None) -> Currency:
    """A ``Currency`` from a code such as ``eur`` and an optional symbol (default: the code's usual one).

    Raises:
        CurrencyError: the code is not three letters or the symbol is empty or long.
    """
    cleaned = (code or "").strip().upper()
    if not _CODE.fullmatch(cleaned):
        raise CurrencyError(
            f"'{code}' is not a currency code: give the three-letter ISO code, for example EUR, USD or GBP."
        )
    sign = SYMBOLS.get(cleaned, cleaned) if symbol is None or not symbol.strip() else symbol.strip()
    if len(sign) > MAX_SYMBOL_CHARS:
        raise CurrencyError(f"The symbol '{sign}' is too long: use at most {MAX_SYMBOL_CHARS} characters, e.g. €.")
    return Currency(cleaned, sign)


def changed_currency(code: str, symbol: str | None, previous: Currency | None) -> Currency:
    """``parse_currency`` of a form that showed ``previous``: a new code with the previous symbol left in place
    takes the new code's usual symbol (EUR over AED reads €, not AED); a symbol the user changed is kept."""
    chosen = parse_currency(code, symbol)
    if previous is not None and chosen.code != previous.code and chosen.symbol == previous.symbol:
        return parse_currency(chosen.code)
    return chosen


def currency_from_values(values: Iterable[object]) -> Currency | None:
    """The currency a ledger states: its currency column's values when they are one code (or one known symbol)."""
    found = {str(value).strip().upper() for value in values if value is not None and str(value).strip()}
    found.discard("NAN")
    if len(found) != 1:
        return None
    (value,) = found
    code = CODES_BY_SYMBOL.get(value, value)
    return parse_currency(code) if _CODE.fullmatch(code) else None


def stated_currency(columns: Mapping[str, Iterable[object]]) -> Currency | None:
    """The currency a ledger states in a currency column (``Currency``, ``extra:Currency Code``, ``CCY``) holding
    one code or one known symbol throughout; None when it states none or several."""
    found = [currency_from_values(values) for name, values in columns.items() if CURRENCY_HEADER.search(str(name))]
    stated = {currency for currency in found if currency is not None}
    return stated.pop() if len(stated) == 1 else None


def format_amount(value: float | None, currency: Currency | None = None, *, decimals: int = 2) -> str:
    """``value`` in full with the currency (``-€1,234.50``, ``CHF 80.00``); ``n/a`` for a missing value."""
    if value is None or value != value:
        return "n/a"
    digits = f"{abs(value):,.{decimals}f}"
    sign = "-" if value < 0 and float(digits.replace(",", "")) != 0 else ""
    if currency is None:
        return f"{sign}{digits}"
    if currency.symbol[-1:].isalpha():
        return f"{sign}{currency.symbol} {digits}"
    return f"{sign}{currency.symbol}{digits}"
