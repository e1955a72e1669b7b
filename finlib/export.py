"""Tables leaving the app as files: CSV and Excel sheets with spreadsheet formula injection neutralised."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from finlib.jsonable import SIGNIFICANT_DIGITS, without_float_noise

# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: object) -> object:
    """Prefix a text value that a spreadsheet would run as a formula with a quote; other values pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot start a formula; numbers and dates keep their type."""
    escaped = frame.copy()
    for column in escaped.columns:
        series = escaped[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            continue
        text = series.astype("str")
        risky = text.str.startswith(FORMULA_PREFIXES).fillna(False) & series.notna()
        is_text = series.map(lambda value: isinstance(value, str)) if series.dtype == object else True
        risky = risky & is_text
        if risky.any():
            escaped[column] = series.where(~risky, "'" + text)
    escaped.columns = [str(escape_formula(str(name))) for name in escaped.columns]
    return escaped


def _without_noise(value: object) -> object:
    """A finite float cut to 15 significant digits; any other value as it is."""
    return without_float_noise(value) if isinstance(value, float) and np.isfinite(value) else value


def export_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so Excel reads accents) of ``frame`` with formulas escaped, without the index.

    Floats are written with the 15 significant digits a float64 holds exactly (``jsonable.SIGNIFICANT_DIGITS``):
    a sum reads 256928.7, not its binary rounding noise 256928.69999999998.
    """
    escaped = escape_formulas(frame)
    for column in escaped.columns:
        if pd.api.types.is_object_dtype(escaped[column]):  # a float among text: the same rule
            escaped[column] = escaped[column].map(_without_noise)
    text: str = escaped.to_csv(index=False, date_format="%Y-%m-%d", float_format=f"%.{SIGNIFICANT_DIGITS}g")
    return text.encode("utf-8-sig")


EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 0 of Excel's 1900 date system (as read after 1 Mar 1900)
XLSX_OPTIONS = {
    "constant_memory": True,  # rows go to disk as they are finished: a 1M-row sheet needs no 1M-row cell table
    "strings_to_formulas": False,  # no text cell can become a formula (escape_formulas also quotes them)
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "default_date_format": "yyyy-mm-dd",
}
DATE_FORMAT = "yyyy-mm-dd"
WIDTH_SAMPLE_ROWS = 200


def _column_cells(series: pd.Series) -> tuple[str, list[Any]]:
    """How a column is written (``number``, ``date``, ``string``, ``any``) and its values, None for a blank.

    Numbers and dates are converted for the whole column at once (a date becomes its Excel serial number, shown
    with a date format), so writing a cell is one typed call.
    """
    if pd.api.types.is_bool_dtype(series):
        return "any", series.astype("object").where(series.notna(), None).tolist()
    if pd.api.types.is_numeric_dtype(series):
        numbers = pd.to_numeric(series, errors="coerce").astype("float64")
        numbers = numbers.where(np.isfinite(numbers))
        return "number", numbers.astype("object").where(numbers.notna(), None).tolist()
    if pd.api.types.is_datetime64_any_dtype(series):
        serial = (series.dt.tz_localize(None) if series.dt.tz is not None else series) - EXCEL_EPOCH
        days = serial / pd.Timedelta(days=1)
        return "date", days.astype("object").where(days.notna(), None).tolist()
    values = series.astype("object").where(series.notna(), None).tolist()
    kind = "string" if all(isinstance(value, str) for value in values if value is not None) else "any"
    return kind, values


def write_sheet(
    workbook: Any,
    name: str,
    frame: pd.DataFrame,
    *,
    formats: Mapping[str, str] | None = None,
    row_formats: Mapping[str, Sequence[str | None]] | None = None,
) -> None:
    """``frame`` as a sheet of an XlsxWriter ``workbook`` opened with ``XLSX_OPTIONS``: a bold header row, numbers
    as numbers, dates as dates, text with formulas escaped, the header frozen. ``formats`` gives a column (by
    header) an Excel number format (``"0.0%"``, ``'"€"#,##0.00'``); ``row_formats`` gives a column one format per
    row (None: General), for a column mixing units. Dates without a format read ``yyyy-mm-dd``.

    Cells are written row by row, as constant-memory mode requires, with one typed call each; the conversions
    are done column by column beforehand.
    """
    escaped = escape_formulas(frame)
    by_header = {str(escape_formula(str(column))): column for column in frame.columns}
    sheet = workbook.add_worksheet(name)
    cached: dict[str, Any] = {}

    def number_format(code: str | None) -> Any:
        if code is not None and code not in cached:
            cached[code] = workbook.add_format({"num_format": code})
        return None if code is None else cached[code]

    writers = {"number": sheet.write_number, "date": sheet.write_number, "string": sheet.write_string}
    columns = []
    for index, column in enumerate(escaped.columns):
        kind, values = _column_cells(escaped[column])
        original = by_header.get(column, column)
        code = (formats or {}).get(original, DATE_FORMAT if kind == "date" else None)
        row_codes = (row_formats or {}).get(original)
        by_row = row_codes is not None
        cell_format = (
            [number_format(row_code) for row_code in row_codes] if row_codes is not None else number_format(code)
        )
        columns.append((index, writers.get(kind, sheet.write), values, cell_format, by_row))
        sample = [len(str(value)) for value in values[:WIDTH_SAMPLE_ROWS] if value is not None]
        width = len(str(column)) if kind == "date" else max([len(str(column)), *sample])
        sheet.set_column(index, index, min(max(width + 2, 12 if kind == "date" else 10), 48))
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, [str(column) for column in escaped.columns], workbook.add_format({"bold": True}))
    for row in range(len(escaped)):
        for index, write, values, cell_format, per_row in columns:
            value = values[row]
            if value is not None:
                write(row + 1, index, value, cell_format[row] if per_row else cell_format)
