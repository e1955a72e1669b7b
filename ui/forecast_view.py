"""Words for forecasts on pages other than Forecast: the original formulas labelled, with their backtest errors."""

from __future__ import annotations

import pandas as pd

from finlib.forecast.amounts import AMOUNT_METHODS
from finlib.forecast.backtest import BacktestResult
from ui.format import format_compact


def describe_original_forecasts(
    result: BacktestResult | None, amounts: pd.DataFrame, customer_key: str, window: int
) -> str:
    """One caption: both predictions are the original formulas, their backtest errors, and the best amount method."""
    if result is None:
        return (
            "Both predictions are the original formulas. Their typical errors appear once the project's backtest "
            "has run (Forecast page)."
        )
    text = "Both predictions above are the **original formulas**."
    amount = result.amount_score("moving_average")
    if amount is not None and amount.predictions:
        text += f" Next invoice: ± {format_compact(amount.mae)} typical (backtest MAE, WAPE {amount.wape:.0%})."
    original = result.date_score("original")
    if original is not None and original.predictions:
        text += f" Next payment: ± {original.mae_days:.0f} days typical."
    best = result.best_amount_method
    if best != "moving_average" and customer_key in amounts.index:
        score = result.amount_score(best)
        label = AMOUNT_METHODS[best].label.replace("MOVING_AVG_WINDOW", str(window))
        value = amounts.loc[customer_key, best]
        error = f", ± {format_compact(score.mae)} typical" if score is not None else ""
        text += f" Best on this ledger's backtest: {label}, **{format_compact(value)}**{error}."
    best_date = result.date_score(result.best_date_method)
    if best_date is not None:
        text += (
            f" Open invoices' payment dates by the best method (± {best_date.mae_days:.0f} days typical) are on "
            "the Forecast page."
        )
    return text
