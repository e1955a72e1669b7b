"""Offline answers for a dated question (a month, a quarter, a day) and for the ledger's activity (days to pay, CEI).

Months and month-end days are answered from the monthly KPI trend (``kpi_trend``: activity within each month,
balances as of its last day), quarters from its sums (``kpi_quarters``), the whole ledger from ``activity``. A day
that is no month end of the trend is said to be unavailable, and the figures that follow say their own date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from finlib.chat.kpi_facts import KpiMonthFacts, KpiQuarterFacts
from finlib.chat.numbers import extract_numbers
from finlib.chat.phrasing import Phrasing, phrasing_for, plural

if TYPE_CHECKING:
    from finlib.chat.facts import FactsPack

QUARTER = re.compile(r"\bq([1-4])\s*(?:of\s+)?((?:19|20)\d\d)\b|\b((?:19|20)\d\d)[\s-]*q([1-4])\b", re.I)
RELATIVE_QUARTER = re.compile(r"\b(last|previous|past|this|current)\s+quarter\b", re.I)
# "Q2", "the second quarter" without a year: the year the question names elsewhere, else the latest such quarter.
BARE_QUARTER = re.compile(r"\bq([1-4])\b|\b(first|second|third|fourth)\s+quarter\b", re.I)
QUARTER_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4}
YEAR = re.compile(r"\b(?:19|20)\d\d\b")
CEI_MONTHS_SHOWN = 3


@dataclass(frozen=True)
class Requested:
    """The days (ISO), months (``YYYY-MM``) and quarters (``YYYY-Qn``) a question names."""

    days: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    quarters: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.days or self.months or self.quarters)


def requested_periods(question: str, as_of: str | None) -> Requested:
    """What dated periods ``question`` asks about; "last quarter" counts back from ``as_of``."""
    found = extract_numbers(question)
    days = [f.dates[0].isoformat() for f in found if f.kind == "date" and len(f.dates) == 1]
    months = [f"{f.dates[0]:%Y-%m}" for f in found if f.kind == "month"]
    quarters = [f"{a or d}-Q{q or b}" for q, a, d, b in QUARTER.findall(question)]
    quarters += _bare_quarters(QUARTER.sub(" ", question), set(YEAR.findall(question)), as_of)
    relative = RELATIVE_QUARTER.search(question)
    if relative and as_of:
        current = pd.Timestamp(as_of).to_period("Q")
        chosen = current if relative.group(1).casefold() in ("this", "current") else current - 1
        quarters.append(f"{chosen.year}-Q{chosen.quarter}")
    return Requested(*(tuple(dict.fromkeys(items)) for items in (days, months, quarters)))


def _bare_quarters(text: str, years: set[str], as_of: str | None) -> list[str]:
    """``YYYY-Qn`` for each quarter ``text`` names without its year: in the one year the question names
    (``years``), else the latest quarter of that number that has begun by ``as_of``."""
    named = [int(number) if number else QUARTER_WORDS[word.casefold()] for number, word in BARE_QUARTER.findall(text)]
    if not named:
        return []
    if len(years) == 1:
        return [f"{years.pop()}-Q{n}" for n in named]
    if not as_of:
        return []
    day = pd.Timestamp(as_of)
    return [f"{day.year if 3 * n - 2 <= day.month else day.year - 1}-Q{n}" for n in named]


def _by_month(facts: FactsPack) -> dict[str, KpiMonthFacts]:
    return {row.month: row for row in facts.kpi_trend or ()}


def _by_quarter(facts: FactsPack) -> dict[str, KpiQuarterFacts]:
    return {row.quarter: row for row in facts.kpi_quarters or ()}


def answerable(question: str, facts: FactsPack) -> bool:
    """Whether the question names dated periods and the facts hold every month and quarter it names."""
    wanted = requested_periods(question, facts.as_of)
    if not wanted:
        return False
    return set(wanted.months) <= set(_by_month(facts)) and set(wanted.quarters) <= set(_by_quarter(facts))


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def _month_line(say: Phrasing, row: KpiMonthFacts) -> str:
    return (
        f"- {say.month(row.month)}: invoiced {say.money(row.invoiced)}, collected {say.money(row.collected)}, "
        f"CEI {_percent(row.cei)}, average days to pay {say.days(row.avg_days_to_pay)}; as of {say.day(row.as_of)} "
        f"outstanding {say.money(row.outstanding)}, of which overdue {say.money(row.overdue)}; DSO (countback) "
        f"{say.days(row.dso_countback)}."
    )


def _day_line(say: Phrasing, day: str, row: KpiMonthFacts | None, facts: FactsPack) -> str:
    if row is not None:
        return (
            f"As of {say.day(day)}: outstanding {say.money(row.outstanding)}, of which overdue "
            f"{say.money(row.overdue)} ({say.share(row.overdue_share)} of the outstanding); DSO (countback) "
            f"{say.days(row.dso_countback)}."
        )
    trend = facts.kpi_trend or ()
    held = f" and at each month end from {say.day(trend[0].as_of)} to {say.day(trend[-1].as_of)}" if trend else ""
    return (
        f"Balances as of {say.day(day)} are not available offline: the ledger's figures are as of "
        f"{say.day(facts.as_of)}{held}. The figures below are as of {say.day(facts.as_of)}."
    )


def _quarter_lines(say: Phrasing, row: KpiQuarterFacts, months: Sequence[KpiMonthFacts]) -> list[str]:
    year, number = row.quarter.split("-Q")
    so_far = row.end != f"{pd.Period(row.quarter.replace('-', ''), freq='Q').end_time:%Y-%m-%d}"
    head = (
        f"Q{number} {year}{' so far' if so_far else ''} ({say.day(row.start)} to {say.day(row.end)}): invoiced "
        f"{say.money(row.invoiced)}, collected {say.money(row.collected)}."
    )
    inside = [m for m in months if row.start[:7] <= m.month <= row.end[:7]]
    return [head, *(f"- {say.month(m.month)}: invoiced {say.money(m.invoiced)}, collected "
                    f"{say.money(m.collected)}" for m in inside)]  # fmt: skip


def period_answer(facts: FactsPack, question: str) -> tuple[list[str], bool]:
    """The parts answering the dated periods of ``question``, and whether they answer it in full (False when a
    day named is not available, so the caller adds its usual answer, as of the balance date)."""
    say, wanted = phrasing_for(facts), requested_periods(question, facts.as_of)
    by_month, by_quarter = _by_month(facts), _by_quarter(facts)
    ends = {row.as_of: row for row in facts.kpi_trend or ()}
    parts = [_day_line(say, day, ends.get(day), facts) for day in wanted.days]
    months = [by_month[m] for m in wanted.months if m in by_month]
    if months:
        parts.append("\n".join(_month_line(say, row) for row in months))
    for quarter in (by_quarter[q] for q in wanted.quarters if q in by_quarter):
        parts.append("\n".join(_quarter_lines(say, quarter, list(by_month.values()))))
    return parts, all(day in ends for day in wanted.days)


def days_to_pay_answer(facts: FactsPack) -> str:
    """Average days from invoice date to payment date over the invoices paid, plain and weighted by amount."""
    say, activity = phrasing_for(facts), facts.activity
    if activity is None or activity.avg_days_to_pay is None:
        return "Average days to pay cannot be computed: no invoice of the ledger has been paid."
    return (
        f"From {say.day(activity.start)} to {say.day(activity.end)}, the {plural(activity.paid_count, 'invoice')} "
        f"paid took on average {say.days(activity.avg_days_to_pay)} from invoice date to payment date "
        f"({say.days(activity.weighted_days_to_pay)} weighted by amount); {say.share(activity.on_time_share)} "
        "were paid by their due date."
    )


def cei_answer(facts: FactsPack) -> str:
    """The collection effectiveness index over the whole ledger, then over each of the last few months."""
    say, activity = phrasing_for(facts), facts.activity
    if activity is None or activity.cei is None:
        head = "CEI (collection effectiveness index) cannot be computed: nothing was collectible."
    else:
        head = (
            f"CEI (collection effectiveness index) from {say.day(activity.start)} to {say.day(activity.end)}: "
            f"{_percent(activity.cei)} of what was collectible was collected."
        )
    recent = list(facts.kpi_trend or ())[-CEI_MONTHS_SHOWN:]
    lines = [f"- {say.month(row.month)}: {_percent(row.cei)}" for row in recent]
    return "\n\n".join([head, "By month:\n" + "\n".join(lines)]) if lines else head
