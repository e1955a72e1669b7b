"""Test helper: small hand-made ledger frames with every contract column filled (see docs/ARCHITECTURE.md)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from finlib.names import normalise_names

DATE_COLUMNS = ("invoice_date", "due_date", "payment_date")
TEXT_COLUMNS = ("invoice_number", "sales_order_number", "pay_terms", "sales_manager", "service_type", "location")


def make_ledger(rows: list[dict[str, Any]], *, terms_days: int = 30) -> pd.DataFrame:
    """A ledger frame from partial rows: dates as ISO strings, keys derived, due date = invoice date + terms."""
    frame = pd.DataFrame(rows, columns=sorted({key for row in rows for key in row} | {"customer_name"}))
    ledger = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    ledger["source_row"] = pd.Series(range(4, len(frame) + 4), dtype="int64")
    ledger["customer_name"] = frame["customer_name"].astype("str")
    ledger["customer_key"] = normalise_names(ledger["customer_name"])
    for column in DATE_COLUMNS:
        values = frame[column] if column in frame else pd.Series([None] * len(frame))
        ledger[column] = pd.to_datetime(values).astype("datetime64[ns]")
    ledger["due_date"] = ledger["due_date"].fillna(ledger["invoice_date"] + pd.Timedelta(days=terms_days))
    for column in TEXT_COLUMNS:
        values = frame[column] if column in frame else pd.Series([None] * len(frame))
        ledger[column] = values.astype("str").where(values.notna())
    ledger["sales_manager_key"] = normalise_names(ledger["sales_manager"])
    ledger["amount"] = frame["amount"].astype("float64")
    for column in ("net_amount", "vat_amount", "total_amount"):
        ledger[column] = float("nan")
    for column in ("customer_alias", "sales_manager_alias"):
        if column in frame:
            ledger[column] = frame[column].astype("str").where(frame[column].notna())
    return ledger
