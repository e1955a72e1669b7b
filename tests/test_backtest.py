"""The rolling-origin backtest: on a ledger with known delay and amount distributions it recovers them."""

from __future__ import annotations

import json
import math
import os
import threading

import pytest
from helpers.forecast_ledgers import KNOWN_SPREAD, generated_ledger
from ledger_frames import make_ledger

from finlib.config import Settings
from finlib.errors import ForecastError
from finlib.forecast import backtest
from finlib.forecast.backtest import BacktestResult, run_backtest
from finlib.forecast.backtest_cache import backtest_path, cached_backtest, load_backtest

# |Normal(0, s)| averages s * sqrt(2 / pi): the error of a forecast that knows each customer's mean exactly.
KNOWN_MAE = KNOWN_SPREAD * math.sqrt(2 / math.pi)
AMOUNT_SIGMA = 0.3  # generated amounts are lognormal(8, 0.3): E|X - mean| / mean is about 0.8 * sigma


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    return run_backtest(generated_ledger())


@pytest.mark.parametrize("method", ["customer_typical", "due_date_typical", "segments"])
def test_the_date_methods_recover_the_known_spread_of_delays(result: BacktestResult, method: str) -> None:
    score = result.date_score(method)
    assert score is not None and score.predictions > 500
    assert 0.75 * KNOWN_MAE <= score.mae_days <= 1.15 * KNOWN_MAE
    assert abs(score.bias_days) < 1.0
    assert score.interval_coverage == pytest.approx(0.8, abs=0.06)  # a 10th-90th percentile interval


def test_the_original_formula_is_scored_and_does_worst(result: BacktestResult) -> None:
    original = result.date_score("original")
    assert original is not None and original.interval_coverage is None
    assert original.mae_days > max(s.mae_days for s in result.dates if s.method != "original")
    assert result.best_date_method in ("customer_typical", "due_date_typical", "segments")


def test_the_amount_methods_find_that_the_mean_of_an_unchanging_distribution_is_best(result: BacktestResult) -> None:
    assert result.best_amount_method == "mean_all"
    score = result.amount_score("mean_all")
    assert score is not None
    assert score.wape == pytest.approx(0.8 * AMOUNT_SIGMA, abs=0.04)


def test_the_weekly_cash_in_is_unbiased_and_its_band_covers_most_weeks(result: BacktestResult) -> None:
    score = result.cash_score("segments")
    assert score is not None and score.weeks == 13 * len(result.origins)
    assert abs(score.bias) < 0.05 * score.mae
    assert score.band_coverage >= 0.75


def test_the_result_round_trips_through_json_without_nan(result: BacktestResult) -> None:
    text = json.dumps(result.to_json(), allow_nan=False)
    assert BacktestResult.from_json(json.loads(text)) == result


def test_a_ledger_too_short_to_backtest_is_refused_with_what_it_needs() -> None:
    ledger = make_ledger([{"customer_name": "A", "invoice_date": "2025-01-01", "amount": 1.0}])
    with pytest.raises(ForecastError, match="about 6 months"):
        run_backtest(ledger)


def test_the_backtest_is_kept_per_project_version_and_settings(settings: Settings) -> None:
    ledger = generated_ledger(customers=6)
    assert load_backtest(settings, "acme", "v1") is None
    first = cached_backtest(ledger, settings, "acme", "v1")
    assert backtest_path(settings, "acme", "v1").exists()
    assert load_backtest(settings, "acme", "v1") == first
    assert load_backtest(settings, "acme", "v2") is None
    assert backtest_path(settings.with_overrides(moving_avg_window=5), "acme", "v1") != backtest_path(
        settings, "acme", "v1"
    )


def _without_timing(result: BacktestResult) -> str:
    data = result.to_json()
    data.pop("seconds")
    return json.dumps(data, sort_keys=True)


def test_origins_scored_in_forked_workers_give_the_same_result_to_the_last_digit(
    result: BacktestResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.cpu_count() == 1 or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: the origins are scored in this process")
    monkeypatch.setattr(backtest, "PARALLEL_MIN_ROWS", 0)
    forked: list[int] = []
    real_workers = backtest._workers
    monkeypatch.setattr(backtest, "_workers", lambda *a: forked.append(real_workers(*a)) or forked[-1])
    parallel = run_backtest(generated_ledger())
    assert forked == [2]
    assert _without_timing(parallel) == _without_timing(result)


def test_origins_are_scored_in_this_process_when_another_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backtest, "PARALLEL_MIN_ROWS", 0)
    assert backtest._workers(10, 12) == min(2, len(os.sched_getaffinity(0)))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert backtest._workers(10, 12) == 1
    finally:
        stop.set()
        other.join()
    monkeypatch.setattr(backtest, "PARALLEL_MIN_ROWS", 11)
    assert backtest._workers(10, 12) == 1
