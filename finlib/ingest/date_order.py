"""The day/month order of a ledger's dates: evidence from unambiguous values, one order per file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](?:\d{4}|\d{2})(?!\d)")
# A month written as a word shows the writer's habit: "Jan 5, 2025" is an American's, "5 Jan 2025" a European's.
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_WEEKDAY = r"(?:[a-z]{3,9},?\s+)?"
_NAMED_MONTH_FIRST = re.compile(rf"^{_WEEKDAY}{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b", re.I)
_NAMED_DAY_FIRST = re.compile(rf"^{_WEEKDAY}\d{{1,2}}(?:st|nd|rd|th)?\.?[\s\-.]+{_MONTH}[\s\-.,]+\d{{2,4}}\b", re.I)


@dataclass(frozen=True)
class DateOrderEvidence:
    """Distinct values of a date column that can be read only day-first or only month-first, with an example."""

    day_first: int = 0
    month_first: int = 0
    day_first_example: str | None = None
    month_first_example: str | None = None
    ambiguous: int = 0  # numeric dates that read as two different days (2/10/2025)
    ambiguous_example: str | None = None
    # Dates with the month as a word: they fit any order, but show the writer's habit (a tie-breaker only).
    named_day_first: int = 0
    named_month_first: int = 0
    named_month_first_example: str | None = None

    @property
    def leaning(self) -> bool | None:
        """True for day-first, False for month-first, None when the column settles nothing (a tie: day-first)."""
        if self.day_first != self.month_first:
            return self.day_first > self.month_first
        if self.day_first == 0 and self.named_day_first != self.named_month_first:
            return self.named_day_first > self.named_month_first
        return None


@dataclass(frozen=True)
class DateOrder:
    """The day/month order of a file's dates, and a warning when its date columns disagree."""

    day_first: bool
    warnings: list[str] = field(default_factory=list)


def _distinct_texts(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return pd.Series(series.cat.categories, dtype=object).astype(str).str.strip()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        return pd.Series(series.dropna().unique(), dtype=object).astype(str).str.strip()
    return pd.Series([], dtype=object)


def _numeric_orders(text: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Masks of numeric dates readable only day-first (13/04/2025), only month-first (04/13/2025), and as two
    different days (02/10/2025)."""
    parts = text.str.extract(_NUMERIC_DATE)
    first, second = pd.to_numeric(parts[0], errors="coerce"), pd.to_numeric(parts[1], errors="coerce")
    day_only = first.between(13, 31) & second.between(1, 12)
    month_only = second.between(13, 31) & first.between(1, 12)
    either = first.between(1, 12) & second.between(1, 12) & (first != second)
    return _mask(day_only), _mask(month_only), _mask(either)


def _mask(values: pd.Series) -> pd.Series:
    return values.fillna(False).astype(bool)


def date_order_evidence(series: pd.Series) -> DateOrderEvidence:
    """What a raw date column says about day-first versus month-first (computed on its distinct values): numeric
    dates with a day above 12, and dates whose month is a word ("Jan 5, 2025" month-first, "5 Jan 2025" day-first)."""
    text = _distinct_texts(series)
    if text.empty:
        return DateOrderEvidence()
    day_only, month_only, either = _numeric_orders(text)
    named_day = text.str.contains(_NAMED_DAY_FIRST, regex=True).fillna(False).astype(bool)
    named_month = text.str.contains(_NAMED_MONTH_FIRST, regex=True).fillna(False).astype(bool)
    return DateOrderEvidence(
        day_first=int(day_only.sum()),
        month_first=int(month_only.sum()),
        day_first_example=str(text[day_only].iloc[0]) if day_only.any() else None,
        month_first_example=str(text[month_only].iloc[0]) if month_only.any() else None,
        ambiguous=int(either.sum()),
        ambiguous_example=str(text[either].iloc[0]) if either.any() else None,
        named_day_first=int(named_day.sum()),
        named_month_first=int(named_month.sum()),
        named_month_first_example=str(text[named_month].iloc[0]) if named_month.any() else None,
    )


def order_name(day_first: bool) -> str:
    """How an order is named in messages."""
    return "day-first (DD/MM/YYYY)" if day_first else "month-first (MM/DD/YYYY)"


def resolve_date_order(columns: Mapping[str, pd.Series]) -> DateOrder:
    """One day/month order per file, from the unambiguous values (a day above 12) of all its date columns.

    The order most such values show wins and applies to every date column; when no value settles it, dates
    written with the month as a word tell the writer's habit ("Jan 5, 2025": month-first), else day-first, the
    original ledgers' convention (both said in a warning when numeric dates fit either order). Values that only
    fit the other order are then not read, so a typed-in 12/31 in a day-first file is reported instead of
    flipping a whole column. Columns that disagree are named in a warning.
    """
    evidence = {name: date_order_evidence(series) for name, series in columns.items()}
    day_total = sum(e.day_first for e in evidence.values())
    month_total = sum(e.month_first for e in evidence.values())
    named_month = sum(e.named_month_first for e in evidence.values())
    by_habit = not day_total and not month_total and named_month > sum(e.named_day_first for e in evidence.values())
    day_first = day_total >= month_total and not by_habit
    warnings: list[str] = []
    if day_total and month_total:
        other = order_name(not day_first).split(" ")[0]
        against = [
            f"{name!r} has {count} date{'s' if count > 1 else ''} that only fit{'' if count > 1 else 's'} {other} "
            f"(e.g. {example!r})"
            for name, e in evidence.items()
            for count, example in [
                (e.month_first, e.month_first_example) if day_first else (e.day_first, e.day_first_example)
            ]
            if count
        ]
        warnings.append(
            f"The date columns disagree on the day/month order: {'; '.join(against)}. All dates are read "
            f"{order_name(day_first)}, the order most unambiguous dates show, and those that only fit {other} "
            "are reported. Check how the file was exported."
        )
    ambiguous = [(name, e.ambiguous_example) for name, e in evidence.items() if e.ambiguous]
    if ambiguous and not day_total and not month_total:
        name, example = ambiguous[0]
        if by_habit:
            written = next(e.named_month_first_example for e in evidence.values() if e.named_month_first)
            why = f"the file writes other dates month first ({written!r})"
        else:
            why = "nothing in the file tells the order"
        warnings.append(
            f"Every numeric date of the file, such as {example!r} in {name!r}, fits both the day-first and the "
            f"month-first order; they are read {order_name(day_first)}, as {why}. If that is wrong, export the "
            "dates as YYYY-MM-DD (or with the month as a word) and register the file again."
        )
    return DateOrder(day_first=day_first, warnings=warnings)


def reads_only_in_other_order(text: str, day_first: bool) -> bool:
    """True when a date text is valid only in the order the column is *not* read in (e.g. 12/31 when day-first)."""
    day_only, month_only, _ = _numeric_orders(pd.Series([str(text).strip()], dtype=object))
    return bool(month_only.iloc[0]) if day_first else bool(day_only.iloc[0])


__all__ = [
    "DateOrder",
    "DateOrderEvidence",
    "date_order_evidence",
    "order_name",
    "reads_only_in_other_order",
    "resolve_date_order",
]
