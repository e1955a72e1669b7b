"""Forecast: a payment date for every open invoice, 13 weeks of cash-in, and how well each method backtests."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from finlib.forecast.outlook import latest_date
from finlib.forecast.payment_dates import APP_DATE_METHODS, DATE_METHODS, DEFAULT_DATE_METHOD
from ui import data, forecast_charts, forecast_data, forecast_view
from ui.actions import require_ready
from ui.errors import finlib_errors
from ui.format import (
    MISSING_TEXT,
    amount_header,
    format_compact,
    format_count,
    format_date,
    format_share,
    with_currency,
)
from ui.sidebar import page_context

NEAR_WEEKS = 4
AS_OF_KEY = "forecast_as_of"
AS_OF_FOLLOWS_KEY = "forecast_as_of_follows"  # the sidebar date the page's date was last set from

context = page_context()
st.title("Forecast")
require_ready(context, "forecast")
settings = context.settings
services, key = context.services, context.key
ledger = data.load_view_ledger(services, key)
if ledger.empty:
    st.caption("No invoices in this project.")
    st.stop()
if not context.loaded().has_payment_dates:
    st.stop()  # the note above says why: a forecast learns from payment dates

result = forecast_data.backtest_if_quick(services, key, len(ledger))
too_short = result is None and len(ledger) <= forecast_data.AUTO_BACKTEST_ROWS
best = result.best_date_method if result else DEFAULT_DATE_METHOD
latest = latest_date(ledger).date()
earliest = ledger["invoice_date"].min().date()
# Starts from the sidebar's balance date, and follows it when that changes; the page can still pick another day.
sidebar_as_of = min(max(context.filters.as_of or latest, earliest), latest)
stored = st.session_state.get(AS_OF_KEY)
if st.session_state.get(AS_OF_FOLLOWS_KEY) != sidebar_as_of or not (
    isinstance(stored, dt.date) and earliest <= stored <= latest
):
    st.session_state[AS_OF_FOLLOWS_KEY] = sidebar_as_of
    st.session_state[AS_OF_KEY] = sidebar_as_of
controls = st.columns([1, 2])
as_of = controls[0].date_input(
    "As of",
    min_value=earliest,
    max_value=latest,
    key=AS_OF_KEY,
    format="DD/MM/YYYY",
    help="Forecast as the ledger stood on this date: later invoices and payments are unknown to it. Starts at the "
    "sidebar's balance date (Balances as of, on the Overview).",
)
method = controls[1].selectbox(
    "Payment-date method",
    list(APP_DATE_METHODS),
    index=list(APP_DATE_METHODS).index(best),
    format_func=lambda name: DATE_METHODS[name].short + (" (best in the backtest)" if result and name == best else ""),
    key="forecast_method",
)
st.caption(f"{DATE_METHODS[method].short}: {DATE_METHODS[method].label}.")
with finlib_errors("No forecast for this date"):
    forecast = forecast_data.forecast(services, key, as_of, method)
score = result.date_score(method) if result else None
cash_score = result.cash_score(method) if result else None
date_error = f"± {score.mae_days:.0f} days typical" if score else "typical error: run the backtest below"
weeks = forecast.weeks.frame()
invoices = forecast.invoices
late = forecast.predicted_late(settings.alert_late_days)

currency = context.currency


def money(value: float) -> str:
    """A compact amount with the project's currency: ``€1.2M``."""
    return with_currency(format_compact(value), currency)


cards = st.columns(4)
cards[0].metric(
    "Open invoices",
    format_count(len(invoices)),
    money(invoices["amount"].sum()),
    delta_color="off",
    delta_arrow="off",
    border=True,
    help="Invoices issued by the as-of date and not paid by then (credit notes excluded).",
)
near = weeks["expected"].iloc[:NEAR_WEEKS].sum()
cards[1].metric(
    f"Cash in, next {NEAR_WEEKS} weeks",
    money(near),
    f"± {cash_score.wape:.0%} typical weekly error" if cash_score else None,
    delta_color="off",
    delta_arrow="off",
    border=True,
    help="Sum over open invoices of amount × chance of payment in each week (see the README's formulas). "
    "The typical error is the backtest's weekly WAPE.",
)
cards[2].metric(
    "Predicted late",
    format_count(len(late)),
    money(late["amount"].sum()),
    delta_color="off",
    delta_arrow="off",
    border=True,
    help=f"Predicted to be paid more than {settings.alert_late_days} days after the due date (ALERT_LATE_DAYS).",
)
cards[3].metric(
    "Typical error of a date",
    f"± {score.mae_days:.0f} days" if score else MISSING_TEXT,
    f"interval covered {format_share(score.interval_coverage)}" if score and score.interval_coverage else None,
    delta_color="off",
    delta_arrow="off",
    border=True,
    help="Mean absolute error of this method's predicted dates in the rolling-origin backtest, and how often "
    "the 10th–90th percentile interval held the actual payment date.",
)

st.markdown("**Cash in per week**")
past = forecast_data.past_weeks(services, key, as_of, method)
st.plotly_chart(forecast_charts.cash_in_figure(weeks, past), key="forecast_cash_chart")
st.caption(
    f"Weeks start the day after {format_date(forecast.as_of)}. "
    f"{money(forecast.weeks.beyond)} of the open amount is expected later than 13 weeks, or not at all. "
    "Past weeks show the forecast made 13 weeks before the as-of date beside what those invoices actually paid."
)

st.markdown(f"**Open invoices by predicted payment date** ({date_error})")
table = pd.DataFrame(
    {
        "Invoice": invoices["invoice_number"],
        "Customer": invoices["customer"],
        "Invoice date": invoices["invoice_date"],
        "Due": invoices["due_date"],
        "Amount": invoices["amount"],
        "Predicted payment": invoices["predicted_payment_date"],
        "Earliest (10%)": invoices["low_date"],
        "Latest (90%)": invoices["high_date"],
        "Days after due": invoices["days_late"],
        "Chance paid in 13 weeks": invoices["paid_in_13_weeks"] * 100,
    }
)
dates = {c: st.column_config.DateColumn(c, format="D MMM YYYY") for c in table.columns if c in (
    "Invoice date", "Due", "Predicted payment", "Earliest (10%)", "Latest (90%)")}  # fmt: skip
st.dataframe(
    table,
    column_config=dates
    | {
        "Amount": st.column_config.NumberColumn(amount_header("Amount", currency), format="%,.2f"),
        "Days after due": st.column_config.NumberColumn("Days after due", format="%d"),
        "Chance paid in 13 weeks": st.column_config.NumberColumn(
            format="%.0f%%",
            help="Share of the ledger's invoices once this old and unpaid that were paid in the next 13 weeks.",
        ),
    },
    hide_index=True,
    key="forecast_invoices",
    placeholder=MISSING_TEXT,
)
note = forecast_view.beyond_history_note(forecast.invoices, money)
if note:
    st.caption(note)

st.subheader("How good are these forecasts")
if result is None and too_short:
    st.info(
        "This ledger spans too short a time to backtest: it needs about 6 months of invoices with payments "
        "(90 days to learn from and 13 weeks to check against). The forecasts above carry no measured error yet.",
        icon=":material/science:",
    )
    st.stop()
if result is None:
    st.info(
        "The backtest replays this ledger's history: at each of up to 12 past dates every method forecasts from "
        "what was known then, and is scored against what happened. On a ledger this size it takes a while.",
        icon=":material/science:",
    )
    if st.button("Run the backtest", key="forecast_run_backtest", icon=":material/play_arrow:"):
        with finlib_errors("The backtest cannot run"):
            forecast_data.backtest(services, key)
        st.rerun()
    st.stop()

st.caption(
    f"Rolling-origin backtest at {len(result.origins)} dates from {format_date(result.origins[0])} to "
    f"{format_date(result.origins[-1])} ({result.seconds:.1f} s). The app uses the method with the lowest MAE; "
    "the first two rows are references: the original formula and invoice date + customer mean delay."
)
tables = forecast_view.backtest_tables(result, settings.moving_avg_window)
st.dataframe(
    tables.dates,
    column_config={
        "MAE, days": st.column_config.NumberColumn(format="%.1f"),
        "Within ±7 days": st.column_config.NumberColumn(format="percent"),
        "Bias, days (+ late)": st.column_config.NumberColumn(format="%.1f"),
        "10–90% interval coverage": st.column_config.NumberColumn(format="percent"),
    },
    hide_index=True,
    key="forecast_backtest_dates",
    placeholder=MISSING_TEXT,
)
left, right = st.columns(2)
with left:
    best_amount = forecast_view.amount_label(result.best_amount_method, settings.moving_avg_window)
    st.markdown("**Next invoice amount**")
    st.dataframe(
        tables.amounts,
        column_config={
            "MAE": st.column_config.NumberColumn(format="%,.0f"),
            "WAPE": st.column_config.NumberColumn(format="percent"),
        },
        hide_index=True,
        key="forecast_backtest_amounts",
    )
    st.caption(
        "The Customers page keeps the original moving average as its headline, with the best method on this "
        f"ledger beside it: {best_amount}."
    )
with right:
    st.markdown("**Weekly cash-in**")
    st.dataframe(
        tables.cash,
        column_config={
            "MAE per week": st.column_config.NumberColumn(format="%,.0f"),
            "WAPE": st.column_config.NumberColumn(format="percent"),
            "Band coverage": st.column_config.NumberColumn(format="percent"),
        },
        hide_index=True,
        key="forecast_backtest_cash",
    )
