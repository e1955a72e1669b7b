"""The ledger as arrays the forecast methods share: customer codes, dates in days, amounts and feature codes.

Built once per ledger (``prepare_ledger``) so a backtest that refits at many origins factorises nothing twice.
Days are counted from the Unix epoch as floats; a missing date is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

NANOSECONDS_PER_DAY = 86_400 * 10**9
EXTRA_PREFIX = "extra:"  # the ingest layer's prefix for extra category columns (finlib.ingest.ledger)
# Days from invoice to due date, bucketed: immediate, up to 15, 30, 45, 60, 90, longer.
TERMS_EDGES_DAYS = (1.0, 16.0, 31.0, 46.0, 61.0, 91.0)
# Amount size: half-decades of the amount (100-316, 316-1000, ...): fixed edges, so nothing is learnt from the future.
AMOUNT_BANDS_PER_DECADE = 2
CATEGORY_FEATURES = ("service_type", "location")


@dataclass(frozen=True)
class Feature:
    """One categorical feature: a name and a code per ledger row (0..levels-1)."""

    name: str
    codes: np.ndarray
    levels: int


@dataclass(frozen=True)
class PreparedLedger:
    """Row-aligned arrays of one ledger; ``customer`` codes index ``customer_keys``."""

    customer: np.ndarray
    customer_keys: np.ndarray
    invoice_day: np.ndarray
    due_day: np.ndarray
    payment_day: np.ndarray
    amount: np.ndarray
    features: tuple[Feature, ...]

    @property
    def customers(self) -> int:
        """Number of distinct customers."""
        return len(self.customer_keys)

    @property
    def rows(self) -> int:
        """Number of ledger rows."""
        return len(self.customer)

    @cached_property
    def terms_days(self) -> np.ndarray:
        """Days from invoice to due date per row, 0 without a due date (computed once per ledger)."""
        terms = self.due_day - self.invoice_day
        filled: np.ndarray = np.where(np.isnan(terms), 0.0, terms)
        return filled

    def paid_by(self, day: float) -> np.ndarray:
        """Payments known on ``day``: positive invoices paid on or before it (credit notes are not payments)."""
        return (self.payment_day <= day) & (self.amount > 0)

    def open_on(self, day: float) -> np.ndarray:
        """Positive invoices issued on or before ``day`` and not paid by then (what a forecast on ``day`` sees)."""
        unpaid = np.isnan(self.payment_day) | (self.payment_day > day)
        is_open: np.ndarray = (self.invoice_day <= day) & unpaid & (self.amount > 0)
        return is_open


def to_days(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Dates as float days since the epoch (NaN for missing)."""
    values = np.asarray(dates, dtype="datetime64[ns]").view(np.int64)
    days = values / NANOSECONDS_PER_DAY
    days[values == np.iinfo(np.int64).min] = np.nan
    return days


def day_of(timestamp: pd.Timestamp) -> float:
    """One date as float days since the epoch."""
    return float(pd.Timestamp(timestamp).as_unit("ns").value // NANOSECONDS_PER_DAY)


def to_dates(days: np.ndarray) -> np.ndarray:
    """Whole float days since the epoch as datetime64[ns] (NaT for NaN)."""
    days = np.asarray(days, dtype="float64")
    out = np.full(len(days), np.iinfo(np.int64).min, dtype=np.int64)
    present = ~np.isnan(days)
    out[present] = np.floor(days[present]).astype(np.int64) * NANOSECONDS_PER_DAY
    return out.view("datetime64[ns]")


def extra_category_columns(ledger: pd.DataFrame) -> list[str]:
    """The ledger's extra category columns (billing channel, dispute flag, ...), in order."""
    return [c for c in ledger.columns if str(c).startswith(EXTRA_PREFIX)]


def prepare_ledger(ledger: pd.DataFrame) -> PreparedLedger:
    """The arrays every method needs, with features for terms, amount size, service, location and extra columns."""
    customer, keys = pd.factorize(ledger["customer_key"])
    invoice_day = to_days(ledger["invoice_date"])
    due_day = to_days(ledger["due_date"])
    amount = ledger["amount"].to_numpy(dtype="float64")
    terms = np.where(np.isnan(due_day), 30.0, due_day - invoice_day)
    features = [
        Feature("terms", np.searchsorted(np.asarray(TERMS_EDGES_DAYS), terms, side="right"), len(TERMS_EDGES_DAYS) + 1),
        _amount_bands(amount),
    ]
    for column in (*CATEGORY_FEATURES, *extra_category_columns(ledger)):
        codes, uniques = pd.factorize(ledger[column])
        if len(uniques) >= 2 or (len(uniques) == 1 and (codes < 0).any()):
            # Missing is a level of its own: "no dispute flag" may well mean "not disputed".
            features.append(Feature(column, np.where(codes < 0, len(uniques), codes), len(uniques) + 1))
    return PreparedLedger(
        customer=customer.astype(np.int64),
        customer_keys=np.asarray(keys, dtype=object),
        invoice_day=invoice_day,
        due_day=due_day,
        payment_day=to_days(ledger["payment_date"]),
        amount=amount,
        features=tuple(features),
    )


def _amount_bands(amount: np.ndarray) -> Feature:
    size = np.log10(np.maximum(np.abs(amount), 1.0)) * AMOUNT_BANDS_PER_DECADE
    codes = np.clip(np.floor(size), 0, 20).astype(np.int64)
    return Feature("amount_size", codes, 21)
