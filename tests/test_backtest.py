"""The rolling-origin backtest: on a ledger with known delay and amount distributions it recovers them."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.forecast_ledgers import KNOWN_SPREAD, generated_ledger
from ledger_frames import make_ledger

from finlib.config import Settings
from finlib.errors import ForecastError
from finlib.forecast import backtest
from finlib.forecast.backtest import BacktestResult, run_backtest
from finlib.forecast.backtest_cache import backtest_path, cached_backtest, load_backtest

ROOT = Path(__file__).resolve().parents[1]

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


FORKED_SCRIPT = r"""
import json, sys
from helpers.forecast_ledgers import generated_ledger
from finlib.forecast import backtest

def scored(min_rows):
    backtest.PARALLEL_MIN_ROWS = min_rows
    forked = []
    real = backtest._workers
    backtest._workers = lambda *a: forked.append(real(*a)) or forked[-1]
    data = backtest.run_backtest(generated_ledger()).to_json()
    backtest._workers = real
    data.pop("seconds")
    return forked, json.dumps(data, sort_keys=True)

print(json.dumps([scored(0), scored(10**12)]))
"""


def test_origins_scored_in_forked_workers_give_the_same_result_to_the_last_digit(tmp_path: Path) -> None:
    if os.cpu_count() == 1 or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: the origins are scored in this process")
    # A fresh interpreter: this test process runs server threads (S3, the model), and with another thread
    # running the backtest rightly refuses to fork.
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    completed = subprocess.run(
        [sys.executable, "-c", FORKED_SCRIPT], capture_output=True, text=True, env=environ, cwd=tmp_path,
        timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    (forked, parallel), (single, alone) = json.loads(completed.stdout.strip().splitlines()[-1])
    assert forked == [2] and single == [1]
    assert parallel == alone


def test_origins_are_scored_in_this_process_when_another_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backtest, "PARALLEL_MIN_ROWS", 0)
    threads = [1]
    monkeypatch.setattr(backtest.threading, "active_count", lambda: threads[0])
    assert backtest._workers(10, 12) == min(2, len(os.sched_getaffinity(0)))
    threads[0] = 2  # a server thread, as in the dashboard or the API
    assert backtest._workers(10, 12) == 1
    threads[0] = 1
    monkeypatch.setattr(backtest, "PARALLEL_MIN_ROWS", 11)
    assert backtest._workers(10, 12) == 1
