"""Words and tables for forecasts: the original formulas labelled with their backtest errors, the backtest tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from finlib.forecast.amounts import AMOUNT_METHODS
from finlib.forecast.backtest import BacktestResult
from finlib.forecast.payment_dates import DATE_METHODS
from ui.format import format_compact


def describe_original_forecasts(
    result: BacktestResult | None, amounts: Callable[[], pd.DataFrame], customer_key: str, window: int
) -> str:
    """One caption: both predictions are the original formulas, their backtest errors, and the best amount method.

    ``amounts`` gives every customer's next amounts (a pass over the whole ledger); it is called only when the
    backtest found a better amount method than the moving average, the one case the caption names that amount.
    """
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
    next_amounts = amounts() if best != "moving_average" else None
    if next_amounts is not None and customer_key in next_amounts.index:
        score = result.amount_score(best)
        label = amount_label(best, window)
        value = next_amounts.loc[customer_key, best]
        error = f", ± {format_compact(score.mae)} typical" if score is not None else ""
        text += f" Best on this ledger's backtest: {label}, **{format_compact(value)}**{error}."
    best_date = result.date_score(result.best_date_method)
    if best_date is not None:
        text += (
            f" Open invoices' payment dates by the best method (± {best_date.mae_days:.0f} days typical) are on "
            "the Forecast page."
        )
    return text


def amount_label(method: str, window: int) -> str:
    """An amount method's label with the moving-average window filled in."""
    return AMOUNT_METHODS[method].label.replace("MOVING_AVG_WINDOW", str(window))


@dataclass(frozen=True)
class BacktestTables:
    """The backtest as the Forecast page shows it: one table per thing forecast, with readable headers."""

    dates: pd.DataFrame
    amounts: pd.DataFrame
    cash: pd.DataFrame


def backtest_tables(result: BacktestResult, window: int) -> BacktestTables:
    """Payment-date, next-amount and weekly cash-in scores of every method, one row per method."""
    dates = pd.DataFrame(
        {
            "Payment-date method": [DATE_METHODS[s.method].short for s in result.dates],
            "How": [s.label for s in result.dates],
            "Invoices scored": [s.predictions for s in result.dates],
            "MAE, days": [s.mae_days for s in result.dates],
            "Within ±7 days": [s.within_7_days for s in result.dates],
            "Bias, days (+ late)": [s.bias_days for s in result.dates],
            "10–90% interval coverage": [s.interval_coverage for s in result.dates],
        }
    )
    amounts = pd.DataFrame(
        {
            "Method": [amount_label(s.method, window) for s in result.amounts],
            "Scored": [s.predictions for s in result.amounts],
            "MAE": [s.mae for s in result.amounts],
            "WAPE": [s.wape for s in result.amounts],
        }
    )
    cash = pd.DataFrame(
        {
            "Method": [DATE_METHODS[s.method].short for s in result.cash],
            "Weeks": [s.weeks for s in result.cash],
            "MAE per week": [s.mae for s in result.cash],
            "WAPE": [s.wape for s in result.cash],
            "Band coverage": [s.band_coverage for s in result.cash],
        }
    )
    return BacktestTables(dates, amounts, cash)


def beyond_history_note(invoices: pd.DataFrame, money: Callable[[float], str]) -> str:
    """Why invoices older than nearly all paid history share one predicted date, and how likely they are paid."""
    old = invoices[invoices["beyond_history"].astype(bool)]
    if old.empty:
        return ""
    count, amount = len(old), float(old["amount"].sum())
    chance = float((old["amount"] * old["paid_in_13_weeks"]).sum()) / amount if amount else 0.0
    return (
        f"{count} open {'invoice is' if count == 1 else 'invoices are'} ({money(amount)}) older "
        "than nearly all paid invoices of their kind. History says little about when such an invoice is paid: "
        "each gets the same remaining wait, the typical extra wait of the ledger's slowest 10% of payments, so "
        f"they share a predicted date. Judged by the ledger's history, {chance:.0%} of their amount is paid within "
        "13 weeks; the cash-in weeks count them at that chance, not in full."
    )
