"""Rows that are not loaded: layout rows skipped (empty, repeated headers, totals) and rejected rows with reasons.

Both are reported with their file row numbers; nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from finlib.ingest import schema, values

MAX_REJECTED_EXAMPLES = 20
MAX_LISTED_ROWS = 10
_TOTAL_LABEL = re.compile(r"(grand|sub)?\s*-?\s*totals?\s*:?|total (amount|due|invoiced)|total for .+", re.I)
# A transaction-type column and the values that mark a payment rather than an invoice.
TYPE_HEADERS = frozenset({"transactiontype", "type", "txntype", "documenttype", "doctype"})
PAYMENT_TYPES = frozenset({"payment", "receive payment", "customer payment", "payment received"})
Check = tuple[np.ndarray, Callable[[int], str]]


def row_list(rows: np.ndarray) -> str:
    """'row 7' or 'rows 7, 9, 12 and 3 more' (file row numbers)."""
    shown = ", ".join(str(int(r)) for r in rows[:MAX_LISTED_ROWS])
    more = f" and {len(rows) - MAX_LISTED_ROWS} more" if len(rows) > MAX_LISTED_ROWS else ""
    return f"row {shown}" if len(rows) == 1 else f"rows {shown}{more}"


def loaded_cells(body: pd.DataFrame, row_numbers: np.ndarray, source_rows: np.ndarray) -> pd.DataFrame:
    """The raw cells (``body``, whose file rows are ``row_numbers``, ascending) of the loaded rows ``source_rows``,
    in their order and indexed from 0: what a check of the ledger finds in a column the ledger does not keep."""
    return body.iloc[np.searchsorted(row_numbers, source_rows)].reset_index(drop=True)


def _per_unique(series: pd.Series, test: Callable[[pd.Series], pd.Series]) -> np.ndarray:
    """A boolean per row from a test on the column's distinct stripped texts (missing cells → False)."""
    codes, uniques = pd.factorize(series)
    verdicts = test(pd.Series(uniques, dtype=object).astype(str).str.strip())
    per_row: np.ndarray = np.append(verdicts.to_numpy(dtype=bool), False)[codes]
    return per_row


def _repeats_header(column: pd.Series) -> np.ndarray:
    """True per row where the cell repeats the column's own header (a header row inside the data)."""
    header = schema.normalise_header(column.name)
    return _per_unique(column, lambda text: text.map(schema.normalise_header) == header)


def skipped_rows(
    body: pd.DataFrame, mapping: schema.ColumnMapping, row_numbers: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Rows that are fully empty, repeated headers or totals: skipped and reported, never rejected.

    A total row has neither an invoice date nor an invoice number, carries an amount and says 'Total'
    somewhere; so a customer that is really named 'Total' keeps its invoices.
    """
    # The invoice number column is nearly all distinct: look at it only where the invoice date is blank.
    date_cells = body[mapping.source_for("invoice_date")]
    # QuickBooks puts "Total for ..." in its first column, which is the date column.
    no_keys = values.blank_mask(date_cells).to_numpy() | _per_unique(
        date_cells, lambda t: t.str.fullmatch(_TOTAL_LABEL)
    )
    number_source = mapping.source_for("invoice_number")
    if number_source is not None and no_keys.any():
        no_keys[no_keys] = values.blank_mask(body[number_source][no_keys]).to_numpy()
    # A repeated header row repeats the invoice-date header and the customer header (looked at only there).
    header_rows = _repeats_header(body[mapping.source_for("invoice_date")])
    customer_source = mapping.source_for("customer_name")
    if customer_source is not None and header_rows.any():
        header_rows[header_rows] = _repeats_header(body[customer_source][header_rows])
    empty = np.zeros(len(body), dtype=bool)
    totals = np.zeros(len(body), dtype=bool)
    candidates = np.flatnonzero(no_keys)
    if len(candidates):
        subset = body.iloc[candidates]
        all_blank = np.ones(len(subset), dtype=bool)
        labelled = np.zeros(len(subset), dtype=bool)
        for column in subset.columns:
            cells = subset[column]
            all_blank &= values.blank_mask(cells).to_numpy()
            text = cells.astype(object).where(cells.notna(), "").astype(str).str.strip()
            labelled |= text.str.fullmatch(_TOTAL_LABEL).to_numpy(dtype=bool)
        amount_sources = [s for s in map(mapping.source_for, schema.AMOUNT_SOURCES) if s]
        has_amount = np.logical_or.reduce([values.parse_amounts(subset[s]).notna().to_numpy() for s in amount_sources])
        empty[candidates] = all_blank
        totals[candidates] = labelled & has_amount & ~all_blank
    payments = _payment_rows(body, mapping)
    warnings = []
    if empty.any():
        warnings.append(f"Skipped {int(empty.sum())} empty rows.")
    for mask, what in ((header_rows, "repeated header"), (totals, "total or subtotal"), (payments, "payment")):
        if mask.any():
            count = int(mask.sum())
            rows = row_numbers[np.flatnonzero(mask)]
            warnings.append(f"Skipped {count} {what} row{'s' if count > 1 else ''} ({row_list(rows)}).")
    return empty | header_rows | totals | payments, warnings


def _payment_rows(body: pd.DataFrame, mapping: schema.ColumnMapping) -> np.ndarray:
    """Rows an unmapped type column marks as payments (QuickBooks lists them beside invoices): not invoices."""
    mapped = set(mapping.columns)
    for header in body.columns:
        if header not in mapped and schema.normalise_header(header) in TYPE_HEADERS:
            return _per_unique(body[header], lambda text: text.str.casefold().isin(PAYMENT_TYPES))
    return np.zeros(len(body), dtype=bool)


def describe_cell(raw: pd.Series | None, position: int) -> str:
    """The stripped text of a raw cell, '' when missing."""
    value = None if raw is None else raw.iloc[position]
    return "" if value is None or pd.isna(value) else str(value).strip()


def date_reason(label: str, raw: pd.Series | None, position: int, day_first: bool) -> str:
    """Why a date cell was not read: missing, not a date, or a date in the other day/month order."""
    text = describe_cell(raw, position)
    return values.describe_date_failure(label, text, day_first) if text else f"missing {label}"


def collect(
    checks: Sequence[Check],
    rows: np.ndarray,
    earlier: Sequence[tuple[int, str]] = (),
    earlier_total: int | None = None,
) -> tuple[np.ndarray, list[dict[str, Any]], int]:
    """Rows failing any check, the first examples ({"row", "reason"}, all reasons of a row joined) and the count.

    ``earlier`` are rows the reader already refused (row number, reason), possibly only the first of
    ``earlier_total``; they count and may be examples.
    """
    rejected = np.logical_or.reduce([mask for mask, _ in checks])
    examples: list[dict[str, Any]] = [{"row": int(row), "reason": reason} for row, reason in earlier]
    for position in np.flatnonzero(rejected)[:MAX_REJECTED_EXAMPLES]:
        reasons = [describe(position) for mask, describe in checks if mask[position]]
        examples.append({"row": int(rows[position]), "reason": "; ".join(reasons)})
    examples = sorted(examples, key=lambda example: example["row"])[:MAX_REJECTED_EXAMPLES]
    refused = len(earlier) if earlier_total is None else max(earlier_total, len(earlier))
    return rejected, examples, int(rejected.sum()) + refused
