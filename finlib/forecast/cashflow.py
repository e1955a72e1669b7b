"""The 13-week cash-in forecast: expected collections per week from the open invoices' delay distributions.

expected(week) = sum over open invoices of amount * P(paid within 13 weeks | its age) * P(paid in that week |
paid within 13 weeks, still open on the as-of date). The first factor (``collectable_share``) is a life table on
the ledger's own history: of the invoices that were once that old and unpaid, the share paid in the next 13
weeks; it keeps a pile of never-paid old invoices from being forecast as cash next month.
The band treats invoices as independent: expected +/- z80 * sqrt(sum amount^2 * p * (1 - p)), floored at zero;
its real coverage is what the backtest reports (customers' payments are correlated, so it is optimistic).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from finlib.forecast.features import to_dates
from finlib.forecast.payment_dates import DelayDistribution

WEEKS = 13
DAYS_PER_WEEK = 7
Z_80 = 1.2815515655446004  # the 10th-90th percentile band of a normal distribution


# Age bands (days since invoice) of the life table; the last band is everything older.
AGE_EDGES_DAYS = (0, 15, 30, 45, 60, 90, 120, 180, 270, 365, 545, 730)
MIN_LIFE_TABLE_INVOICES = 20


@dataclass(frozen=True)
class CashWeeks:
    """Per week from the as-of date: start day, expected collections and the band."""

    start_day: np.ndarray
    expected: np.ndarray
    low: np.ndarray
    high: np.ndarray
    beyond: float  # expected to arrive after the last week (or never, as far as history goes)

    def frame(self) -> pd.DataFrame:
        """One row per week: ``week_start``, ``expected``, ``low``, ``high``."""
        return pd.DataFrame(
            {"week_start": to_dates(self.start_day), "expected": self.expected, "low": self.low, "high": self.high}
        )


def _paid_by_edges(
    distribution: DelayDistribution, invoice_day: np.ndarray, edges: np.ndarray, position: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """(edges x targets) probability that each target is paid by the end of each edge's day.

    ``position`` is ``distribution.position()``; the targets' own distributions are searched, so this is for
    targets outside the tail (``forecast_cash_in`` takes the tail ones apart).
    """
    reached = np.empty((len(edges), len(invoice_day)))
    # Still open on the as-of date, a conditioned invoice had nothing paid by then: its first edge is not searched.
    first = 1 if distribution.conditioned else 0
    reached[:first] = 0.0
    for row in range(first, len(edges)):  # written in place: no second (edges x targets) matrix
        # A predicted day rounds to whole days, so "paid by the end of day E" is a delay below E + 0.5 - invoice day.
        reached[row] = distribution.probability_by(edges[row] + 0.5 - invoice_day, position)
    return reached


def collectable_share(
    invoice_day: np.ndarray, payment_day: np.ndarray, amount: np.ndarray, as_of_day: float, ages: np.ndarray
) -> np.ndarray:
    """Per age: the share of invoices once that old and unpaid that were paid within the next 13 weeks.

    Only outcomes known on the as-of date count: an invoice enters an age band's table if it reached the band's
    lower edge at least 13 weeks before the as-of date. share(band) = (paid + m * share(younger band)) /
    (invoices + m) with m = ``MIN_LIFE_TABLE_INVOICES`` (and share 1 before the first band), so a thin band
    leans on the younger one; an age between two band edges gets the linear interpolation of their shares.
    """
    horizon = WEEKS * DAYS_PER_WEEK
    edges = np.asarray(AGE_EDGES_DAYS, dtype="float64")
    counted = (amount > 0) & ~np.isnan(invoice_day)
    start = invoice_day[counted]
    # Days from invoice to a payment known on the as-of date (infinite when none is known yet).
    waited = np.where(payment_day[counted] <= as_of_day, payment_day[counted], np.inf) - start
    # An invoice is in band b's table when edge_b <= as_of - horizon - invoice day (its outcome is known) and it
    # was still unpaid at the edge (waited > edge_b): bands 0 .. entered - 1. It was paid within the horizon
    # from band ``paid_from`` on (waited <= edge_b + horizon). One pass over the ledger for all bands.
    entered = np.minimum(_bands_right(as_of_day - horizon - start), _bands_left(waited))
    paid_from = _bands_left(waited - horizon)
    bands = len(edges)
    # Invoices per (paid_from, entered) pair, counted in one pass; those paid within the horizon of a band they
    # entered are the pairs with paid_from < entered.
    levels = bands + 1
    pairs = np.bincount(paid_from * levels + entered, minlength=levels * levels).reshape(levels, levels)
    eligible = np.cumsum(pairs.sum(axis=0)[::-1])[::-1][1:]
    inside = np.triu(pairs, k=1)
    paid_counts = np.cumsum(inside.sum(axis=1) - inside.sum(axis=0))[:bands]
    shares = np.ones(bands)
    previous = 1.0
    for band in range(bands):  # a dozen scalars
        # A thin band leans on the younger band's share as if it had MIN_LIFE_TABLE_INVOICES invoices.
        shares[band] = (float(paid_counts[band]) + MIN_LIFE_TABLE_INVOICES * previous) / (
            eligible[band] + MIN_LIFE_TABLE_INVOICES
        )
        previous = shares[band]
    # Between two band edges the share is interpolated: the never-paid pile up with age inside a band too.
    interpolated: np.ndarray = np.interp(ages, np.asarray(AGE_EDGES_DAYS, dtype="float64"), shares)
    return interpolated


# Per whole day from -1 to the last edge + 1: how many band edges are at or below it (what numpy.searchsorted
# finds, looked up in a table: three times faster over a million ages, a dozen times per backtest).
_EDGES_UP_TO = np.searchsorted(
    np.asarray(AGE_EDGES_DAYS, dtype="float64"), np.arange(-1.0, AGE_EDGES_DAYS[-1] + 2.0), side="right"
)


def _bands_right(days: np.ndarray) -> np.ndarray:
    """``searchsorted(AGE_EDGES_DAYS, days, side="right")``: edge <= d iff edge <= floor(d) for whole-day edges."""
    return _edges_up_to(np.floor(days))


def _bands_left(days: np.ndarray) -> np.ndarray:
    """``searchsorted(AGE_EDGES_DAYS, days, side="left")``: edge < d iff edge <= ceil(d) - 1 for whole-day edges."""
    bound = np.ceil(days)
    bound -= 1.0
    return _edges_up_to(bound)


def _edges_up_to(whole_days: np.ndarray) -> np.ndarray:
    """How many edges are at or below each whole day (NaN counts all of them, as numpy sorts NaN last)."""
    np.clip(whole_days, -1.0, AGE_EDGES_DAYS[-1] + 1.0, out=whole_days)
    whole_days[np.isnan(whole_days)] = AGE_EDGES_DAYS[-1] + 1.0
    counts: np.ndarray = _EDGES_UP_TO[whole_days.astype(np.intp) + 1]
    return counts


def forecast_cash_in(
    distribution: DelayDistribution,
    invoice_day: np.ndarray,
    amount: np.ndarray,
    as_of_day: float,
    collectable: np.ndarray | None = None,
    weeks: int = WEEKS,
    position: tuple[np.ndarray, np.ndarray] | None = None,
) -> CashWeeks:
    """Expected collections per week (and band) from open invoices' distributions; see the module docstring.

    ``position`` is ``distribution.position()`` when the caller has it already. The targets outside the tail
    each get their own weekly probabilities, a (weeks x targets) matrix; the ones in the tail share theirs with
    every tail target whose wait started on the same day, so those are summed per start day instead.
    """
    below, tail = distribution.position() if position is None else position
    edges = as_of_day + DAYS_PER_WEEK * np.arange(weeks + 1)
    expected, variance = np.zeros(weeks), np.zeros(weeks)
    own = np.flatnonzero(~tail)
    if len(own):
        part = distribution.subset(own)
        reached = _paid_by_edges(part, invoice_day[own], edges, (below[own], tail[own]))
        probability = np.diff(reached, axis=0)  # (weeks x targets)
        del reached
        if collectable is not None:
            probability *= _rescaled(collectable[own], probability.sum(axis=0))
        amounts = amount[own]
        expected += probability @ amounts
        # p * (1 - p) built in one matrix, not two.
        spread_share = 1 - probability
        spread_share *= probability
        variance += spread_share @ (amounts * amounts)
    shared = np.flatnonzero(tail)
    if len(shared):
        # A target in the tail waits the portfolio's slowest payments' extra days from the later of its invoice
        # date and its as-of date (its invoice date + age): one row of weekly probabilities per such start day.
        start, group = np.unique(invoice_day[shared] + distribution.age[shared], return_inverse=True)
        excess = distribution.tail_excess
        found = np.searchsorted(excess, edges[None, :] + 0.5 - start[:, None], side="right") / len(excess)
        if distribution.conditioned:
            found[:, 0] = 0.0
        paid = np.diff(found, axis=1)  # (start days x weeks)
        amounts = amount[shared]
        scale = np.ones(len(shared)) if collectable is None else _rescaled(collectable[shared], paid.sum(axis=1)[group])
        # With p = scale * paid(start, week): sum a p = paid * sum(a scale), and sum a^2 p (1 - p) =
        # paid * sum(a^2 scale) - paid^2 * sum(a^2 scale^2), the sums taken per start day.
        scaled = amounts * scale
        starts = len(start)
        expected += np.bincount(group, weights=scaled, minlength=starts) @ paid
        variance += np.bincount(group, weights=scaled * amounts, minlength=starts) @ paid
        variance -= np.bincount(group, weights=scaled * scaled, minlength=starts) @ (paid * paid)
    spread = Z_80 * np.sqrt(np.maximum(variance, 0.0))  # a sum of differences can round a hair below zero
    start_day = as_of_day + 1 + DAYS_PER_WEEK * np.arange(weeks)
    beyond = float(amount.sum() - expected.sum()) if len(amount) else 0.0
    return CashWeeks(start_day, expected, np.maximum(expected - spread, 0.0), expected + spread, beyond)


def _rescaled(collectable: np.ndarray, within: np.ndarray) -> np.ndarray:
    """Per target: the factor that makes its probability of being paid within the weeks its collectable share."""
    factor: np.ndarray = np.divide(collectable, within, out=np.zeros(len(within)), where=within > 0)
    return factor


def actual_cash_in(payment_day: np.ndarray, amount: np.ndarray, as_of_day: float, weeks: int = WEEKS) -> np.ndarray:
    """What the same invoices actually paid per week after the as-of date (NaN payment = not paid)."""
    week = np.floor((payment_day - as_of_day - 1) / DAYS_PER_WEEK)
    inside = (week >= 0) & (week < weeks)
    return np.bincount(week[inside].astype(np.int64), weights=amount[inside], minlength=weeks)[:weeks]
