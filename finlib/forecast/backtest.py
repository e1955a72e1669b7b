"""Rolling-origin backtest of every forecast method on a ledger's own history.

Origins are every ``ORIGIN_STEP_DAYS`` days, from once a quarter of the ledger's span (at least 90 days) is
history until 13 weeks before its latest date, the latest ``MAX_ORIGINS`` of them. At each origin every method
is fitted on the payments known then and predicts:
- dates: each invoice open at the origin (conditioned on its age) and each invoice issued in the next
  ``ORIGIN_STEP_DAYS`` days (as of its own invoice date), scored against its actual payment date when it has one;
- amounts: each customer's first invoice in the next ``ORIGIN_STEP_DAYS`` days;
- cash-in: the next 13 weeks of collections on the invoices open at the origin, against what they paid.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from finlib.errors import ForecastError
from finlib.forecast.amounts import AMOUNT_METHODS, InvoiceOrder, invoice_order, next_invoices, predict_next_amounts
from finlib.forecast.cashflow import WEEKS, actual_cash_in, forecast_cash_in
from finlib.forecast.features import PreparedLedger, prepare_ledger, to_dates
from finlib.forecast.outlook import collectable_share, predict_days
from finlib.forecast.payment_dates import (
    APP_DATE_METHODS,
    DATE_METHODS,
    DEFAULT_DATE_METHOD,
    DelayFits,
)
from finlib.jsonable import JSONValue, to_json_object

ORIGIN_STEP_DAYS = 28
MAX_ORIGINS = 12
MIN_HISTORY_DAYS = 90
HORIZON_DAYS = WEEKS * 7
WITHIN_DAYS = 7
REFERENCE_DATE_METHOD = "customer_mean"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DateScore:
    """How one date method did: predictions scored, MAE, share within +/-7 days, bias (+ = late), coverage."""

    method: str
    label: str
    predictions: int
    mae_days: float
    within_7_days: float
    bias_days: float
    interval_coverage: float | None


@dataclass(frozen=True)
class AmountScore:
    """How one next-amount method did: forecasts scored, MAE and WAPE (sum |error| / sum |actual|)."""

    method: str
    label: str
    predictions: int
    mae: float
    wape: float


@dataclass(frozen=True)
class CashScore:
    """How one method's weekly cash-in forecast did: weeks scored, MAE per week, WAPE, bias, band coverage."""

    method: str
    weeks: int
    mae: float
    wape: float
    bias: float
    band_coverage: float


@dataclass(frozen=True)
class BacktestResult:
    """Every method's scores on one ledger, the origins used and the methods that did best."""

    origins: list[str]
    dates: list[DateScore]
    amounts: list[AmountScore]
    cash: list[CashScore]
    best_date_method: str
    best_amount_method: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    def date_score(self, method: str) -> DateScore | None:
        """The scores of one date method."""
        return next((s for s in self.dates if s.method == method), None)

    def amount_score(self, method: str) -> AmountScore | None:
        """The scores of one amount method."""
        return next((s for s in self.amounts if s.method == method), None)

    def cash_score(self, method: str) -> CashScore | None:
        """The weekly cash-in scores of one date method."""
        return next((s for s in self.cash if s.method == method), None)

    def to_json(self) -> dict[str, JSONValue]:
        """JSON-safe dictionary (the ``backtest --json`` output); a figure with nothing to score is null."""
        return to_json_object(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BacktestResult:
        """Inverse of ``to_json``."""
        return cls(
            origins=list(data["origins"]),
            dates=[DateScore(**_with_nan(d)) for d in data["dates"]],
            amounts=[AmountScore(**_with_nan(a)) for a in data["amounts"]],
            cash=[CashScore(**_with_nan(c)) for c in data["cash"]],
            best_date_method=data["best_date_method"],
            best_amount_method=data["best_amount_method"],
            seconds=float(data["seconds"]),
            notes=list(data.get("notes", [])),
        )


def _with_nan(entry: dict[str, Any]) -> dict[str, Any]:
    """Nulls back to NaN, except the interval coverage, which is None when a method has no interval."""
    return {k: (float("nan") if v is None and k != "interval_coverage" else v) for k, v in entry.items()}


def backtest_origins(prepared: PreparedLedger) -> np.ndarray:
    """Origin days: every ``ORIGIN_STEP_DAYS`` from the end of the warm-up to 13 weeks before the latest date."""
    first = float(np.nanmin(prepared.invoice_day))
    last = float(np.nanmax(np.fmax(prepared.invoice_day, np.nan_to_num(prepared.payment_day, nan=-np.inf))))
    start = first + max(MIN_HISTORY_DAYS, 0.25 * (last - first))
    stop = last - HORIZON_DAYS
    if stop < start:
        raise ForecastError(
            "The ledger spans too short a time to backtest: it needs about 6 months of invoices with payments "
            "(90 days to learn from and 13 weeks to check against)."
        )
    origins = np.arange(stop, start - 1e-9, -ORIGIN_STEP_DAYS)[:MAX_ORIGINS][::-1]
    days: np.ndarray = np.floor(origins)
    return days


@dataclass
class OriginScores:
    """What one origin contributes: per method the date errors and interval hits, cash weeks, amount errors."""

    errors: dict[str, np.ndarray] = field(default_factory=dict)
    covered: dict[str, np.ndarray] = field(default_factory=dict)
    cash: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    amount_errors: dict[str, np.ndarray] = field(default_factory=dict)
    amount_actual: np.ndarray = field(default_factory=lambda: np.zeros(0))
    note: str | None = None


def score_origin(prepared: PreparedLedger, ranks: InvoiceOrder, origin: float, window: int) -> OriginScores:
    """Fit and score every method at one origin (independent of the other origins)."""
    if not prepared.paid_by(origin).any():
        return OriginScores(note=f"origin {to_dates(np.array([origin]))[0]:%Y-%m-%d} skipped: no payment known yet")
    scores = OriginScores()
    open_rows = np.flatnonzero(prepared.open_on(origin))
    upcoming = (prepared.invoice_day > origin) & (prepared.invoice_day <= origin + ORIGIN_STEP_DAYS)
    new_rows = np.flatnonzero(upcoming & (prepared.amount > 0))
    targets = np.concatenate([open_rows, new_rows])
    target_as_of = np.concatenate([np.full(len(open_rows), origin), prepared.invoice_day[new_rows]])
    # Only the targets paid later are scored (at the latest origins a few dozen of ~200k): only they are predicted.
    scored = np.flatnonzero(~np.isnan(prepared.payment_day[targets]))
    actual = prepared.payment_day[targets[scored]]
    invoice_day = prepared.invoice_day[targets]
    collectable = collectable_share(prepared, origin, open_rows)  # the same life table for every method
    fits = DelayFits(prepared, origin, targets, target_as_of)  # the same payments and targets for every method
    for method in DATE_METHODS:
        distribution = fits.fit(method)
        position = distribution.position()  # the same for the predicted dates and the cash-in weeks
        predicted, low, high = predict_days(
            distribution.subset(scored), invoice_day[scored], target_as_of[scored], method, _part(position, scored)
        )
        keep = ~np.isnan(predicted)
        scores.errors[method] = predicted[keep] - actual[keep]
        scores.covered[method] = (low[keep] <= actual[keep]) & (actual[keep] <= high[keep])
        if method in APP_DATE_METHODS:
            opened = slice(0, len(open_rows))
            amount = prepared.amount[open_rows]
            weeks = forecast_cash_in(
                distribution.subset(opened),
                invoice_day[opened],
                amount,
                origin,
                collectable,
                position=_part(position, opened),
            )
            collected = actual_cash_in(prepared.payment_day[open_rows], amount, origin)
            scores.cash[method] = (weeks.expected, weeks.low, weeks.high, collected)
    predictions = predict_next_amounts(prepared, ranks, origin, window)
    next_rows = next_invoices(prepared, ranks, origin, ORIGIN_STEP_DAYS)
    scores.amount_actual = prepared.amount[next_rows]
    customer = prepared.customer[next_rows]
    for method, per_customer in predictions.items():
        scores.amount_errors[method] = per_customer[customer] - scores.amount_actual
    return scores


def _part(position: tuple[np.ndarray, np.ndarray], rows: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
    """The position (``DelayDistribution.position``) of some of the targets."""
    below, tail = position
    return below[rows], tail[rows]


def run_backtest(ledger: pd.DataFrame, *, window: int = 3) -> BacktestResult:
    """Score every date, amount and cash-in method at every origin; see the module docstring."""
    started = time.perf_counter()
    prepared = prepare_ledger(ledger)
    origins = backtest_origins(prepared)
    ranks = invoice_order(prepared)
    per_origin = score_origins(prepared, ranks, origins, window)
    scored = [s for s in per_origin if s.note is None]
    notes = [s.note for s in per_origin if s.note is not None]
    dates = [_date_score(m, [s.errors[m] for s in scored], [s.covered[m] for s in scored]) for m in DATE_METHODS]
    actual_amounts = np.concatenate([s.amount_actual for s in scored]) if scored else np.zeros(0)
    amounts = [_amount_score(m, [s.amount_errors[m] for s in scored], actual_amounts) for m in AMOUNT_METHODS]
    cash_scores = [_cash_score(m, [s.cash[m] for s in scored]) for m in APP_DATE_METHODS]
    app_dates = [s for s in dates if s.method in APP_DATE_METHODS and s.predictions]
    best_date = min(app_dates, key=lambda s: s.mae_days).method if app_dates else DEFAULT_DATE_METHOD
    scored_amounts = [s for s in amounts if s.predictions]
    best_amount = min(scored_amounts, key=lambda s: s.mae).method if scored_amounts else "moving_average"
    result = BacktestResult(
        origins=[f"{d:%Y-%m-%d}" for d in pd.to_datetime(to_dates(origins))],
        dates=dates,
        amounts=amounts,
        cash=cash_scores,
        best_date_method=best_date,
        best_amount_method=best_amount,
        seconds=round(time.perf_counter() - started, 3),
        notes=notes,
    )
    # Held at the precision it is reported and cached at (finlib.jsonable), so a cached read equals a fresh run.
    return BacktestResult.from_json(result.to_json())


# Origins are scored in forked worker processes when the ledger is this large (below it, forking costs more than
# it saves), the machine has a second core, and this process runs no other thread (a fork copies only the calling
# thread: a lock another thread holds, say in the Streamlit or API server, would stay locked in the child).
PARALLEL_MIN_ROWS = 200_000
MAX_WORKERS = 2
_shared: tuple[PreparedLedger, InvoiceOrder, int] | None = None  # what forked workers read (never pickled)


def _score_shared(origin: float) -> OriginScores:
    """Worker side: score one origin on the ledger the parent prepared before forking."""
    assert _shared is not None
    prepared, ranks, window = _shared
    return score_origin(prepared, ranks, origin, window)


def _workers(rows: int, origins: int) -> int:
    """How many processes score the origins: 1 (in this process) unless forking pays and is safe."""
    if rows < PARALLEL_MIN_ROWS or threading.active_count() > 1 or "fork" not in mp.get_all_start_methods():
        return 1
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0)), origins))


def score_origins(
    prepared: PreparedLedger, ranks: InvoiceOrder, origins: np.ndarray, window: int
) -> list[OriginScores]:
    """Every origin's scores, in origin order (so the concatenated errors and their sums are the same either way)."""
    days = [float(origin) for origin in origins]
    workers = _workers(len(prepared.invoice_day), len(days))
    if workers > 1:
        global _shared
        _shared = (prepared, ranks, window)
        try:
            with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
                return list(pool.map(_score_shared, days))
        except (OSError, BrokenProcessPool) as exc:  # no fork possible, or a worker was killed (memory)
            log.warning("backtest workers failed (%s); scoring the origins in this process", type(exc).__name__)
        finally:
            _shared = None
    return [score_origin(prepared, ranks, day, window) for day in days]


def _nan_if_empty(values: np.ndarray, reduce: Any) -> float:
    return float(reduce(values)) if len(values) else float("nan")


def _date_score(method: str, errors: list[np.ndarray], covered: list[np.ndarray]) -> DateScore:
    error = np.concatenate(errors) if errors else np.zeros(0)
    inside = np.concatenate(covered) if covered else np.zeros(0, dtype=bool)
    has_interval = method != "original" and len(inside) > 0
    return DateScore(
        method=method,
        label=DATE_METHODS[method].label,
        predictions=len(error),
        mae_days=_nan_if_empty(np.abs(error), np.mean),
        within_7_days=_nan_if_empty(np.abs(error) <= WITHIN_DAYS, np.mean),
        bias_days=_nan_if_empty(error, np.mean),
        interval_coverage=float(inside.mean()) if has_interval else None,
    )


def _amount_score(method: str, errors: list[np.ndarray], actual: np.ndarray) -> AmountScore:
    error = np.concatenate(errors) if errors else np.zeros(0)
    keep = ~np.isnan(error)
    absolute = np.abs(error[keep])
    scale = float(np.abs(actual[keep]).sum())
    return AmountScore(
        method=method,
        label=AMOUNT_METHODS[method].label,
        predictions=int(keep.sum()),
        mae=_nan_if_empty(absolute, np.mean),
        wape=float(absolute.sum() / scale) if scale > 0 else float("nan"),
    )


def _cash_score(method: str, weeks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> CashScore:
    if not weeks:
        return CashScore(method, 0, float("nan"), float("nan"), float("nan"), float("nan"))
    expected, low, high, actual = (np.concatenate(parts) for parts in zip(*weeks, strict=True))
    error = expected - actual
    total = float(np.abs(actual).sum())
    return CashScore(
        method=method,
        weeks=len(error),
        mae=float(np.abs(error).mean()),
        wape=float(np.abs(error).sum() / total) if total > 0 else float("nan"),
        bias=float(error.mean()),
        band_coverage=float(((low <= actual) & (actual <= high)).mean()),
    )
