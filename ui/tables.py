"""Tables as the pages show them: chosen columns, readable headers, and display formats for ``st.dataframe``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from ui.format import MISSING_TEXT, format_date

INVOICE_COLUMNS = {
    "invoice_number": "Invoice",
    "invoice_date": "Invoice date",
    "due_date": "Due date",
    "amount": "Amount",
    "payment_date": "Paid on",
    "delay_days": "Days to pay",
    "status": "Status",
    "days_overdue": "Days overdue",
    "service_type": "Service type",
    "location": "Location",
    "sales_manager": "Sales manager",
}
OPTIONAL_COLUMNS = ("invoice_number", "service_type", "location", "sales_manager")
AMOUNT_HEADERS = ("Amount",)
DAY_COUNT_HEADERS = ("Days to pay", "Days overdue")
DATE_FORMAT = "D MMM YYYY"


def invoice_table(invoices: pd.DataFrame) -> pd.DataFrame:
    """The invoice columns a reader needs, with headers in words; optional columns only when they hold values."""
    columns = [
        column for column in INVOICE_COLUMNS
        if column in invoices.columns and (column not in OPTIONAL_COLUMNS or invoices[column].notna().any())
    ]
    table = invoices[columns].rename(columns=INVOICE_COLUMNS)
    if "Status" in table.columns:
        table["Status"] = table["Status"].str.capitalize()
    return table.reset_index(drop=True)


def invoice_display(table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The invoice table for ``st.dataframe`` and its column config: blanks read "—", never a grey "None".

    The grid draws any missing cell as "None" whatever the column's format, so a column with blanks is shown as
    text (dates as ``7 Jul 2025``, days as whole numbers, right-aligned); a column without blanks keeps its type
    and formats, so it sorts by value. The download uses ``table`` itself, with real dates and numbers.
    """
    shown = table.copy()
    config: dict[str, Any] = {}
    for header in table.columns:
        values = table[header]
        blanks = bool(values.isna().any())
        is_date = pd.api.types.is_datetime64_any_dtype(values)
        if header in AMOUNT_HEADERS and not blanks:
            config[header] = st.column_config.NumberColumn(header, format="accounting")
        elif header in DAY_COUNT_HEADERS and not blanks:
            config[header] = st.column_config.NumberColumn(header, format="%d")
        elif is_date and not blanks:
            config[header] = st.column_config.DateColumn(header, format=DATE_FORMAT)
        elif blanks:
            shown[header] = values.map(_cell_text(header, is_date), na_action="ignore").astype(object)
            shown[header] = shown[header].where(values.notna(), MISSING_TEXT)
            numeric = header in AMOUNT_HEADERS or header in DAY_COUNT_HEADERS
            config[header] = st.column_config.TextColumn(header, alignment="right" if numeric else None)
    return shown, config


def _cell_text(header: str, is_date: bool) -> Callable[[Any], str]:
    if is_date:
        return format_date
    if header in AMOUNT_HEADERS:
        return lambda value: f"{value:,.2f}"
    if header in DAY_COUNT_HEADERS:
        return lambda value: f"{value:,.0f}"
    return str
