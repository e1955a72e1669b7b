"""Customers: one customer's invoices, moving average, forecast of the next invoice and payment, and steadiness."""

from __future__ import annotations

import re

import streamlit as st

from finlib.currency import format_amount as format_money
from ui import charts, data, drill, exports, forecast_data, forecast_view, tables, url_state, wording
from ui.actions import require_ready
from ui.customer_figures import customer_figures, figure_number
from ui.customer_picker import render_customer_picker
from ui.format import (
    MISSING_TEXT,
    format_compact,
    format_count,
    format_date,
    format_number,
    with_currency,
)
from ui.sidebar import page_context

TREND_ICONS = {
    "increasing": ":material/trending_up:",
    "decreasing": ":material/trending_down:",
    "stable": ":material/trending_flat:",
}

context = page_context()
st.title("Customers")
require_ready(context, "customers")
project = context.project
settings = context.settings
services, key, filters = context.services, context.key, context.filters

stats = data.compute_stats(services, key, filters)
if stats.empty:
    st.info(
        "No invoices match the filters. Widen the date range or clear a filter in the sidebar.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

customer_key = render_customer_picker(stats)
row = stats.loc[stats["customer_key"] == customer_key].iloc[0]
url_state.write(url_state.CUSTOMER, str(row["alias"]) if "alias" in row and row["alias"] else None)
invoices = data.compute_customer_invoices(services, key, filters, customer_key)

trend = row["trend"]
st.subheader(row["customer"])
st.caption(
    f"{TREND_ICONS.get(trend, '') if row['invoice_count'] > 1 else ''} "
    f"{wording.describe_trend(trend, row['invoice_count'])} · "
    f"{wording.plural(row['invoice_count'], 'invoice')} "
    f"{wording.describe_span(row['first_invoice_date'], row['last_invoice_date'])} · "
    f"{format_count(row['paid_count'])} paid, {format_count(row['unpaid_count'])} unpaid"
)

currency = context.currency
history = st.columns(3)
history[0].metric(
    "Total invoiced",
    with_currency(format_compact(row["total_amount"]), currency),
    border=True,
    help=f"Exactly {format_money(row['total_amount'], currency)}.",
)
history[1].metric("Average invoice", with_currency(format_compact(row["average_amount"]), currency), border=True)
history[2].metric(
    "Outstanding",
    with_currency(format_compact(row["outstanding_amount"]), currency),
    border=True,
    help=f"Of which overdue: {format_money(row['overdue_amount'], currency)}.",
)
outlook = st.columns(3)
outlook[0].metric(
    "Next invoice, predicted",
    with_currency(format_compact(row["predicted_next_amount"]), currency),
    border=True,
    help=f"Mean of the last {settings.moving_avg_window} invoices (the moving average).",
)
# The view's balance date: a predicted date behind it is not a future event, so the card says what it means.
dates = data.compute_view_dates(services, key, filters)
as_of = dates.as_of if dates is not None else None
past = wording.describe_past_prediction(
    row["predicted_next_payment_date"], as_of, row["outstanding_amount"], row["overdue_amount"]
)
outlook[1].metric(
    "Next payment, predicted",
    format_date(row["predicted_next_payment_date"]),
    past,
    delta_color="off",
    delta_arrow="off",
    border=True,
    help="Last payment date plus the average days to pay, rounded to whole days."
    + (
        f" That date is before the ledger's latest date ({format_date(as_of)}): the payment is late, "
        "or nothing is left to pay until a new invoice."
        if past
        else ""
    ),
)
outlook[2].metric(
    "Avg days to pay",
    format_number(row["avg_payment_delay_days"]),
    border=True,
    help="Mean days from invoice date to payment date over paid invoices.",
)
st.caption(
    forecast_view.describe_original_forecasts(
        forecast_data.kept_backtest(services, key),  # a disk read: this page never waits for a backtest
        lambda: forecast_data.next_amounts(services, key),
        customer_key,
        settings.moving_avg_window,
    )
)

if row["paid_count"] == 0:
    st.info(
        "No paid invoice yet, so there is no payment pattern and no predicted payment date.",
        icon=":material/hourglass_empty:",
    )
else:
    st.caption(
        wording.describe_steadiness(
            row["paid_count"], row["avg_payment_delay_days"], row["delay_std_days"], row["on_time_share"]
        )
    )

if len(invoices) > charts.MAX_CUSTOMER_POINTS:
    st.caption(
        f"The charts draw the latest {format_count(charts.MAX_CUSTOMER_POINTS)} of "
        f"{format_count(len(invoices))} invoices; the table below and its download hold every one."
    )
figures = customer_figures(
    services,
    key,
    filters,
    customer_key,
    figure_number(row["predicted_next_amount"]),
    figure_number(row["avg_payment_delay_days"]),
    currency,
)
left, right = st.columns(2)
amounts_event = delays_event = None
with left:
    st.markdown("**Invoice amounts**")
    if len(invoices) == 1:
        st.caption("One invoice so far: the moving average and the prediction are that invoice's amount.")
    amounts_event = st.plotly_chart(
        figures.amounts,
        key="customers_amounts_chart",
        on_select="rerun",
        selection_mode="points",
    )
with right:
    st.markdown("**Days to pay, per invoice**")
    if figures.delays is None:
        st.info("Nothing paid yet.", icon=":material/hourglass_empty:")
    else:
        delays_event = st.plotly_chart(
            figures.delays,
            key="customers_delays_chart",
            on_select="rerun",
            selection_mode="points",
        )
st.caption("Click a point to list only that invoice below (shift-click for more); double-click to clear.")
picked = drill.selected_rows(amounts_event, delays_event)

st.markdown(
    f"**Invoices** ({wording.plural(len(invoices), 'invoice')}, overdue first; status as of {format_date(as_of)})"
)
# Overdue first is a stable sort, so the picked invoices keep the order they have in the whole list.
ordered = data.customer_invoices_overdue_first(services, key, filters, customer_key)
listed = ordered[ordered["chart_row"].isin(picked)] if picked else ordered
if picked:
    st.info(
        f"Showing the {wording.plural(len(listed), 'invoice')} selected on the charts; double-click a chart to "
        "show every invoice again.",
        icon=":material/filter_alt:",
    )
table = tables.invoice_table(listed, with_customer=True)
shown, column_config = tables.invoice_display(table.head(tables.MAX_TABLE_ROWS), currency)
if len(table) > len(shown):
    st.caption(
        f"The table lists the first {format_count(len(shown))} of {format_count(len(table))} invoices in this order; "
        "the download below holds every one."
    )
st.dataframe(
    shown.drop(columns=["Customer"]),
    column_config=column_config,
    hide_index=True,
    key="customers_invoices",
    placeholder=MISSING_TEXT,
    height=min(38 + 35 * max(len(shown), 1), 600),
)
slug = re.sub(r"[^0-9A-Za-z]+", "-", str(row["customer"])).strip("-").lower() or "customer"
exports.csv_download(
    context,
    "Download invoices (CSV)",
    lambda: table,
    file_name=f"{project.name}-{slug}-invoices-{as_of:%Y-%m-%d}.csv" if as_of is not None else f"{slug}.csv",
    key="customers_download",
    names=[] if context.presentation else [str(row["customer"])],
)
