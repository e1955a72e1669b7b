"""Vectorised parsing of raw ledger cells into dates and amounts (work is done on unique values)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from finlib.ingest.date_order import (
    date_order_evidence,
    order_name,
    reads_only_in_other_order,
)

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Excel serials accepted as dates: 1970-01-01 .. 2099-12-31; smaller integers are counts or amounts.
SERIAL_MIN = 25_569
SERIAL_MAX = 73_050
EARLIEST_DATE = pd.Timestamp("1900-01-01")
LATEST_DATE = pd.Timestamp("2100-12-31")
# ERPs write "no date" as the last day they can store (9999-12-31, Excel serial 2958465) or as zeros.
_NO_DATE = re.compile(
    r"^(?:9999[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]9999|0{1,4}[-/.]0{1,2}[-/.]0{1,4}|2958465(?:\.0+)?)"
    r"(?:[ T][\d:.]*)?$"
)
# Texts that are plain numbers: a date only as an Excel serial, or as eight digits (YYYYMMDD); never a bare year.
_NUMBER_TEXT = r"[+-]?\d+(?:[.,]\d+)?"
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
DATE_SAMPLE_SIZE = 2_000
MAX_ABS_AMOUNT = 1e15
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
    "%b %d %Y",
    "%B %d %Y",
    "%a, %d %b %Y",
    "%A, %B %d, %Y",
    "%A, %d %B %Y",
    "%d.%b.%Y",
    "%Y/%m/%d",
    "%Y%m%d",
)
_ORDINAL_DAY = r"\b(\d{1,2})(?:st|nd|rd|th)\b"
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

# Lookarounds rather than \b, so that codes glued to the number ("USD1500", "1500CR") are found too.
_CURRENCY = (
    r"(?i)(?<![a-z])(?:AED|USD|EUR|GBP|INR|SAR|QAR|OMR|KWD|BHD|JPY|CNY|CHF|CAD|AUD|PKR|EGP|DHS?|RS|CR|DR)(?![a-z])\.?"
    r"|[$€£₹¥]|US\$"
)
_CREDIT_MARK = r"(?i)(?<![a-z])CR\.?\s*$"
# A sign only before or after the digits, or parentheses around them: "12-34" and "1+1" are not amounts.
_SIGNED_AMOUNT = re.compile(r"^(?P<open>\()?(?P<lead>[+-])?(?P<digits>[\d.,]+)(?P<trail>[+-])?(?P<close>\))?$")


def no_date_mask(text: pd.Series) -> pd.Series:
    """True where a stripped text is an ERP's "no date" (9999-12-31, 31/12/9999, 0000-00-00, serial 2958465)."""
    return text.str.match(_NO_DATE).fillna(False).astype(bool)


def blank_mask(series: pd.Series, *, dates: bool = False) -> pd.Series:
    """True where a raw cell is empty: missing, whitespace, or a placeholder such as '-' or 'N/A'.

    With ``dates``, an ERP's "no date" (``no_date_mask``) is empty too.
    """
    textual = series.dtype == object or pd.api.types.is_string_dtype(series.dtype)
    if dates and pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.isna() | (series.dt.year == 9999)
    if not (textual or isinstance(series.dtype, pd.CategoricalDtype)):
        return series.isna()
    codes, uniques = pd.factorize(series)
    stripped = pd.Series(uniques, dtype=object).astype(str).str.strip()
    blank_uniques = stripped.str.casefold().isin(BLANK_TOKENS)
    if dates:
        blank_uniques |= no_date_mask(stripped)
    lookup = np.append(blank_uniques.to_numpy(dtype=bool), True)  # code -1 (missing) → blank
    return pd.Series(lookup[codes], index=series.index)


def fill_blank_cells(primary: pd.Series | None, fallback: pd.Series | None) -> pd.Series | None:
    """``primary`` with its blank cells taken from ``fallback`` row by row, as a categorical (works on codes).

    Used for a customer column with an ``Entity Legal Name`` fallback; a cell blank in both stays missing.
    """
    if primary is None or fallback is None:
        return primary
    blank = blank_mask(primary).to_numpy()
    if not blank.any():
        return primary
    primary_codes, primary_uniques = pd.factorize(primary)
    # Only the rows to fill are looked at in the fallback (it is rarely needed and may be plain text).
    stand_ins = fallback.to_numpy(dtype=object)[blank]
    stand_ins = pd.Series(stand_ins, dtype=object).where(~blank_mask(pd.Series(stand_ins, dtype=object)))
    fallback_codes, fallback_uniques = pd.factorize(stand_ins)
    codes = primary_codes.copy()
    codes[blank] = np.where(fallback_codes >= 0, fallback_codes + len(primary_uniques), -1)
    merged = pd.Series([*primary_uniques, *fallback_uniques], dtype=object).astype(str)
    merged_codes, merged_uniques = pd.factorize(merged)
    lookup = np.append(merged_codes, -1).astype(np.int32)
    categories = pd.Index(pd.array(list(merged_uniques), dtype="str"))
    return pd.Series(pd.Categorical.from_codes(lookup[codes], categories=categories))


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


# An offset only after a time of day: "2025-04-03" must keep its "-03".
_OFFSET_AFTER_TIME = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_UTC_OFFSET = r"([T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def _try_format(text: pd.Series, fmt: str) -> pd.Series:
    # A ledger date is the date on the document: keep the local wall time and drop any offset ("...Z",
    # "...+04:00"), rather than converting to UTC and moving late-evening invoices to the next or previous day.
    if fmt == "ISO8601":
        # Test first (a plain regex the Arrow engine runs fast); rewrite only the values that carry an offset.
        with_offset = text.str.contains(_OFFSET_AFTER_TIME, regex=True, na=False)
        if with_offset.any():
            text = text.copy()
            text[with_offset] = text[with_offset].str.replace(_UTC_OFFSET, r"\1", regex=True)
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    return in_date_range(parsed)


def in_date_range(parsed: pd.Series) -> pd.Series:
    """Dates as datetime64[ns], missing outside 1900-2100 (9999-12-31 or year 1150 fit no nanosecond timestamp)."""
    inside = (parsed >= EARLIEST_DATE) & (parsed <= LATEST_DATE)
    return parsed.where(inside).astype("datetime64[ns]")


def describe_date_failure(label: str, text: str, day_first: bool) -> str:
    """Reason a date cell was not read: a number, out of range, in the other day/month order, or not a date."""
    if no_date_mask(pd.Series([text], dtype=object)).iloc[0]:
        return f"missing {label} ({text!r} means no date)"
    if reads_only_in_other_order(text, day_first):
        other = order_name(not day_first).split(" ")[0]
        return f"{label} {text!r} is {other}, but this file's {label}s are {order_name(day_first)}"
    if re.fullmatch(_NUMBER_TEXT, text):
        return f"{label} {text!r} is a number, not a date (Excel serials from 1970 to 2099 are read as dates)"
    year = _YEAR.search(text)
    if year and not EARLIEST_DATE.year <= int(year.group(1)) <= LATEST_DATE.year:
        return f"{label} {text!r} is outside the years {EARLIEST_DATE.year}-{LATEST_DATE.year}"
    return f"{label} {text!r} is not a date"


def _format_order(sample: pd.Series, formats: tuple[str, ...], common: tuple[str, ...]) -> list[str]:
    """Formats to try, best first: one common format that reads the whole sample settles it cheaply."""
    size = len(sample)
    scores: dict[str, int] = {}
    for fmt in common:
        scores[fmt] = int(_try_format(sample, fmt).notna().sum())
        if scores[fmt] == size:
            return [fmt]
    for fmt in formats:
        if fmt not in scores:
            scores[fmt] = int(_try_format(sample, fmt).notna().sum())
    return sorted((f for f in formats if scores[f] > 0), key=lambda f: -scores[f])


def parse_date_texts(text: pd.Series, day_first: bool = True) -> pd.Series:
    """Dates from distinct stripped strings: Excel serials, ISO, DD/MM or MM/DD (as told), DD-Mon-YYYY.

    Only the neutral formats and the chosen order's formats are tried: a value that reads only in the other
    order stays missing, so that one column never mixes both.
    """
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    blank = text.str.casefold().isin(BLANK_TOKENS) | no_date_mask(text)
    numeric = text.str.fullmatch(_NUMBER_TEXT).fillna(False).astype(bool)
    numbers = pd.to_numeric(text.where(~blank & numeric), errors="coerce")
    serials = _from_serials(numbers)
    result = result.fillna(serials)
    compact = numeric & text.str.fullmatch(r"\d{8}").fillna(False).astype(bool) & result.isna()
    if compact.any():
        result[compact] = _try_format(text[compact], "%Y%m%d")
    remaining = ~blank & ~numeric & result.isna()
    if not remaining.any():
        return result
    family = DAY_FIRST_FORMATS if day_first else MONTH_FIRST_FORMATS
    formats = (*NEUTRAL_FORMATS, *family)
    pending = text[remaining]
    # "March 3rd, 2025", "1st Feb 2025": the ordinal's letters go, the formats above read the rest.
    pending = pending.str.replace(_ORDINAL_DAY, r"\1", regex=True)
    tried: set[str] = set()
    while not pending.empty:
        untried = tuple(f for f in formats if f not in tried)
        common = tuple(f for f in ("ISO8601", family[0], "%d-%b-%Y") if f not in tried)
        order = _format_order(pending.iloc[:DATE_SAMPLE_SIZE], untried, common)
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


def parse_dates(series: pd.Series, day_first: bool | None = None) -> pd.Series:
    """Dates (datetime64[ns]) from a raw column; NaT where blank or not a date.

    ``day_first`` is the file's order for this column (``resolve_date_orders``); None decides from the column.
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_localize(None)
        return in_date_range(series)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return _from_serials(series.astype("float64"))
    if day_first is None:
        leaning = date_order_evidence(series).leaning
        day_first = True if leaning is None else leaning
    order = day_first
    return _over_uniques(series, lambda text: parse_date_texts(text, order), "datetime64[ns]")


def parse_amount_texts(text: pd.Series) -> pd.Series:
    """Amounts from distinct stripped strings: currency marks, thousands separators, accounting negatives."""
    blank = text.str.casefold().isin(BLANK_TOKENS)
    marked = text.str.replace(_CURRENCY, "", regex=True).str.replace(r"[\s\u00a0\u202f']", "", regex=True)
    parts = marked.str.extract(_SIGNED_AMOUNT)
    well_formed = (
        parts["digits"].notna()
        & (parts["open"].isna() == parts["close"].isna())
        & ~(parts["lead"].notna() & parts["trail"].notna())
    )
    negative = (
        (
            parts["open"].notna()
            | (parts["lead"] == "-")
            | (parts["trail"] == "-")
            | text.str.contains(_CREDIT_MARK, regex=True)
        )
        .fillna(False)
        .astype(bool)
    )
    core = parts["digits"].where(well_formed, "").fillna("").astype(str)
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
    """Amounts (float64) from a raw column; NaN where blank, not a number, infinite or above ``MAX_ABS_AMOUNT``."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return pd.Series(np.nan, index=series.index, dtype="float64")
    if pd.api.types.is_numeric_dtype(series.dtype):
        return _in_amount_range(series.astype("float64"))
    if pd.api.types.is_string_dtype(series.dtype):
        direct = _plain_numbers(series)
        if not (direct.isna() & series.notna()).any():
            return _in_amount_range(direct)
    return _in_amount_range(_over_uniques(series, parse_amount_texts, "float64"))


def _plain_numbers(series: pd.Series) -> pd.Series:
    """A text column read as plain numbers ("1234.5", "-7", "1e3"), NaN where a cell is not one (``to_numeric``).

    Arrow-backed text is cast by Arrow first (3-11 ms for a column of 100,000 cells where ``to_numeric`` took
    ~40 ms), and where it reads every cell it reads each as ``to_numeric`` does; a cell it refuses (" 12" with a
    space, "1,234") leaves the column to ``to_numeric``.
    """
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            cast = pc.cast(series.array.__arrow_array__(), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            return pd.Series(cast.to_numpy(), index=series.index, dtype="float64", name=series.name)
    return pd.to_numeric(series, errors="coerce").astype("float64")


def _in_amount_range(numbers: pd.Series) -> pd.Series:
    # inf, 1e308 or a 400-digit number would turn every total into infinity.
    return numbers.where(numbers.abs() <= MAX_ABS_AMOUNT)


def describe_amount_failure(text: str) -> str:
    """Reason an amount cell was not read: out of range, or not a number."""
    number = pd.to_numeric(parse_amount_texts(pd.Series([text.strip()], dtype=object)), errors="coerce").iloc[0]
    if pd.isna(number):
        number = pd.to_numeric(pd.Series([text.strip()]), errors="coerce").iloc[0]
    if pd.notna(number) and not abs(number) <= MAX_ABS_AMOUNT:
        shown = text if len(text) <= 24 else text[:20] + "..."
        return f"amount {shown!r} is out of range (above {MAX_ABS_AMOUNT:,.0f})"
    return f"amount {text!r} is not a number"
