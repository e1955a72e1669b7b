"""Payment-date methods: a delay model per method, fitted on the payments known at an as-of date, no look-ahead.

Every method predicts the delay (days from invoice date to payment) of an invoice as ``base + scale * z``:
``base`` is the method's typical delay for that invoice, ``scale`` the customer's spread, and ``z`` is drawn from
the portfolio's standardised residuals on the same history. The conditioned methods (the ones the app offers)
look only at the part of that distribution beyond the invoice's age on the as-of date: an invoice still open
on day 40 is paid after day 40, so its median, 10th and 90th percentile dates all lie after the as-of date.
Formulas are in the README ("Payment-date forecasts").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from finlib.errors import ForecastError
from finlib.forecast.features import PreparedLedger

# A feature cell's own residuals weigh as much as zero effect after this many paid invoices.
SHRINKAGE_INVOICES = 5.0
# How many paid invoices make a customer's own typical delay weigh as much as the portfolio's is estimated from
# the ledger (within-customer variance / between-customer variance), kept within these bounds.
SHRINKAGE_BOUNDS = (0.25, 50.0)
MIN_SCALE_DAYS = 1.0
# Beyond this share of the residuals an invoice is older than nearly all history: its remaining wait is taken
# from the tail above this quantile (how long the slowest payments took beyond it).
TAIL_SHARE = 0.9
INTERVAL_QUANTILES = (0.1, 0.9)
# Residual distributions are kept as this many evenly spaced quantiles: searching 2,001 values instead of a
# million makes the cash-in weeks 10x faster and moves a probability by at most 1/2,000.
DISTRIBUTION_POINTS = 2001
DENSE_CELLS_LIMIT = 20_000_000
SORTED_SEARCH_MIN_VALUES = 1_000  # fewer values are searched as they come (sorting them would cost more)


@dataclass(frozen=True)
class DateMethod:
    """A payment-date method: its name, what the app calls it and whether it conditions on the invoice being open."""

    name: str
    label: str
    conditioned: bool
    short: str


DATE_METHODS: dict[str, DateMethod] = {
    m.name: m
    for m in (
        DateMethod("original", "original formula: last payment + mean delay (per customer)", False, "Original formula"),
        DateMethod("customer_mean", "invoice date + customer mean delay", False, "Customer mean delay"),
        DateMethod(
            "customer_typical",
            "invoice date + customer typical delay, shrunk to the portfolio",
            True,
            "Customer typical delay",
        ),
        DateMethod(
            "due_date_typical",
            "due date + customer typical lateness, shrunk to the portfolio",
            True,
            "Due date + typical lateness",
        ),
        DateMethod(
            "segments",
            "due date + customer typical lateness, adjusted by terms, size, service and extra columns",
            True,
            "Lateness by segment",
        ),
    )
}
# The methods the app may choose by backtest; the first two are references only.
APP_DATE_METHODS = ("customer_typical", "due_date_typical", "segments")
DEFAULT_DATE_METHOD = "segments"


@dataclass(frozen=True)
class DelayDistribution:
    """Per-target delay distribution: ``base + scale * z`` with z from ``residuals``, beyond ``age`` if conditioned.

    A target older than ``TAIL_SHARE`` of its own distribution is beyond what its history can say; its remaining
    wait is taken in days from ``tail_excess``: how far the portfolio's slowest payments went beyond the
    portfolio's ``TAIL_SHARE`` delay quantile.
    """

    base: np.ndarray
    scale: np.ndarray
    age: np.ndarray
    residuals: np.ndarray  # sorted standardised residuals of the history
    tail_excess: np.ndarray  # sorted days beyond the portfolio's TAIL_SHARE delay, of the payments past it
    conditioned: bool

    def position(self) -> tuple[np.ndarray, np.ndarray]:
        """Per target: share of residuals at or below its age (0 unconditioned), and whether it is in the tail."""
        count = len(self.residuals)
        if not self.conditioned:
            return np.zeros(len(self.base)), np.zeros(len(self.base), dtype=bool)
        threshold = (self.age - self.base) / self.scale
        below = np.searchsorted(self.residuals, threshold, side="right") / count
        return below, below > TAIL_SHARE

    def quantile(self, q: float, position: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Delay in days at conditional quantile ``q`` (inverse empirical CDF, so always beyond the age).

        ``position`` is ``self.position()``, passed in when asking for several quantiles of the same targets.
        """
        below, tail = self.position() if position is None else position
        count = len(self.residuals)
        share = below + q * (1.0 - below)
        index = np.clip(np.ceil(share * count).astype(np.int64) - 1, 0, count - 1)
        delay = self.base + self.scale * self.residuals[index]
        excess_index = min(max(int(np.ceil(q * len(self.tail_excess))) - 1, 0), len(self.tail_excess) - 1)
        delays: np.ndarray = np.where(tail, self.age + self.tail_excess[excess_index], delay)
        return delays

    def probability_by(self, delay: np.ndarray, position: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Conditional probability that each target is paid within ``delay`` days of its invoice date.

        ``position`` is ``self.position()``, passed in when asking for many delays of the same targets. When every
        target is in the tail (or none is), only that one distribution is searched.
        """
        below, tail = self.position() if position is None else position
        inside: np.ndarray | None = None
        if not tail.all():
            standardised = (delay - self.base) / self.scale
            reached = count_at_or_below(self.residuals, standardised) / len(self.residuals)
            remaining = np.maximum(1.0 - below, 1e-12)
            inside = np.clip((reached - below) / remaining, 0.0, 1.0)
            if not tail.any():
                return inside
        beyond = np.broadcast_to(delay - self.age, self.base.shape)
        if inside is None and beyond.size and beyond.min() == beyond.max():  # forecast on one day: all waited as long
            beyond = beyond[:1]
        found = np.searchsorted(self.tail_excess, beyond, side="right") / len(self.tail_excess)
        waited: np.ndarray = np.broadcast_to(found, self.base.shape)
        return np.array(waited) if inside is None else np.where(tail, waited, inside)

    def subset(self, rows: np.ndarray | slice) -> DelayDistribution:
        """The distribution of some of the targets."""
        return replace(self, base=self.base[rows], scale=self.scale[rows], age=self.age[rows])


@dataclass(frozen=True)
class KnownPayments:
    """The payments known on an as-of date: their rows, delays (prepayments as 0 days) and the portfolio's tail."""

    rows: np.ndarray
    delay: np.ndarray
    tail_excess: np.ndarray


def known_payments(prepared: PreparedLedger, as_of_day: float) -> KnownPayments:
    """The payments known on ``as_of_day``, shared by every method fitted then. Raises ForecastError when none is."""
    history = np.flatnonzero(prepared.paid_by(as_of_day))
    if len(history) == 0:
        raise ForecastError(
            "No invoice had been paid by the forecast date, so there is no payment history to learn from. "
            "Pick a later date, or load a ledger with payment dates."
        )
    # A prepayment waited 0 days (as the analytics count it): no negative delay enters a distribution.
    delay = np.maximum(prepared.payment_day[history] - prepared.invoice_day[history], 0.0)
    return KnownPayments(history, delay, _tail_excess(delay))


def fit_delays(
    prepared: PreparedLedger,
    as_of_day: float,
    method: str,
    targets: np.ndarray,
    target_as_of: np.ndarray,
    known: KnownPayments | None = None,
) -> DelayDistribution:
    """The delay distribution of ``targets`` (row positions) under ``method``, from payments known on ``as_of_day``.

    ``target_as_of`` is the day each target is forecast on (the as-of date; for an invoice issued later, its own
    invoice date): the age it is conditioned on. ``known`` is ``known_payments(prepared, as_of_day)`` when the
    caller has it. Several methods for the same targets: ``DelayFits``. Raises ForecastError when no payment is
    known yet.
    """
    return DelayFits(prepared, as_of_day, targets, target_as_of, known).fit(method)


class DelayFits:
    """Delay distributions of the same targets on one date under any method, sharing what the methods share.

    That is the customer of every row, the known delays' moments per customer (the customer means and the
    original formula) and the due-date fit (``due_date_typical``, and where ``segments`` starts). Raises
    ForecastError when no payment is known on the date.
    """

    def __init__(
        self,
        prepared: PreparedLedger,
        as_of_day: float,
        targets: np.ndarray,
        target_as_of: np.ndarray,
        known: KnownPayments | None = None,
    ) -> None:
        self.prepared = prepared
        self.known = known_payments(prepared, as_of_day) if known is None else known
        self.rows = np.concatenate([self.known.rows, targets])  # the known payments first, then the targets
        self.customer = prepared.customer[self.rows]
        self.age = np.maximum(target_as_of - prepared.invoice_day[targets], 0.0)

    def fit(self, method: str) -> DelayDistribution:
        """The targets' delay distribution under ``method``."""
        known = self.known
        if method == "original":  # a date, not a distribution: fitted on the targets only, no residuals
            base, scale = self._original()
            conditioned = DATE_METHODS[method].conditioned
            return DelayDistribution(base, scale, self.age, np.zeros(1), known.tail_excess, conditioned)
        if method in ("due_date_typical", "segments"):
            base, scale = self._due_date_typical
            if method == "segments":
                base, scale = _segments(self.prepared, self.rows, self.customer, known, base)
        else:
            mean, spread = self._customer_mean if method == "customer_mean" else self._customer_typical
            base, scale = mean[self.customer], spread[self.customer]
        count = len(known.rows)
        residuals = np.sort((known.delay - base[:count]) / scale[:count])
        residuals = residuals[np.isfinite(residuals)]
        if len(residuals) == 0:
            residuals = np.zeros(1)
        residuals = _thin(residuals)
        conditioned = DATE_METHODS[method].conditioned
        return DelayDistribution(base[count:], scale[count:], self.age, residuals, known.tail_excess, conditioned)

    @cached_property
    def _delay_moments(self) -> GroupMoments:
        return group_moments(self.customer[: len(self.known.rows)], self.known.delay, self.prepared.customers)

    @cached_property
    def _customer_mean(self) -> tuple[np.ndarray, np.ndarray]:
        return _shrunk(self._delay_moments, 0.0)

    @cached_property
    def _customer_typical(self) -> tuple[np.ndarray, np.ndarray]:
        return _shrunk(self._delay_moments, None)

    @cached_property
    def _due_date_typical(self) -> tuple[np.ndarray, np.ndarray]:
        """Every row's base (due date + the customer's typical lateness, shrunk) and scale."""
        prepared, history = self.prepared, self.known.rows
        terms = prepared.terms_days
        lateness = prepared.payment_day[history] - prepared.invoice_day[history] - terms[history]
        count = self._delay_moments.count  # of the same known payments per customer
        moments = group_moments(self.customer[: len(history)], lateness, prepared.customers, count)
        mean, spread = _shrunk(moments, None)
        return terms[self.rows] + mean[self.customer], spread[self.customer]

    def _original(self) -> tuple[np.ndarray, np.ndarray]:
        """The targets' base (last payment date + mean delay, rounded half away from zero, per customer) and scale."""
        prepared, history = self.prepared, self.known.rows
        count, total = self._delay_moments.count, self._delay_moments.total
        mean = np.divide(total, count, out=np.full(prepared.customers, np.nan), where=count > 0)
        last = np.full(prepared.customers, -np.inf)
        np.maximum.at(last, self.customer[: len(history)], prepared.payment_day[history])
        rounded = np.sign(mean) * np.floor(np.abs(mean) + 0.5)
        next_day = np.where(count > 0, last + rounded, np.nan)
        targets = self.customer[len(history) :]
        base = next_day[targets] - prepared.invoice_day[self.rows[len(history) :]]
        _, spread = self._customer_mean
        return base, spread[targets]


def _tail_excess(delay: np.ndarray) -> np.ndarray:
    """Sorted days by which the payments beyond the portfolio's ``TAIL_SHARE`` delay quantile exceeded it."""
    cut = float(np.quantile(delay, TAIL_SHARE))
    excess = np.sort(delay[delay > cut] - cut)
    return _thin(excess) if len(excess) else np.array([MIN_SCALE_DAYS])


def _thin(ordered: np.ndarray) -> np.ndarray:
    """A sorted sample kept as ``DISTRIBUTION_POINTS`` evenly spaced quantiles when it is longer than that."""
    if len(ordered) <= DISTRIBUTION_POINTS:
        return ordered
    return sorted_quantiles(ordered, np.linspace(0.0, 1.0, DISTRIBUTION_POINTS))


def sorted_quantiles(ordered: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """``numpy.quantile(ordered, shares)`` (linear, same arithmetic, same result) of an already sorted sample.

    ``numpy.quantile`` partitions its input around every asked index (~25 ms for 2,001 shares of a million
    values, a dozen times per backtest origin); a sorted sample only needs indexing.
    """
    count = len(ordered)
    virtual = (count - 1) * shares
    previous = np.floor(virtual)
    following = previous + 1
    last = virtual >= count - 1
    previous[last] = following[last] = -1
    before, after = previous.astype(np.intp), following.astype(np.intp)
    gamma = virtual - before
    low, high = ordered[before], ordered[after]
    difference = high - low
    values: np.ndarray = low + difference * gamma
    np.subtract(high, difference * (1 - gamma), out=values, where=gamma >= 0.5)
    return values


@dataclass(frozen=True)
class GroupMoments:
    """Count, sum and sum of squares of values per group, and the mean and variance of all the values."""

    count: np.ndarray
    total: np.ndarray
    squares: np.ndarray
    overall_mean: float
    overall_var: float


def group_moments(codes: np.ndarray, values: np.ndarray, groups: int, count: np.ndarray | None = None) -> GroupMoments:
    """The moments of ``values`` per group code (``count``: the codes' count per group, when known already)."""
    if count is None:
        count, total = _group_sums(codes, values, groups)
    else:
        total = np.bincount(codes, weights=values, minlength=groups)
    squares = np.bincount(codes, weights=values * values, minlength=groups)
    overall_var = float(values.var()) if len(values) > 1 else 0.0
    return GroupMoments(count, total, squares, float(values.mean()), overall_var)


def count_at_or_below(ordered: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``numpy.searchsorted(ordered, values, side="right")``: per value, how many of ``ordered`` are at or below it.

    The values are searched in sorted order: numpy starts each search where the previous one ended, and the
    branches of a binary search over a short table are then predictable. Sorting 37k values and searching them
    takes 0.6 ms instead of 2.2 ms in random order (each value's count is the same either way).
    """
    if len(values) < SORTED_SEARCH_MIN_VALUES:
        return np.searchsorted(ordered, values, side="right")
    order = np.argsort(values)
    counts = np.empty(len(values), dtype=np.intp)
    counts[order] = np.searchsorted(ordered, values[order], side="right")
    return counts


def _group_sums(codes: np.ndarray, values: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Count and sum of ``values`` per group code."""
    count = np.bincount(codes, minlength=groups).astype("float64")
    total = np.bincount(codes, weights=values, minlength=groups)
    return count, total


def estimate_shrinkage(count: np.ndarray, total: np.ndarray, squares: np.ndarray) -> float:
    """k = within-group variance / between-group variance of the group means (empirical Bayes, method of moments).

    Groups with two or more values count; the between variance is the variance of their means less the part
    their sampling noise explains. Few groups, or no spread between them, give the upper bound (pool fully).
    """
    several = count >= 2
    if several.sum() < 3:
        return SHRINKAGE_BOUNDS[1]
    n, sums, squared = count[several], total[several], squares[several]
    means = sums / n
    within = float((squared - sums * means).sum() / (n - 1).sum())
    between = float(means.var(ddof=1) - np.mean(within / n))
    if between <= 0:
        return SHRINKAGE_BOUNDS[1]
    return float(np.clip(within / between, *SHRINKAGE_BOUNDS))


def _shrunk(moments: GroupMoments, shrinkage: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Per group: mean shrunk towards the overall mean and spread shrunk towards the overall variance.

    mean_g = (sum_g + k * mean) / (n_g + k); spread_g^2 = (sum_g (v - mean_g)^2 + k * var) / (n_g + k), with
    k from ``estimate_shrinkage`` when ``shrinkage`` is None. With k = 0 (the plain customer mean) a group
    without history gets the overall mean and spread.
    """
    count, total, squares = moments.count, moments.total, moments.squares
    if shrinkage is None:
        shrinkage = estimate_shrinkage(count, total, squares)
    weight = count + shrinkage
    overall_mean, overall_var = moments.overall_mean, moments.overall_var
    mean = np.where(weight > 0, (total + shrinkage * overall_mean) / np.maximum(weight, 1e-12), overall_mean)
    weight = np.maximum(weight, 1e-12)
    spread_sum = np.maximum(squares - 2 * mean * total + count * mean * mean, 0.0)
    if shrinkage > 0:
        variance = (spread_sum + shrinkage * overall_var) / weight
    else:
        variance = np.where(count > 1, spread_sum / np.maximum(count, 1.0), overall_var)
    return mean, np.maximum(np.sqrt(variance), MIN_SCALE_DAYS)


def _segments(
    prepared: PreparedLedger, rows: np.ndarray, customer: np.ndarray, known: KnownPayments, base: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A typical delay (``base``) plus, per feature, a portfolio effect and a customer-within-level effect, both shrunk.

    ``customer`` is the customer of each of ``rows`` (the known payments first). One pass over the features in
    order: effect(level) = sum of residuals / (n + k), then for each (customer, level) cell the same on what is
    left; k = ``SHRINKAGE_INVOICES`` pulls thin cells to zero.
    """
    delay, count = known.delay, len(known.rows)
    base = base.copy()
    for feature in prepared.features:
        level = feature.codes[rows]
        residual = delay - base[:count]
        cases, total = _group_sums(level[:count], residual, feature.levels)
        base += (total / (cases + SHRINKAGE_INVOICES))[level]
        cell, cells = _cells(customer, level, feature.levels)
        residual = delay - base[:count]
        cases, total = _group_sums(cell[:count], residual, cells)
        base += (total / (cases + SHRINKAGE_INVOICES))[cell]
    residual = delay - base[:count]
    _, spread = _shrunk(group_moments(customer[:count], residual, prepared.customers), None)
    return base, spread[customer]


def _cells(customer: np.ndarray, level: np.ndarray, levels: int) -> tuple[np.ndarray, int]:
    """A code per (customer, level) pair and the number of codes (dense when small enough to count directly)."""
    cell = customer * levels + level
    size = int(cell.max()) + 1 if len(cell) else 0
    if size <= DENSE_CELLS_LIMIT:
        return cell, size
    cells, position = np.unique(cell, return_inverse=True)
    return position, len(cells)
