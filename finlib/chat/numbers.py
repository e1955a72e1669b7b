"""Checking an answer's numbers against the facts pack: extraction of amounts, percentages, counts and dates.

A number in the answer is *verified* when some number or date in the facts pack, shown the way the answer
shows it, gives the same figure: ``12,345.67`` in the facts verifies ``12,346``, ``12.3k`` and ``12,000``
(the answer's precision is read from its decimals, suffix and trailing zeros); ``87.3%`` is verified by
``0.873`` or ``87.3``; ``2026-03-05`` verifies ``5 March 2026`` and ``Mar 5, 2026``. Aliases are removed first,
so the digits inside ``CUST-7K3M9Q2X`` are never read as numbers. Small whole numbers up to the longest list
in the facts (ranks, "top 5") are taken as verified.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from finlib.privacy.aliasing import ALIAS_PATTERN

MONTH_NAMES = (
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
    ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
    ("december", "dec"),
)  # fmt: skip
# Every way a month is written (full name or abbreviation, lower case) -> its number: the one month table.
MONTH_NUMBERS = {name: number for number, names in enumerate(MONTH_NAMES, start=1) for name in names}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
DATE_PATTERNS = [
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]?\d)-(?P<day>[0-3]?\d)\b"),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(r"\b(?P<first>[0-3]?\d)[/.](?P<second>[0-3]?\d)[/.](?P<year>(?:19|20)\d\d)\b"),
]
MONTH_PATTERNS = [
    re.compile(rf"\b{_MONTH}\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)\b(?!-\d)"),
]
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-−])?(?P<currency>[$€£¥₹]\s?)?"
    r"(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,2}(?:,\d\d)+,\d{3}(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<suffix>\s?(?:k|m|bn|thousand|million|billion)\b)?(?P<percent>\s?%|\s?percent\b)?",
    re.IGNORECASE,
)
SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}


@dataclass(frozen=True)
class FoundNumber:
    """A number read from text: where, as written, its value, and its kind (number, percent, date, month)."""

    start: int
    end: int
    text: str
    value: float
    kind: str
    precision: float = 0.0
    dates: tuple[dt.date, ...] = ()


@dataclass(frozen=True)
class FactValues:
    """Every number and date of a facts pack, ready for comparisons."""

    numbers: tuple[float, ...]
    dates: frozenset[dt.date]
    months: frozenset[tuple[int, int]]
    max_list_length: int


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _month_number(text: str) -> int:
    return int(text) if text.isdigit() else MONTH_NUMBERS[text.lower().rstrip(".")]


def extract_numbers(text: str) -> list[FoundNumber]:
    """Numbers, percentages, dates and months in ``text`` (aliases ignored), in order of position."""
    text = _blank(text, (m.span() for m in ALIAS_PATTERN.finditer(text)))
    found: list[FoundNumber] = []
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            year = int(groups["year"])
            if "first" in groups:
                first, second = int(groups["first"]), int(groups["second"])
                options = {_date(year, second, first), _date(year, first, second)}
            else:
                options = {_date(year, _month_number(groups["month"]), int(groups["day"]))}
            dates = tuple(sorted(d for d in options if d is not None))
            if dates:
                found.append(FoundNumber(match.start(), match.end(), match.group(), 0.0, "date", dates=dates))
        text = _blank(text, ((f.start, f.end) for f in found))
    for pattern in MONTH_PATTERNS:
        for match in pattern.finditer(text):
            year, month = int(match.group("year")), _month_number(match.group("month"))
            if 1 <= month <= 12:
                month_start = dt.date(year, month, 1)
                found.append(FoundNumber(match.start(), match.end(), match.group(), 0.0, "month", dates=(month_start,)))
        text = _blank(text, ((f.start, f.end) for f in found))
    for match in _NUMBER.finditer(text):
        found.append(_number(match))
    return sorted(found, key=lambda f: f.start)


def _number(match: re.Match[str]) -> FoundNumber:
    digits = match.group("digits").replace(",", "")
    value = float(digits)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    precision = 0.5 * 10.0**-decimals
    if decimals == 0 and value >= 100:
        zeros = len(digits) - len(digits.rstrip("0"))
        precision = max(precision, 0.5 * 10.0**zeros)
    suffix = (match.group("suffix") or "").strip().lower()
    if suffix:
        value *= SCALE[suffix]
        precision *= SCALE[suffix]
    if match.group("sign"):
        value = -value
    kind = "percent" if match.group("percent") else "number"
    return FoundNumber(match.start(), match.end(), match.group().strip(), value, kind, precision)


def collect_fact_values(facts: Any) -> FactValues:
    """Every number and date found anywhere in a facts pack (nested dicts and lists; strings are read too)."""
    numbers: list[float] = []
    dates: set[dt.date] = set()
    months: set[tuple[int, int]] = set()
    longest = 0

    def visit(value: Any) -> None:
        nonlocal longest
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float):
            if math.isfinite(float(value)):
                numbers.append(float(value))
        elif isinstance(value, dt.datetime | dt.date):
            day = value.date() if isinstance(value, dt.datetime) else value
            dates.add(day)
            months.add((day.year, day.month))
        elif isinstance(value, str):
            for item in extract_numbers(value):
                if item.kind == "date":
                    dates.update(item.dates)
                if item.kind in ("date", "month"):
                    months.update((d.year, d.month) for d in item.dates)
                else:
                    numbers.append(item.value)
        elif isinstance(value, Mapping):
            for v in value.values():
                visit(v)
        elif isinstance(value, list | tuple):
            longest = max(longest, len(value))
            for v in value:
                visit(v)
        elif hasattr(value, "item"):
            visit(value.item())

    visit(facts)
    return FactValues(tuple(numbers), frozenset(dates), frozenset(months), longest)


def is_verified(found: FoundNumber, facts: FactValues) -> bool:
    """True when ``found`` matches a figure of the facts, allowing for rounding and formatting."""
    if found.kind == "date":
        return any(d in facts.dates for d in found.dates)
    if found.kind == "month":
        return any((d.year, d.month) in facts.months for d in found.dates)
    value = found.value
    if found.kind == "number" and value == int(value) and 0 <= value <= max(facts.max_list_length, 1):
        return True
    if found.kind == "number" and value == int(value) and any(year == int(value) for year, _ in facts.months):
        return True
    tolerance = found.precision + 1e-9
    # A percentage may be kept in the facts as a share (0.873) or as a percentage (87.3).
    readings = [(value, tolerance)] + ([(value / 100.0, tolerance / 100.0)] if found.kind == "percent" else [])
    return any(abs(abs(fact) - abs(reading)) <= limit for fact in facts.numbers for reading, limit in readings)


def unverified_numbers(answer: str, facts: Any) -> list[str]:
    """Numbers in ``answer`` (as written) that no figure of the facts pack supports."""
    values = facts if isinstance(facts, FactValues) else collect_fact_values(facts)
    return [f.text for f in extract_numbers(answer) if not is_verified(f, values)]
