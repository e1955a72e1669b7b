"""Overview: balances as of a date and activity over a period, their monthly trend, aging, delays, rankings."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import charts, data, drill, exports, wording
from ui.actions import require_ready
from ui.format import format_date
from ui.kpi_cards import ACTIVITY_CARDS, BALANCE_CARDS, TREND_CHOICES, amounts_heading, render_cards
from ui.overview_figures import overview_figures
from ui.sidebar import page_context

context = page_context()
st.title("Overview")
require_ready(context, "overview")

overview = data.compute_overview(context.services, context.key, context.filters)
figures = overview_figures(context.services, context.key, context.filters, context.currency)
if overview is None or figures is None:
    st.info("This ledger has no invoices yet.", icon=":material/filter_alt_off:")
    st.stop()
report = overview.report
dates = report.dates
period = dates.period
currency = context.currency
st.caption(wording.describe_view(report, currency))

st.subheader(amounts_heading(f"Balances as of {format_date(dates.as_of)}", currency))
render_cards(BALANCE_CARDS, report.balances, report.previous_balances, key="overview_balance", currency=currency)
st.subheader(amounts_heading(f"Activity, {format_date(period.start)} – {format_date(period.end)}", currency))
if overview.invoice_count == 0 and report.activity.paid_count == 0:
    st.info(
        "No invoices dated and no payments received in this period. Widen the period or clear a filter in the "
        "sidebar; the balances above do not depend on it.",
        icon=":material/filter_alt_off:",
    )
render_cards(ACTIVITY_CARDS, report.activity, report.previous_activity, key="overview_activity", currency=currency)

missing_payments = wording.describe_missing_payments(overview.invoice_count, len(overview.delays))
if missing_payments and overview.invoice_count:
    st.info(missing_payments, icon=":material/hourglass_empty:")

left, right = st.columns(2)
with left:
    st.subheader("Invoiced and collected per month")
    monthly_event = st.plotly_chart(
        figures.monthly,
        key="overview_monthly_chart",
        on_select="rerun",
        selection_mode="points",
    )
    st.caption("Collected is cash received in the month, whichever month the invoice was issued in. Click a bar.")
with right:
    st.subheader("KPI trend, month by month")
    choice = st.selectbox(
        "KPI",
        list(TREND_CHOICES),
        format_func=lambda column: TREND_CHOICES[column][0],
        key="overview_trend_metric",
        label_visibility="collapsed",
    )
    label, share = TREND_CHOICES[choice]
    st.plotly_chart(charts.trend_figure(overview.monthly, choice, label, share=share), key="overview_trend_chart")
    st.caption("Balances as of each month end (the last month up to the period's end); activity within the month.")

left, right = st.columns(2)
with left:
    st.subheader(f"Aging of open invoices, {format_date(dates.as_of)}")
    aging_event = None
    if overview.aging["invoice_count"].sum() == 0:
        st.success("Nothing is open on this date.", icon=":material/task_alt:")
    else:
        aging_event = st.plotly_chart(
            figures.aging,
            key="overview_aging_chart",
            on_select="rerun",
            selection_mode="points",
        )
with right:
    st.subheader("Days to pay, invoices paid in the period")
    delay_event = None
    if overview.delays.empty:
        st.info("No invoice was paid in this period.", icon=":material/hourglass_empty:")
    else:
        delay_event = st.plotly_chart(
            figures.delays,
            key="overview_delay_chart",
            on_select="rerun",
            selection_mode="points",
        )

left, right = st.columns(2)
with left:
    st.subheader("Top customers, invoiced in the period")
    revenue_event = st.plotly_chart(
        figures.top_invoiced,
        key="overview_top_revenue_chart",
        on_select="rerun",
        selection_mode="points",
    )
with right:
    st.subheader(f"Most overdue, {format_date(dates.as_of)}")
    overdue_event = None
    if overview.most_overdue.empty:
        st.success("No customer has anything overdue on this date.", icon=":material/task_alt:")
    else:
        overdue_event = st.plotly_chart(
            figures.most_overdue,
            key="overview_top_overdue_chart",
            on_select="rerun",
            selection_mode="points",
        )

ranked = pd.concat([overview.top_invoiced, overview.most_overdue])
keys = dict(zip(ranked["alias"], ranked["customer_key"], strict=True))
selection = drill.selected_bar(keys, monthly_event, aging_event, revenue_event, overdue_event, delay_event)
if selection is not None:
    drill.render_drilldown(context, selection, dates)

exports.render_export_buttons(context, overview, key="overview")
