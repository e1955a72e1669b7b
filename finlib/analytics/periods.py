"""Dates a view is computed for: the balance date (as of), the activity period, and the period it compares with.

Balances (outstanding, overdue, aging, DSO) are *as of a date*; activity (invoiced, collected, days to pay) belongs
to a *period* of invoice or payment dates. The two are chosen independently: no period changes a balance.

- The default balance date is the ledger's latest invoice or payment date (due dates lie in the future and are not
  evidence of how current the data is). It is taken from the whole ledger, so category filters do not move it.
- The default period is the whole ledger: its first invoice date to the balance date.
- The period buttons (12M, 6M, 3M) choose the N whole months that end on the balance date (never starting before the
  first invoice); All chooses the first invoice date to the balance date. No button picks activity after it.
- A period is compared with the period of the same length that ends the day before it starts, when that earlier
  period lies inside the ledger. A period of whole months (ending N months after it starts, as the 12M, 6M and
  3M choices and a calendar month are) is compared with the N months before it, and lies inside the ledger when
  it starts in or after the month of the first invoice (a ledger whose first invoice is dated 4 Nov covers
  November); any other period with the same number of days before it, starting on or after the first invoice.
  Balances are compared with the balances as of the balance date moved back by the same months or days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from finlib.errors import ProjectError

DAY = pd.Timedelta(days=1)


def days_to_pay(frame: pd.DataFrame) -> pd.Series:
    """Payment date minus invoice date in days, per row (NaN when unpaid); a prepayment (paid before its invoice
    date) waited 0 days, so it counts as paid on time instead of pulling delays below zero."""
    return ((frame["payment_date"] - frame["invoice_date"]) / DAY).clip(lower=0.0)


@dataclass(frozen=True)
class Period:
    """A closed range of whole days, ``start`` to ``end`` inclusive."""

    start: pd.Timestamp
    end: pd.Timestamp

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", pd.Timestamp(self.start).normalize())
        object.__setattr__(self, "end", pd.Timestamp(self.end).normalize())

    @property
    def days(self) -> int:
        """Number of days in the period, both ends included."""
        return int((self.end - self.start) / DAY) + 1

    def before(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - DAY
        return Period(end - (self.end - self.start), end)


@dataclass(frozen=True)
class ViewDates:
    """What a view balances on and what it compares: the answer to "as of when, over which days, against what"."""

    as_of: pd.Timestamp
    period: Period
    previous: Period | None  # None when the period before does not lie inside the ledger
    previous_as_of: pd.Timestamp | None  # balances compared with: as of minus the period's length
    why_no_comparison: str | None  # a sentence when ``previous`` is None


def resolve_as_of(ledger: pd.DataFrame) -> pd.Timestamp | None:
    """Latest invoice or payment date in the ledger; ``None`` for an empty ledger."""
    latest = pd.concat([ledger["invoice_date"], ledger["payment_date"]]).max()
    return None if pd.isna(latest) else pd.Timestamp(latest).normalize()


def check_as_of(ledger: pd.DataFrame, as_of: date | pd.Timestamp) -> pd.Timestamp:
    """``as_of`` as a day, or ProjectError when it lies before the ledger's first invoice (nothing to balance yet)."""
    day = pd.Timestamp(as_of).normalize()
    first = ledger["invoice_date"].min()
    if pd.notna(first) and day < pd.Timestamp(first).normalize():
        raise ProjectError(
            f"The balance date {_readable(day)} is before the ledger starts on {_readable(pd.Timestamp(first))} "
            "(its first invoice): give a date on or after it."
        )
    return day


def check_asked_as_of(ledger: pd.DataFrame, as_of: date | pd.Timestamp) -> pd.Timestamp:
    """A balance date a user typed (CLI, API): ``check_as_of``, and ProjectError after the ledger's latest date.

    Payments after the export are unknown, so every invoice still open would look unpaid (``kpis --as-of 2030``
    showed a DSO of 1,236 days). The sidebar offers no such day; the analytics take any day they are given.
    """
    day = check_as_of(ledger, as_of)
    latest = resolve_as_of(ledger)
    if latest is not None and day > latest:
        raise ProjectError(
            f"The balance date {_readable(day)} is after the ledger's latest date, {_readable(latest)}: payments "
            "after it are not in the ledger, so every invoice still open would count as unpaid. Give a date up to "
            f"{latest:%Y-%m-%d}, or refresh the project from a newer export."
        )
    return day


def period_before(start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The period of equal length (whole days) that ends the day before ``start``."""
    previous = Period(start, end).before()
    return previous.start, previous.end


def resolve_view_dates(
    whole: pd.DataFrame,
    start: date | pd.Timestamp | None = None,
    end: date | pd.Timestamp | None = None,
    as_of: date | pd.Timestamp | None = None,
) -> ViewDates | None:
    """The balance date, period and comparison of a view of ``whole`` (the unfiltered ledger); None when empty.

    ``as_of`` defaults to the ledger's latest date, ``start`` to its first invoice date, ``end`` to the ledger's
    latest date (so payments received after the last invoice count as collected).
    """
    latest = resolve_as_of(whole)
    if latest is None:
        return None
    first = pd.Timestamp(whole["invoice_date"].min()).normalize()
    balance_date = latest if as_of is None else check_as_of(whole, as_of)
    period_start = first if start is None else pd.Timestamp(start).normalize()
    period_end = latest if end is None else pd.Timestamp(end).normalize()
    period_end = max(period_end, period_start)
    period = Period(period_start, period_end)
    months = whole_months(period)
    if months is None:
        previous, floor, shift = period.before(), first, pd.DateOffset(days=period.days)
        span = f"{period.days} days"
    else:
        previous = Period(period.start - pd.DateOffset(months=months), period.start - DAY)
        floor, shift = first.to_period("M").to_timestamp(), pd.DateOffset(months=months)
        span = f"{months} month{'s' if months > 1 else ''}"
    if previous.start < floor:
        reason = (
            f"no comparison: the {span} before {_readable(period.start)} begin before the ledger's first invoice "
            f"({_readable(first)})"
        )
        return ViewDates(balance_date, period, None, None, reason)
    return ViewDates(balance_date, period, previous, balance_date - shift, None)


def months_ending(end: date | pd.Timestamp, months: int | None, first: date | pd.Timestamp) -> Period:
    """The ``months`` whole months that end on ``end`` (from ``first`` when None), never starting before ``first``.

    Counted back from the day after ``end``, so a period ending on a month's last day covers whole calendar months
    (3 months to 30 Jun are 1 Apr to 30 Jun).
    """
    last, floor = pd.Timestamp(end).normalize(), pd.Timestamp(first).normalize()
    start = floor if months is None else max(floor, last + DAY - pd.DateOffset(months=months))
    return Period(min(start, last), last)


def whole_months(period: Period) -> int | None:
    """N when ``period`` is N whole months (it starts the day after its end moved back N months, or ends the day
    before its start moved on N months: 1 Mar 2024 to 28 Feb 2025 is 12), else None."""
    start, end = period.start, period.end
    apart = int((end.year - start.year) * 12 + end.month - start.month)
    for months in (apart, apart + 1):
        shift = pd.DateOffset(months=months)
        if months >= 1 and (end - shift + DAY == start or start + shift - DAY == end):
            return months
    return None


def month_ends(first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    """The last day of every month from ``first``'s month to ``last``'s, the final one cut at ``last``."""
    months = pd.period_range(pd.Timestamp(first).to_period("M"), pd.Timestamp(last).to_period("M"), freq="M")
    ends = months.to_timestamp(how="end").normalize()
    return pd.DatetimeIndex(ends.where(ends <= pd.Timestamp(last).normalize(), pd.Timestamp(last).normalize()))


def _readable(day: pd.Timestamp) -> str:
    return f"{day.day} {day:%b %Y}"
