"""An unread remaining-balance column ("Open Amount", "Balance Due") checked against the ledger's open invoices.

The ledger counts an invoice open for its whole amount until its payment date. An AR export often also states
what is left to pay; where that is less than the amount (a part payment) or nothing (paid, date missing), the
outstanding and overdue figures are overstated, and the load report says by how much instead of staying silent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from finlib.ingest import values
from finlib.ingest.rejections import loaded_cells, row_list
from finlib.ingest.schema import ColumnMapping, normalise_header

# Headers of a per-invoice remaining balance (compared without case, accents, spacing or punctuation).
BALANCE_HEADERS = frozenset(
    normalise_header(name)
    for name in (
        "open amount", "open balance", "balance", "balance due", "amount due", "amount outstanding",
        "outstanding", "outstanding amount", "outstanding balance", "remaining", "remaining amount",
        "remaining balance", "residual amount", "amount residual", "unpaid amount", "amount unpaid", "open",
        "offener betrag", "offen", "restbetrag", "saldo", "montant restant", "reste à payer", "solde",
        "importe pendiente", "saldo pendiente", "importo residuo", "openstaand bedrag", "openstaand",
        "valor em aberto", "valor pendente",
    )
)  # fmt: skip
TOLERANCE = 0.005  # half a cent: a balance equal to the amount "to the cent" is no part payment
PAID_AT_ZERO_SHARE = 0.8  # of the paid invoices, at least this share must have nothing left in the column


def open_amount_warning(
    ledger: pd.DataFrame, body: pd.DataFrame, row_numbers: np.ndarray, mapping: ColumnMapping
) -> list[str]:
    """A warning when an unread balance column shows unpaid invoices partly or wholly paid; else nothing."""
    column = next((h for h in mapping.unmapped if normalise_header(h) in BALANCE_HEADERS), None)
    if column is None or column not in body.columns or ledger.empty:
        return []
    unpaid = ledger["payment_date"].isna().to_numpy()
    if not unpaid.any():
        return []
    cells = loaded_cells(body[[column]], row_numbers, ledger["source_row"].to_numpy())[column]
    every = values.parse_amounts(cells).to_numpy()
    paid_left = every[~unpaid]
    if len(paid_left) and np.mean(np.abs(np.nan_to_num(paid_left, nan=1.0)) <= TOLERANCE) < PAID_AT_ZERO_SHARE:
        return []  # paid invoices with something left: a running balance or another figure, not what is left
    left = every[unpaid]
    amount = ledger["amount"].to_numpy(dtype="float64")[unpaid]
    known = ~np.isnan(left) & (amount > 0)
    if known.sum() < max(1, 0.5 * unpaid.sum()):
        return []  # mostly not numbers: not a balance column
    settled = known & (np.abs(left) <= TOLERANCE)
    partly = known & ~settled & (left < amount - TOLERANCE) & (left > 0)
    if not (settled.any() or partly.any()):
        return []
    rows = ledger["source_row"].to_numpy()[unpaid]
    overstated = float(amount[settled].sum() + (amount[partly] - left[partly]).sum())
    parts = []
    if partly.any():
        count = int(partly.sum())
        parts.append(
            f"{count} unpaid invoice{'s have' if count > 1 else ' has'} less left to pay than "
            f"{'their' if count > 1 else 'its'} amount ({row_list(rows[partly])})"
        )
    if settled.any():
        count = int(settled.sum())
        parts.append(
            f"{count} {'have' if count > 1 else 'has'} nothing left to pay but no payment date "
            f"({row_list(rows[settled])})"
        )
    return [
        f"Column {column!r} looks like each invoice's remaining balance and is not read: "
        f"{'; '.join(parts)}. An invoice counts as open for its whole amount until its payment date, so "
        f"outstanding and overdue are overstated by up to {overstated:,.2f} in total. Export payment dates (one "
        "row per invoice with the date it was settled) for exact balances."
    ]
