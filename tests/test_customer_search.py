"""Finding customers by name, and what a picker lists when there are more customers than it can hold."""

from __future__ import annotations

import pandas as pd
import pytest

from finlib.analytics.customer_search import offer_customers, search_customers


@pytest.fixture
def stats() -> pd.DataFrame:
    """Five customers in name order (as the Customers page holds them), with their totals invoiced."""
    rows = [
        ("Acme Ltd", "k-acme", 500.0),
        ("acme trading", "k-acme-trading", 900.0),
        ("Beta GmbH", "k-beta", 100.0),
        ("Delta Ltd", "k-delta", 700.0),
        ("Omega", "k-omega", 300.0),
    ]
    return pd.DataFrame(rows, columns=["customer", "customer_key", "total_amount"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme", ["Acme Ltd", "acme trading"]),
        ("  LTD ", ["Acme Ltd", "Delta Ltd"]),
        ("", ["Acme Ltd", "acme trading", "Beta GmbH", "Delta Ltd", "Omega"]),
        ("zzz", []),
        ("e.a", []),  # text, not a pattern
    ],
)
def test_search_finds_customers_by_part_of_the_name_in_any_case(
    stats: pd.DataFrame, text: str, expected: list[str]
) -> None:
    assert search_customers(stats, text)["customer"].tolist() == expected


def test_the_offer_lists_the_largest_matches_by_name_and_counts_every_match(stats: pd.DataFrame) -> None:
    offer = offer_customers(stats, "", limit=3)
    assert offer.keys == ("k-acme", "k-acme-trading", "k-delta")  # 900, 700, 500 invoiced: listed by name
    assert offer.match_count == 5
    assert offer.chosen == "k-acme-trading", "with no current customer, the largest"


def test_a_current_customer_that_matches_stays_chosen_and_listed_though_not_among_the_largest(
    stats: pd.DataFrame,
) -> None:
    offer = offer_customers(stats, "", limit=2, current="k-beta")
    assert offer.chosen == "k-beta"
    assert offer.keys == ("k-acme-trading", "k-beta", "k-delta")


def test_a_search_the_current_customer_does_not_match_chooses_the_largest_match(stats: pd.DataFrame) -> None:
    offer = offer_customers(stats, "ltd", limit=10, current="k-omega")
    assert offer.chosen == "k-delta"
    assert offer.keys == ("k-acme", "k-delta")
    assert offer.match_count == 2


def test_a_search_that_matches_nobody_offers_nothing_and_chooses_nobody(stats: pd.DataFrame) -> None:
    offer = offer_customers(stats, "zzz", limit=10, current="k-omega")
    assert (offer.keys, offer.chosen, offer.match_count) == ((), None, 0)
