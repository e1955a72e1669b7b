"""Offline answers: deterministic replies to the common questions, computed from the facts pack without a model.

Used when no model is configured and when the model fails. The reply is written with aliases, exactly like a
model's, so it goes through the same de-aliasing on its way to the user; it is labelled as computed without an
LLM. Intents are recognised by keywords, most specific first ("aging of open invoices" is aging, not overdue).

Offline cannot read a specific month or period, a place, service or similar filter the facts do not break down, or
a follow-up that refers to an earlier turn; nor a question no intent recognises. Then the answer says so first, in
one sentence, and gives the closest deterministic answer instead of silently answering another question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from finlib.chat import balance_answers, forecast_answers, period_answers
from finlib.chat.facts import CustomerFacts, FactsPack, GroupFacts, MonthFacts, PortfolioFacts
from finlib.chat.numbers import MONTH_NUMBERS
from finlib.chat.phrasing import Phrasing, phrasing_for, plural
from finlib.privacy.aliasing import PREFIX_PATTERN

OFFLINE_LABEL = "_Computed from the ledger without a language model._"
# Most specific first: the first intent whose pattern matches wins.
INTENTS: list[tuple[str, str]] = [
    ("dso", r"\bdso\b|days? (of )?sales outstanding"),
    ("cei", r"\bcei\b|collection effectiveness"),
    ("days_to_pay", r"days? to (?:get )?pa(?:y|id)|\bdtp\b|how long .*\bto pay"),
    ("late_forecast", r"will be (paid )?late|predicted (to be )?late|going to be late|will (be )?pay late"),
    (
        "cash_in",
        r"cash (will )?come|cash.?in\b|what cash|how much cash|incoming cash|expected collections|collect next",
    ),
    ("aging", rf"aging|ageing|bucket|days past due|{balance_answers.PAST_THRESHOLD}"),
    (
        "breakdown",
        r"(?:which|what|each|per|by|every)\s+(?:sales ?)?(?:managers?|sales ?(?:persons?|people|reps?)|locations?"
        r"|regions?|city|cities|branch(?:es)?|countr(?:y|ies)|services?|service types?|products?|categor(?:y|ies))\b",
    ),
    (
        "largest_balances",
        r"owes? (?:us )?(?:the )?most|who owes|(?:largest|biggest|highest|top) (?:open |outstanding )?"
        r"(?:balances?|debtors?|receivables?)|most (?:money )?outstanding",
    ),
    ("average_invoice", r"(?:average|mean|typical|avg\.?) (?:invoice|bill)s?\b|invoice (?:size|value)s?\b"),
    (
        "overdue",
        r"overdue|past due|\bowe|outstanding|unpaid|open invoice|invoices? (?:are )?(?:still )?open|open items?",
    ),
    ("next_payment", r"expect|next|predict|forecast|when will|when do|\bdue\b|upcoming|pay(ment)? date"),
    ("slowest", r"slow|late payer|latest payer|how late|pay(?:s|ing)?\b.{0,25}\blate\b|longest|delay|takes? long"),
    ("top", r"\btop\b|largest|biggest|best|most (revenue|sales|invoiced)|ranking|rank|main customers"),
    ("trend", r"trend|grow|increas|decreas|declin|shrink"),
    ("monthly", r"monthly|by month|per month|each month|month by month"),
    ("totals", r"total|how many|count|number of|how much|sum|revenue|collected|invoiced|summary|overview"),
]
_MONTH_WORDS = "|".join(sorted((m for m in MONTH_NUMBERS if m != "may"), key=len, reverse=True))
PERIOD = re.compile(
    rf"\b(?:{_MONTH_WORDS})\b|\bmay\s+(?:19|20)\d\d\b|\b(?:19|20)\d\d(?:-\d\d)?\b|\bq[1-4]\b|quarter|\bweek"
    r"|\b(?:last|this|previous|past|current|next) (?:month|year)\b|\byesterday\b|\btoday\b|year to date|\bytd\b",
    re.IGNORECASE,
)
FILTER_WORDS = re.compile(
    r"\b(?:locations?|regions?|city|cities|country|countries|branch(?:es)?|sites?|areas?|services?|products?"
    r"|categor(?:y|ies)|service types?|sales ?(?:managers?|persons?|people|reps?)|managers?|teams?)\b",
    re.IGNORECASE,
)
# "customers in Dubai", "based in Lyon": a capitalised word after a place preposition (aliases and months aside).
PLACE = re.compile(rf"\b(?:in|from|at|based in|located in|near)\s+(?!{PREFIX_PATTERN})([A-Z][\w'-]+)")
FOLLOW_UP_START = re.compile(r"^\W*(?:and|also|what about|how about|same|then|so|but)\b", re.IGNORECASE)
PRONOUN = re.compile(r"\b(?:they|them|their|those|these|he|she|his|her|its)\b", re.IGNORECASE)
ANTECEDENT = re.compile(r"customer|client|payer|compan|account|manager|invoice", re.IGNORECASE)
# Intents about the future or one customer: a date in their question is not a period of the KPI trend.
UNDATED_INTENTS = ("cash_in", "late_forecast", "next_payment")
CAVEAT = "Offline, without a language model, I can't answer {what}; here is the closest answer from the ledger:"


def _change(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.1f}%"


def _next_payment(say: Phrasing, customer: CustomerFacts, as_of: str | None = None) -> str:
    alias = customer.alias
    if customer.note is not None:
        return f"- {alias}: {customer.note}."
    amount, date = customer.predicted_next_amount, customer.predicted_next_payment_date
    if date is None:
        return (
            f"- {alias}: expected next amount {say.money(amount)}; no payment date can be predicted "
            "(no paid invoice yet)."
        )
    line = (
        f"- {alias}: expected next payment of {say.money(amount)} on {say.day(date)} "
        f"(mean of the last invoices; last payment {say.day(customer.last_payment_date)} plus the average delay of "
        f"{say.days(customer.avg_payment_delay_days)})."
    )
    if as_of is not None and date < as_of:
        # ISO dates compare as text; a prediction already behind the ledger's date is worth chasing, not waiting for.
        if customer.outstanding_amount:
            line += (
                f" That date is already past as of {say.day(as_of)}: {say.money(customer.outstanding_amount)} is "
                f"open, {say.money(customer.overdue_amount)} of it overdue."
            )
        else:
            line += (
                f" That date is already past as of {say.day(as_of)} and nothing is open: no newer invoice is in "
                "the ledger."
            )
    return line


def _customer_summary(say: Phrasing, customer: CustomerFacts, as_of: str | None = None) -> str:
    if customer.note is not None:
        return f"- {customer.alias}: {customer.note}."
    return (
        f"- {customer.alias}: {plural(customer.invoice_count, 'invoice')} totalling "
        f"{say.money(customer.total_amount)}; average delay {say.days(customer.avg_payment_delay_days)}; "
        f"outstanding {say.money(customer.outstanding_amount)}, overdue {say.money(customer.overdue_amount)}; "
        f"trend {customer.trend}; {_next_phrase(say, customer, as_of)}."
    )


def _next_phrase(say: Phrasing, customer: CustomerFacts, as_of: str | None = None) -> str:
    amount, date = say.money(customer.predicted_next_amount), customer.predicted_next_payment_date
    if date is None:
        return f"expected next amount {amount}, but no payment date can be predicted (no paid invoice yet)"
    past = f", a date already past as of {say.day(as_of)}" if as_of is not None and date < as_of else ""
    return f"expected next payment {amount} on {say.day(date)}{past}"


def _manager_summary(say: Phrasing, manager: GroupFacts) -> str:
    if manager.note is not None:
        return f"- {manager.alias}: {manager.note}."
    lines = [
        f"- {manager.alias} manages {plural(manager.customer_count, 'customer')} and "
        f"{plural(manager.invoice_count, 'invoice')}: invoiced {say.money(manager.total_invoiced)}, collected "
        f"{say.money(manager.total_collected)}, outstanding {say.money(manager.outstanding)}, overdue "
        f"{say.money(manager.overdue)}, average delay {say.days(manager.avg_payment_delay_days)}."
    ]
    for row in manager.largest_customers or ():
        lines.append(f"  - {row.alias}: {say.money(row.total_amount)} invoiced")
    return "\n".join(lines)


def _ranking(
    title: str, rows: Sequence[CustomerFacts], value: Callable[[CustomerFacts], float | None],
    show: Callable[[float | None], str],
) -> str:  # fmt: skip
    if not rows:
        return f"{title}: none."
    items = "\n".join(f"{i}. {row.alias}: {show(value(row))}" for i, row in enumerate(rows, start=1))
    return f"{title}:\n{items}"


def _totals(facts: FactsPack) -> str:
    p, say = facts.portfolio, phrasing_for(facts)
    return (
        f"As of {say.day(facts.as_of)}: {plural(p.invoice_count, 'invoice')} from "
        f"{plural(p.customer_count, 'customer')}; invoiced {say.money(p.total_invoiced)}, collected "
        f"{say.money(p.total_collected)}, outstanding {say.money(p.outstanding)}, of which overdue "
        f"{say.money(p.overdue)} ({plural(p.overdue_count, 'invoice')}). Average payment delay "
        f"{say.days(p.avg_payment_delay_days)}; paid on time {say.share(p.paid_on_time_share)}; "
        f"{_dso_phrase(say, p)}."
    )


def _dso_phrase(say: Phrasing, portfolio: PortfolioFacts) -> str:
    if portfolio.dso is None:
        return "DSO (days sales outstanding) cannot be computed: nothing was invoiced in the recent window"
    return f"DSO (days sales outstanding, countback) {say.days(portfolio.dso)}"


def _monthly(facts: FactsPack, rows: Sequence[MonthFacts]) -> str:
    say = phrasing_for(facts)
    if not rows:
        return "Invoiced by month: none."
    return "Invoiced by month:\n" + "\n".join(
        f"- {say.month(r.month)}: invoiced {say.money(r.invoiced)} ({plural(r.invoice_count, 'invoice')}), "
        f"collected {say.money(r.collected)}"
        for r in rows
    )


def _slowest(facts: FactsPack) -> str:
    say = phrasing_for(facts)
    delay = say.days(facts.portfolio.avg_payment_delay_days)
    rows = facts.rankings.slowest_payers_by_avg_delay_days
    ranking = _ranking("Slowest payers (average delay)", rows, lambda r: r.avg_payment_delay_days, say.days)
    return f"Average payment delay over all paid invoices: {delay}.\n\n{ranking}"


def _outstanding_line(facts: FactsPack) -> str:
    p, say = facts.portfolio, phrasing_for(facts)
    held = f" in {plural(facts.balances.open_invoices, 'open invoice')}" if facts.balances is not None else ""
    return (
        f"Outstanding in total as of {say.day(facts.as_of)}: {say.money(p.outstanding)}{held}, of which overdue "
        f"{say.money(p.overdue)} ({plural(p.overdue_count, 'invoice')})."
    )


def _overdue(facts: FactsPack) -> str:
    say = phrasing_for(facts)
    ranking = _ranking("Most overdue", facts.rankings.most_overdue, lambda r: r.overdue_amount, say.money)
    return f"{_outstanding_line(facts)}\n\n{ranking}"


def _largest_balances(facts: FactsPack) -> str:
    say = phrasing_for(facts)
    rows = facts.rankings.largest_outstanding
    ranking = _ranking("Largest balances (outstanding)", rows, lambda r: r.outstanding_amount, say.money)
    return f"{_outstanding_line(facts)}\n\n{ranking}"


def _average_invoice(facts: FactsPack) -> str:
    p, say = facts.portfolio, phrasing_for(facts)
    if not p.invoice_count or p.average_invoice is None:
        return "The ledger has no invoices to average."
    return (
        f"Average invoice as of {say.day(facts.as_of)}: {say.money(p.average_invoice)} "
        f"({say.money(p.total_invoiced)} invoiced over {plural(p.invoice_count, 'invoice')})."
    )


def _top(facts: FactsPack) -> str:
    rows = facts.rankings.largest_customers_by_total_invoiced
    return _ranking("Largest customers (total invoiced)", rows, lambda r: r.total_amount, phrasing_for(facts).money)


def _trend(facts: FactsPack) -> str:
    trends = facts.trends
    counts = trends.customers_by_trend if trends else {}
    growing = trends.fastest_growing if trends else ()
    title = "Fastest growing (recent invoices against their average)"
    return (
        ", ".join(f"{n} {t}" for t, n in counts.items())
        + " (customers by trend).\n\n"
        + _ranking(title, growing, lambda r: r.change_share, _change)
    )


# What each intent answers when the question names no customer or person.
PORTFOLIO_ANSWERS: dict[str, Callable[[FactsPack, str], str]] = {
    "dso": balance_answers.dso_answer,
    "cei": lambda facts, _: period_answers.cei_answer(facts),
    "days_to_pay": lambda facts, _: period_answers.days_to_pay_answer(facts),
    "cash_in": lambda facts, _: forecast_answers.cash_in_answer(facts),
    "late_forecast": lambda facts, _: forecast_answers.late_answer(facts),
    "monthly": lambda facts, _: _monthly(facts, facts.monthly or ()),
    "next_payment": lambda facts, _: "Name a customer to get the expected next payment amount and date.",
    "slowest": lambda facts, _: _slowest(facts),
    "overdue": lambda facts, _: _overdue(facts),
    "largest_balances": lambda facts, _: _largest_balances(facts),
    "average_invoice": lambda facts, _: _average_invoice(facts),
    "top": lambda facts, _: _top(facts),
    "trend": lambda facts, _: _trend(facts),
    "aging": balance_answers.aging_answer,
    "breakdown": balance_answers.breakdown_answer,
    "totals": lambda facts, _: _totals(facts),
}


def match_intent(question: str) -> str | None:
    """The first (most specific) intent whose keywords the (aliased) question contains, else None."""
    text = question.casefold()
    return next((name for name, pattern in INTENTS if re.search(pattern, text)), None)


def detect_intent(question: str) -> str:
    """The first intent whose keywords the (aliased) question contains, else ``totals``."""
    return match_intent(question) or "totals"


def _requested_months(question: str) -> list[str]:
    """``YYYY-MM`` months the question names with a year ("September 2026", "sep 2026", "2026-09")."""
    found = [f"{y}-{m}" for y, m in re.findall(r"\b((?:19|20)\d\d)-(0[1-9]|1[0-2])\b", question)]
    for word, year in re.findall(rf"\b({_MONTH_WORDS}|may)\.?\s+((?:19|20)\d\d)\b", question, re.IGNORECASE):
        found.append(f"{year}-{MONTH_NUMBERS[word.casefold()]:02d}")
    return list(dict.fromkeys(found))


def _breakdown_rows(facts: FactsPack, question: str) -> list[str]:
    """Rows of a location or service breakdown in the facts whose label the question names."""
    text, say = question.casefold(), phrasing_for(facts)
    lines = []
    for column in ("location", "service_type"):
        for row in facts.breakdown(column):
            label = row.name or ""
            if label and re.search(rf"(?<!\w){re.escape(label.casefold())}(?!\w)", text):
                lines.append(
                    f"- {label}: {plural(row.invoice_count, 'invoice')} from {plural(row.customer_count, 'customer')}; "
                    f"invoiced {say.money(row.total_invoiced)}, collected {say.money(row.total_collected)}, "
                    f"outstanding {say.money(row.outstanding)}, overdue {say.money(row.overdue)}."
                )
    return lines


def limitations(question: str, facts: FactsPack) -> list[str]:
    """What the question asks that an offline answer cannot compute from ``facts`` (empty when it can)."""
    mentioned = bool(facts.mentioned_customers or facts.mentioned_sales_managers)
    found: list[str] = []
    months = _requested_months(question)
    monthly = {r.month for r in facts.monthly or ()}
    intent = match_intent(question)
    trend = intent in ("dso", "cei") and bool(facts.kpi_trend)
    dated = intent not in UNDATED_INTENTS and not mentioned and period_answers.answerable(question, facts)
    if (
        PERIOD.search(question)
        and not (months and set(months) <= monthly)
        and intent != "cash_in"
        and not (trend or dated)
    ):
        found.append("questions about a specific month or period")
    places = [p for p in PLACE.findall(question) if not re.fullmatch(rf"{_MONTH_WORDS}|may|q[1-4]", p, re.IGNORECASE)]
    broken_down = intent == "breakdown" and bool(_breakdown_groups(facts, question))
    if (places or (FILTER_WORDS.search(question) and not mentioned)) and not (
        _breakdown_rows(facts, question) or broken_down
    ):
        found.append("questions filtered by a place, service or sales manager")
    follow_up = FOLLOW_UP_START.search(question) or (PRONOUN.search(question) and not ANTECEDENT.search(question))
    if follow_up and not mentioned and not facts.not_customers:  # "What about Foobar?" names who it asks about
        found.append("follow-up questions that refer to an earlier turn")
    if intent is None and not mentioned and not found and not facts.not_customers and not dated:
        found.append("this question (I recognise totals, DSO and its trend, CEI, days to pay, a month, quarter or "
                     "month end, top, slowest and overdue customers, the largest balances, the average invoice, aging, "
                     "trend, the breakdown by sales manager, location or service, expected payments, cash to come in, "
                     "invoices predicted late)")  # fmt: skip
    return found


def _caveat(what: list[str]) -> str:
    joined = what[0] if len(what) == 1 else ", ".join(what[:-1]) + " or " + what[-1]
    return CAVEAT.format(what=joined)


def _breakdown_groups(facts: FactsPack, question: str) -> tuple[GroupFacts, ...]:
    """The breakdown rows the facts hold for the breakdown a question asks for."""
    column = balance_answers.breakdown_column(question)
    if column == "sales_manager":
        return facts.by_sales_manager or ()
    return facts.breakdown(column) if column else ()


def _named_answers(question: str, facts: FactsPack, intent: str) -> list[str]:
    """Answers about the customers and people the question names (empty when it names none)."""
    say = phrasing_for(facts)
    parts: list[str] = []
    if facts.mentioned_customers:
        if intent == "next_payment":
            predicted = [forecast_answers.customer_payment_answer(c, facts) for c in facts.mentioned_customers]
            parts.extend(p for p in predicted if p)
            original = "\n".join(_next_payment(say, c, facts.as_of) for c in facts.mentioned_customers)
            parts.append(("Original formula (per customer):\n" if any(predicted) else "") + original)
        else:
            parts.append("\n".join(_customer_summary(say, c, facts.as_of) for c in facts.mentioned_customers))
    if facts.mentioned_sales_managers:
        parts.append("\n".join(_manager_summary(say, m) for m in facts.mentioned_sales_managers))
    return parts


def _portfolio_answers(question: str, facts: FactsPack, intent: str) -> list[str]:
    """Answers for a question that names nobody: the months or places it asks for, else its intent's answer."""
    months = [r for r in facts.monthly or () if r.month in _requested_months(question)]
    breakdown = _breakdown_rows(facts, question)
    parts = ([_monthly(facts, months)] if months else []) + (["\n".join(breakdown)] if breakdown else [])
    if parts:
        return parts
    if intent not in UNDATED_INTENTS:
        dated, complete = period_answers.period_answer(facts, question)
        if dated:
            return dated if complete else [*dated, PORTFOLIO_ANSWERS[intent](facts, question)]
    return [PORTFOLIO_ANSWERS[intent](facts, question)]


def answer_offline(question: str, facts: FactsPack) -> str:
    """A deterministic, labelled answer (with aliases) to ``question`` from ``facts``."""
    intent = detect_intent(question)
    unanswerable = limitations(question, facts)
    parts = [_caveat(unanswerable)] if unanswerable else []
    unknown = balance_answers.not_customer_lines(facts)
    parts += ["\n".join(unknown)] if unknown else []
    if unknown and intent in ("next_payment", "totals") and not facts.mentioned_customers:
        return "\n\n".join([*parts, OFFLINE_LABEL])
    parts += _named_answers(question, facts, intent) or _portfolio_answers(question, facts, intent)
    return "\n\n".join([*parts, OFFLINE_LABEL])
