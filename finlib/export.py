"""Tables leaving the app as files: CSV with spreadsheet formula injection neutralised."""

from __future__ import annotations

import pandas as pd

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


def export_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so Excel reads accents) of ``frame`` with formulas escaped, without the index."""
    text: str = escape_formulas(frame).to_csv(index=False, date_format="%Y-%m-%d")
    return text.encode("utf-8-sig")
