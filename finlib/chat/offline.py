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
from collections.abc import Callable
from typing import Any

from finlib.chat import forecast_answers

OFFLINE_LABEL = "_Computed from the ledger without a language model._"
# Most specific first: the first intent whose pattern matches wins.
INTENTS: list[tuple[str, str]] = [
    ("dso", r"\bdso\b|days? (of )?sales outstanding"),
    ("late_forecast", r"will be (paid )?late|predicted (to be )?late|going to be late|will (be )?pay late"),
    (
        "cash_in",
        r"cash (will )?come|cash.?in\b|what cash|how much cash|incoming cash|expected collections|collect next",
    ),
    ("aging", r"aging|ageing|bucket|days past due"),
    ("overdue", r"overdue|past due|\bowe|outstanding|unpaid|open invoice"),
    ("next_payment", r"expect|next|predict|forecast|when will|when do|\bdue\b|upcoming|pay(ment)? date"),
    ("slowest", r"slow|late payer|latest payer|how late|pays? late|longest|delay|takes? long"),
    ("top", r"\btop\b|largest|biggest|best|most (revenue|sales|invoiced)|ranking|rank|main customers"),
    ("trend", r"trend|grow|increas|decreas|declin|shrink"),
    ("monthly", r"monthly|by month|per month|each month|month by month"),
    ("totals", r"total|how many|count|number of|how much|sum|revenue|collected|invoiced|summary|overview"),
]
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december",
)  # fmt: skip
_MONTH_WORDS = (
    r"january|february|march|april|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec"
)
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
PLACE = re.compile(r"\b(?:in|from|at|based in|located in|near)\s+(?!(?:CUST|PERS)-)([A-Z][\w'-]+)")
FOLLOW_UP_START = re.compile(r"^\W*(?:and|also|what about|how about|same|then|so|but)\b", re.IGNORECASE)
PRONOUN = re.compile(r"\b(?:they|them|their|those|these|he|she|his|her|its)\b", re.IGNORECASE)
ANTECEDENT = re.compile(r"customer|client|payer|compan|account|manager|invoice", re.IGNORECASE)
CAVEAT = "Offline, without a language model, I can't answer {what}; here is the closest answer from the ledger:"


def _money(value: Any) -> str:
    return "n/a" if value is None else f"{value:,.2f}"


def _days(value: Any) -> str:
    return "n/a" if value is None else f"{value:,.1f} days"


def _share(value: Any) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _next_payment(customer: dict[str, Any], as_of: Any = None) -> str:
    alias = customer["alias"]
    if "note" in customer:
        return f"- {alias}: {customer['note']}."
    amount, date = customer.get("predicted_next_amount"), customer.get("predicted_next_payment_date")
    if date is None:
        return (
            f"- {alias}: expected next amount {_money(amount)}; no payment date can be predicted (no paid invoice yet)."
        )
    line = (
        f"- {alias}: expected next payment of {_money(amount)} on {date} "
        f"(mean of the last invoices; last payment {customer.get('last_payment_date')} plus the average delay of "
        f"{_days(customer.get('avg_payment_delay_days'))})."
    )
    if as_of is not None and str(date) < str(as_of):
        # ISO dates compare as text; a prediction already behind the ledger's date is worth chasing, not waiting for.
        if customer.get("outstanding_amount"):
            line += (
                f" That date is already past as of {as_of}: {_money(customer.get('outstanding_amount'))} is open, "
                f"{_money(customer.get('overdue_amount'))} of it overdue."
            )
        else:
            line += f" That date is already past as of {as_of} and nothing is open: no newer invoice is in the ledger."
    return line


def _customer_summary(customer: dict[str, Any]) -> str:
    if "note" in customer:
        return f"- {customer['alias']}: {customer['note']}."
    return (
        f"- {customer['alias']}: {customer.get('invoice_count')} invoices totalling "
        f"{_money(customer.get('total_amount'))}; average delay {_days(customer.get('avg_payment_delay_days'))}; "
        f"outstanding {_money(customer.get('outstanding_amount'))}, overdue {_money(customer.get('overdue_amount'))}; "
        f"trend {customer.get('trend')}; {_next_phrase(customer)}."
    )


def _next_phrase(customer: dict[str, Any]) -> str:
    amount, date = _money(customer.get("predicted_next_amount")), customer.get("predicted_next_payment_date")
    if date is None:
        return f"expected next amount {amount}, but no payment date can be predicted (no paid invoice yet)"
    return f"expected next payment {amount} on {date}"


def _manager_summary(manager: dict[str, Any]) -> str:
    if "note" in manager:
        return f"- {manager['alias']}: {manager['note']}."
    lines = [
        f"- {manager['alias']} manages {manager.get('customer_count')} customers and "
        f"{manager.get('invoice_count')} invoices: invoiced {_money(manager.get('total_invoiced'))}, collected "
        f"{_money(manager.get('total_collected'))}, outstanding {_money(manager.get('outstanding'))}, overdue "
        f"{_money(manager.get('overdue'))}, average delay {_days(manager.get('avg_payment_delay_days'))}."
    ]
    for row in manager.get("largest_customers", []):
        lines.append(f"  - {row['alias']}: {_money(row.get('total_amount'))} invoiced")
    return "\n".join(lines)


def _ranking(title: str, rows: list[dict[str, Any]], field: str, show: Callable[[Any], str]) -> str:
    if not rows:
        return f"{title}: none."
    items = "\n".join(f"{i}. {row['alias']}: {show(row.get(field))}" for i, row in enumerate(rows, start=1))
    return f"{title}:\n{items}"


def _totals(facts: dict[str, Any]) -> str:
    p = facts["portfolio"]
    return (
        f"As of {facts.get('as_of')}: {p.get('invoice_count')} invoices from {p.get('customer_count')} customers; "
        f"invoiced {_money(p.get('total_invoiced'))}, collected {_money(p.get('total_collected'))}, "
        f"outstanding {_money(p.get('outstanding'))}, of which overdue {_money(p.get('overdue'))} "
        f"({p.get('overdue_count')} invoices). Average payment delay {_days(p.get('avg_payment_delay_days'))}; "
        f"paid on time {_share(p.get('paid_on_time_share'))}; {_dso_phrase(p)}."
    )


def _dso_phrase(portfolio: dict[str, Any]) -> str:
    if portfolio.get("dso") is None:
        return "DSO (days sales outstanding) cannot be computed: nothing was invoiced in the recent window"
    return f"DSO (days sales outstanding) {_days(portfolio.get('dso'))}"


def _dso(facts: dict[str, Any]) -> str:
    p = facts["portfolio"]
    return (
        f"As of {facts.get('as_of')}: {_dso_phrase(p)}, from {_money(p.get('outstanding'))} outstanding against "
        f"the amount invoiced in the recent window. Average payment delay {_days(p.get('avg_payment_delay_days'))}."
    )


def _monthly(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "Invoiced by month: none."
    return "Invoiced by month:\n" + "\n".join(
        f"- {r.get('month')}: invoiced {_money(r.get('invoiced'))} ({r.get('invoice_count')} invoices), "
        f"collected {_money(r.get('collected'))}"
        for r in rows
    )


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
        number = next(i for i, m in enumerate(MONTHS, start=1) if m.startswith(word.casefold()[:3]))
        found.append(f"{year}-{number:02d}")
    return list(dict.fromkeys(found))


def _breakdown_rows(facts: dict[str, Any], question: str) -> list[str]:
    """Rows of a location or service breakdown in the facts whose label the question names."""
    text = question.casefold()
    lines = []
    for column in ("location", "service_type"):
        for row in facts.get(f"by_{column}") or []:
            label = str(row.get(column) or "")
            if label and re.search(rf"(?<!\w){re.escape(label.casefold())}(?!\w)", text):
                lines.append(
                    f"- {label}: {row.get('invoice_count')} invoices from {row.get('customer_count')} customers; "
                    f"invoiced {_money(row.get('total_invoiced'))}, collected {_money(row.get('total_collected'))}, "
                    f"outstanding {_money(row.get('outstanding'))}, overdue {_money(row.get('overdue'))}."
                )
    return lines


def limitations(question: str, facts: dict[str, Any]) -> list[str]:
    """What the question asks that an offline answer cannot compute from ``facts`` (empty when it can)."""
    mentioned = bool(facts.get("mentioned_customers") or facts.get("mentioned_sales_managers"))
    found: list[str] = []
    months = _requested_months(question)
    monthly = {r.get("month") for r in facts.get("monthly") or []}
    if PERIOD.search(question) and not (months and set(months) <= monthly) and match_intent(question) != "cash_in":
        found.append("questions about a specific month or period")
    places = [p for p in PLACE.findall(question) if not re.fullmatch(rf"{_MONTH_WORDS}|may", p, re.IGNORECASE)]
    if (places or (FILTER_WORDS.search(question) and not mentioned)) and not _breakdown_rows(facts, question):
        found.append("questions filtered by a place, service or sales manager")
    follow_up = FOLLOW_UP_START.search(question) or (PRONOUN.search(question) and not ANTECEDENT.search(question))
    if follow_up and not mentioned:
        found.append("follow-up questions that refer to an earlier turn")
    if match_intent(question) is None and not mentioned and not found:
        found.append("this question (I recognise totals, DSO, top, slowest and overdue customers, aging, trend, "
                     "expected payments, cash to come in and invoices predicted late)")  # fmt: skip
    return found


def _caveat(what: list[str]) -> str:
    joined = what[0] if len(what) == 1 else ", ".join(what[:-1]) + " or " + what[-1]
    return CAVEAT.format(what=joined)


def answer_offline(question: str, facts: dict[str, Any]) -> str:
    """A deterministic, labelled answer (with aliases) to ``question`` from ``facts``."""
    intent = detect_intent(question)
    customers = facts.get("mentioned_customers", [])
    managers = facts.get("mentioned_sales_managers", [])
    rankings = facts.get("rankings", {})
    parts: list[str] = []
    unanswerable = limitations(question, facts)
    if unanswerable:
        parts.append(_caveat(unanswerable))
    months = [r for r in facts.get("monthly") or [] if r.get("month") in _requested_months(question)]
    breakdown = _breakdown_rows(facts, question)
    if months and not customers and not managers:
        parts.append(_monthly(months))
        intent = "answered"
    if breakdown and not customers and not managers:
        parts.append("\n".join(breakdown))
        intent = "answered"
    if customers:
        if intent == "next_payment":
            predicted = [forecast_answers.customer_payment_answer(c, facts) for c in customers]
            parts.extend(p for p in predicted if p)
            original = "\n".join(_next_payment(c, facts.get("as_of")) for c in customers)
            parts.append(("Original formula (per customer):\n" if any(predicted) else "") + original)
        else:
            parts.append("\n".join(_customer_summary(c) for c in customers))
    if managers:
        parts.append("\n".join(_manager_summary(m) for m in managers))
    if intent != "answered" and not customers and not managers:
        if intent == "dso":
            parts.append(_dso(facts))
        elif intent == "cash_in":
            parts.append(forecast_answers.cash_in_answer(facts))
        elif intent == "late_forecast":
            parts.append(forecast_answers.late_answer(facts))
        elif intent == "monthly":
            parts.append(_monthly(facts.get("monthly") or []))
        elif intent == "next_payment":
            parts.append("Name a customer to get the expected next payment amount and date.")
        elif intent == "slowest":
            delay = _days(facts["portfolio"].get("avg_payment_delay_days"))
            parts.append(f"Average payment delay over all paid invoices: {delay}.")
            parts.append(
                _ranking("Slowest payers (average delay)", rankings.get("slowest_payers_by_avg_delay_days", []),
                         "avg_payment_delay_days", _days)
            )  # fmt: skip
        elif intent == "overdue":
            p = facts["portfolio"]
            parts.append(
                f"Outstanding in total: {_money(p.get('outstanding'))}, of which overdue {_money(p.get('overdue'))} "
                f"({p.get('overdue_count')} invoices)."
            )
            parts.append(_ranking("Most overdue", rankings.get("most_overdue", []), "overdue_amount", _money))
        elif intent == "top":
            rows = rankings.get("largest_customers_by_total_invoiced", [])
            parts.append(_ranking("Largest customers (total invoiced)", rows, "total_amount", _money))
        elif intent == "trend":
            trends = facts.get("trends", {})
            counts = trends.get("customers_by_trend", {})
            parts.append(", ".join(f"{n} {t}" for t, n in counts.items()) + " (customers by trend).")
            growing = trends.get("fastest_growing", [])
            parts.append(_ranking("Fastest growing (recent invoices against their average)", growing,
                                  "change_share", lambda v: "n/a" if v is None else f"{v * 100:+.1f}%"))  # fmt: skip
        elif intent == "aging":
            rows = facts.get("aging_of_open_invoices", [])
            parts.append(
                "Open invoices by days past due:\n"
                + "\n".join(f"- {r['bucket']}: {r['invoice_count']} invoices, {_money(r['amount'])}" for r in rows)
            )
        else:
            parts.append(_totals(facts))
    return "\n\n".join([*parts, OFFLINE_LABEL])
