"""Offline answers from the forecast facts: when a customer will pay, what cash comes in, which invoices will be late.

Every number is quoted as the facts pack holds it (``chat.numbers`` checks answers against the facts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from finlib.chat.forecast_facts import InvoiceForecast, PaymentForecastFacts
from finlib.chat.phrasing import Phrasing, phrasing_for, plural, readable_day

if TYPE_CHECKING:
    from finlib.chat.facts import CustomerFacts, FactsPack

NEAR_WEEKS_SHOWN = 4


def _error(method: PaymentForecastFacts | None) -> str:
    days = method.typical_error_days if method else None
    return f"typical error ± {days} days" if days is not None else "typical error not yet measured"


def _invoice_line(say: Phrasing, invoice: InvoiceForecast, alias: str | None = None) -> str:
    who = f"{alias} " if alias else ""
    number = invoice.invoice_number or "(no number)"
    after = invoice.predicted_days_after_due
    lateness = "" if after is None else f", {after} days after due" if after > 0 else ", by its due date"
    return (
        f"- {who}invoice {number}: {say.money(invoice.amount)}, due {say.day(invoice.due_date)}, predicted "
        f"{say.day(invoice.predicted_payment_date)} (10–90%: {say.day(invoice.earliest_date_10pct)} to "
        f"{say.day(invoice.latest_date_90pct)}){lateness}"
    )


def customer_payment_answer(customer: CustomerFacts, facts: FactsPack) -> str | None:
    """When a mentioned customer's open invoices will be paid; None when the facts hold no forecast for it."""
    forecast, method = customer.payment_forecast, facts.payment_forecast
    if forecast is None:
        return None
    alias, say = customer.alias, phrasing_for(facts)
    if not forecast.open_invoice_count:
        as_of = method.as_of if method else None
        return f"- {alias}: no open invoice as of {readable_day(as_of)}, so no payment is expected until a new invoice."
    lines = [
        f"- {alias}: {plural(forecast.open_invoice_count, 'open invoice')}, "
        f"{say.money(forecast.open_amount)} in total, "
        f"predicted to be paid between {say.day(forecast.expected_payment_dates_from)} and "
        f"{say.day(forecast.expected_payment_dates_to)} ({_error(method)}; "
        f"method: {method.method if method else None})."
    ]
    shown = forecast.largest_open_invoices
    if shown:  # on the same line: an indented line would run into the item's text in Markdown
        lines[0] += f" {_shown_title(len(shown), forecast.open_invoice_count)}"
    lines += ["  " + _invoice_line(say, invoice) for invoice in shown]
    return "\n".join(lines)


def _shown_title(shown: int, total: int) -> str:
    """Says how many of the open invoices follow, so a short list is never a silent cut."""
    if shown >= total:
        return "The open invoice:" if total == 1 else f"All {total} open invoices:"
    return f"The {shown} largest of the {total} open invoices:"


def cash_in_answer(facts: FactsPack) -> str:
    """Expected collections over the next weeks, with the band and the typical weekly error."""
    cash, method, say = facts.cash_in_forecast, facts.payment_forecast, phrasing_for(facts)
    if cash is None:
        return "No cash-in forecast: the ledger has no payment history to learn from."
    share = cash.typical_weekly_error_share
    error = f"; typical weekly error {share * 100:.1f}%" if share is not None else ""
    lines = [
        f"Expected cash in from the invoices open on {readable_day(method.as_of if method else None)}: "
        f"{say.money(cash.next_4_weeks_expected)} over the next 4 weeks (about a month), "
        f"{say.money(cash.next_13_weeks_expected)} over 13 weeks{error}.",
        *(
            f"- week of {say.day(w.week_start)}: {say.money(w.expected)} (10–90%: {say.money(w.low)} to "
            f"{say.money(w.high)})"
            for w in cash.weeks[:NEAR_WEEKS_SHOWN]
        ),
    ]
    return "\n".join(lines)


def late_answer(facts: FactsPack) -> str:
    """The open invoices predicted to be paid later than their due date plus the alert threshold."""
    late, say = facts.predicted_late_invoices, phrasing_for(facts)
    if late is None:
        return "No payment forecast: the ledger has no payment history to learn from."
    if not late.count:
        return f"No open invoice is predicted to be paid more than {late.late_after_days} days after its due date."
    lines = [
        f"{late.count} open invoices ({say.money(late.amount)}) are predicted to be paid more than "
        f"{late.late_after_days} days after their due date ({_error(facts.payment_forecast)}). Largest:",
        *(_invoice_line(say, invoice, invoice.alias) for invoice in late.largest),
    ]
    return "\n".join(lines)
