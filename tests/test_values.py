"""Specification of finlib.ingest.values: dates and amounts parsed from raw cells."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from finlib.ingest import date_order, values


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
        (["Jan 5 2024", "December 25 2024"], ["2024-01-05", "2024-12-25"]),
        (["March 3rd, 2024", "1st Feb 2024", "22nd Jun 2024"], ["2024-03-03", "2024-02-01", "2024-06-22"]),
        (["Fri, 05 Jan 2024", "Wed, 25 Dec 2024"], ["2024-01-05", "2024-12-25"]),
        (["Friday, January 5, 2024", "Wednesday, 25 December 2024"], ["2024-01-05", "2024-12-25"]),
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


@pytest.mark.parametrize("dtype", ["str", object])
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["1", "2.50", None, "-3", "1e3", "+4", ".5"], [1.0, 2.5, math.nan, -3.0, 1000.0, 4.0, 0.5]),
        ([" 12", "7 ", "1,000.00"], [12.0, 7.0, 1000.0]),  # what Arrow's cast refuses is read as before
        (["1e400", "5"], [math.nan, 5.0]),  # infinite: out of range
        ([None, None], [math.nan, math.nan]),
    ],
)
def test_a_text_column_of_plain_numbers_reads_the_same_whatever_holds_the_text(
    dtype: object, raw: list[str | None], expected: list[float]
) -> None:
    parsed = values.parse_amounts(pd.Series(raw, dtype=dtype, index=range(10, 10 + len(raw))))
    assert parsed.dtype == "float64"
    assert list(parsed.index) == list(range(10, 10 + len(raw)))
    assert parsed.tolist() == pytest.approx(expected, nan_ok=True)


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


def test_a_value_that_reads_only_in_the_other_order_stays_missing_once_the_order_is_chosen() -> None:
    parsed = values.parse_dates(pd.Series(["31/12/2025", "12/31/2025", "01/02/2025", "30/01/2025"]))
    assert list(parsed.isna()) == [False, True, False, False]
    assert parsed.iloc[2] == pd.Timestamp("2025-02-01")


@pytest.mark.parametrize(
    ("day_first", "expected"),
    [(True, ["2025-12-31", None, "2025-04-03"]), (False, [None, "2025-12-31", "2025-03-04"])],
)
def test_the_order_given_for_a_column_is_the_only_one_applied(day_first: bool, expected: list[str | None]) -> None:
    parsed = values.parse_dates(pd.Series(["31/12/2025", "12/31/2025", "03/04/2025"]), day_first=day_first)
    assert [None if pd.isna(v) else v for v in parsed] == [None if e is None else pd.Timestamp(e) for e in expected]


@pytest.mark.parametrize(
    ("columns", "day_first"),
    [
        ({"Invoice": ["03/04/2025", "04/13/2025"], "Paid": ["04/05/2025"]}, False),
        ({"Invoice": ["03/04/2025"], "Paid": ["25/04/2025"]}, True),
        ({"Invoice": ["2025-04-03"], "Paid": ["04/13/2025", "13-Apr-2025"]}, False),
        ({"Invoice": ["Apr 3, 2025"], "Paid": ["25/04/2025"]}, True),
        ({"Invoice": ["3 Apr 2025"], "Paid": ["04/13/2025"]}, False),
    ],
)
def test_one_order_per_file_comes_from_the_unambiguous_dates_of_all_its_columns(
    columns: dict[str, list[str]], day_first: bool
) -> None:
    order = date_order.resolve_date_order({name: pd.Series(cells, dtype="str") for name, cells in columns.items()})
    assert order.day_first is day_first
    assert order.warnings == []


@pytest.mark.parametrize(
    ("columns", "day_first", "reason"),
    [
        ({"Invoice": ["03/04/2025"], "Paid": ["04/05/2025"]}, True, "nothing in the file tells the order"),
        ({"Invoice": ["Jan 5 2025", "March 3rd, 2025"], "Paid": ["2/10/2025"]}, False, "month first ('Jan 5 2025')"),
        ({"Invoice": ["Friday, January 3, 2025"], "Paid": ["2/10/2025"]}, False, "month first"),
        ({"Invoice": ["5 Jan 2025", "03-Mar-2025"], "Paid": ["2/10/2025"]}, True, "nothing in the file tells"),
    ],
)
def test_when_no_date_settles_the_order_words_for_months_tell_the_habit_and_a_warning_says_so(
    columns: dict[str, list[str]], day_first: bool, reason: str
) -> None:
    order = date_order.resolve_date_order({name: pd.Series(cells, dtype="str") for name, cells in columns.items()})
    assert order.day_first is day_first
    assert len(order.warnings) == 1
    assert "fits both the day-first and the month-first order" in order.warnings[0] and reason in order.warnings[0]


def test_a_date_with_the_month_as_a_word_never_overrules_a_numeric_date_that_fits_one_order_only() -> None:
    order = date_order.resolve_date_order({"Invoice": pd.Series(["Jan 5 2025", "Feb 6 2025", "25/04/2025"])})
    assert order.day_first is True
    assert order.warnings == []


def test_date_columns_that_disagree_are_named_in_a_warning_and_the_majority_order_wins() -> None:
    order = date_order.resolve_date_order(
        {
            "Invoice": pd.Series(["13/04/2025", "14/04/2025"]),
            "Due": pd.Series(["04/25/2025"]),
            "Paid": pd.Series(["01/02/2025"]),
        }
    )
    assert order.day_first is True
    assert len(order.warnings) == 1
    assert "'Due' has 1 date that only fits month-first (e.g. '04/25/2025')" in order.warnings[0]
    assert "'Invoice'" not in order.warnings[0] and "'Paid'" not in order.warnings[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["2025-04-03T10:00:00Z", "2025-04-03 00:00:00+04:00"], ["2025-04-03 10:00", "2025-04-03 00:00"]),
        (["2025-04-03T23:30:00-05:00", "2025-04-04"], ["2025-04-03 23:30", "2025-04-04 00:00"]),
        (["2025-04-03T10:00:00+02:00", "2025-04-04"], ["2025-04-03 10:00", "2025-04-04"]),
    ],
)
def test_iso_datetimes_keep_the_local_date_and_time_whatever_their_offset(raw: list[str], expected: list[str]) -> None:
    parsed = values.parse_dates(pd.Series(raw, dtype="str"))
    assert parsed.dtype == "datetime64[ns]"
    assert list(parsed) == [pd.Timestamp(e) for e in expected]


@pytest.mark.parametrize("raw", ["12-34", "1+1", "-12-", "(12", "12)", "--5", "1,000-50", "+-5"])
def test_a_sign_anywhere_but_before_or_after_the_number_makes_it_unreadable(raw: str) -> None:
    assert math.isnan(values.parse_amounts(pd.Series(["1.00", raw], dtype="str")).iloc[1])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("USD1500", 1500.0), ("AED1,500", 1500.0), ("1500AED", 1500.0), ("1500CR", -1500.0), ("INR1,23,456", 123456.0)],
)
def test_currency_codes_glued_to_the_number_are_recognised(raw: str, expected: float) -> None:
    assert values.parse_amounts(pd.Series(["1.00", raw], dtype="str")).iloc[1] == pytest.approx(expected)


@pytest.mark.parametrize("dtype", ["str", "category"])
def test_blank_cells_are_filled_from_the_fallback_column_row_by_row(dtype: str) -> None:
    primary = pd.Series(["Cust A", None, "-", "Cust D", None], dtype=dtype)
    fallback = pd.Series(["Legal A", "Legal B", "Legal C", None, " "], dtype=dtype)
    filled = values.fill_blank_cells(primary, fallback)
    assert filled is not None
    assert filled.astype(object).where(filled.notna(), None).tolist() == [
        "Cust A",
        "Legal B",
        "Legal C",
        "Cust D",
        None,
    ]
