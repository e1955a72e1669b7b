"""Balances as of a date: what is open, overdue and how old, and DSO by the countback method.

Definitions (also in the README, "Formulas"):

- An invoice is *open* at ``as_of`` when it was issued on or before ``as_of`` and not paid by then (no payment
  date, or a payment date after ``as_of``). Open credit notes (negative amounts) reduce the balance.
- An open invoice is *overdue* when its due date is before ``as_of``; days past due are whole days. An open
  invoice without a due date is never overdue (it counts as current).
- Aging buckets by days past due: current (not yet due, 0 or less), 1-30, 31-60, 61-90, over 90.
- DSO, countback: walk back from ``as_of`` through calendar months (the first one only up to ``as_of``, none
  before the ledger's first invoice), taking each month's invoiced amount out of the open balance and counting
  its days, until the balance is used up; the last month counts the fraction of its days the remainder is of its
  invoicing. Best-possible DSO is the same walk with the current (not yet due) balance; ADD = DSO - best-possible.
  A balance larger than everything invoiced gives the days back to the first invoice (a lower bound).

``compute_balances`` answers for one date with plain masks; ``balance_trend`` answers for many dates at once with
cumulative sums over the dates on which each invoice opens, falls due and is paid. Tests hold the two equal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from finlib.analytics.periods import DAY

AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "over_90")
AGING_EDGES_DAYS = (0, 30, 60, 90)  # upper ends (inclusive) of every bucket but the last
_NEVER = np.iinfo(np.int64).max // 2
# Points further apart than this (about 270 years) are binned by a binary search per row instead of a day table.
_MAX_BIN_TABLE_DAYS = 100_000


@dataclass(frozen=True)
class Aging:
    """Open amount per aging bucket; ``overdue`` is every bucket but current."""

    current: float
    days_1_30: float
    days_31_60: float
    days_61_90: float
    over_90: float

    @property
    def overdue(self) -> float:
        """Open amount past due (1 day or more)."""
        return self.days_1_30 + self.days_31_60 + self.days_61_90 + self.over_90

    def amounts(self) -> tuple[float, ...]:
        """The amounts in ``AGING_BUCKETS`` order."""
        return (self.current, self.days_1_30, self.days_31_60, self.days_61_90, self.over_90)


@dataclass(frozen=True)
class Balances:
    """Receivables as of one date (see the module docstring for every definition)."""

    as_of: pd.Timestamp
    outstanding: float
    overdue: float
    open_invoices: int
    overdue_invoices: int
    aging: Aging
    dso_countback: float | None
    best_possible_dso: float | None
    overdue_share: float | None  # overdue / outstanding
    avg_days_past_due: float | None  # amount-weighted, over overdue open invoices

    @property
    def current(self) -> float:
        """Open amount not yet due."""
        return self.aging.current

    @property
    def add(self) -> float | None:
        """Average days delinquent: DSO minus best-possible DSO."""
        if self.dso_countback is None or self.best_possible_dso is None:
            return None
        return self.dso_countback - self.best_possible_dso


def open_mask(ledger: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """True for invoices issued by ``as_of`` and not paid by then."""
    unpaid = ledger["payment_date"].isna() | (ledger["payment_date"] > as_of)
    return (ledger["invoice_date"] <= as_of) & unpaid


def days_past_due(ledger: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Whole days from due date to ``as_of`` (negative when not yet due, NaN without a due date)."""
    return np.floor((as_of - ledger["due_date"]) / DAY)


def ledger_as_of(ledger: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The ledger as it stood on ``as_of``: invoices issued by then, payments made after it not yet received."""
    issued = ledger["invoice_date"] <= as_of
    # At the latest date every invoice is issued: a mask of all True would still copy every column.
    known = ledger if issued.all() else ledger[issued]
    later = known["payment_date"] > as_of
    if not later.any():
        return known
    return known.assign(payment_date=known["payment_date"].mask(later))


def aging_bucket_labels(days: pd.Series) -> pd.Series:
    """The aging bucket of each number of days past due (missing days count as current)."""
    edges = [-np.inf, *AGING_EDGES_DAYS, np.inf]
    return pd.cut(days.fillna(0), edges, labels=list(AGING_BUCKETS), right=True)


def aging_buckets(ledger: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """Open invoices per aging bucket at ``as_of``: ``bucket``, ``invoice_count``, ``amount``; every bucket."""
    if as_of is None:
        open_rows, days = ledger.iloc[:0], pd.Series(dtype="float64")
    else:
        open_rows = ledger[["due_date", "amount"]][open_mask(ledger, pd.Timestamp(as_of))]
        days = days_past_due(open_rows, pd.Timestamp(as_of))
    grouped = open_rows["amount"].groupby(aging_bucket_labels(days), observed=False)
    return pd.DataFrame(
        {
            "bucket": list(AGING_BUCKETS),
            "invoice_count": grouped.size().reindex(AGING_BUCKETS, fill_value=0).to_numpy(dtype="int64"),
            "amount": grouped.sum().reindex(AGING_BUCKETS, fill_value=0.0).to_numpy(dtype="float64"),
        }
    )


def compute_balances(ledger: pd.DataFrame, as_of: pd.Timestamp) -> Balances:
    """Outstanding, overdue, aging, DSO countback and best-possible DSO of ``ledger`` at ``as_of``."""
    as_of = pd.Timestamp(as_of).normalize()
    # Only the columns the figures need are filtered: a mask over the whole frame copies every text column.
    open_rows = ledger[["invoice_date", "due_date", "amount"]][open_mask(ledger, as_of)]
    days = days_past_due(open_rows, as_of)
    overdue_rows = days > 0
    amounts = open_rows["amount"]
    bucket = np.searchsorted(np.array(AGING_EDGES_DAYS, dtype="float64"), days.fillna(0).to_numpy(), side="left")
    aging = np.bincount(bucket, weights=amounts.to_numpy(dtype="float64"), minlength=len(AGING_BUCKETS))
    outstanding = float(amounts.sum())
    overdue = float(amounts[overdue_rows].sum())
    current = float(aging[0])
    first = ledger["invoice_date"].min()
    dso = best = None
    if not pd.isna(first):
        walk = countback_days(ledger, np.array([outstanding, current]), pd.DatetimeIndex([as_of, as_of]))
        dso, best = (None if np.isnan(value) else float(value) for value in walk)
    weighted = float((amounts[overdue_rows] * days[overdue_rows]).sum())
    return Balances(
        as_of=as_of,
        outstanding=outstanding,
        overdue=overdue,
        open_invoices=len(open_rows),
        overdue_invoices=int(overdue_rows.sum()),
        aging=Aging(*(float(value) for value in aging)),
        dso_countback=dso,
        best_possible_dso=best,
        overdue_share=overdue / outstanding if outstanding > 0 else None,
        avg_days_past_due=weighted / overdue if overdue > 0 else None,
    )


def _day_numbers(dates: pd.Series, missing: int) -> np.ndarray:
    """Dates as whole days since 1970 (``missing`` where there is no date)."""
    days = dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    return np.where(dates.isna().to_numpy(), missing, days)


def _invoiced_up_to(ledger: pd.DataFrame) -> tuple[Callable[[np.ndarray], np.ndarray], np.datetime64]:
    """A function giving the amount invoiced on or before each day number, and the first invoice date.

    One ``bincount`` per day and a cumulative sum: no sort of the ledger, whatever the number of dates asked.
    """
    invoice_days = _day_numbers(ledger["invoice_date"], _NEVER)
    dated = invoice_days < _NEVER
    first_day = int(invoice_days[dated].min())
    per_day = np.bincount(invoice_days[dated] - first_day, weights=ledger["amount"].to_numpy(dtype="float64")[dated])
    cumulative = np.concatenate([[0.0], np.cumsum(per_day)])

    def invoiced_up_to(days: np.ndarray) -> np.ndarray:
        found: np.ndarray = cumulative[np.clip(days - first_day + 1, 0, len(per_day))]
        return found

    return invoiced_up_to, np.datetime64(first_day, "D")


def countback_days(ledger: pd.DataFrame, balances: np.ndarray, as_ofs: pd.DatetimeIndex) -> np.ndarray:
    """DSO by countback of each balance at its date (NaN for an empty ledger); one walk per date, vectorised inside."""
    if ledger.empty or ledger["invoice_date"].isna().all():
        return np.full(len(as_ofs), np.nan)
    invoiced_up_to, first = _invoiced_up_to(ledger)
    result = np.zeros(len(as_ofs))
    for index, (balance, as_of) in enumerate(zip(balances, as_ofs, strict=True)):
        as_of_day = np.datetime64(pd.Timestamp(as_of).normalize(), "D")
        if balance <= 0:
            continue
        if as_of_day < first:
            result[index] = np.nan
            continue
        months = np.arange(first.astype("datetime64[M]"), as_of_day.astype("datetime64[M]") + 1)[::-1]
        start_days = np.maximum(months.astype("datetime64[D]"), first).astype(np.int64)
        end_days = np.minimum((months + 1).astype("datetime64[D]") - 1, as_of_day).astype(np.int64)
        sales = invoiced_up_to(end_days) - invoiced_up_to(start_days - 1)
        lengths = (end_days - start_days + 1).astype("float64")
        taken = np.cumsum(sales)
        reached = np.flatnonzero(taken >= balance - 1e-9)
        if len(reached) == 0:
            result[index] = lengths.sum()
            continue
        month = reached[0]
        before = taken[month - 1] if month > 0 else 0.0
        result[index] = lengths[:month].sum() + (balance - before) / sales[month] * lengths[month]
    return result


def _point_bins(days: np.ndarray, points: np.ndarray) -> np.ndarray:
    """For each day, the position among the sorted ``points`` of the first point on or after it."""
    if not len(points) or int(points[-1]) - int(points[0]) > _MAX_BIN_TABLE_DAYS:
        searched: np.ndarray = np.searchsorted(points, days, side="left")
        return searched
    # Every day between the first and the last point is searched once and each row looks its day up: a binary
    # search per row of a million-row ledger took 4-8 times as long. Days before the first point bin to 0,
    # days after the last one to len(points), as searchsorted does.
    first, last = int(points[0]), int(points[-1])
    between = np.searchsorted(points, np.arange(first, last + 1), side="left")
    table = np.concatenate([[0], between, [len(points)]])
    bins: np.ndarray = table[np.clip(days - first, -1, last - first + 1) + 1]
    return bins


def _interval_sums(start_bins: np.ndarray, end_bins: np.ndarray, weights: np.ndarray, points: int) -> np.ndarray:
    """For each of the sorted points, the sum of weights of the rows with ``start <= point < end``.

    The arguments are ``_point_bins`` of the starts and ends: a row counts from the point its start bins to and
    stops counting from the point its end bins to (a bincount and a cumulative sum, no sort of the rows).
    """
    # A row that never counts weighs zero rather than being cut out (which copied both arrays twice): bincount adds
    # in row order from +0.0, and adding 0.0 leaves every sum as it was, bit for bit.
    kept = np.where(end_bins > start_bins, weights, 0.0)
    opened = np.bincount(start_bins, weights=kept, minlength=points + 1)
    closed = np.bincount(end_bins, weights=kept, minlength=points + 1)
    balances: np.ndarray = np.cumsum(opened - closed)[:points]
    return balances


def balance_trend(ledger: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Balances at many dates at once: ``date``, ``outstanding``, ``overdue``, ``current``, the aging buckets,
    ``open_invoices``, ``dso_countback``, ``best_possible_dso``, ``add``, ``overdue_share``, ``avg_days_past_due``.
    """
    asked = pd.DatetimeIndex(dates).normalize().to_numpy(dtype="datetime64[D]").astype(np.int64)
    order = np.argsort(asked, kind="stable")
    points = asked[order]
    invoiced = _day_numbers(ledger["invoice_date"], _NEVER)
    paid = np.maximum(_day_numbers(ledger["payment_date"], _NEVER), invoiced)
    due = _day_numbers(ledger["due_date"], _NEVER - 100)
    amount = ledger["amount"].to_numpy(dtype="float64")
    has_due = due < _NEVER - 100

    def past_due_by(days: int) -> np.ndarray:
        """The day from which an invoice is more than ``days`` past due (never, without a due date)."""
        return np.where(has_due, np.maximum(invoiced, due + days + 1), _NEVER)

    # Every boundary binned once; a minimum of two days bins to the minimum of their bins.
    opens, closes = _point_bins(invoiced, points), _point_bins(paid, points)
    past = [_point_bins(past_due_by(edge), points) for edge in AGING_EDGES_DAYS]
    count = len(points)
    sums = {
        "outstanding": _interval_sums(opens, closes, amount, count),
        "open_invoices": _interval_sums(opens, closes, np.ones(len(amount)), count),
        "overdue": _interval_sums(past[0], closes, amount, count),
        "1-30": _interval_sums(past[0], np.minimum(closes, past[1]), amount, count),
        "31-60": _interval_sums(past[1], np.minimum(closes, past[2]), amount, count),
        "61-90": _interval_sums(past[2], np.minimum(closes, past[3]), amount, count),
        "over_90": _interval_sums(past[3], closes, amount, count),
        # Days past due of an invoice at p are p - due, so their amount-weighted sum is p * overdue - sum(amount * due).
        "weighted_due": _interval_sums(past[0], closes, amount * np.where(has_due, due, 0), count),
    }
    unsorted = np.empty_like(order)
    unsorted[order] = np.arange(len(order))
    frame = pd.DataFrame({"date": pd.DatetimeIndex(dates).normalize()})
    for name, values in sums.items():
        frame[name] = values[unsorted]
    frame["open_invoices"] = frame["open_invoices"].round().astype("int64")
    frame["current"] = frame["outstanding"] - frame["overdue"]
    weighted_days = asked * frame["overdue"].to_numpy() - frame.pop("weighted_due").to_numpy()
    amounts = ["outstanding", "overdue", "current", "1-30", "31-60", "61-90", "over_90"]
    frame[amounts] = frame[amounts].round(6)
    frame = frame[["date", "outstanding", "open_invoices", "overdue", "current", *AGING_BUCKETS[1:]]]
    dates_index = pd.DatetimeIndex(frame["date"])
    frame["dso_countback"] = countback_days(ledger, frame["outstanding"].to_numpy(), dates_index)
    frame["best_possible_dso"] = countback_days(ledger, frame["current"].to_numpy(), dates_index)
    frame["add"] = frame["dso_countback"] - frame["best_possible_dso"]
    outstanding, overdue = frame["outstanding"], frame["overdue"]
    frame["overdue_share"] = (overdue / outstanding).where(outstanding > 0)
    frame["avg_days_past_due"] = pd.Series(weighted_days, index=frame.index).div(overdue).where(overdue > 0)
    return frame
