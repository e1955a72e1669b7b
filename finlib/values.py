"""Vectorised parsing of raw ledger cells into dates and amounts (work is done on unique values)."""

from __future__ import annotations

import numpy as np
import pandas as pd

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Excel serials accepted as dates: 1970-01-01 .. 2099-12-31; smaller integers are counts or amounts.
SERIAL_MIN = 25_569
SERIAL_MAX = 73_050
EARLIEST_DATE = pd.Timestamp("1900-01-01")
LATEST_DATE = pd.Timestamp("2100-12-31")
DATE_SAMPLE_SIZE = 2_000
BLANK_TOKENS = frozenset({"", "nan", "nat", "none", "null", "-", "--", "n/a", "na", "#n/a"})

NEUTRAL_FORMATS = (
    "ISO8601",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %b %Y",
    "%d-%B-%Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d.%b.%Y",
    "%Y/%m/%d",
    "%Y%m%d",
)
DAY_FIRST_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d-%m-%y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S")
MONTH_FIRST_FORMATS = (
    "%m/%d/%Y",
    "%m-%d-%Y",
    "%m.%d.%Y",
    "%m/%d/%y",
    "%m-%d-%y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
)

_CURRENCY = (
    r"(?i)\b(?:AED|USD|EUR|GBP|INR|SAR|QAR|OMR|KWD|BHD|JPY|CNY|CHF|CAD|AUD|PKR|EGP|DHS?|RS|CR|DR)\b\.?"
    r"|[$€£₹¥]|US\$"
)


def blank_mask(series: pd.Series) -> pd.Series:
    """True where a raw cell is empty: missing, whitespace, or a placeholder such as '-' or 'N/A'."""
    textual = series.dtype == object or pd.api.types.is_string_dtype(series.dtype)
    if not (textual or isinstance(series.dtype, pd.CategoricalDtype)):
        return series.isna()
    codes, uniques = pd.factorize(series)
    blank_uniques = pd.Series(uniques, dtype=object).astype(str).str.strip().str.casefold().isin(BLANK_TOKENS)
    lookup = np.append(blank_uniques.to_numpy(dtype=bool), True)  # code -1 (missing) → blank
    return pd.Series(lookup[codes], index=series.index)


def _over_uniques(series: pd.Series, parse_uniques: object, dtype: str) -> pd.Series:
    """Apply a parser of unique text values to a whole column and scatter the results back."""
    codes, uniques = pd.factorize(series)
    text = pd.Series(uniques, dtype=object).astype(str).str.strip()
    parsed = parse_uniques(text)  # type: ignore[operator]
    values = parsed.to_numpy(dtype=dtype)
    missing = np.array([np.datetime64("NaT") if dtype.startswith("datetime") else np.nan], dtype=dtype)
    return pd.Series(np.append(values, missing)[codes], index=series.index, dtype=dtype)


def _from_serials(numbers: pd.Series) -> pd.Series:
    usable = numbers.notna() & (numbers == numbers.round()) & numbers.between(SERIAL_MIN, SERIAL_MAX)
    days = numbers.where(usable)
    return (EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).astype("datetime64[ns]")


def _try_format(text: pd.Series, fmt: str) -> pd.Series:
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    parsed = parsed.astype("datetime64[ns]")
    return parsed.where((parsed >= EARLIEST_DATE) & (parsed <= LATEST_DATE))


def _format_order(sample: pd.Series) -> list[str]:
    """Formats to try, best first; day-first vs month-first is decided once per column from its values."""
    size = len(sample)
    scores: dict[str, int] = {}
    # The common shapes first: one format that reads the whole sample settles the column cheaply.
    for fmt, rival in (("ISO8601", None), ("%d/%m/%Y", "%m/%d/%Y"), ("%d-%b-%Y", None)):
        scores[fmt] = int(_try_format(sample, fmt).notna().sum())
        if rival is not None:
            scores[rival] = int(_try_format(sample, rival).notna().sum())
            if scores[fmt] == size or scores[rival] == size:
                # Both complete means every day is <= 12: read day-first, the convention of the original ledgers.
                return [fmt if scores[fmt] >= scores[rival] else rival]
        elif scores[fmt] == size:
            return [fmt]
    for fmt in (*NEUTRAL_FORMATS, *DAY_FIRST_FORMATS, *MONTH_FIRST_FORMATS):
        if fmt not in scores:
            scores[fmt] = int(_try_format(sample, fmt).notna().sum())
    day_first = sum(scores[f] for f in DAY_FIRST_FORMATS)
    month_first = sum(scores[f] for f in MONTH_FIRST_FORMATS)
    family = DAY_FIRST_FORMATS if day_first >= month_first else MONTH_FIRST_FORMATS
    candidates = [f for f in (*NEUTRAL_FORMATS, *family) if scores[f] > 0]
    return sorted(candidates, key=lambda f: -scores[f])


def parse_date_texts(text: pd.Series) -> pd.Series:
    """Dates from distinct stripped strings: Excel serials, ISO, DD/MM or MM/DD (per column), DD-Mon-YYYY."""
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    blank = text.str.casefold().isin(BLANK_TOKENS)
    numbers = pd.to_numeric(text.where(~blank), errors="coerce")
    serials = _from_serials(numbers)
    result = result.fillna(serials)
    remaining = ~blank & result.isna()
    if not remaining.any():
        return result
    pending = text[remaining]
    tried: set[str] = set()
    while not pending.empty:
        order = [f for f in _format_order(pending.iloc[:DATE_SAMPLE_SIZE]) if f not in tried]
        if not order:
            break
        for fmt in order:
            tried.add(fmt)
            parsed = _try_format(pending, fmt)
            result.loc[parsed.index] = result.loc[parsed.index].fillna(parsed)
            pending = pending[parsed.isna()]
            if pending.empty:
                break
    return result


def parse_dates(series: pd.Series) -> pd.Series:
    """Dates (datetime64[ns]) from a raw column; NaT where blank or not a date."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_localize(None)
        return series.astype("datetime64[ns]")
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return _from_serials(series.astype("float64"))
    return _over_uniques(series, parse_date_texts, "datetime64[ns]")


def parse_amount_texts(text: pd.Series) -> pd.Series:
    """Amounts from distinct stripped strings: currency marks, thousands separators, accounting negatives."""
    blank = text.str.casefold().isin(BLANK_TOKENS)
    marked = text.str.replace(_CURRENCY, "", regex=True).str.strip()
    negative = (
        marked.str.fullmatch(r"\(.*\)")
        | marked.str.startswith("-")
        | marked.str.endswith("-")
        | text.str.contains(r"(?i)\bCR\.?$", regex=True)
    ).astype(bool)
    core = text.str.replace(_CURRENCY, "", regex=True).str.replace(r"[\s\u00a0\u202f'()+\-]", "", regex=True)
    has_comma = core.str.contains(",", regex=False)
    has_dot = core.str.contains(".", regex=False)
    both = has_comma & has_dot
    comma_last = core.str.rfind(",") > core.str.rfind(".")
    dot_groups = core.str.fullmatch(r"\d{1,3}(?:\.\d{3})+")
    european_value = (both & comma_last) | (has_comma & ~has_dot & core.str.fullmatch(r"\d+,\d{1,2}"))
    us_value = (both & ~comma_last) | (has_dot & ~has_comma & ~dot_groups)
    # One clearly European value and no clearly US one: the whole column uses a decimal comma.
    european = bool(european_value.any()) and not bool(us_value.any())
    decimal_comma = (both & comma_last) | (has_comma & ~has_dot & (european | core.str.fullmatch(r"\d+,\d{1,2}")))
    dots_are_thousands = decimal_comma | (european & ~has_comma & dot_groups)
    swapped = core.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    cleaned = core.str.replace(",", "", regex=False)
    cleaned = cleaned.where(~dots_are_thousands, core.str.replace(".", "", regex=False))
    cleaned = cleaned.where(~decimal_comma, swapped)
    numbers = pd.to_numeric(cleaned.where(cleaned.str.fullmatch(r"\d*\.?\d+") & ~blank), errors="coerce")
    return numbers.where(~negative, -numbers).astype("float64")


def parse_amounts(series: pd.Series) -> pd.Series:
    """Amounts (float64) from a raw column; NaN where blank or not a number. Negatives are kept."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return pd.Series(np.nan, index=series.index, dtype="float64")
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("float64")
    if pd.api.types.is_string_dtype(series.dtype):
        direct = pd.to_numeric(series, errors="coerce").astype("float64")
        if not (direct.isna() & series.notna()).any():
            return direct
    return _over_uniques(series, parse_amount_texts, "float64")
