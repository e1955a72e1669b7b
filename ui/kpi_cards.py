"""The KPI cards of the Overview: which figure, how it reads, what it compares with, and its formula as help."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from finlib.currency import Currency
from finlib.currency import format_amount as format_money
from ui.format import format_compact, format_number, format_share

AMOUNT, DAYS, SHARE, INDEX = "amount", "days", "share", "index"


@dataclass(frozen=True)
class Card:
    """One metric card: a field of ``Balances`` or ``Activity`` and how to show it."""

    label: str
    field: str
    unit: str
    lower_is_better: bool
    formula: str


BALANCE_CARDS = (
    Card("Outstanding", "outstanding", AMOUNT, True,
         "Invoices issued by the balance date and not paid by then (open credit notes reduce it)."),
    Card("Overdue", "overdue", AMOUNT, True,
         "Open invoices whose due date is before the balance date (not-yet-due invoices are not overdue)."),
    Card("Overdue share", "overdue_share", SHARE, True, "Overdue ÷ outstanding."),
    Card("DSO, days", "dso_countback", DAYS, True,
         "Countback: walk back month by month from the balance date, taking each month's invoiced amount out of "
         "the outstanding balance and counting its days, until the balance is used up (the last month counts "
         "the fraction of its days that the rest is of its invoicing)."),
    Card("Best possible DSO", "best_possible_dso", DAYS, True,
         "The same countback with the current (not yet due) balance only: DSO if nothing were late."),
    Card("ADD, days", "add", DAYS, True, "Average days delinquent = DSO − best possible DSO."),
)  # fmt: skip

ACTIVITY_CARDS = (
    Card("Invoiced", "invoiced", AMOUNT, False,
         "Invoices dated in the period, including tax; credit notes negative."),
    Card("Collected", "collected", AMOUNT, False,
         "Cash received in the period: invoices whose payment date is in it, whenever they were issued. A "
         "settled credit note is not cash."),
    Card("CEI", "cei", INDEX, False,
         "Collection effectiveness index = (opening receivables + invoiced − closing receivables) ÷ (opening "
         "receivables + invoiced − closing current receivables) × 100. Opening: open balance the day before the "
         "period; closing: on its last day; current: not yet due."),
    Card("Avg days to pay", "avg_days_to_pay", DAYS, True,
         "Mean of payment date − invoice date over invoices paid in the period."),
    # "Weighted days to pay" is cut off on a card; the help keeps the full name.
    Card("Wtd days to pay", "weighted_days_to_pay", DAYS, True,
         "Weighted days to pay: days to pay of invoices paid in the period, weighted by amount."),
    Card("Paid on time", "on_time_share", SHARE, False,
         "Share of invoices paid in the period (with a due date) that were paid on or before it."),
)  # fmt: skip

# Monthly trend choices: column of kpis.monthly_kpis -> (label, is a share)
TREND_CHOICES = {
    "dso_countback": ("DSO (countback), days", False),
    "best_possible_dso": ("Best possible DSO, days", False),
    "add": ("ADD (DSO − best possible), days", False),
    "cei": ("CEI, %", False),
    "outstanding": ("Outstanding", False),
    "overdue": ("Overdue", False),
    "overdue_share": ("Overdue share, %", True),
    "avg_days_past_due": ("Average days past due of overdue invoices", False),
    "avg_days_to_pay": ("Average days to pay", False),
    "weighted_days_to_pay": ("Weighted average days to pay", False),
    "on_time_share": ("Paid on time, %", True),
}


def format_value(card: Card, value: float | None) -> str:
    """A card's value as it reads: ``1.29M``, ``78.5``, ``38.3%``.

    Amounts go without their currency, which the section's heading names (``amounts_heading``): six cards share
    a row, and "AED 1.29M" was cut to "AED …" on a 1,400-pixel screen. The card's help gives the exact amount.
    """
    if card.unit == AMOUNT:
        return format_compact(value)
    if card.unit == SHARE:
        return format_share(value)
    return format_number(value)


def format_change(card: Card, current: float | None, previous: float | None) -> str | None:
    """The change against the comparison, in the card's unit; None when either side is missing."""
    if current is None or previous is None:
        return None
    change = current - previous
    if card.unit == AMOUNT:
        text = ("+" if change >= 0 else "-") + format_compact(abs(change))
        return text + (f" ({change / abs(previous) * 100:+.1f}%)" if previous else "")
    if card.unit == SHARE:
        return f"{change * 100:+.1f} pts"
    return f"{change:+.1f}" + (" days" if card.unit == DAYS else "")


def amounts_heading(heading: str, currency: Currency | None) -> str:
    """A card section's heading naming its amounts' currency: ``Balances as of 31 Oct 2026, in AED``."""
    return f"{heading}, in {currency.code}" if currency is not None else heading


def render_cards(
    cards: Sequence[Card], current: object, previous: object | None, *, key: str, currency: Currency | None = None
) -> None:
    """A row of metric cards with deltas against ``previous`` (no delta when there is nothing to compare)."""
    for column, card in zip(st.columns(len(cards)), cards, strict=True):
        value = getattr(current, card.field)
        before = getattr(previous, card.field) if previous is not None else None
        exact = f" Exactly {format_money(value, currency)}." if card.unit == AMOUNT and value is not None else ""
        column.metric(
            card.label,
            format_value(card, value),
            format_change(card, value, before),
            delta_color="inverse" if card.lower_is_better else "normal",
            help=card.formula + exact,
            border=True,
        )
