"""Offline answers from the balance facts: DSO and its trend, aging with the overdue total, the breakdowns.

Balances are as of the facts' balance date (``analytics.balances``): an invoice is overdue once its due date is
before that date, so the *current* bucket (open, not yet due) is never part of the overdue total.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from finlib.chat.kpi_facts import KpiMonthFacts
from finlib.chat.phrasing import Phrasing, phrasing_for, plural

if TYPE_CHECKING:
    from finlib.chat.facts import AgingFacts, FactsPack, GroupFacts

DEFAULT_TREND_MONTHS = 3
BUCKET_TITLES = {
    "current": "current (not yet due, not overdue)", "1-30": "1-30 days past due", "31-60": "31-60 days past due",
    "61-90": "61-90 days past due", "over_90": "over 90 days past due",
}  # fmt: skip
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "twelve": 12}
_LAST_MONTHS = re.compile(r"\b(?:last|past|previous)\s+(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")\s+months?\b", re.I)
BREAKDOWN_WORDS = {
    "sales_manager": re.compile(r"manager|sales ?(?:person|people|rep)|account owner", re.I),
    "location": re.compile(r"location|region|city|cities|branch|site|country|countries|area", re.I),
    "service_type": re.compile(r"service|product|categor", re.I),
}
BREAKDOWN_TITLES = {"sales_manager": "sales manager", "location": "location", "service_type": "service type"}
# "overdue by more than 60 days", "outstanding over 90 days": a question about the aging buckets past a threshold
# (a balance word is required: "customers who pay over 30 days late" asks about payers).
_DAYS_PAST = r"(?:(?:more than|over|older than|above|beyond|>)\s*(30|60|90)\s*days|\b(30|60|90)\s*\+\s*days)"
PAST_THRESHOLD = rf"^(?=.*(?:overdue|past due|outstanding|unpaid|open|owed|\bold\b|aged))(?=.*{_DAYS_PAST})"
_THRESHOLD_DAYS = re.compile(_DAYS_PAST, re.I)
# The aging buckets wholly past each threshold a question may name.
BUCKETS_PAST = {30: ("31-60", "61-90", "over_90"), 60: ("61-90", "over_90"), 90: ("over_90",)}


def trend_months(question: str) -> int:
    """How many months back a question looks ("over the last 3 months"); ``DEFAULT_TREND_MONTHS`` otherwise."""
    found = _LAST_MONTHS.search(question)
    if found is None:
        return DEFAULT_TREND_MONTHS
    word = found.group(1).casefold()
    return NUMBER_WORDS.get(word) or int(word)


def _dso_line(say: Phrasing, dso: float | None, best: float | None, add: float | None) -> str:
    if dso is None:
        return "DSO (countback) cannot be computed: nothing is open or nothing was invoiced"
    return (
        f"DSO (countback) {say.days(dso)}, best-possible DSO {say.days(best)}, "
        f"ADD (average days delinquent) {say.days(add)}"
    )


def _trend_lines(say: Phrasing, rows: Sequence[KpiMonthFacts], months: int) -> list[str]:
    shown = list(rows)[-(months + 1) :]
    if len(shown) < 2:
        return []
    first, last = shown[0], shown[-1]
    lines = [f"- {say.day(r.as_of)}: DSO {say.days(r.dso_countback)}, outstanding {say.money(r.outstanding)}"
             for r in shown]  # fmt: skip
    if first.dso_countback is not None and last.dso_countback is not None:
        change = last.dso_countback - first.dso_countback
        way = "up" if change > 0 else "down" if change < 0 else "unchanged"
        amount = "" if way == "unchanged" else f" {abs(change):,.1f} days"
        lines.insert(
            0,
            f"DSO moved from {say.days(first.dso_countback)} on {say.day(first.as_of)} to "
            f"{say.days(last.dso_countback)} on {say.day(last.as_of)} ({way}{amount}), month end by month end:",
        )
    return lines


def dso_answer(facts: FactsPack, question: str = "") -> str:
    """DSO by countback as of the balance date, best-possible DSO and ADD, and the trend the question asks for."""
    say = phrasing_for(facts)
    b = facts.balances
    if b is None:
        p = facts.portfolio
        return f"As of {say.day(facts.as_of)}: DSO (countback) {say.days(p.dso)}."
    head = (
        f"As of {say.day(b.as_of)}: {_dso_line(say, b.dso_countback, b.best_possible_dso, b.add)}; "
        f"outstanding {say.money(b.outstanding)}, of which {say.money(b.current)} not yet due."
    )
    trend = _trend_lines(say, facts.kpi_trend or (), trend_months(question))
    return "\n".join([head, "", *trend]) if trend else head


def _past_threshold_line(say: Phrasing, rows: Sequence[AgingFacts], as_of: str | None, question: str) -> list[str]:
    """'More than 60 days past due: ...' for the threshold a question names (nothing when it names none)."""
    found = _THRESHOLD_DAYS.search(question)
    if found is None:
        return []
    days = int(found.group(1) or found.group(2))
    past = [r for r in rows if r.bucket in BUCKETS_PAST[days]]
    amount, count = sum(r.amount for r in past), sum(r.invoice_count for r in past)
    return [
        f"More than {days} days past due as of {say.day(as_of)}: {say.money(amount)} in {plural(count, 'invoice')}.",
        "",
    ]


def aging_answer(facts: FactsPack, question: str = "") -> str:
    """Open invoices per aging bucket, then the overdue total (every bucket but current) and the outstanding;
    first the total past the threshold the question names ("overdue more than 60 days")."""
    say = phrasing_for(facts)
    rows = facts.aging_of_open_invoices
    as_of = facts.balances.as_of if facts.balances else facts.as_of
    lines = _past_threshold_line(say, rows, as_of, question)
    lines.append(f"Open invoices as of {say.day(as_of)} by days past due:")
    lines += [
        f"- {BUCKET_TITLES.get(r.bucket, r.bucket)}: {plural(r.invoice_count, 'invoice')}, {say.money(r.amount)}"
        for r in rows
    ]
    if facts.balances is not None:
        b = facts.balances
        lines.append("")  # a blank line ends the list: in Markdown the next line would join the last item
        lines.append(
            f"Overdue in total (1 day or more past due): {say.money(b.overdue)} in "
            f"{plural(b.overdue_invoices, 'invoice')}, of {say.money(b.outstanding)} outstanding; "
            f"{say.money(b.current)} is not yet due."
        )
    return "\n".join(lines)


def breakdown_column(question: str) -> str | None:
    """The breakdown a question asks for (``sales_manager``, ``location``, ``service_type``), else None."""
    return next((column for column, words in BREAKDOWN_WORDS.items() if words.search(question)), None)


def _group_rows(facts: FactsPack, column: str) -> tuple[GroupFacts, ...]:
    if column == "sales_manager":
        return facts.by_sales_manager or ()
    return facts.breakdown(column)


def breakdown_answer(facts: FactsPack, question: str) -> str:
    """Balances per sales manager, location or service type, most overdue first, naming the most overdue."""
    say = phrasing_for(facts)
    column = breakdown_column(question) or "sales_manager"
    title = BREAKDOWN_TITLES[column]
    rows = sorted(_group_rows(facts, column), key=lambda r: -(r.overdue or 0.0))
    if not rows:
        return f"The ledger has no {title} to break down by."
    top = rows[0]
    lines = []
    if top.overdue:
        lines.append(
            f"The {title} with the most overdue is {top.alias or top.name}: {say.money(top.overdue)} overdue of "
            f"{say.money(top.outstanding)} outstanding (as of {say.day(facts.as_of)})."
        )
        lines.append("")  # its own paragraph: in Markdown the next line would run into this one
    lines.append(f"By {title}, most overdue first:")
    lines += [
        f"- {r.alias or r.name}: overdue {say.money(r.overdue)}, outstanding {say.money(r.outstanding)}, "
        f"invoiced {say.money(r.total_invoiced)}, {plural(r.customer_count, 'customer')}"
        for r in rows
    ]
    return "\n".join(lines)


def not_customer_lines(facts: FactsPack) -> list[str]:
    """One sentence per name the question gives that is no customer or person of the project."""
    return [f"{name} is not a customer in this project." for name in facts.not_customers]
