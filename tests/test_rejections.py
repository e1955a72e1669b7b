"""Specification of finlib.ingest.rejections: skipped layout rows and rejected rows, always with row numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from finlib.ingest import rejections, schema


@pytest.mark.parametrize(
    ("rows", "expected"),
    [([7], "row 7"), ([7, 9], "rows 7, 9"), (list(range(1, 13)), "rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more")],
)
def test_row_lists_name_the_first_rows_and_count_the_rest(rows: list[int], expected: str) -> None:
    assert rejections.row_list(np.array(rows)) == expected


def test_only_a_labelled_row_without_date_and_number_and_with_an_amount_is_a_total() -> None:
    body = pd.DataFrame(
        {
            "Customer": ["Total", "Total", None, "Customer", None],
            "Invoice Date": ["2025-01-01", None, None, "Invoice Date", None],
            "Invoice No": ["INV-1", None, None, "Invoice No", None],
            "Amount": ["10", "10", None, "Amount", None],
        }
    )
    mapping = schema.detect_mapping(list(body.columns))
    skip, warnings = rejections.skipped_rows(body, mapping, np.array([2, 3, 4, 5, 6]))
    assert skip.tolist() == [False, True, True, True, True]
    assert warnings == [
        "Skipped 2 empty rows.",
        "Skipped 1 repeated header row (row 5).",
        "Skipped 1 total or subtotal row (row 3).",
    ]


def test_rejections_join_every_reason_of_a_row_and_keep_the_readers_own() -> None:
    checks = [
        (np.array([True, False, True]), lambda position: "missing customer name"),
        (np.array([True, False, False]), lambda position: f"amount at {position} is not a number"),
    ]
    mask, examples, count = rejections.collect(checks, np.array([2, 3, 5]), [(4, "wrong number of fields")])
    assert mask.tolist() == [True, False, True] and count == 3
    assert examples == [
        {"row": 2, "reason": "missing customer name; amount at 0 is not a number"},
        {"row": 4, "reason": "wrong number of fields"},
        {"row": 5, "reason": "missing customer name"},
    ]
