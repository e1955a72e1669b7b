"""Specification of finlib.values: dates and amounts parsed from raw cells."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from finlib import values


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["2024-01-05", "2024-02-29"], ["2024-01-05", "2024-02-29"]),
        (["2024-01-05 00:00:00", "2024-03-01 13:45:00"], ["2024-01-05", "2024-03-01 13:45"]),
        (["05/01/2024", "25/12/2024"], ["2024-01-05", "2024-12-25"]),
        (["01/05/2024", "12/25/2024"], ["2024-01-05", "2024-12-25"]),
        (["05-Jan-2024", "25-Dec-2024"], ["2024-01-05", "2024-12-25"]),
        (["45296", "45651"], ["2024-01-05", "2024-12-25"]),
        (["03/04/2024", "05/06/2024"], ["2024-04-03", "2024-06-05"]),
    ],
)
def test_date_columns_are_read_in_every_supported_format(raw: list[str], expected: list[str]) -> None:
    parsed = values.parse_dates(pd.Series(raw, dtype="str"))
    assert parsed.dtype == "datetime64[ns]"
    assert list(parsed) == [pd.Timestamp(e) for e in expected]


def test_day_or_month_first_is_decided_per_column_from_its_values() -> None:
    day_first = values.parse_dates(pd.Series(["02/03/2024", "13/03/2024"]))
    month_first = values.parse_dates(pd.Series(["02/03/2024", "03/13/2024"]))
    assert day_first.iloc[0] == pd.Timestamp("2024-03-02")
    assert month_first.iloc[0] == pd.Timestamp("2024-02-03")


def test_excel_serial_numbers_and_real_datetimes_become_dates() -> None:
    assert values.parse_dates(pd.Series([45296.0, None])).iloc[0] == pd.Timestamp("2024-01-05")
    real = pd.Series(pd.to_datetime(["2024-01-05"]).astype("datetime64[ms]"))
    assert values.parse_dates(real).dtype == "datetime64[ns]"


@pytest.mark.parametrize("raw", ["", "-", "N/A", None, "not a date", "31/31/2024", "12"])
def test_blank_or_invalid_date_cells_become_missing(raw: str | None) -> None:
    parsed = values.parse_dates(pd.Series(["2024-01-05", raw], dtype=object))
    assert pd.isna(parsed.iloc[1])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234.50", 1234.5),
        ("AED 1,234.50", 1234.5),
        ("USD -1,000", -1000.0),
        ("$12", 12.0),
        ("£ 7.25", 7.25),
        ("₹1,23,456.00", 123456.0),
        ("(500.00)", -500.0),
        ("250-", -250.0),
        ("-75.5", -75.5),
        ("(AED 1,000.00)", -1000.0),
        ("1 234,50 EUR", 1234.5),
        ("€1.234,56", 1234.56),
        ("500 CR", -500.0),
    ],
)
def test_amounts_with_currency_marks_separators_and_accounting_negatives(raw: str, expected: float) -> None:
    parsed = values.parse_amounts(pd.Series(["1.00", raw], dtype="str"))
    assert parsed.iloc[1] == pytest.approx(expected)


def test_a_clearly_european_column_reads_dots_as_thousands() -> None:
    parsed = values.parse_amounts(pd.Series(["1.234,56", "12,5", "1.000"], dtype="str"))
    assert list(parsed) == [1234.56, 12.5, 1000.0]


def test_a_us_column_keeps_dots_as_decimals() -> None:
    parsed = values.parse_amounts(pd.Series(["1,000", "12.5", "1.000"], dtype="str"))
    assert list(parsed) == [1000.0, 12.5, 1.0]


@pytest.mark.parametrize("raw", ["", "-", "abc", "12x", None])
def test_blank_or_invalid_amounts_become_missing(raw: str | None) -> None:
    assert math.isnan(values.parse_amounts(pd.Series(["1", raw], dtype=object)).iloc[1])


def test_numeric_columns_pass_through_as_floats() -> None:
    parsed = values.parse_amounts(pd.Series([1, -2, 3]))
    assert parsed.dtype == "float64"
    assert list(parsed) == [1.0, -2.0, 3.0]


def test_blank_mask_treats_placeholders_as_empty() -> None:
    mask = values.blank_mask(pd.Series(["x", " ", "-", None, "N/A", "0"], dtype=object))
    assert list(mask) == [False, True, True, True, True, False]


def test_blank_mask_sees_placeholders_in_categorical_columns() -> None:
    mask = values.blank_mask(pd.Series(["x", " ", "-", None, "N/A", "x"], dtype="category"))
    assert list(mask) == [False, True, True, True, True, False]
