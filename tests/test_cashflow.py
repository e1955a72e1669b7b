"""The 13-week cash-in forecast and the life table of collectability, on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from finlib.forecast import cashflow
from finlib.forecast.cashflow import (
    AGE_EDGES_DAYS,
    MIN_LIFE_TABLE_INVOICES,
    WEEKS,
    Z_80,
    actual_cash_in,
    collectable_share,
    forecast_cash_in,
)
from finlib.forecast.payment_dates import DelayDistribution

AS_OF = 1000.0


def certain(delays: list[float]) -> DelayDistribution:
    """Invoices issued on the as-of date, each paid exactly ``delay`` days later."""
    count = len(delays)
    return DelayDistribution(
        base=np.array(delays),
        scale=np.ones(count),
        age=np.zeros(count),
        residuals=np.zeros(1),
        tail_excess=np.ones(1),
        conditioned=True,
    )


def test_each_invoice_lands_in_the_week_of_its_payment_date() -> None:
    weeks = forecast_cash_in(certain([3.0, 10.0, 20.0]), np.full(3, AS_OF), np.array([100.0, 200.0, 400.0]), AS_OF)
    # Week 1 is days 1-7 after the as-of date, week 2 days 8-14, week 3 days 15-21.
    assert weeks.expected[:4] == pytest.approx([100.0, 200.0, 400.0, 0.0])
    assert weeks.low[:3] == pytest.approx(weeks.expected[:3])  # certain payments: no band
    assert weeks.start_day[:2] == pytest.approx([AS_OF + 1, AS_OF + 8])
    assert weeks.beyond == pytest.approx(0.0)


def test_collectability_scales_an_invoice_and_widens_the_band() -> None:
    amounts = np.array([100.0, 400.0])
    weeks = forecast_cash_in(certain([3.0, 10.0]), np.full(2, AS_OF), amounts, AS_OF, np.array([1.0, 0.5]))
    assert weeks.expected[:2] == pytest.approx([100.0, 200.0])
    spread = Z_80 * np.sqrt(400.0**2 * 0.25)
    assert weeks.high[1] == pytest.approx(200.0 + spread)
    assert weeks.low[1] == pytest.approx(max(200.0 - spread, 0.0))
    assert weeks.beyond == pytest.approx(200.0)


def test_the_life_table_shares_are_hand_computed() -> None:
    # 100 invoices issued 200 days before the as-of date: 80 paid after 10 days, 20 never.
    invoice_day = np.full(100, AS_OF - 200)
    payment_day = np.where(np.arange(100) < 80, AS_OF - 190, np.nan)
    ages = np.array([0.0, 15.0, 30.0, 22.5])
    shares = collectable_share(invoice_day, payment_day, np.ones(100), AS_OF, ages)
    band_0 = (80 + 20 * 1.0) / (100 + 20)  # new invoices: 80 of 100 paid within 13 weeks, leaning on 1
    band_15 = (0 + 20 * band_0) / (20 + 20)  # at 15 days the 20 still open: none paid
    band_30 = (0 + 20 * band_15) / (20 + 20)
    # Between edges the share is interpolated (22.5 days: halfway between the 15- and 30-day shares).
    assert shares == pytest.approx([band_0, band_15, band_30, (band_15 + band_30) / 2])


def test_payments_after_the_as_of_date_are_unknown_to_the_life_table() -> None:
    invoice_day = np.full(100, AS_OF - 200)
    paid_later = np.full(100, AS_OF + 5)
    shares = collectable_share(invoice_day, paid_later, np.ones(100), AS_OF, np.array([0.0]))
    assert shares == pytest.approx([20 / 120])


def test_actual_cash_in_counts_each_payment_in_its_week() -> None:
    payment_day = np.array([AS_OF + 1, AS_OF + 7, AS_OF + 8, AS_OF, np.nan, AS_OF + 92])
    collected = actual_cash_in(payment_day, np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0]), AS_OF)
    assert collected[:2] == pytest.approx([3.0, 4.0])
    assert collected.sum() == pytest.approx(7.0)


def _life_table_band_by_band(invoice_day, payment_day, amount, as_of_day):
    """The life table written plainly, one pass per age band (the definition in cashflow's docstring)."""
    horizon = WEEKS * 7
    known = np.where(payment_day <= as_of_day, payment_day, np.inf)
    shares, previous = [], 1.0
    for edge in AGE_EDGES_DAYS:
        reached = invoice_day + edge
        eligible = (amount > 0) & (reached + horizon <= as_of_day) & (known > reached)
        paid = float((known[eligible] <= reached[eligible] + horizon).sum())
        previous = (paid + MIN_LIFE_TABLE_INVOICES * previous) / (eligible.sum() + MIN_LIFE_TABLE_INVOICES)
        shares.append(previous)
    return np.array(shares)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_the_life_table_equals_its_band_by_band_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    invoice_day = rng.integers(0, 1500, 5000).astype("float64")
    payment_day = invoice_day + np.round(rng.gamma(1.5, 60.0, 5000))
    payment_day[rng.random(5000) < 0.25] = np.nan
    amount = np.where(rng.random(5000) < 0.05, -100.0, 100.0)
    edges = np.asarray(AGE_EDGES_DAYS, dtype="float64")
    shares = collectable_share(invoice_day, payment_day, amount, 1400.0, edges)
    np.testing.assert_array_equal(shares, _life_table_band_by_band(invoice_day, payment_day, amount, 1400.0))


def test_the_age_band_lookup_finds_what_a_search_of_the_edges_finds() -> None:
    # Edges 0, 15, 30, ... 730: on an edge, just either side of it, between, far out, infinite and NaN.
    days = np.array([-1e9, -0.5, 0.0, 0.5, 14.9, 15.0, 15.1, 729.0, 730.0, 730.2, 1e9, np.inf, -np.inf, np.nan])
    assert cashflow._bands_right(days.copy()).tolist() == [0, 0, 1, 1, 1, 2, 2, 11, 12, 12, 12, 12, 0, 12]
    assert cashflow._bands_left(days.copy()).tolist() == [0, 0, 0, 1, 1, 1, 2, 11, 11, 12, 12, 12, 0, 12]
    edges = np.asarray(cashflow.AGE_EDGES_DAYS, dtype="float64")
    many = np.random.default_rng(3).uniform(-50.0, 800.0, 5_000).round(1)
    assert (cashflow._bands_right(many.copy()) == np.searchsorted(edges, many, side="right")).all()
    assert (cashflow._bands_left(many.copy()) == np.searchsorted(edges, many, side="left")).all()


def _cash_in_invoice_by_invoice(
    distribution: DelayDistribution, invoice_day: np.ndarray, amount: np.ndarray, collectable: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The module docstring's expected and variance per week, one invoice at a time (the test's oracle)."""
    edges = AS_OF + 7.0 * np.arange(WEEKS + 1)
    expected, variance = np.zeros(WEEKS), np.zeros(WEEKS)
    for i in range(len(amount)):
        one = distribution.subset(np.array([i]))
        reached = [
            0.0
            if distribution.conditioned and k == 0
            else float(one.probability_by(edge + 0.5 - invoice_day[i : i + 1])[0])
            for k, edge in enumerate(edges)
        ]
        paid = np.diff(reached)
        if collectable is not None:
            paid = paid * (collectable[i] / paid.sum() if paid.sum() > 0 else 0.0)
        expected += amount[i] * paid
        variance += amount[i] ** 2 * paid * (1 - paid)
    return expected, variance


@pytest.mark.parametrize("conditioned", [True, False])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_weekly_forecast_equals_its_invoice_by_invoice_definition(seed: int, conditioned: bool) -> None:
    # Open invoices of every age, some older than nearly all history (the tail), issued before and on the as-of
    # date, with and without collectable shares: the tail ones are summed per start day, the others one by one.
    rng = np.random.default_rng(seed)
    count = 300
    invoice_day = AS_OF - rng.integers(0, 400, count).astype("float64")
    invoice_day[:40] = AS_OF - 250.0  # many tail invoices with the same start day
    distribution = DelayDistribution(
        base=rng.uniform(10.0, 60.0, count),
        scale=rng.uniform(1.0, 20.0, count),
        age=AS_OF - invoice_day,
        residuals=np.sort(rng.standard_normal(501)),
        tail_excess=np.sort(np.append(rng.gamma(2.0, 20.0, 100), 0.25)),  # one paid within the as-of day
        conditioned=conditioned,
    )
    amount = rng.uniform(-50.0, 1000.0, count).round(2)
    tail = distribution.position()[1]
    assert conditioned == (0 < tail.sum() < count)  # the case mixes both kinds (none is in the tail unconditioned)
    for collectable in (None, rng.uniform(0.0, 1.0, count)):
        weeks = forecast_cash_in(distribution, invoice_day, amount, AS_OF, collectable)
        expected, variance = _cash_in_invoice_by_invoice(distribution, invoice_day, amount, collectable)
        np.testing.assert_allclose(weeks.expected, expected, rtol=1e-9, atol=1e-7)
        spread = Z_80 * np.sqrt(variance)
        np.testing.assert_allclose(weeks.high, expected + spread, rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(weeks.low, np.maximum(expected - spread, 0.0), rtol=1e-9, atol=1e-6)
        assert weeks.beyond == pytest.approx(amount.sum() - expected.sum())
