"""Tables as the pages show them: chosen columns, readable headers, and column formats for ``st.dataframe``."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

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


def invoice_column_config(table: pd.DataFrame) -> dict[str, Any]:
    """Currency-style amounts, day-first dates and whole-day counts."""
    config: dict[str, Any] = {
        "Amount": st.column_config.NumberColumn("Amount", format="accounting"),
        "Days to pay": st.column_config.NumberColumn("Days to pay", format="%d"),
        "Days overdue": st.column_config.NumberColumn("Days overdue", format="%d"),
    }
    for header in ("Invoice date", "Due date", "Paid on"):
        config[header] = st.column_config.DateColumn(header, format=DATE_FORMAT)
    return {header: value for header, value in config.items() if header in table.columns}
