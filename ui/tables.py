"""Tables as the pages show them: chosen columns, readable headers, and display formats for ``st.dataframe``."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from finlib.currency import Currency
from ui.format import amount_header

INVOICE_COLUMNS = {
    "customer_name": "Customer",
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
# A table sends every row it lists to the browser (about 130 bytes each): a large account's quarter of a million
# invoices were 33 MB per page run. Past this many a page lists the first and its CSV download holds them all.
MAX_TABLE_ROWS = 10_000


def invoice_table(invoices: pd.DataFrame, *, with_customer: bool = True) -> pd.DataFrame:
    """The invoice columns a reader needs, with headers in words; optional columns only when they hold values."""
    columns = [
        column
        for column in INVOICE_COLUMNS
        if column in invoices.columns
        and (column not in OPTIONAL_COLUMNS or invoices[column].notna().any())
        and (with_customer or column != "customer_name")
    ]
    table = invoices[columns].rename(columns=INVOICE_COLUMNS)
    if "Status" in table.columns:
        table["Status"] = table["Status"].str.capitalize()
    return table.reset_index(drop=True)


def invoice_display(table: pd.DataFrame, currency: Currency | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The invoice table for ``st.dataframe`` and its column config; columns keep their types so they sort by value.

    Blanks (unpaid invoices have no payment date or days to pay) are drawn as ``MISSING_TEXT`` by passing
    ``placeholder=MISSING_TEXT`` to ``st.dataframe``.
    """
    config: dict[str, Any] = {}
    for header in table.columns:
        if header in AMOUNT_HEADERS:
            config[header] = st.column_config.NumberColumn(amount_header(header, currency), format="accounting")
        elif header in DAY_COUNT_HEADERS:
            config[header] = st.column_config.NumberColumn(header, format="%d")
        elif pd.api.types.is_datetime64_any_dtype(table[header]):
            config[header] = st.column_config.DateColumn(header, format=DATE_FORMAT)
    return table, config
