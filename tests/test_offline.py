"""Offline answers: what the chat says without a model, computed from the facts pack alone."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from finlib.chat.facts import (
    AgingFacts,
    CustomerFacts,
    FactsPack,
    GroupFacts,
    MonthFacts,
    PortfolioFacts,
    Rankings,
)
from finlib.chat.forecast_facts import CustomerPaymentForecast, InvoiceForecast
from finlib.chat.numbers import unverified_numbers
from finlib.chat.offline import OFFLINE_LABEL, answer_offline, detect_intent


def facts_for(customer: dict[str, Any], as_of: str = "2026-10-31") -> FactsPack:
    base = {"alias": "CUST-AAAAAAAA", "predicted_next_amount": 1500.0, "last_payment_date": "2026-09-01",
            "avg_payment_delay_days": 30.0, "outstanding_amount": 0.0, "overdue_amount": 0.0}  # fmt: skip
    return FactsPack(
        as_of=as_of, portfolio=PortfolioFacts(), mentioned_customers=(CustomerFacts(**{**base, **customer}),)
    )


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("What is the expected payment amount and date for CUST-AAAAAAAA?", "next_payment"),
        ("Who are the slowest payers?", "slowest"),
        ("How much is overdue?", "overdue"),
        ("Top 5 customers", "top"),
        ("Which customers are growing?", "trend"),
        ("Show the aging", "aging"),
        ("Give me a summary", "totals"),
    ],
)
def test_questions_are_sorted_into_intents_by_their_words(question: str, intent: str) -> None:
    assert detect_intent(question) == intent


def test_expected_payment_states_amount_and_date_and_is_labelled() -> None:
    answer = answer_offline(
        "When will CUST-AAAAAAAA pay next?", facts_for({"predicted_next_payment_date": "2026-12-01"})
    )
    assert "1,500.00 on 1 Dec 2026" in answer
    assert "already past" not in answer
    assert answer.endswith(OFFLINE_LABEL)


def test_a_predicted_date_already_past_says_what_is_still_open() -> None:
    customer = {"predicted_next_payment_date": "2026-10-01", "outstanding_amount": 900.0, "overdue_amount": 400.0}
    answer = answer_offline("When will CUST-AAAAAAAA pay next?", facts_for(customer))
    assert "already past as of 31 Oct 2026: 900.00 is open, 400.00 of it overdue" in answer


@pytest.mark.parametrize(("date", "past"), [("2026-10-01", True), ("2026-11-15", False)])
def test_a_customer_summary_says_when_its_expected_payment_date_is_already_past(date: str, past: bool) -> None:
    answer = answer_offline("Tell me about CUST-AAAAAAAA", facts_for({"predicted_next_payment_date": date}))
    assert "expected next payment 1,500.00 on" in answer
    assert ("a date already past as of 31 Oct 2026" in answer) is past


def test_a_predicted_date_already_past_with_nothing_open_says_no_newer_invoice_exists() -> None:
    answer = answer_offline(
        "When will CUST-AAAAAAAA pay next?", facts_for({"predicted_next_payment_date": "2026-10-01"})
    )
    assert "nothing is open" in answer


def test_a_customer_who_never_paid_gets_an_amount_and_no_invented_date() -> None:
    answer = answer_offline("When will CUST-AAAAAAAA pay next?", facts_for({"predicted_next_payment_date": None}))
    assert "no payment date can be predicted" in answer


PORTFOLIO = PortfolioFacts(invoice_count=3, customer_count=2, total_invoiced=1000.0, total_collected=500.0,
                           outstanding=500.0, overdue=200.0, overdue_count=1, avg_payment_delay_days=31.5,
                           dso=45.25, paid_on_time_share=0.5)  # fmt: skip
PORTFOLIO_FACTS = FactsPack(
    as_of="2026-10-31",
    portfolio=PORTFOLIO,
    rankings=Rankings(
        slowest_payers_by_avg_delay_days=(CustomerFacts("CUST-BBBBBBBB", avg_payment_delay_days=61.0),),
        most_overdue=(CustomerFacts("CUST-CCCCCCCC", overdue_amount=200.0),),
        largest_outstanding=(CustomerFacts("CUST-DDDDDDDD", outstanding_amount=300.0),),
    ),
    aging_of_open_invoices=(AgingFacts("1-30", 1, 200.0),),
)
CAVEAT_START = "Offline, without a language model, I can't answer"


@pytest.mark.parametrize(
    ("question", "expected", "caveat"),
    [
        ("How much did we invoice in September 2026?", "questions about a specific month", True),
        ("How much did we invoice in September 2026?", "invoiced 1,000.00", True),
        ("What is our DSO?", "As of 31 Oct 2026: DSO (countback) 45.2 days", False),
        ("Give me a summary", "DSO (days sales outstanding, countback) 45.2 days", False),
        ("Total outstanding for customers in Dubai?", "filtered by a place, service or sales manager", True),
        ("Total outstanding for customers in Dubai?", "Outstanding in total as of 31 Oct 2026: 500.00", True),
        ("Show me the aging of open invoices", "Open invoices as of 31 Oct 2026 by days past due", False),
        ("aging buckets please", "1-30 days past due: 1 invoice, 200.00", False),
        ("And how late do they usually pay?", "follow-up questions that refer to an earlier turn", True),
        ("And how late do they usually pay?", "Average payment delay over all paid invoices: 31.5 days", True),
        ("Which service line earns the most?", "filtered by a place, service or sales manager", True),
        ("What is the weather like?", "I recognise totals, DSO", True),
        ("Who owes us the most?", "1. CUST-DDDDDDDD: 300.00", False),
        ("Which customers are most overdue?", "1. CUST-CCCCCCCC: 200.00", False),
        ("Who are the slowest payers?", "CUST-BBBBBBBB: 61.0 days", False),
    ],
)
def test_offline_answers_say_what_they_cannot_answer_then_give_the_closest_answer(
    question: str, expected: str, caveat: bool
) -> None:
    answer = answer_offline(question, PORTFOLIO_FACTS)
    assert expected in answer
    assert answer.startswith(CAVEAT_START) is caveat
    assert answer.count(CAVEAT_START) <= 1
    assert answer.endswith(OFFLINE_LABEL)
    assert unverified_numbers(answer, PORTFOLIO_FACTS.to_json()) == []


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("Show me the aging of open invoices", "aging"),
        ("What is our DSO?", "dso"),
        ("days sales outstanding please", "dso"),
        ("How late do customers pay?", "slowest"),
        ("Which customers pay over 30 days late?", "slowest"),
        ("How much is overdue by more than 60 days?", "aging"),
        ("Who owes us the most?", "largest_balances"),
        ("What is the average invoice amount?", "average_invoice"),
        ("What is the average payment delay?", "slowest"),
        ("Invoiced per month", "monthly"),
    ],
)
def test_the_most_specific_intent_wins(question: str, intent: str) -> None:
    assert detect_intent(question) == intent


def test_a_month_the_facts_carry_is_answered_from_the_monthly_series_without_a_caveat() -> None:
    month = MonthFacts("2026-09", invoiced=700.0, collected=300.0, invoice_count=2)
    facts = replace(PORTFOLIO_FACTS, monthly=(month,))
    answer = answer_offline("How much did we invoice in September 2026?", facts)
    assert "Sep 2026: invoiced 700.00 (2 invoices), collected 300.00" in answer
    assert CAVEAT_START not in answer
    assert unverified_numbers(answer, facts.to_json()) == []


def test_a_location_the_facts_break_down_is_answered_from_the_breakdown() -> None:
    row = GroupFacts(name="Dubai", invoice_count=2, customer_count=1, total_invoiced=800.0,
                     total_collected=300.0, outstanding=500.0, overdue=200.0)  # fmt: skip
    facts = replace(PORTFOLIO_FACTS, by_location=(row,))
    answer = answer_offline("Total outstanding for customers in Dubai?", facts)
    assert "- Dubai: 2 invoices from 1 customer; invoiced 800.00" in answer
    assert CAVEAT_START not in answer


def test_a_customer_who_never_paid_has_no_invented_date_in_the_summary_either() -> None:
    facts = facts_for({"predicted_next_payment_date": None, "invoice_count": 2, "total_amount": 3000.0})
    answer = answer_offline("Tell me about CUST-AAAAAAAA", facts)
    assert "no payment date can be predicted (no paid invoice yet)" in answer
    assert "on n/a" not in answer and CAVEAT_START not in answer


def _open_invoice(number: str, amount: float) -> InvoiceForecast:
    return InvoiceForecast(number, amount, "2026-11-15", "2026-11-20", "2026-11-18", "2026-11-30", 5, False)


@pytest.mark.parametrize(
    ("open_count", "shown", "title"),
    [(7, 2, "The 2 largest of the 7 open invoices:"), (2, 2, "All 2 open invoices:"), (1, 1, "The open invoice:")],
)
def test_an_expected_payment_says_how_many_of_the_open_invoices_it_lists(
    open_count: int, shown: int, title: str
) -> None:
    invoices = tuple(_open_invoice(f"INV-{i}", 100.0 * (10 - i)) for i in range(shown))
    forecast = CustomerPaymentForecast(open_count, 5000.0, "2026-11-20", "2026-12-20", invoices)
    answer = answer_offline(
        "What is the expected payment for CUST-AAAAAAAA?",
        replace(facts_for({"payment_forecast": forecast, "predicted_next_payment_date": "2026-12-01"})),
    )
    lines = answer.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("- CUST-AAAAAAAA: "))
    assert f"- CUST-AAAAAAAA: {open_count} open invoice{'s' if open_count > 1 else ''}, 5,000.00 in total" in answer
    assert lines[head].endswith(f" {title}")
    assert head + 1 == lines.index(
        "  - invoice INV-0: 1,000.00, due 15 Nov 2026, "
        "predicted 20 Nov 2026 (10–90%: 18 Nov 2026 to 30 Nov 2026), "
        "5 days after due"
    )
    assert sum(line.startswith("  - invoice ") for line in lines) == shown
