"""Raw ledger files → the ledger frame (see docs/ARCHITECTURE.md) and a ParseReport of what was read and skipped."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from finlib import names, readers, schema, values
from finlib.config import Settings
from finlib.errors import MissingColumnsError, ParseError

LEDGER_DTYPES: dict[str, str] = {
    "source_row": "int64",
    "customer_name": "str",
    "customer_key": "str",
    "invoice_date": "datetime64[ns]",
    "invoice_number": "str",
    "sales_order_number": "str",
    "pay_terms": "str",
    "due_date": "datetime64[ns]",
    "net_amount": "float64",
    "vat_amount": "float64",
    "total_amount": "float64",
    "amount": "float64",
    "payment_date": "datetime64[ns]",
    "sales_manager": "str",
    "sales_manager_key": "str",
    "service_type": "str",
    "location": "str",
}
LEDGER_COLUMNS = tuple(LEDGER_DTYPES)
# Repetitive text columns, kept as categoricals until ``expand_ledger`` (the sandbox hands them over that way).
COMPACT_COLUMNS = (
    "customer_name",
    "customer_key",
    "pay_terms",
    "sales_manager",
    "sales_manager_key",
    "service_type",
    "location",
)
# Raw columns read as categoricals (dictionary-encoded by the CSV reader): few distinct values, parsed per value.
_REPETITIVE_SOURCES = frozenset(
    {
        "customer_name",
        "invoice_date",
        "due_date",
        "payment_date",
        "sales_manager",
        "pay_terms",
        "service_type",
        "location",
    }
)
MAX_REJECTED_EXAMPLES = 20
TYPE_SAMPLE_ROWS = 500
_TOTAL_LABEL = re.compile(r"(grand|sub)?\s*-?\s*totals?\s*:?|total (amount|due|invoiced)", re.I)
_IMMEDIATE_TERMS = r"(?i)immediate|on receipt|upon receipt|\bcod\b|cash"
_UNNAMED = re.compile(r"^(unnamed: ?\d+|__unnamed__\d+|column_?\d+)$", re.I)


@dataclass
class ParseReport:
    """What parsing found: format, header position, column mapping, row counts, rejected rows, warnings."""

    format: str
    sheet: str | None
    header_row: int
    mapping: dict[str, str]
    unmapped_columns: list[str]
    rows_read: int
    rows_loaded: int
    rejected_count: int
    rejected_examples: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParseReport:
        """Inverse of ``to_dict``."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class _Table:
    body: pd.DataFrame
    row_numbers: np.ndarray
    mapping: schema.ColumnMapping
    headers: list[str]
    header_row: int
    sheet: str | None
    rejected: list[tuple[int, str]]


def _clean_headers(cells: pd.Series) -> tuple[list[str], list[int]]:
    """Header texts and the positions kept: blank and unnamed columns dropped, duplicates numbered."""
    headers: list[str] = []
    positions: list[int] = []
    seen: dict[str, int] = {}
    for position, cell in enumerate(cells.tolist()):
        text = " ".join(str(cell).split()) if cell is not None and not pd.isna(cell) else ""
        if not text or _UNNAMED.match(text):
            continue
        seen[text] = seen.get(text, 0) + 1
        headers.append(text if seen[text] == 1 else f"{text} ({seen[text]})")
        positions.append(position)
    return headers, positions


def _score(mapping: Mapping[str, str] | None) -> Any:
    return lambda cells: schema.score_header(cells, mapping)


def _excel_table(path: Path, fmt: str, mapping: Mapping[str, str] | None) -> _Table:
    first_failure: Exception | None = None
    for grid in readers.iter_excel_grids(path, fmt):
        if grid.cells.empty:
            continue
        header_index = readers.find_header_row(grid.cells, _score(mapping))
        headers, positions = _clean_headers(grid.cells.iloc[header_index])
        body = grid.cells.iloc[header_index + 1 :, positions]
        body.columns = headers
        try:
            detected = schema.detect_mapping(headers, body.iloc[:TYPE_SAMPLE_ROWS], mapping)
            schema.require_columns(detected, headers)
        except ParseError as exc:
            first_failure = first_failure or exc
            continue
        rows = grid.row_numbers[header_index + 1 :]
        return _Table(body, rows, detected, headers, int(grid.row_numbers[header_index]), grid.sheet, [])
    if first_failure is not None:
        raise first_failure
    raise ParseError("The workbook has no sheet with data. Check that the right file was chosen.")


def _csv_table(path: Path, mapping: Mapping[str, str] | None) -> _Table:
    text = readers.sniff_csv(path)
    if text.preview.empty:
        raise ParseError("The file is empty. Export the ledger again and retry.")
    header_index = readers.find_header_row(text.preview, _score(mapping))
    headers, positions = _clean_headers(text.preview.iloc[header_index])
    sample = text.preview.iloc[header_index + 1 : header_index + 1 + TYPE_SAMPLE_ROWS, positions]
    sample.columns = headers
    detected = schema.detect_mapping(headers, sample, mapping)
    schema.require_columns(detected, headers)
    widths = text.widths[header_index:]
    width = int(pd.Series(widths).mode().max())
    numeric = {positions[i] for i, h in enumerate(headers) if detected.columns.get(h) in schema.AMOUNT_COLUMNS}
    repetitive = {positions[i] for i, h in enumerate(headers) if detected.columns.get(h) in _REPETITIVE_SOURCES}
    text_columns = set(range(width)) - numeric
    grid = readers.read_csv_body(
        text, text.line_numbers[header_index], width, text_columns, dictionary_columns=repetitive & text_columns
    )
    body = grid.cells[[p for p in positions if p < width]]
    body.columns = headers[: body.shape[1]]
    header_line = text.line_numbers[header_index]
    return _Table(body, grid.row_numbers, detected, headers, header_line, None, grid.rejected)


def _text_column(series: pd.Series | None, length: int) -> pd.Series:
    if series is None:
        return pd.Series(np.nan, index=range(length), dtype="str")
    text = series.reset_index(drop=True)
    if not pd.api.types.is_string_dtype(text.dtype) or text.dtype == object:
        text = text.astype(object).where(text.notna(), None).astype("str")
    text = text.str.strip()
    return text.where(text != "")


def _names_with_keys(series: pd.Series | None, length: int) -> tuple[pd.Series, pd.Series]:
    """Display spelling (most frequent per key) and key per row, as categoricals computed on unique spellings."""
    if series is None:
        return _missing_categorical(length), _missing_categorical(length)
    codes, uniques = pd.factorize(series)
    raw = pd.Series(uniques, dtype=object).astype(str)
    cleaned = names.clean_display_names(raw)
    cleaned = cleaned.where(cleaned != "")
    keys = names.normalise_names(cleaned)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    spellings = pd.DataFrame({"key": keys, "name": cleaned, "count": counts}).dropna()
    totals = spellings.groupby(["key", "name"], sort=False)["count"].sum().reset_index()
    best = totals.sort_values("count", ascending=False, kind="stable").drop_duplicates("key").set_index("key")["name"]
    display = keys.map(best)
    return _categorical(display, codes), _categorical(keys, codes)


def _categorical(per_unique: pd.Series, codes: np.ndarray) -> pd.Series:
    """Per-row categorical from per-unique strings (code -1 or a missing string → missing), no string per row."""
    value_codes, values = pd.factorize(per_unique.astype(object).where(per_unique.notna(), None))
    lookup = np.append(value_codes, -1).astype(np.int32)
    categories = pd.Index(pd.array(list(values), dtype="str"))
    return pd.Series(pd.Categorical.from_codes(lookup[codes], categories=categories))


def _missing_categorical(length: int) -> pd.Series:
    categories = pd.Index(pd.array([], dtype="str"))
    return pd.Series(pd.Categorical.from_codes(np.full(length, -1, dtype=np.int32), categories=categories))


def _text_categories(series: pd.Series | None, length: int) -> pd.Series:
    """``_text_column`` for repetitive text (terms, service, location): cleaned once per distinct value."""
    if series is None:
        return _missing_categorical(length)
    codes, uniques = pd.factorize(series.reset_index(drop=True))
    return _categorical(_text_column(pd.Series(uniques), len(uniques)), codes)


def expand_ledger(compact: pd.DataFrame) -> pd.DataFrame:
    """The ledger frame (``LEDGER_DTYPES``) from its compact form, whose repetitive text columns are categoricals.

    Categoricals are decoded through Arrow: pandas' own categorical → str conversion builds a Python string per
    row (~0.4 s per column at a million rows), Arrow's dictionary decode takes ~0.015 s.
    """
    import pyarrow as pa

    columns: dict[str, pd.Series] = {}
    for name in compact.columns:
        column = compact[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            decoded = pa.array(column.array).dictionary_decode().to_pandas()
            column = pd.Series(decoded.array, index=column.index, name=name)
        columns[name] = column
    ledger = pd.DataFrame(columns, index=compact.index)
    mismatched = {c: d for c, d in LEDGER_DTYPES.items() if c in ledger.columns and ledger[c].dtype != d}
    return ledger.astype(mismatched) if mismatched else ledger


def _skipped_rows(body: pd.DataFrame, table: _Table) -> tuple[np.ndarray, list[str]]:
    """Rows that are fully empty, repeated headers or totals: skipped and counted, never rejected."""
    customer = body[table.mapping.source_for("customer_name")]
    invoice_date = body[table.mapping.source_for("invoice_date")]
    suspicious = (values.blank_mask(customer) | values.blank_mask(invoice_date)).to_numpy()
    codes, uniques = pd.factorize(customer)
    unique_text = pd.Series(uniques, dtype=object).astype(str).str.strip()
    header_text = schema.normalise_header(table.mapping.source_for("customer_name"))
    is_label = unique_text.str.fullmatch(_TOTAL_LABEL) | (unique_text.map(schema.normalise_header) == header_text)
    label_rows = np.append(is_label.to_numpy(dtype=bool), False)[codes]
    empty = np.zeros(len(body), dtype=bool)
    totals = label_rows.copy()
    candidates = np.flatnonzero(suspicious & ~label_rows)
    if len(candidates):
        subset = body.iloc[candidates]
        all_blank = np.ones(len(subset), dtype=bool)
        any_total = np.zeros(len(subset), dtype=bool)
        for column in subset.columns:
            cells = subset[column]
            all_blank &= values.blank_mask(cells).to_numpy()
            text = cells.astype(object).where(cells.notna(), "").astype(str).str.strip()
            any_total |= text.str.fullmatch(_TOTAL_LABEL).to_numpy(dtype=bool)
        empty[candidates] = all_blank
        totals[candidates] |= any_total & ~all_blank
    warnings = []
    if empty.sum():
        warnings.append(f"Skipped {int(empty.sum())} empty rows.")
    if totals.sum():
        warnings.append(f"Skipped {int(totals.sum())} header or total rows (such as 'Total' or 'Grand Total').")
    return empty | totals, warnings


def _terms_days(pay_terms: pd.Series, default_days: int) -> pd.Series:
    codes, uniques = pd.factorize(pay_terms)
    text = pd.Series(uniques, dtype=object).astype(str)
    days = pd.to_numeric(text.str.extract(r"(\d{1,4})", expand=False), errors="coerce")
    days = days.where(~(days.isna() & text.str.contains(_IMMEDIATE_TERMS, regex=True)), 0.0)
    lookup = np.append(days.fillna(default_days).to_numpy(dtype="float64"), float(default_days))
    return pd.Series(lookup[codes])


def _raw(body: pd.DataFrame, table: _Table, canonical: str) -> pd.Series | None:
    source = table.mapping.source_for(canonical)
    return body[source].reset_index(drop=True) if source in body.columns else None


def _describe(raw: pd.Series | None, position: int) -> str:
    value = None if raw is None else raw.iloc[position]
    return "" if value is None or pd.isna(value) else str(value).strip()


def _build_ledger(table: _Table, settings: Settings) -> tuple[pd.DataFrame, list[dict[str, Any]], int, list[str]]:
    # Columns read through their unique values are factorised once, as categories, instead of at every step.
    for canonical in ("customer_name", "invoice_date", "due_date", "payment_date", "sales_manager"):
        source = table.mapping.source_for(canonical)
        if source is not None and table.body[source].dtype != "category":
            table.body[source] = table.body[source].astype("category")
    skip, warnings = _skipped_rows(table.body, table)
    body = table.body[~skip]
    rows = table.row_numbers[~skip]
    n = len(body)
    raw = {c: _raw(body, table, c) for c in schema.CANONICAL_COLUMNS}

    def dates(canonical: str) -> pd.Series:
        column = raw[canonical]
        if column is None:
            return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
        return values.parse_dates(column)

    def amounts(canonical: str) -> pd.Series:
        column = raw[canonical]
        return pd.Series(np.nan, index=range(n), dtype="float64") if column is None else values.parse_amounts(column)

    customer, customer_key = _names_with_keys(raw["customer_name"], n)
    invoice_date = dates("invoice_date")
    net, vat, total = amounts("net_amount"), amounts("vat_amount"), amounts("total_amount")
    amount = total.where(total.notna(), net + vat.fillna(0.0))
    bad_customer = customer_key.isna().to_numpy()
    bad_date = invoice_date.isna().to_numpy()
    bad_amount = amount.isna().to_numpy()
    rejected_mask = bad_customer | bad_date | bad_amount
    examples: list[dict[str, Any]] = [{"row": int(r), "reason": reason} for r, reason in table.rejected]
    for position in np.flatnonzero(rejected_mask)[:MAX_REJECTED_EXAMPLES]:
        reasons = []
        if bad_customer[position]:
            reasons.append("missing customer name")
        if bad_date[position]:
            text = _describe(raw["invoice_date"], position)
            reasons.append(f"invoice date {text!r} is not a date" if text else "missing invoice date")
        if bad_amount[position]:
            sources = [s for s in ("total_amount", "net_amount") if raw[s] is not None]
            text = next((t for t in (_describe(raw[s], position) for s in sources) if t), "")
            reasons.append(f"amount {text!r} is not a number" if text else "missing amount")
        examples.append({"row": int(rows[position]), "reason": "; ".join(reasons)})
    examples = sorted(examples, key=lambda e: e["row"])[:MAX_REJECTED_EXAMPLES]
    rejected_count = int(rejected_mask.sum()) + len(table.rejected)

    due = dates("due_date")
    payment = dates("payment_date")
    for label, parsed, canonical in (("due dates", due, "due_date"), ("payment dates", payment, "payment_date")):
        column = raw[canonical]
        if column is None:
            continue
        unreadable = (parsed.isna() & ~values.blank_mask(column)).to_numpy() & ~rejected_mask
        if unreadable.any():
            first = int(np.flatnonzero(unreadable)[0])
            warnings.append(
                f"{int(unreadable.sum())} {label} could not be read as dates and were left empty "
                f"(first at row {int(rows[first])}: {_describe(column, first)!r})."
            )
    pay_terms = _text_categories(raw["pay_terms"], n)
    terms = _terms_days(pay_terms, settings.default_terms_days)
    due = due.fillna(invoice_date + pd.to_timedelta(terms, unit="D"))
    manager, manager_key = _names_with_keys(raw["sales_manager"], n)
    ledger = pd.DataFrame(
        {
            "source_row": rows.astype("int64"),
            "customer_name": customer,
            "customer_key": customer_key,
            "invoice_date": invoice_date,
            "invoice_number": _text_column(raw["invoice_number"], n),
            "sales_order_number": _text_column(raw["sales_order_number"], n),
            "pay_terms": pay_terms,
            "due_date": due,
            "net_amount": net,
            "vat_amount": vat,
            "total_amount": total,
            "amount": amount,
            "payment_date": payment,
            "sales_manager": manager,
            "sales_manager_key": manager_key,
            "service_type": _text_categories(raw["service_type"], n),
            "location": _text_categories(raw["location"], n),
        }
    )
    if rejected_mask.any():
        ledger = ledger[~rejected_mask].reset_index(drop=True)
    mismatched = {c: d for c, d in LEDGER_DTYPES.items() if c not in COMPACT_COLUMNS and ledger[c].dtype != d}
    if mismatched:
        ledger = ledger.astype(mismatched)
    return ledger, examples, rejected_count, warnings


def empty_ledger() -> pd.DataFrame:
    """A ledger frame with no rows and the contract's columns and dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in LEDGER_DTYPES.items()})


def parse_ledger(
    path: Path,
    *,
    settings: Settings,
    filename: str | None = None,
    mapping: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, ParseReport]:
    """Read a ledger file (xlsx, xls or CSV) in this process into the ledger frame and its ParseReport."""
    compact, report = parse_ledger_compact(path, settings=settings, filename=filename, mapping=mapping)
    return expand_ledger(compact), report


def parse_ledger_compact(
    path: Path,
    *,
    settings: Settings,
    filename: str | None = None,
    mapping: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, ParseReport]:
    """``parse_ledger`` with ``COMPACT_COLUMNS`` left as categoricals (what the sandbox child hands over)."""
    path = Path(path)
    fmt = readers.detect_format(path, filename)
    table = _csv_table(path, mapping) if fmt == "csv" else _excel_table(path, fmt, mapping)
    ledger, examples, rejected_count, warnings = _build_ledger(table, settings)
    warnings = table.mapping.warnings + warnings
    if rejected_count:
        warnings.append(f"{rejected_count} rows could not be read and were left out; see the rejected examples.")
    report = ParseReport(
        format=fmt,
        sheet=table.sheet,
        header_row=table.header_row,
        mapping=dict(table.mapping.columns),
        unmapped_columns=list(table.mapping.unmapped),
        rows_read=len(table.body) + len(table.rejected),
        rows_loaded=len(ledger),
        rejected_count=rejected_count,
        rejected_examples=examples,
        warnings=warnings,
    )
    return ledger, report


__all__ = [
    "COMPACT_COLUMNS",
    "LEDGER_COLUMNS",
    "LEDGER_DTYPES",
    "MissingColumnsError",
    "ParseReport",
    "empty_ledger",
    "expand_ledger",
    "parse_ledger",
    "parse_ledger_compact",
]
