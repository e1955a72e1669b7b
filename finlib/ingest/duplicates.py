"""Rows that repeat an earlier row in every cell: an export appended to itself counts each invoice twice."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.util import hash_array

from finlib.ingest.rejections import loaded_cells, row_list


def repeated_rows_warning(ledger: pd.DataFrame, body: pd.DataFrame, row_numbers: np.ndarray) -> list[str]:
    """A warning naming the loaded rows whose every cell (mapped or not) repeats an earlier row with an invoice
    number; empty when there are none. They stay loaded: two identical lines can be real, a double export not.

    Candidates are found on the ledger's numbers (customer, invoice date, amount) first, so the text of the
    raw rows is compared only for rows that already agree on those.
    """
    numbered = ledger["invoice_number"].notna().to_numpy()
    if len(ledger) < 2 or not numbered.any():
        return []
    # One 64-bit hash per row of (customer, invoice day, amount): a collision only adds a candidate.
    customer = pd.factorize(ledger["customer_key"])[0].astype("int64")
    day = ledger["invoice_date"].to_numpy(dtype="datetime64[ns]").view("int64")
    amount = ledger["amount"].to_numpy(dtype="float64").view("int64")
    combined = (
        hash_array(customer) * np.uint64(0x9E3779B97F4A7C15)
        ^ hash_array(day) * np.uint64(0xC2B2AE3D27D4EB4F)
        ^ hash_array(amount)
    )
    candidates = numbered & pd.Series(combined).duplicated(keep=False).to_numpy()
    if not candidates.any():
        return []
    candidate_rows = ledger["source_row"].to_numpy()[candidates]
    raw = loaded_cells(body, row_numbers, candidate_rows).astype("string").fillna("")
    repeated = raw.duplicated(keep="first").to_numpy()
    if not repeated.any():
        return []
    rows = candidate_rows[repeated]
    if len(rows) == 1:
        head, counted = (
            f"1 row repeats an earlier row in every cell ({row_list(rows)})",
            "it is counted as a separate line",
        )
    else:
        head, counted = f"{len(rows)} rows repeat an earlier row in every cell ({row_list(rows)})", "they are counted"
    return [f"{head}; {counted}. If the export was appended to itself, export it again."]
