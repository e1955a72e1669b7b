"""Raw ledger files → the ledger frame (see docs/ARCHITECTURE.md) and a ParseReport of what was read and skipped."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from finlib.config import ParseSettings, Settings
from finlib.errors import MissingColumnsError, ParseError
from finlib.ingest import (
    date_order,
    delimited,
    duplicates,
    mixed_currency,
    open_amounts,
    plausibility,
    readers,
    rejections,
    schema,
    structured,
    values,
)
from finlib.ingest.ledger import (
    COMPACT_COLUMNS,
    EXTRA_PREFIX,
    LEDGER_COLUMNS,
    LEDGER_DTYPES,
    empty_ledger,
    expand_ledger,
    extra_column_name,
    is_category_like,
    names_with_keys,
    text_categories,
    text_column,
)
from finlib.ingest.report import ParseReport

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
_DATE_SOURCES = ("invoice_date", "due_date", "payment_date")
TYPE_SAMPLE_ROWS = 500
BLANK_CHECK_HEAD = 1000  # rows looked at before a whole column is read for blanks
_IMMEDIATE_TERMS = r"(?i)immediate|on receipt|upon receipt|\bcod\b|cash"
_UNNAMED = re.compile(r"^(unnamed: ?\d+|__unnamed__\d+|column_?\d+)$", re.I)


@dataclass
class _Table:
    body: pd.DataFrame
    row_numbers: np.ndarray
    mapping: schema.ColumnMapping
    headers: list[str]
    header_row: int
    sheet: str | None
    rejected: list[tuple[int, str]]
    rejected_total: int = 0  # rows the reader refused, of which ``rejected`` lists the first (with line numbers)
    warnings: list[str] = field(default_factory=list)


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


def _excel_table(path: Path, fmt: str, mapping: Mapping[str, str] | None, display_name: str) -> _Table:
    first_failure: Exception | None = None
    for grid in readers.iter_excel_grids(path, fmt, display_name):
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
        _refuse_unsaved_formulas(path, fmt, grid.sheet, body, detected, display_name)
        rows = grid.row_numbers[header_index + 1 :]
        return _Table(body, rows, detected, headers, int(grid.row_numbers[header_index]), grid.sheet, [])
    if first_failure is not None:
        raise first_failure
    raise ParseError("The workbook has no sheet with data. Check that the right file was chosen.")


def _refuse_unsaved_formulas(
    path: Path, fmt: str, sheet: str | None, body: pd.DataFrame, detected: schema.ColumnMapping, display_name: str
) -> None:
    """Refuse a workbook whose ledger columns are empty because their formulas' results were never saved.

    A workbook written by a program (not saved by Excel) holds formulas without results; read as empty cells,
    a Total column would silently fall back to the net amount. The sheet's XML is scanned only when an amount,
    invoice date or due date column is empty throughout (a payment date column may well be).
    """
    if fmt != "xlsx":
        return
    computed = schema.AMOUNT_COLUMNS | {"invoice_date", "due_date"}
    empty = [
        h
        for h, canonical in detected.columns.items()
        if canonical in computed and h in body.columns and _blank_throughout(body[h])
    ]
    if empty and len(body) and readers.has_unsaved_formulas(path, sheet):
        named = ", ".join(repr(h) for h in empty)
        raise ParseError(
            f"{display_name}: column{'s' if len(empty) > 1 else ''} {named} of sheet {sheet!r} "
            f"{'are' if len(empty) > 1 else 'is'} empty because the workbook holds formulas whose results were "
            "never saved (it was written by a program, not saved by Excel). Open it in Excel and save it, or "
            "export it as CSV, then retry."
        )


def _blank_throughout(column: pd.Series) -> bool:
    """Whether every cell is blank; the first rows usually settle it without reading the whole column."""
    if not bool(values.blank_mask(column.iloc[:BLANK_CHECK_HEAD]).all()):
        return False
    return bool(values.blank_mask(column).all())


def _csv_table(path: Path, mapping: Mapping[str, str] | None, display_name: str) -> _Table:
    text = delimited.sniff_csv(path, display_name)
    if text.preview.empty:
        raise ParseError(f"{display_name} is empty. Export the ledger again and retry.")
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
    grid = delimited.read_csv_body(
        text, text.line_numbers[header_index], width, text_columns, dictionary_columns=repetitive & text_columns
    )
    body = grid.cells[[p for p in positions if p < width]]
    body.columns = headers[: body.shape[1]]
    header_line = text.line_numbers[header_index]
    total = max(grid.rejected_total, len(grid.rejected))
    return _Table(body, grid.row_numbers, detected, headers, header_line, None, grid.rejected, total, text.warnings)


def _frame_table(frame: pd.DataFrame, mapping: Mapping[str, str] | None, display_name: str) -> _Table:
    """A typed table (Parquet, JSON) whose column names are the headers; row N is the N-th record."""
    if frame.shape[1] == 0:
        raise ParseError(f"{display_name} has no columns. Export the ledger again and retry.")
    headers, positions = _clean_headers(pd.Series(list(frame.columns), dtype=object))
    body = frame.iloc[:, positions].reset_index(drop=True)
    body.columns = headers
    detected = schema.detect_mapping(headers, body.iloc[:TYPE_SAMPLE_ROWS], mapping)
    schema.require_columns(detected, headers)
    rows = np.arange(1, len(body) + 1, dtype="int64")
    return _Table(body, rows, detected, headers, 0, None, [])


def _terms_days(pay_terms: pd.Series, default_days: int) -> pd.Series:
    codes, uniques = pd.factorize(pay_terms)
    text = pd.Series(uniques, dtype=object).astype(str)
    days = pd.to_numeric(text.str.extract(r"(\d{1,4})", expand=False), errors="coerce")
    days = days.where(~(days.isna() & text.str.contains(_IMMEDIATE_TERMS, regex=True)), 0.0)
    lookup = np.append(days.fillna(default_days).to_numpy(dtype="float64"), float(default_days))
    return pd.Series(lookup[codes])


def _raw(body: pd.DataFrame, source: str | None) -> pd.Series | None:
    return body[source].reset_index(drop=True) if source in body.columns else None


@dataclass
class _RawColumns:
    """A table's raw canonical columns (None where absent), parsed and explained one column at a time."""

    raw: dict[str, pd.Series | None]
    length: int
    day_first: bool

    def dates(self, canonical: str) -> pd.Series:
        column = self.raw[canonical]
        if column is None:
            return pd.Series(pd.NaT, index=range(self.length), dtype="datetime64[ns]")
        return values.parse_dates(column, self.day_first)

    def amounts(self, canonical: str) -> pd.Series:
        column = self.raw[canonical]
        if column is None:
            return pd.Series(np.nan, index=range(self.length), dtype="float64")
        return values.parse_amounts(column)

    def unreadable(self, canonical: str, parsed: pd.Series) -> np.ndarray:
        """Cells that hold something (not blank, not an ERP "no date") that did not parse."""
        column = self.raw[canonical]
        if column is None:
            return np.zeros(self.length, dtype=bool)
        unparsed: np.ndarray = (parsed.isna() & ~values.blank_mask(column, dates=True)).to_numpy()
        return unparsed

    def amount_reason(self, position: int) -> str:
        sources = [s for s in ("total_amount", "net_amount") if self.raw[s] is not None]
        text = next((t for t in (rejections.describe_cell(self.raw[s], position) for s in sources) if t), "")
        return values.describe_amount_failure(text) if text else "missing amount"

    def date_reason(self, label: str, canonical: str) -> Callable[[int], str]:
        return lambda position: rejections.date_reason(label, self.raw[canonical], position, self.day_first)


def _build_ledger(table: _Table, settings: ParseSettings) -> tuple[pd.DataFrame, list[dict[str, Any]], int, list[str]]:
    mapping = table.mapping
    fallback_source = mapping.fallbacks.get("customer_name")
    # Columns read through their unique values are factorised once, as categories, instead of at every step.
    sources = [mapping.source_for(c) for c in ("customer_name", *_DATE_SOURCES, "sales_manager")]
    for source in sources:
        if source is not None and table.body[source].dtype != "category":
            table.body[source] = table.body[source].astype("category")
    skip, warnings = rejections.skipped_rows(table.body, mapping, table.row_numbers)
    body = table.body[~skip]
    rows = table.row_numbers[~skip]
    n = len(body)
    raw = {c: _raw(body, mapping.source_for(c)) for c in schema.CANONICAL_COLUMNS}
    dated: dict[str, pd.Series] = {}
    for canonical in _DATE_SOURCES:
        if (column := raw[canonical]) is not None:
            dated[mapping.source_for(canonical) or canonical] = column
    order = date_order.resolve_date_order(dated)
    warnings.extend(order.warnings)

    cells = _RawColumns(raw, n, order.day_first)
    dates, amounts, unreadable = cells.dates, cells.amounts, cells.unreadable
    customer, customer_key = names_with_keys(
        values.fill_blank_cells(raw["customer_name"], _raw(body, fallback_source)), n
    )
    invoice_date = dates("invoice_date")
    net, vat, total = amounts("net_amount"), amounts("vat_amount"), amounts("total_amount")
    amount = total.where(total.notna(), net + vat.fillna(0.0))
    payment = dates("payment_date")

    amount_reason, date_reason = cells.amount_reason, cells.date_reason
    # An unreadable payment date is not "unpaid": the row is rejected rather than inflating outstanding amounts.
    rejected_mask, examples, rejected_count = rejections.collect(
        [
            (customer_key.isna().to_numpy(), lambda position: "missing customer name"),
            (invoice_date.isna().to_numpy(), date_reason("invoice date", "invoice_date")),
            (amount.isna().to_numpy(), amount_reason),
            (unreadable("payment_date", payment), date_reason("payment date", "payment_date")),
            *plausibility.checks(invoice_date, payment),
        ],
        rows,
        table.rejected,
        table.rejected_total,
    )
    warnings.extend(plausibility.no_date_warnings({c: raw[c] for c in _DATE_SOURCES}))

    due = dates("due_date")
    bad_due = np.flatnonzero(unreadable("due_date", due) & ~rejected_mask)
    warnings.extend(_unread_due_dates(raw["due_date"], bad_due, rows, order.day_first))
    pay_terms = text_categories(raw["pay_terms"], n)
    terms = _terms_days(pay_terms, settings.default_terms_days)
    due = due.fillna(invoice_date + pd.to_timedelta(terms, unit="D"))
    manager, manager_key = names_with_keys(raw["sales_manager"], n)
    ledger = pd.DataFrame(
        {
            "source_row": rows.astype("int64"),
            "customer_name": customer,
            "customer_key": customer_key,
            "invoice_date": invoice_date,
            "invoice_number": text_column(raw["invoice_number"], n),
            "sales_order_number": text_column(raw["sales_order_number"], n),
            "pay_terms": pay_terms,
            "due_date": due,
            "net_amount": net,
            "vat_amount": vat,
            "total_amount": total,
            "amount": amount,
            "payment_date": payment,
            "sales_manager": manager,
            "sales_manager_key": manager_key,
            "service_type": text_categories(raw["service_type"], n),
            "location": text_categories(raw["location"], n),
        }
    )
    for header in _extra_headers(body, mapping):
        ledger[extra_column_name(header)] = text_categories(body[header], n)
    if rejected_mask.any():
        ledger = ledger[~rejected_mask].reset_index(drop=True)
    mismatched = {c: d for c, d in LEDGER_DTYPES.items() if c not in COMPACT_COLUMNS and ledger[c].dtype != d}
    if mismatched:
        ledger = ledger.astype(mismatched)
    return ledger, examples, rejected_count, warnings


def _unread_due_dates(raw: pd.Series | None, bad: np.ndarray, rows: np.ndarray, day_first: bool) -> list[str]:
    """The warning for due dates that did not read (they fall back to the terms), naming rows and the first."""
    if raw is None or not len(bad):
        return []
    first = rejections.date_reason("due date", raw, int(bad[0]), day_first)
    return [
        f"{len(bad)} due date{'s' if len(bad) > 1 else ''} could not be read and were taken from the pay "
        f"terms or the default terms instead ({rejections.row_list(rows[bad])}; first: {first})."
    ]


def _extra_headers(body: pd.DataFrame, mapping: schema.ColumnMapping) -> list[str]:
    """Unmapped columns that read as categories, in file order."""
    return [h for h in mapping.unmapped if h in body.columns and is_category_like(body[h])]


def parse_ledger(
    path: Path,
    *,
    settings: Settings | ParseSettings,
    filename: str | None = None,
    mapping: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, ParseReport]:
    """Read a ledger file (xlsx, xls or CSV) in this process into the ledger frame and its ParseReport."""
    compact, report = parse_ledger_compact(path, settings=settings, filename=filename, mapping=mapping)
    return expand_ledger(compact), report


def parse_ledger_compact(
    path: Path,
    *,
    settings: Settings | ParseSettings,
    filename: str | None = None,
    mapping: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, ParseReport]:
    """``parse_ledger`` with ``COMPACT_COLUMNS`` left as categoricals (what the sandbox child hands over)."""
    path = Path(path)
    fmt = readers.detect_format(path, filename)
    shown = filename or path.name
    if fmt == "csv":
        table = _csv_table(path, mapping, shown)
    elif fmt in ("parquet", "json"):
        table = _frame_table(structured.read_frame(path, fmt, shown), mapping, shown)
    else:
        table = _excel_table(path, fmt, mapping, shown)
    if len(table.body) == 0 and not table.rejected_total:
        raise ParseError(
            f"{shown} has a header row ({', '.join(table.headers[:4])}{', ...' if len(table.headers) > 4 else ''}) "
            "but no invoice rows below it. "
            "Export the ledger again with its rows."
        )
    ledger, examples, rejected_count, warnings = _build_ledger(table, ParseSettings.of(settings))
    payments = plausibility.payment_findings(ledger, table.mapping.source_for("payment_date") is not None)
    warnings = table.warnings + table.mapping.warnings + warnings + payments.warnings
    figure_notes = [
        *duplicates.repeated_rows_warning(ledger, table.body, table.row_numbers),
        *open_amounts.open_amount_warning(ledger, table.body, table.row_numbers, table.mapping),
        *mixed_currency.mixed_currency_warning(ledger, table.body, table.row_numbers, table.mapping.unmapped),
    ]
    warnings += figure_notes
    if rejected_count:
        warnings.append(f"{rejected_count} rows could not be read and were left out; see the rejected examples.")
    extra = [c[len(EXTRA_PREFIX) :] for c in ledger.columns if c.startswith(EXTRA_PREFIX)]
    report = ParseReport(
        format=fmt,
        sheet=table.sheet,
        header_row=table.header_row,
        mapping=dict(table.mapping.columns),
        unmapped_columns=list(table.mapping.unmapped),
        rows_read=len(table.body) + max(table.rejected_total, len(table.rejected)),
        rows_loaded=len(ledger),
        rejected_count=rejected_count,
        rejected_examples=examples,
        warnings=warnings,
        fallback_columns={source: canonical for canonical, source in table.mapping.fallbacks.items()},
        extra_columns=extra,
        payment_dates=payments.payment_dates,
        prepayments=payments.prepayments,
        figure_notes=figure_notes,
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
