"""Specification of finlib.ingest.ledger: the ledger frame's contract and its compact (categorical) form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from finlib.ingest import ledger


def test_the_empty_ledger_has_every_contract_column_and_dtype() -> None:
    empty = ledger.empty_ledger()
    assert list(empty.columns) == list(ledger.LEDGER_COLUMNS)
    assert dict(empty.dtypes.astype(str)) == {c: str(pd.Series(dtype=d).dtype) for c, d in ledger.LEDGER_DTYPES.items()}


def test_names_get_their_most_frequent_spelling_and_a_key_per_row() -> None:
    display, keys = ledger.names_with_keys(pd.Series(["ACME Corp ", "acme corp", "ACME Corp", None]), 4)
    assert isinstance(display.dtype, pd.CategoricalDtype)
    assert display.tolist()[:3] == ["ACME Corp"] * 3 and pd.isna(display[3])
    assert keys.tolist()[:3] == ["acme corp"] * 3


@pytest.mark.parametrize("column", ["customer_name", "location"])
def test_expanding_decodes_categoricals_to_the_contract_text_dtype(column: str) -> None:
    codes = np.array([0, -1, 0])
    compact = pd.DataFrame({column: ledger.categorical(pd.Series(["Dubai"]), codes)})
    expanded = ledger.expand_ledger(compact)
    assert expanded[column].dtype == "str"
    assert expanded[column].tolist()[0::2] == ["Dubai", "Dubai"] and pd.isna(expanded[column][1])


def test_compacting_keeps_every_value_and_turns_repetitive_text_into_sorted_categoricals() -> None:
    text = pd.Series(["Zeta", None, "Alpha", "Zeta", "Ökonom"], dtype="str")
    frame = pd.DataFrame(
        {
            "customer_key": text,
            "location": pd.Series([None] * 5, dtype="str"),
            "extra:Channel": text,
            "invoice_number": pd.Series(["INV-2", "INV-10", None, "INV-1", "INV-3"], dtype="str"),
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0],
        },
        index=[7, 8, 9, 10, 11],
    )
    compact = ledger.compact_text(frame)
    for column in ("customer_key", "location", "extra:Channel"):
        assert isinstance(compact[column].dtype, pd.CategoricalDtype)
        assert list(compact[column].cat.categories) == sorted(frame[column].dropna().unique())
    assert compact["invoice_number"].dtype == "str" and compact["amount"].dtype == "float64"
    as_text = compact.astype({c: "str" for c in ("customer_key", "location", "extra:Channel")})
    pd.testing.assert_frame_equal(as_text, frame)


@pytest.mark.parametrize(
    ("wanted", "selected"),
    [
        (("amount", "customer_key"), ["customer_key", "amount"]),
        (("amount", ledger.EVERY_EXTRA), ["amount", "extra:Channel", "extra:Region"]),
        (("no_such_column",), []),
    ],
)
def test_selected_columns_keep_file_order_and_every_extra_column_on_request(wanted, selected) -> None:
    names = ["customer_key", "amount", "extra:Channel", "extra:Region"]
    assert ledger.selected_columns(names, wanted) == selected
