"""The forecast as of a date: a predicted payment date and interval for every open invoice, and 13 weeks of cash-in.

Only what was known on the as-of date is used: invoices issued by then, payments made by then. An invoice paid
later is open on the as-of date, and its later payment is unknown to the forecast.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from finlib.errors import ForecastError
from finlib.forecast import cashflow
from finlib.forecast.cashflow import WEEKS, CashWeeks, actual_cash_in, forecast_cash_in
from finlib.forecast.features import PreparedLedger, day_of, prepare_ledger, to_dates
from finlib.forecast.payment_dates import (
    DATE_METHODS,
    DEFAULT_DATE_METHOD,
    INTERVAL_QUANTILES,
    DelayDistribution,
    fit_delays,
)

JSON_SLICE_ROWS = 20_000  # open invoices written to compact JSON at a time

INVOICE_COLUMNS = (
    "invoice_number", "customer", "customer_key", "alias", "invoice_date", "due_date", "amount",
    "predicted_payment_date", "low_date", "high_date", "days_late", "beyond_history", "paid_in_13_weeks",
)  # fmt: skip


@dataclass(frozen=True)
class Forecast:
    """Open invoices with predicted dates (``INVOICE_COLUMNS``, earliest prediction first) and the weekly cash-in."""

    as_of: pd.Timestamp
    method: str
    invoices: pd.DataFrame
    weeks: CashWeeks

    @property
    def method_label(self) -> str:
        """What the app calls the method."""
        return DATE_METHODS[self.method].label

    def late_mask(self, late_days: int) -> np.ndarray:
        """Which open invoices are predicted late: paid more than ``late_days`` after their due date (alert rule)."""
        late: np.ndarray = self.invoices["days_late"].to_numpy(dtype="float64") > late_days
        return late

    def predicted_late(self, late_days: int) -> pd.DataFrame:
        """The open invoices predicted late (``late_mask``), in forecast order."""
        return self.invoices[self.late_mask(late_days)]


def latest_date(ledger: pd.DataFrame) -> pd.Timestamp:
    """The ledger's latest invoice or payment date: the default as-of date."""
    latest = max(ledger["invoice_date"].max(), ledger["payment_date"].max())
    if pd.isna(latest):
        raise ForecastError("The ledger has no dated invoice to forecast from. Load a ledger with invoice dates.")
    return pd.Timestamp(latest).normalize()


def predict_days(
    distribution: DelayDistribution,
    invoice_day: np.ndarray,
    target_as_of: np.ndarray,
    method: str,
    position: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted, low and high payment day of each target (whole days; after its forecast day when conditioned).

    ``position`` is ``distribution.position()`` when the caller has it already.
    """
    low_q, high_q = INTERVAL_QUANTILES
    position = distribution.position() if position is None else position
    days = [np.floor(invoice_day + distribution.quantile(q, position) + 0.5) for q in (0.5, low_q, high_q)]
    if distribution.conditioned:
        days = [np.maximum(d, target_as_of + 1) for d in days]
    if method == "original":
        days[1] = days[2] = np.full(len(invoice_day), np.nan)  # the original design gave a date, no interval
    return days[0], days[1], days[2]


def collectable_share(prepared: PreparedLedger, as_of_day: float, targets: np.ndarray) -> np.ndarray:
    """Each target's chance of being paid within 13 weeks, from the ledger's life table (``cashflow``)."""
    ages = as_of_day - prepared.invoice_day[targets]
    return cashflow.collectable_share(prepared.invoice_day, prepared.payment_day, prepared.amount, as_of_day, ages)


def compute_forecast(
    ledger: pd.DataFrame, as_of: pd.Timestamp | None = None, method: str = DEFAULT_DATE_METHOD
) -> Forecast:
    """The forecast of every invoice open on ``as_of`` (default: the ledger's latest date) and the cash-in weeks."""
    if method not in DATE_METHODS:
        raise ForecastError(f"Unknown forecast method {method!r}; use one of {', '.join(DATE_METHODS)}.")
    as_of = latest_date(ledger) if as_of is None else pd.Timestamp(as_of).normalize()
    shown, figures, weeks = _predict_open_invoices(ledger, as_of, method)
    wanted = ["invoice_number", "customer_name", "customer_key", "invoice_date", "due_date"]
    rows = ledger[wanted + [c for c in ("customer_alias",) if c in ledger.columns]].iloc[shown]
    alias = rows["customer_alias"] if "customer_alias" in rows.columns else pd.Series(None, index=rows.index)
    # Text stays in its Arrow arrays: a Python string per open invoice and column cost ~100 MB at 200k invoices.
    invoices = pd.DataFrame(
        {
            "invoice_number": rows["invoice_number"].array,
            "customer": rows["customer_name"].array,
            "customer_key": rows["customer_key"].array,
            "alias": alias.array,
            "invoice_date": rows["invoice_date"].to_numpy(),
            "due_date": rows["due_date"].to_numpy(),
            **figures,
        }
    )
    return Forecast(as_of=as_of, method=method, invoices=invoices, weeks=weeks)


def _predict_open_invoices(
    ledger: pd.DataFrame, as_of: pd.Timestamp, method: str
) -> tuple[np.ndarray, dict[str, np.ndarray], CashWeeks]:
    """The open invoices' rows (earliest prediction first), their predicted figures and the cash-in weeks.

    A function of its own so the arrays of every ledger row are released before the open invoices' text is
    taken from the ledger (at a million rows they are ~150 MB of a command's peak memory).
    """
    prepared = prepare_ledger(ledger)
    as_of_day = day_of(as_of)
    targets = np.flatnonzero(prepared.open_on(as_of_day))
    target_as_of = np.full(len(targets), as_of_day)
    distribution = fit_delays(prepared, as_of_day, method, targets, target_as_of)
    position = distribution.position()
    predicted, low, high = predict_days(distribution, prepared.invoice_day[targets], target_as_of, method, position)
    collectable = collectable_share(prepared, as_of_day, targets)
    order = np.lexsort((prepared.invoice_day[targets], predicted))  # earliest prediction first
    shown = targets[order]  # the rows taken once, already in order (each take copies the text columns)
    figures = {
        "amount": prepared.amount[shown],
        "predicted_payment_date": to_dates(predicted[order]),
        "low_date": to_dates(low[order]),
        "high_date": to_dates(high[order]),
        "days_late": predicted[order] - prepared.due_day[shown],
        # Older than nearly all paid history: its date is the portfolio's slowest payments' extra wait.
        "beyond_history": position[1][order],
        "paid_in_13_weeks": collectable[order],
    }
    weeks = forecast_cash_in(
        distribution, prepared.invoice_day[targets], prepared.amount[targets], as_of_day, collectable, position=position
    )
    return shown, figures, weeks


def compute_past_weeks(ledger: pd.DataFrame, as_of: pd.Timestamp, method: str) -> pd.DataFrame:
    """The forecast made 13 weeks before ``as_of`` for the weeks since, beside what those invoices actually paid.

    Columns ``week_start``, ``expected``, ``low``, ``high``, ``actual``; payments after ``as_of`` are not used.
    An empty frame when the earlier date has no payment history yet.
    """
    as_of = pd.Timestamp(as_of).normalize()
    earlier = as_of - pd.Timedelta(weeks=WEEKS)
    try:
        forecast = compute_forecast(ledger, earlier, method)
    except ForecastError:
        return pd.DataFrame(columns=["week_start", "expected", "low", "high", "actual"])
    prepared = prepare_ledger(ledger)
    earlier_day = day_of(earlier)
    rows = np.flatnonzero(prepared.open_on(earlier_day))
    payment = prepared.payment_day[rows]
    payment = np.where(payment <= day_of(as_of), payment, np.nan)
    weeks = forecast.weeks.frame()
    weeks["actual"] = actual_cash_in(payment, prepared.amount[rows], earlier_day)
    return weeks


def _iso_days(values: pd.Series | np.ndarray) -> pd.Series:
    """Dates as ``YYYY-MM-DD`` strings (missing stays missing), formatted by Arrow rather than per date in Python."""
    import pyarrow as pa

    days = pa.array(np.asarray(values, dtype="datetime64[ns]"), from_pandas=True).cast(pa.date32())
    return pd.Series(days.cast(pa.string()).to_pandas(), dtype=object)


def _rounded(values: pd.Series | np.ndarray) -> pd.Series:
    return pd.Series(np.round(np.asarray(values, dtype="float64"), 2))


def invoice_records(forecast: Forecast) -> pd.DataFrame:
    """The ``invoices`` entries of the ``forecast --json`` document, one row each, JSON-ready columns in order."""
    table = forecast.invoices.reset_index(drop=True)
    return pd.DataFrame(
        {
            "invoice_number": table["invoice_number"].astype(object).where(table["invoice_number"].notna(), None),
            "customer": table["customer"].astype(object),
            "alias": table["alias"].astype(object).where(table["alias"].notna(), None),
            "invoice_date": _iso_days(table["invoice_date"]),
            "due_date": _iso_days(table["due_date"]),
            "amount": _rounded(table["amount"]),
            "predicted_payment_date": _iso_days(table["predicted_payment_date"]),
            "low_date": _iso_days(table["low_date"]),
            "high_date": _iso_days(table["high_date"]),
            "beyond_history": table["beyond_history"].astype(bool),
            "paid_in_13_weeks": table["paid_in_13_weeks"].round(4),
        }
    )


def week_records(forecast: Forecast) -> pd.DataFrame:
    """The ``weeks`` entries of the ``forecast --json`` document."""
    weeks = forecast.weeks.frame()
    return pd.DataFrame(
        {
            "week_start": _iso_days(weeks["week_start"]),
            "expected": _rounded(weeks["expected"]),
            "low": _rounded(weeks["low"]),
            "high": _rounded(weeks["high"]),
        }
    )


def _plain_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values, None for missing."""
    columns = {c: [None if v is None or v != v else v for v in frame[c].tolist()] for c in frame.columns}
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def forecast_json(forecast: Forecast, project: str) -> dict[str, Any]:
    """The ``forecast --json`` document: project, as_of, method, one entry per open invoice, 13 weeks."""
    return {
        "project": project,
        "as_of": forecast.as_of.strftime("%Y-%m-%d"),
        "method": forecast.method,
        "invoices": _plain_records(invoice_records(forecast)),
        "weeks": _plain_records(week_records(forecast)),
    }


def write_forecast_json(forecast: Forecast, project: str, out: Any, *, indent: int | None = 2) -> None:
    """``forecast_json`` written to ``out``; without ``indent`` the invoice list is serialised by pandas in C."""
    if indent is not None:
        json.dump(forecast_json(forecast, project), out, indent=indent, ensure_ascii=False)
        return
    head = {"project": project, "as_of": forecast.as_of.strftime("%Y-%m-%d"), "method": forecast.method}
    out.write(json.dumps(head, ensure_ascii=False)[:-1])
    out.write(', "invoices": [')
    # In slices, so neither the whole invoice list as text nor its Python strings are held at once.
    for start in range(0, len(forecast.invoices), JSON_SLICE_ROWS):
        piece = replace(forecast, invoices=forecast.invoices.iloc[start : start + JSON_SLICE_ROWS])
        text = invoice_records(piece).to_json(orient="records", force_ascii=False, double_precision=2)
        out.write(("," if start else "") + text[1:-1])
    out.write("]")
    out.write(', "weeks": ')
    out.write(week_records(forecast).to_json(orient="records", double_precision=2))
    out.write("}")
