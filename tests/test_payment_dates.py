"""Payment-date methods: every formula on hand-computed histories, conditioning on still-open, intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers.forecast_ledgers import KNOWN_MEANS, generated_ledger
from ledger_frames import make_ledger

from finlib.analytics.customer_stats import compute_customer_stats
from finlib.errors import ForecastError
from finlib.forecast.features import day_of, prepare_ledger
from finlib.forecast.payment_dates import (
    DATE_METHODS,
    DelayDistribution,
    DelayFits,
    count_at_or_below,
    estimate_shrinkage,
    fit_delays,
    sorted_quantiles,
)

AS_OF = pd.Timestamp("2025-12-31")


def paid(customer: str, invoice: str, delay: int, **extra: object) -> dict[str, object]:
    date = pd.Timestamp(invoice)
    row = {"customer_name": customer, "invoice_date": invoice, "amount": 100.0}
    row["payment_date"] = (date + pd.Timedelta(days=delay)).strftime("%Y-%m-%d")
    return row | extra


def open_invoice(customer: str, invoice: str, **extra: object) -> dict[str, object]:
    return {"customer_name": customer, "invoice_date": invoice, "amount": 100.0} | extra


# Delays: A 10, 20, 30 (mean 20); B 40, 50 (mean 45); C 5, 15 (mean 10); D has no payment yet.
HISTORY = [
    paid("A", "2025-01-01", 10), paid("A", "2025-02-01", 20), paid("A", "2025-03-01", 30),
    paid("B", "2025-01-01", 40), paid("B", "2025-02-01", 50),
    paid("C", "2025-01-01", 5), paid("C", "2025-02-01", 15),
]  # fmt: skip
TARGETS = [open_invoice("A", "2025-12-20"), open_invoice("D", "2025-12-20")]


def fitted(method: str, rows: list[dict[str, object]] = HISTORY + TARGETS) -> DelayDistribution:
    prepared = prepare_ledger(make_ledger(rows))
    targets = np.flatnonzero(prepared.open_on(day_of(AS_OF)))
    return fit_delays(prepared, day_of(AS_OF), method, targets, np.full(len(targets), day_of(AS_OF)))


def test_the_shrinkage_is_within_over_between_customer_variance() -> None:
    # within = (200 + 50 + 50) / (2 + 1 + 1) = 75; means 20, 45, 10 vary by 325, less 75 * mean(1/3, 1/2, 1/2).
    count, total, squares = np.array([3.0, 2, 2]), np.array([60.0, 90, 20]), np.array([1400.0, 4100, 250])
    assert estimate_shrinkage(count, total, squares) == pytest.approx(75 / (325 - 75 * (1 / 3 + 1 / 2 + 1 / 2) / 3))


@pytest.mark.parametrize(
    ("method", "a_base", "d_base"),
    [
        # customer mean; a customer with no payment gets the portfolio mean 170 / 7.
        ("customer_mean", 20.0, 170 / 7),
        # (sum + k * portfolio mean) / (n + k), k = 75 / 291.667 = 0.25714.
        ("customer_typical", (60 + 0.257143 * 170 / 7) / (3 + 0.257143), 170 / 7),
        # lateness = delay - 30 days of terms: the same shrinkage, then + 30.
        ("due_date_typical", 30 + (60 - 90 + 0.257143 * (170 / 7 - 30)) / (3 + 0.257143), 170 / 7),
    ],
)
def test_each_method_starts_from_the_hand_computed_typical_delay(method: str, a_base: float, d_base: float) -> None:
    distribution = fitted(method)
    assert distribution.base == pytest.approx([a_base, d_base], abs=1e-3)


def test_segments_adds_a_shrunk_effect_per_level_of_an_extra_column() -> None:
    # One customer, lateness -20 (electronic) and -10 (paper), 4 each: base delay 15. Level effect
    # -/+ 20 / (4 + 5) = 2.222; the (customer, level) cell then has -/+ 2.778 each: 11.111 / 9 = 1.235 more.
    rows = [paid("A", f"2025-0{m}-01", 10, channel="electronic") for m in range(1, 5)]
    rows += [paid("A", f"2025-0{m}-15", 20, channel="paper") for m in range(1, 5)]
    rows += [open_invoice("A", "2025-12-30", channel="electronic"), open_invoice("A", "2025-12-30", channel="paper")]
    ledger = make_ledger([{k: v for k, v in r.items() if k != "channel"} for r in rows])
    ledger["extra:Billing Channel"] = [r["channel"] for r in rows]
    prepared = prepare_ledger(ledger)
    targets = np.flatnonzero(prepared.open_on(day_of(AS_OF)))
    distribution = fit_delays(prepared, day_of(AS_OF), "segments", targets, np.full(2, day_of(AS_OF)))
    effect = 20 / 9 + (5 - 20 / 9) * 4 / 9
    assert distribution.base == pytest.approx([15 - effect, 15 + effect], abs=1e-9)


def test_the_original_method_is_the_stats_formula_last_payment_plus_mean_delay() -> None:
    rows = HISTORY + TARGETS
    distribution = fitted("original", rows)
    stats = compute_customer_stats(make_ledger(rows)).set_index("customer_key")
    expected = stats.loc["a", "predicted_next_payment_date"] - pd.Timestamp("2025-12-20")
    assert distribution.quantile(0.5)[0] == expected.days
    assert np.isnan(distribution.base[1])  # a customer who never paid has no original forecast


def by_hand(age: float, conditioned: bool = True) -> DelayDistribution:
    return DelayDistribution(
        base=np.array([30.0]),
        scale=np.array([10.0]),
        age=np.array([age]),
        residuals=np.array([-1.0, 0.0, 1.0, 2.0]),
        tail_excess=np.array([3.0, 7.0, 20.0]),
        conditioned=conditioned,
    )


@pytest.mark.parametrize(
    ("age", "conditioned", "q", "delay"),
    [
        (35.0, False, 0.5, 30.0),  # unconditioned median: residual 0
        (35.0, True, 0.5, 40.0),  # 35 days old: residuals above 0.5 are 1 and 2; share .5 + .5 * .5 -> 1
        (35.0, True, 0.1, 40.0),
        (35.0, True, 0.9, 50.0),
        (5.0, True, 0.5, 30.0),  # younger than every residual: the plain median
        (80.0, True, 0.5, 87.0),  # beyond the tail: the age plus the median excess of the slowest payments
        (80.0, True, 0.9, 100.0),
    ],
)
def test_quantiles_are_conditioned_on_the_invoice_still_being_open(
    age: float, conditioned: bool, q: float, delay: float
) -> None:
    assert by_hand(age, conditioned).quantile(q) == pytest.approx([delay])


def test_probabilities_are_conditioned_on_the_invoice_still_being_open() -> None:
    distribution = by_hand(35.0)
    assert distribution.probability_by(np.array([35.0])) == pytest.approx([0.0])
    assert distribution.probability_by(np.array([40.0])) == pytest.approx([0.5])
    assert distribution.probability_by(np.array([60.0])) == pytest.approx([1.0])


def test_probabilities_of_targets_in_and_beyond_the_tail_together_equal_each_alone() -> None:
    # Ages 5 and 35 are inside the residuals, 80 and 90 beyond the tail (older than 90% of them).
    ages = np.array([5.0, 35.0, 80.0, 90.0])
    together = DelayDistribution(
        np.full(4, 30.0), np.full(4, 10.0), ages, np.array([-1.0, 0.0, 1.0, 2.0]), np.array([3.0, 7.0, 20.0]), True
    )
    delays = ages + 6.0  # each asked six days past its age: the tail answers 1/3 (one excess of 3 days is under 6)
    alone = [together.subset(np.array([row])).probability_by(delays[row : row + 1])[0] for row in range(4)]
    assert together.probability_by(delays) == pytest.approx(alone)
    assert together.subset(slice(2, 4)).probability_by(delays[2:]) == pytest.approx([1 / 3, 1 / 3])


@pytest.mark.parametrize("count", [2002, 10_001, 250_000])
@pytest.mark.parametrize("seed", [1, 2])
def test_quantiles_of_a_sorted_sample_are_numpys_to_the_last_bit(count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for sample in (rng.normal(size=count), np.round(rng.gamma(2.0, 25.0, size=count)), rng.integers(0, 4, count)):
        ordered = np.sort(sample.astype("float64"))
        shares = np.linspace(0.0, 1.0, 2001)
        assert np.array_equal(sorted_quantiles(ordered, shares), np.quantile(ordered, shares))


def test_a_forecast_date_with_no_payment_known_is_refused_with_what_to_do() -> None:
    prepared = prepare_ledger(make_ledger(TARGETS))
    with pytest.raises(ForecastError, match="Pick a later date"):
        fit_delays(prepared, day_of(AS_OF), "segments", np.array([0]), np.array([day_of(AS_OF)]))


@pytest.mark.parametrize("method", ["customer_typical", "due_date_typical", "segments"])
def test_a_generated_ledger_gives_back_each_customers_known_mean_delay(method: str) -> None:
    ledger = generated_ledger()
    prepared = prepare_ledger(ledger)
    as_of = day_of(pd.Timestamp("2025-12-31"))
    targets = np.array([np.flatnonzero(prepared.customer == c)[0] for c in range(prepared.customers)])
    distribution = fit_delays(prepared, as_of, method, targets, prepared.invoice_day[targets])
    known = np.array([KNOWN_MEANS[int(str(k).split()[-1]) % 3] for k in prepared.customer_keys])
    assert np.abs(distribution.base - known).max() < 3.0


@pytest.mark.parametrize("order", [list(DATE_METHODS), list(reversed(DATE_METHODS))])
def test_methods_fitted_together_are_each_fitted_alone_to_the_last_bit(order: list[str]) -> None:
    ledger = generated_ledger()
    prepared = prepare_ledger(ledger)
    as_of = day_of(pd.Timestamp("2025-09-30"))
    targets = np.flatnonzero(prepared.open_on(as_of) | (prepared.invoice_day > as_of))
    target_as_of = np.maximum(prepared.invoice_day[targets], as_of)
    fits = DelayFits(prepared, as_of, targets, target_as_of)
    together = {method: fits.fit(method) for method in order}
    for method in DATE_METHODS:
        alone = fit_delays(prepared, as_of, method, targets, target_as_of)
        for name in ("base", "scale", "age", "residuals", "tail_excess"):
            assert np.array_equal(getattr(together[method], name), getattr(alone, name), equal_nan=True), (method, name)


@pytest.mark.parametrize("count", [10, 5_000])
def test_counting_values_at_or_below_is_numpys_searchsorted_on_the_right(count: int) -> None:
    rng = np.random.default_rng(count)
    ordered = np.sort(np.round(rng.normal(size=2001), 1))  # ties in the table
    values = np.round(rng.normal(scale=2.0, size=count), 1)  # values equal to table entries, and beyond both ends
    values[:3] = [np.nan, np.inf, -np.inf]
    assert np.array_equal(count_at_or_below(ordered, values), np.searchsorted(ordered, values, side="right"))
