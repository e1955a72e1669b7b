"""Resolution of customer and person mentions in chat questions."""

from __future__ import annotations

import time

import pytest

from finlib.chat.mentions import WORD_KIND, MentionResolver, alias_question, resolve_mentions, unknown_names
from finlib.privacy.aliasing import AliasBook
from finlib.privacy.scanner import NameEntry, NameScanner

NAMES = [
    ("customer", "Müller & Söhne GmbH"),
    ("customer", "ABC Holdings Ltd."),
    ("customer", "ABC"),
    ("customer", "ABC Company"),
    ("customer", "Next"),
    ("customer", "Total Ltd"),
    ("customer", "O'Brien's Bakery"),
    ("customer", "7-Eleven"),
    ("customer", "株式会社山田"),
    ("customer", "Иванов и Партнеры"),
    ("customer", "Acme Trading GmbH"),
    ("customer", "Acme Trading Ltd"),
    ("person", "Jane Doe"),
    ("customer", "Summit"),
    ("customer", "Best Choice"),
    ("customer", "3M Gulf"),
    ("customer", "Al Noor Builders"),
    ("person", "John Smith"),
    ("person", "Mohammed Al-Farsi"),
]
ENTRIES = [
    NameEntry(kind, name, name.casefold(), f"{'CUST' if kind == 'customer' else 'PERS'}-{i:08d}")
    for i, (kind, name) in enumerate(NAMES)
]


@pytest.fixture(scope="module")
def resolver() -> MentionResolver:
    return MentionResolver(NameScanner(ENTRIES))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much does Müller & Söhne GmbH owe?", ["Müller & Söhne GmbH"]),
        ("How much does Müller & Söhne owe?", ["Müller & Söhne GmbH"]),
        ("how much does müller & söhne owe?", ["Müller & Söhne GmbH"]),
        ("Muller Sohne payments", ["Müller & Söhne GmbH"]),
        ("Mueller & Soehne trend", ["Müller & Söhne GmbH"]),
        ("Compare abc holdings ltd and ABC", ["ABC Holdings Ltd.", "ABC"]),
        ("ABC Holdings Ltd.'s last invoice", ["ABC Holdings Ltd."]),
        ("abc holdngs ltd trend", ["ABC Holdings Ltd."]),
        ("What is the expected payment amount and date for ABC Company?", ["ABC Company"]),
        ("When will Next pay?", ["Next"]),
        ("What is the next payment for ABC?", ["Next", "ABC"]),
        ("What is the total invoiced?", ["Total Ltd"]),
        ("total for Total?", ["Total Ltd", "Total Ltd"]),
        ("How much does summit owe?", ["Summit"]),
        ("What did best choice pay?", ["Best Choice"]),
        ("Which customers does Smith manage?", ["John Smith"]),
        ("what about john?", ["John Smith"]),
        ("How is Al-Farsi doing?", ["Mohammed Al-Farsi"]),
        ("How is 3M doing?", ["3M Gulf"]),
        ("what about muller and sohne", ["Müller & Söhne GmbH"]),
        ("MULLER+SOHNE overdue?", ["Müller & Söhne GmbH"]),
        ("How is AlNoor doing?", ["Al Noor Builders"]),
        ("al-noor builders trend", ["Al Noor Builders"]),
        ("o'brien's bakery overdue?", ["O'Brien's Bakery"]),
        ("Is 7-eleven late?", ["7-Eleven"]),
        ("株式会社山田の支払いは?", ["株式会社山田"]),
        ("Иванов и Партнеры: средняя задержка?", ["Иванов и Партнеры"]),
        ("Show Jane Doe's portfolio", ["Jane Doe"]),
        ("Who are the slowest payers this year?", []),
        ("Top 5 customers by revenue in March 2026", []),
    ],
)
def test_a_question_resolves_to_the_names_it_mentions(
    resolver: MentionResolver, question: str, expected: list[str]
) -> None:
    assert [m.entry.real_name for m in resolver.resolve(question)] == expected


def test_a_name_shared_by_two_customers_is_ambiguous_and_lists_both(resolver: MentionResolver) -> None:
    (mention,) = resolver.resolve("How is Acme Trading doing?")
    assert mention.ambiguous
    assert {c.real_name for c in mention.candidates} == {"Acme Trading GmbH", "Acme Trading Ltd"}
    chosen = mention.choose(mention.candidates[1])
    assert not chosen.ambiguous and chosen.entry == mention.candidates[1]


@pytest.mark.parametrize(
    ("question", "word", "customer"),
    [("What is the next payment?", "next", "Next"), ("What is the total invoiced?", "total", "Total Ltd")],
)
def test_a_generic_word_in_lower_case_asks_whether_it_is_the_customer_or_the_word(
    resolver: MentionResolver, question: str, word: str, customer: str
) -> None:
    (mention,) = resolver.resolve(question)
    assert mention.ambiguous and mention.text == word
    assert [c.kind for c in mention.candidates] == ["customer", WORD_KIND]
    # Without an answer the customer is assumed, so the word goes out as an alias.
    assert mention.entry.real_name == customer
    assert word not in alias_question(question, [mention])
    as_word = mention.choose(mention.candidates[-1])
    assert alias_question(question, [as_word]) == question


def test_a_generic_word_written_as_a_name_is_the_customer(resolver: MentionResolver) -> None:
    (mention,) = resolver.resolve("When will Next pay?")
    assert not mention.ambiguous and mention.entry.real_name == "Next"


def test_a_mention_records_its_span_text_and_score(resolver: MentionResolver) -> None:
    question = "Forecast for abc holdngs ltd please"
    (mention,) = resolver.resolve(question)
    assert question[mention.start : mention.end] == mention.text == "abc holdngs ltd"
    assert 88 <= mention.score < 100
    assert (mention.entry.kind, mention.entry.alias) == ("customer", "CUST-00000001")


def test_aliasing_the_question_replaces_every_mention_by_its_alias(resolver: MentionResolver) -> None:
    question = "Compare Müller & Söhne with abc holdings ltd. and Jane Doe"
    aliased = alias_question(question, resolver.resolve(question))
    assert aliased == "Compare CUST-00000000 with CUST-00000001. and PERS-00000012"


def test_resolution_works_from_an_alias_book_built_from_an_entries_dataframe() -> None:
    import pandas as pd

    book = AliasBook(pd.DataFrame([e.__dict__ for e in ENTRIES]))
    found = resolve_mentions("Is ABC Company late?", NameScanner.from_book(book))
    assert [m.entry.alias for m in found] == ["CUST-00000003"]


def test_resolution_over_twenty_thousand_names_takes_milliseconds() -> None:
    entries = [NameEntry("customer", f"Customer Zeta{i:05d} Trading", f"k{i}", f"CUST-{i:08d}") for i in range(20_000)]
    entries.append(NameEntry("customer", "Müller & Söhne GmbH", "m", "CUST-MULLER00"))
    started = time.perf_counter()
    resolver = MentionResolver(NameScanner(entries))
    built = time.perf_counter() - started
    question = "What did Customer Zeta01234 Trading and Muller Sohne pay last quarter, and who is the slowest payer?"
    started = time.perf_counter()
    mentions = resolver.resolve(question)
    asked = time.perf_counter() - started
    assert [m.entry.alias for m in mentions] == ["CUST-00001234", "CUST-MULLER00"]
    assert built < 5.0
    assert asked < 0.5


@pytest.mark.parametrize(
    ("question", "unknown"),
    [
        ("When will Foobar Trading pay?", ["Foobar Trading"]),
        ("How much is overdue for Zenith & Sons Ltd?", ["Zenith & Sons Ltd"]),
        ("What is the expected payment for ABC Company?", []),  # a customer of the project
        ("What does Jane Doe's portfolio look like?", []),  # a person of the project
        ("How much came from Dubai?", []),  # a location of the ledger, passed as a known word
        ("What is the DSO for Q3?", []),
        ("What was invoiced in March, and who pays slowest?", []),
        ("what is the expected payment for foobar trading?", []),  # no capitals: nothing to go on
    ],
)
def test_a_capitalised_name_in_a_customers_place_that_matches_nobody_is_reported(
    resolver: MentionResolver, question: str, unknown: list[str]
) -> None:
    assert unknown_names(question, resolver.resolve(question), known_words=["Dubai", "Consulting"]) == unknown
