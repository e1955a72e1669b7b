"""Offline answers from the forecast facts: when a customer will pay, what cash comes in, which invoices will be late.

Every number is quoted as the facts pack holds it (``chat.numbers`` checks answers against the facts).
"""

from __future__ import annotations

from typing import Any

NEAR_WEEKS_SHOWN = 4


def _money(value: Any) -> str:
    return "n/a" if value is None else f"{value:,.2f}"


def _error(forecast: dict[str, Any]) -> str:
    days = forecast.get("typical_error_days")
    return f"typical error ± {days} days" if days is not None else "typical error not yet measured"


def _invoice_line(invoice: dict[str, Any], alias: str | None = None) -> str:
    who = f"{alias} " if alias else ""
    number = invoice.get("invoice_number") or "(no number)"
    after = invoice.get("predicted_days_after_due")
    lateness = "" if after is None else f", {after} days after due" if after > 0 else ", by its due date"
    return (
        f"- {who}invoice {number}: {_money(invoice.get('amount'))}, due {invoice.get('due_date')}, predicted "
        f"{invoice.get('predicted_payment_date')} (10–90%: {invoice.get('earliest_date_10pct')} to "
        f"{invoice.get('latest_date_90pct')}){lateness}"
    )


def customer_payment_answer(customer: dict[str, Any], facts: dict[str, Any]) -> str | None:
    """When a mentioned customer's open invoices will be paid; None when the facts hold no forecast for it."""
    forecast = customer.get("payment_forecast")
    method = facts.get("payment_forecast") or {}
    if not forecast:
        return None
    alias = customer["alias"]
    if not forecast.get("open_invoice_count"):
        return f"- {alias}: no open invoice as of {method.get('as_of')}, so no payment is expected until a new invoice."
    lines = [
        f"- {alias}: {forecast['open_invoice_count']} open invoices, {_money(forecast.get('open_amount'))} in total, "
        f"predicted to be paid between {forecast.get('expected_payment_dates_from')} and "
        f"{forecast.get('expected_payment_dates_to')} ({_error(method)}; method: {method.get('method')})."
    ]
    lines += ["  " + _invoice_line(invoice) for invoice in forecast.get("largest_open_invoices", [])]
    return "\n".join(lines)


def cash_in_answer(facts: dict[str, Any]) -> str:
    """Expected collections over the next weeks, with the band and the typical weekly error."""
    cash = facts.get("cash_in_forecast")
    method = facts.get("payment_forecast") or {}
    if not cash:
        return "No cash-in forecast: the ledger has no payment history to learn from."
    share = cash.get("typical_weekly_error_share")
    error = f"; typical weekly error {share * 100:.1f}%" if share is not None else ""
    weeks = cash.get("weeks", [])[:NEAR_WEEKS_SHOWN]
    lines = [
        f"Expected cash in from the invoices open on {method.get('as_of')}: "
        f"{_money(cash.get('next_4_weeks_expected'))} over the next 4 weeks (about a month), "
        f"{_money(cash.get('next_13_weeks_expected'))} over 13 weeks{error}.",
        *(
            f"- week of {w.get('week_start')}: {_money(w.get('expected'))} "
            f"(10–90%: {_money(w.get('low'))} to {_money(w.get('high'))})"
            for w in weeks
        ),
    ]
    return "\n".join(lines)


def late_answer(facts: dict[str, Any]) -> str:
    """The open invoices predicted to be paid later than their due date plus the alert threshold."""
    late = facts.get("predicted_late_invoices")
    method = facts.get("payment_forecast") or {}
    if not late:
        return "No payment forecast: the ledger has no payment history to learn from."
    if not late.get("count"):
        return (
            f"No open invoice is predicted to be paid more than {late.get('late_after_days')} days after its due date."
        )
    lines = [
        f"{late['count']} open invoices ({_money(late.get('amount'))}) are predicted to be paid more than "
        f"{late.get('late_after_days')} days after their due date ({_error(method)}). Largest:",
        *(_invoice_line(invoice, invoice.get("alias")) for invoice in late.get("largest", [])),
    ]
    return "\n".join(lines)
