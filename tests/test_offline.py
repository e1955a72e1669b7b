"""Offline answers: what the chat says without a model, computed from the facts pack alone."""

from __future__ import annotations

from typing import Any

import pytest

from finlib.offline import OFFLINE_LABEL, answer_offline, detect_intent


def facts_for(customer: dict[str, Any], as_of: str = "2026-10-31") -> dict[str, Any]:
    base = {"alias": "CUST-AAAAAAAA", "predicted_next_amount": 1500.0, "last_payment_date": "2026-09-01",
            "avg_payment_delay_days": 30.0, "outstanding_amount": 0.0, "overdue_amount": 0.0}  # fmt: skip
    return {"as_of": as_of, "portfolio": {}, "mentioned_customers": [{**base, **customer}], "rankings": {}}


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
    assert "1,500.00 on 2026-12-01" in answer
    assert "already past" not in answer
    assert answer.endswith(OFFLINE_LABEL)


def test_a_predicted_date_already_past_says_what_is_still_open() -> None:
    customer = {"predicted_next_payment_date": "2026-10-01", "outstanding_amount": 900.0, "overdue_amount": 400.0}
    answer = answer_offline("When will CUST-AAAAAAAA pay next?", facts_for(customer))
    assert "already past as of 2026-10-31: 900.00 is open, 400.00 of it overdue" in answer


def test_a_predicted_date_already_past_with_nothing_open_says_no_newer_invoice_exists() -> None:
    answer = answer_offline(
        "When will CUST-AAAAAAAA pay next?", facts_for({"predicted_next_payment_date": "2026-10-01"})
    )
    assert "nothing is open" in answer


def test_a_customer_who_never_paid_gets_an_amount_and_no_invented_date() -> None:
    answer = answer_offline("When will CUST-AAAAAAAA pay next?", facts_for({"predicted_next_payment_date": None}))
    assert "no payment date can be predicted" in answer
