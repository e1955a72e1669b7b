"""The analyst's worklist: one row per customer with balances, how they pay, what comes next, and a payer rating.

Balances are as of the balance date; payment behaviour is over the invoices paid by then. The payer rating
(also in the README) uses the on-time share and the average days late (payment date - due date):

- ``good``: at least 80 % of invoices paid by the due date and, on average, at most 5 days late;
- ``poor``: under 50 % paid by the due date, or on average more than 30 days late;
- ``average``: anything in between; no rating (``None``) before the first payment.

The next payment is the original design's formula (last payment date + average days to pay, as on the Customers
page), not the Forecast page's per-invoice prediction; ``next_payment_past`` marks a date already before the
balance date (the payment is late, or nothing is left to pay until a new invoice).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from finlib.analytics.activity import payments
from finlib.analytics.balances import days_past_due, ledger_as_of, open_mask
from finlib.analytics.customer_search import search_customers
from finlib.analytics.customer_stats import compute_customer_stats
from finlib.analytics.periods import DAY, days_to_pay, resolve_as_of

GOOD_ON_TIME_SHARE = 0.8
GOOD_DAYS_LATE = 5.0
POOR_ON_TIME_SHARE = 0.5
POOR_DAYS_LATE = 30.0
RECENT_PAYMENTS = 3
RATINGS = ("good", "average", "poor")
WORKLIST_COLUMNS = (
    "customer", "customer_key", "outstanding", "overdue", "open_invoices", "oldest_open_invoice",
    "days_past_due", "avg_days_to_pay", "recent_days_to_pay", "avg_days_late", "on_time_share", "trend",
    "next_payment_date", "next_payment_past", "rating",
)  # fmt: skip
# The columns as a reader sees them: the Worklist page, its CSV and the Excel workbook's Worklist sheet.
WORKLIST_HEADERS = {
    "customer": "Customer",
    "outstanding": "Outstanding",
    "overdue": "Overdue",
    "open_invoices": "Open invoices",
    "oldest_open_invoice": "Oldest open invoice",
    "days_past_due": "Days past due",
    "avg_days_to_pay": "Avg days to pay",
    "recent_days_to_pay": "Recent days to pay",
    "avg_days_late": "Avg days late",
    "on_time_share": "Paid on time",
    "trend": "Trend",
    "next_payment_date": "Next payment (original formula)",
    "next_payment_past": "Already past",
    "rating": "Payer rating",
}
# The ledger columns the worklist reads: a mask over the whole ledger would copy every other text column too.
WORKLIST_INPUT_COLUMNS = (
    "customer_key", "customer_name", "customer_alias", "invoice_number", "invoice_date", "due_date",
    "payment_date", "amount",
)  # fmt: skip


def payer_rating(on_time_share: pd.Series, avg_days_late: pd.Series) -> pd.Series:
    """good / average / poor per customer by the rule in the module docstring; None without a payment."""
    known = on_time_share.notna() & avg_days_late.notna()
    good = (on_time_share >= GOOD_ON_TIME_SHARE) & (avg_days_late <= GOOD_DAYS_LATE)
    poor = (on_time_share < POOR_ON_TIME_SHARE) | (avg_days_late > POOR_DAYS_LATE)
    rating = np.where(good, "good", np.where(poor, "poor", "average"))
    return pd.Series(rating, index=on_time_share.index, dtype="object").where(known, None)


def compute_worklist(
    ledger: pd.DataFrame,
    as_of: pd.Timestamp,
    *,
    window: int = 3,
    trend_threshold: float = 0.05,
    stats: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every customer of ``ledger`` (issued by ``as_of``), largest overdue first, then largest open balance.

    ``stats``: ``compute_customer_stats(ledger)`` with the same window and threshold, when the caller has it; used
    only where it is the worklist's own (nothing issued or paid after ``as_of``, which is the ledger's latest date).
    """
    selected = ledger[[c for c in WORKLIST_INPUT_COLUMNS if c in ledger.columns]]
    known = ledger_as_of(selected, as_of)
    if known.empty:
        return pd.DataFrame({column: pd.Series(dtype="object") for column in WORKLIST_COLUMNS})
    if stats is None or known is not selected or _customers_as_of(known) != pd.Timestamp(as_of):
        stats = compute_customer_stats(known, window=window, trend_threshold=trend_threshold, as_of=as_of)
    by_key = stats.set_index("customer_key")
    keys = by_key.index
    # Groups by integer code, not by key: each mask, sort and groupby of the key column copied or hashed its text.
    code, uniques = pd.factorize(known["customer_key"])
    positions = uniques.get_indexer(keys)
    is_open = open_mask(known, as_of).to_numpy()
    open_rows = known[["invoice_date", "due_date"]][is_open].assign(code=code[is_open])
    late = days_past_due(open_rows, as_of).where(lambda days: days > 0)
    open_groups = open_rows.assign(late=late).groupby("code")
    is_paid = payments(known).to_numpy()
    paid = known[["invoice_date", "due_date", "payment_date"]][is_paid].assign(code=code[is_paid])
    paid = paid.sort_values("payment_date", kind="stable")
    delays = days_to_pay(paid)
    days_late = ((paid["payment_date"] - paid["due_date"]) / DAY).where(paid["due_date"].notna())
    paid = paid.assign(delay=delays, days_late=days_late)
    recent = paid.groupby("code").tail(RECENT_PAYMENTS).groupby("code")["delay"].mean()
    table = pd.DataFrame(
        {
            "customer": by_key["customer"],
            "customer_key": keys,
            "outstanding": by_key["outstanding_amount"].astype("float64"),
            "overdue": by_key["overdue_amount"].astype("float64"),
            "open_invoices": _per_key(open_groups.size(), positions, keys, fill_value=0).astype("int64"),
            "oldest_open_invoice": _per_key(open_groups["invoice_date"].min(), positions, keys),
            "days_past_due": _per_key(open_groups["late"].max(), positions, keys),
            "avg_days_to_pay": by_key["avg_payment_delay_days"].astype("float64"),
            "recent_days_to_pay": _per_key(recent, positions, keys),
            "avg_days_late": _per_key(paid.groupby("code")["days_late"].mean(), positions, keys),
            "on_time_share": by_key["on_time_share"].astype("float64"),
            "trend": by_key["trend"],
            "next_payment_date": by_key["predicted_next_payment_date"],
            "next_payment_past": by_key["predicted_next_payment_date"] < pd.Timestamp(as_of).normalize(),
        },
        index=keys,
    )
    table["rating"] = payer_rating(table["on_time_share"], table["avg_days_late"])
    table = table.sort_values("customer", key=lambda names: names.str.casefold(), kind="stable")
    table = table.sort_values(["overdue", "outstanding"], ascending=False, kind="stable")
    return table.reset_index(drop=True)[list(WORKLIST_COLUMNS)]


def _per_key(by_code: pd.Series, positions: np.ndarray, keys: pd.Index, fill_value: object = None) -> pd.Series:
    """A figure per customer code as a figure per key of ``keys`` (``positions``: the code of each key)."""
    # Code -1 is the rows without a customer: no key is theirs.
    known = by_code.drop(-1, errors="ignore")
    values = known.reindex(positions) if fill_value is None else known.reindex(positions, fill_value=fill_value)
    return pd.Series(values.to_numpy(), index=keys)


def _customers_as_of(ledger: pd.DataFrame) -> pd.Timestamp | None:
    """The balance date ``compute_customer_stats`` takes by default: the latest date of the rows with a customer."""
    keyed = ledger["customer_key"].notna()
    return resolve_as_of(ledger if keyed.all() else ledger[keyed])


def search_worklist(worklist: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows whose customer name contains ``text`` (case-insensitive); every row for empty text."""
    return search_customers(worklist, text)
