"""Offline answers: deterministic replies to the common questions, computed from the facts pack without a model.

Used when no model is configured and when the model fails. The reply is written with aliases, exactly like a
model's, so it goes through the same de-aliasing on its way to the user; it is labelled as computed without an
LLM. Intents are recognised by keywords, most specific first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

OFFLINE_LABEL = "_Computed from the ledger without a language model._"
INTENTS: list[tuple[str, str]] = [
    ("overdue", r"overdue|past due|\bowe|outstanding|unpaid|open invoice"),
    ("next_payment", r"expect|next|predict|forecast|when will|when do|\bdue\b|upcoming|pay(ment)? date"),
    ("slowest", r"slow|late payer|latest payer|longest|delay|takes? long"),
    ("top", r"\btop\b|largest|biggest|best|most (revenue|sales|invoiced)|ranking|rank|main customers"),
    ("trend", r"trend|grow|increas|decreas|declin|shrink"),
    ("aging", r"aging|ageing|bucket"),
    ("totals", r"total|how many|count|number of|how much|sum|revenue|collected|invoiced|summary|overview"),
]


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
        f"trend {customer.get('trend')}; expected next payment {_money(customer.get('predicted_next_amount'))} on "
        f"{customer.get('predicted_next_payment_date') or 'n/a'}."
    )


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
        f"paid on time {_share(p.get('paid_on_time_share'))}."
    )


def detect_intent(question: str) -> str:
    """The first intent whose keywords the (aliased) question contains, else ``totals``."""
    text = question.casefold()
    return next((name for name, pattern in INTENTS if re.search(pattern, text)), "totals")


def answer_offline(question: str, facts: dict[str, Any]) -> str:
    """A deterministic, labelled answer (with aliases) to ``question`` from ``facts``."""
    intent = detect_intent(question)
    customers = facts.get("mentioned_customers", [])
    managers = facts.get("mentioned_sales_managers", [])
    rankings = facts.get("rankings", {})
    parts: list[str] = []
    if customers:
        if intent == "next_payment":
            parts.append("\n".join(_next_payment(c, facts.get("as_of")) for c in customers))
        else:
            parts.append("\n".join(_customer_summary(c) for c in customers))
    if managers:
        parts.append("\n".join(_manager_summary(m) for m in managers))
    if not parts:
        if intent == "next_payment":
            parts.append("Name a customer to get the expected next payment amount and date.")
        elif intent == "slowest":
            parts.append(
                _ranking("Slowest payers (average delay)", rankings.get("slowest_payers_by_avg_delay_days", []),
                         "avg_payment_delay_days", _days)
            )  # fmt: skip
        elif intent == "overdue":
            parts.append(f"Overdue in total: {_money(facts['portfolio'].get('overdue'))}.")
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
