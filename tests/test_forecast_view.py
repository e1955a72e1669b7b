"""ui.forecast_view: the Customers page's caption on the original formulas and the backtest's best method."""

from __future__ import annotations

import pandas as pd
import pytest

from finlib.forecast.backtest import AmountScore, BacktestResult
from ui.forecast_view import describe_original_forecasts


def _result(best_amount_method: str) -> BacktestResult:
    scores = [
        AmountScore("moving_average", "Moving average", 40, 1_200.0, 0.2),
        AmountScore("median_recent", "Median of recent invoices", 40, 900.0, 0.15),
    ]
    return BacktestResult([], [], scores, [], "original", best_amount_method, 1.0)


class _Amounts:
    """The next amounts, counting how often the caption asked for them (a pass over the whole ledger)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> pd.DataFrame:
        self.calls += 1
        return pd.DataFrame({"median_recent": [4_500.0]}, index=pd.Index(["acme"], name="customer_key"))


@pytest.mark.parametrize("result", [None, _result("moving_average")], ids=["no backtest", "moving average best"])
def test_the_next_amounts_are_not_computed_when_the_caption_does_not_name_one(result: BacktestResult | None) -> None:
    amounts = _Amounts()
    text = describe_original_forecasts(result, amounts, "acme", 3)
    assert amounts.calls == 0
    assert "Best on this ledger's backtest" not in text


def test_a_better_amount_method_is_named_with_this_customers_next_amount() -> None:
    amounts = _Amounts()
    text = describe_original_forecasts(_result("median_recent"), amounts, "acme", 3)
    assert amounts.calls == 1
    assert "**4.50K**" in text
