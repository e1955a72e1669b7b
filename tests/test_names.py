"""Customer identity: one key per customer however it is spelled, shown under its most frequent spelling."""

from __future__ import annotations

import pandas as pd
import pytest

from finlib.names import clean_display_names, display_names, normalise_name, normalise_names


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("ACME Corp ", "acme corp"),
        ("  Acme   Corp", "ACME CORP"),
        ("Ａｃｍｅ Corp", "acme corp"),  # full-width letters (NFKC)
        ("Acme\u00a0Corp", "acme corp"),  # no-break space
        ("Müller & Söhne GmbH", "MÜLLER & SÖHNE GMBH"),
        ("Straße AG", "STRASSE AG"),  # casefold, not lower
    ],
)
def test_spellings_of_one_customer_share_a_key(first: str, second: str) -> None:
    assert normalise_name(first) == normalise_name(second)


def test_different_customers_keep_different_keys() -> None:
    assert normalise_name("ABC Holdings") != normalise_name("ABC Holding")


def test_vectorised_keys_match_the_scalar_function_and_keep_missing_values() -> None:
    names = pd.Series(["ACME Corp ", None, "Ａｃｍｅ  Corp", "Straße AG"], dtype="object")
    keys = normalise_names(names)
    assert keys.iloc[0] == normalise_name("ACME Corp ")
    assert pd.isna(keys.iloc[1])
    assert keys.iloc[2] == keys.iloc[0]
    assert keys.iloc[3] == normalise_name("Straße AG")


def test_display_name_is_the_most_frequent_spelling() -> None:
    raw = pd.Series(["acme corp", "ACME Corp", "ACME Corp ", "Beta LLC"])
    cleaned = clean_display_names(raw)
    shown = display_names(cleaned, normalise_names(raw))
    assert shown["acme corp"] == "ACME Corp"
    assert shown["beta llc"] == "Beta LLC"


def test_display_name_ties_go_to_the_first_spelling_seen() -> None:
    raw = pd.Series(["Acme corp", "ACME CORP"])
    shown = display_names(clean_display_names(raw), normalise_names(raw))
    assert shown["acme corp"] == "Acme corp"


def test_display_names_of_an_empty_column_is_empty() -> None:
    empty = pd.Series([None, None], dtype="object")
    assert display_names(clean_display_names(empty), normalise_names(empty)).empty


def _display_names_by_grouping(cleaned: pd.Series, keys: pd.Series) -> pd.Series:
    """The rule spelled out with a groupby: count each (key, spelling), most frequent first, ties first seen."""
    frame = pd.DataFrame({"key": keys, "name": cleaned}).dropna()
    counts = frame.groupby(["key", "name"], sort=False).size().rename("count").reset_index()
    best = counts.sort_values("count", ascending=False, kind="stable").drop_duplicates("key")
    return best.set_index("key")["name"]


@pytest.mark.parametrize("dtype", ["str", "object"])
@pytest.mark.parametrize("seed", range(6))
def test_display_names_follow_the_counting_rule_in_its_order(dtype: str, seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    spellings = np.array([f"Name {i % 7} {'x' * (i // 7)}" for i in range(21)] + [None], dtype=object)
    cleaned = pd.Series(rng.choice(spellings, 500), dtype=dtype)
    keys = cleaned.str.slice(0, 6).where(rng.random(500) > 0.1)  # a few spellings per key, some keys missing
    pd.testing.assert_series_equal(display_names(cleaned, keys), _display_names_by_grouping(cleaned, keys))


def test_display_names_of_categoricals_are_those_of_their_text() -> None:
    """The parse child hands names over as categoricals; counting their codes must pick what the text picks."""
    raw = pd.Series(["Beta LLC", "acme corp", "ACME Corp", None, "ACME Corp", "beta llc", "Acme corp", "BETA LLC"])
    keys = normalise_names(raw)
    # Categories in another order than the rows' first appearance: the codes must not decide the order.
    categories = sorted(set(raw.dropna()), reverse=True)
    as_categories = pd.Series(pd.Categorical(raw, categories=categories))
    key_categories = pd.Series(pd.Categorical(keys, categories=sorted(set(keys.dropna()), reverse=True)))
    expected = display_names(raw, keys)
    assert list(expected.index) == ["acme corp", "beta llc"]
    pd.testing.assert_series_equal(display_names(as_categories, key_categories), expected)
