"""Reading numbers from an answer and checking them against the facts pack."""

from __future__ import annotations

import datetime as dt

import pytest

from finlib.chat.numbers import collect_fact_values, extract_numbers, unverified_numbers

FACTS = {
    "customer": "CUST-7K3M9Q2X",
    "total_amount": 12345.67,
    "predicted_next_payment_date": "2026-03-05",
    "on_time_share": 0.873,
    "avg_payment_delay_days": 44.6,
    "invoice_count": 27,
    "last_invoice": dt.date(2025, 12, 31),
    "top": [{"alias": "CUST-0A1B2C3D", "outstanding": 1_250_000.0}, {"alias": "CUST-4H8T0B1R", "outstanding": 99.5}],
    "month": "2026-01",
}


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("12,345.67", "number", 12345.67),
        ("$12,345.67", "number", 12345.67),
        ("AED 1,23,456.50", "number", 123456.5),
        ("12.3k", "number", 12300.0),
        ("1.25 million", "number", 1_250_000.0),
        ("-500", "number", -500.0),
        ("87.3%", "percent", 87.3),
        ("45 days", "number", 45.0),
    ],
)
def test_numbers_are_read_with_separators_currencies_and_suffixes(text: str, kind: str, value: float) -> None:
    first = extract_numbers(text)[0]
    assert (first.kind, first.value) == (kind, value)


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("2026-03-05", [dt.date(2026, 3, 5)]),
        ("5 March 2026", [dt.date(2026, 3, 5)]),
        ("March 5th, 2026", [dt.date(2026, 3, 5)]),
        ("Mar. 5 2026", [dt.date(2026, 3, 5)]),
        ("05/03/2026", [dt.date(2026, 3, 5), dt.date(2026, 5, 3)]),
    ],
)
def test_iso_and_human_dates_are_read_as_dates(text: str, dates: list[dt.date]) -> None:
    (found,) = extract_numbers(text)
    assert found.kind == "date" and sorted(found.dates) == dates


def test_the_characters_of_an_alias_are_never_read_as_numbers() -> None:
    assert extract_numbers("CUST-7K3M9Q2X and pers-4h8t0b1r") == []


@pytest.mark.parametrize(
    "answer",
    [
        "Total invoiced: 12,345.67",
        "about 12,346",
        "roughly 12.3k",
        "around 12,000",
        "next payment on 5 March 2026",
        "expected March 5, 2026",
        "expected 2026-03-05",
        "87.3% on time",
        "87% on time",
        "paid after 45 days on average",
        "27 invoices",
        "1.25 million outstanding",
        "$1.3m outstanding",
        "the top 2 customers",
        "in January 2026",
        "in 2025",
        "CUST-7K3M9Q2X",
        "last invoice 31 December 2025",
    ],
)
def test_numbers_that_come_from_the_facts_are_verified(answer: str) -> None:
    assert unverified_numbers(answer, FACTS) == []


@pytest.mark.parametrize(
    ("answer", "unverified"),
    [
        ("Total invoiced: 13,345.67", ["13,345.67"]),
        ("about 12,400", ["12,400"]),
        ("next payment on 6 March 2026", ["6 March 2026"]),
        ("52% on time", ["52%"]),
        ("paid after 60 days", ["60"]),
        ("expected 2027-03-05, total 12,345.67", ["2027-03-05"]),
        ("in July 2026", ["July 2026"]),
    ],
)
def test_invented_numbers_are_returned_as_unverified(answer: str, unverified: list[str]) -> None:
    assert unverified_numbers(answer, FACTS) == unverified


def test_fact_values_gather_numbers_dates_and_list_lengths() -> None:
    values = collect_fact_values(FACTS)
    assert 12345.67 in values.numbers and 27.0 in values.numbers
    assert dt.date(2026, 3, 5) in values.dates and (2026, 1) in values.months
    assert values.max_list_length == 2
