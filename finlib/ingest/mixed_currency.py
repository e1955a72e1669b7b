"""A ledger whose currency column names several currencies: every total would add them as one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from finlib.currency import CODES_BY_SYMBOL, CURRENCY_HEADER
from finlib.ingest.ledger import EXTRA_PREFIX
from finlib.ingest.rejections import loaded_cells

MAX_LISTED = 5


def mixed_currency_warning(
    ledger: pd.DataFrame, body: pd.DataFrame, row_numbers: np.ndarray, unmapped: list[str]
) -> list[str]:
    """A warning naming each currency of a currency column with its rows and amount, when there are several.

    The column is the ledger's kept extra column (categorical: fast at any size) or, when the file is too small
    or varied for it to be kept, the raw column of the loaded rows.
    """
    for header in (h for h in unmapped if CURRENCY_HEADER.search(str(h)) and h in body.columns):
        kept = f"{EXTRA_PREFIX}{header}"
        if kept in ledger.columns:
            cells = ledger[kept]
        else:
            cells = loaded_cells(body[[header]], row_numbers, ledger["source_row"].to_numpy())[header].astype("string")
        # Sums per value as written first (a few distinct values, whatever the rows), then per code.
        amounts = pd.Series(ledger["amount"].to_numpy(), index=cells.index)
        written = amounts.groupby(cells, observed=True, sort=False).agg(["size", "sum"])
        codes = pd.Series(written.index.astype(str), index=written.index).str.strip().str.upper()
        written["code"] = codes.replace(CODES_BY_SYMBOL).to_numpy()
        written = written[~written["code"].isin(["", "NAN", "NONE"])]
        totals = (
            written.groupby("code", sort=False)[["size", "sum"]]
            .sum()
            .sort_values("size", ascending=False, kind="stable")
        )
        if len(totals) < 2:
            continue
        shown = "; ".join(
            f"{code}: {int(row['size'])} row{'s' if row['size'] > 1 else ''}, {row['sum']:,.2f}"
            for code, row in totals.head(MAX_LISTED).iterrows()
        )
        more = f"; and {len(totals) - MAX_LISTED} more" if len(totals) > MAX_LISTED else ""
        return [
            f"Column {header!r} names {len(totals)} currencies ({shown}{more}). Every total adds the amounts as one "
            "currency: right only if they are already converted to one. If they are not, export one file per "
            "currency and register each as its own project."
        ]
    return []
