"""Overview: the portfolio's KPIs with deltas, monthly invoicing and collections, delays, aging, top customers."""

from __future__ import annotations

import streamlit as st

from ui import charts, data, wording
from ui.actions import require_ready
from ui.format import (
    format_compact,
    format_count,
    format_date,
    format_delta_amount,
    format_delta_days,
    format_number,
)
from ui.sidebar import page_context

context = page_context()
st.title("Overview")
require_ready(context, "overview")
project = context.project
settings = context.settings

overview = data.compute_overview(
    context.services,
    project.name,
    project.version,
    context.fingerprint,
    context.presentation,
    context.filters,
    settings.moving_avg_window,
    settings.trend_threshold,
)
current, previous = overview.kpis["current"], overview.kpis["previous"]
if overview.invoice_count == 0:
    st.info(
        "No invoices match the filters. Widen the date range or clear a filter in the sidebar.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

compare = overview.comparable
period = f"{format_date(current['first_invoice_date'])} – {format_date(current['last_invoice_date'])}"
st.caption(
    f"{format_count(current['invoice_count'])} invoices from {format_count(current['customer_count'])} customers, "
    f"{period}; balances as of {format_date(current['as_of'])}. "
    + "Amounts include tax, in the ledger's currency. "
    + (
        "Changes are against the period of the same length just before."
        if compare
        else "Choose a period in the sidebar (e.g. 6 months) to compare with the months before."
    )
)


# (label, key in the portfolio, shown as an amount or as days, lower is better, help)
KPI_CARDS = (
    ("Invoiced", "total_invoiced", "amount", False,
     "Total of invoice amounts (including tax; credit notes negative) in the period."),
    ("Collected", "total_collected", "amount", False, "Amount of the period's invoices paid by the balance date."),
    ("Outstanding", "outstanding", "amount", True, "Invoices not paid by the balance date."),
    ("Overdue", "overdue", "amount", True,
     f"Unpaid and past due at the balance date ({format_count(current['overdue_count'])} invoices)."),
    ("Avg days to pay", "avg_payment_delay_days", "days", True,
     "Mean days from invoice date to payment date over paid invoices."),
    ("DSO, days", "dso", "days", True,
     "Days sales outstanding: outstanding ÷ amount invoiced in the last 90 days × 90."),
)  # fmt: skip

for card, (label, key, unit, lower_is_better, help_text) in zip(st.columns(len(KPI_CARDS)), KPI_CARDS, strict=True):
    show, change = (format_compact, format_delta_amount) if unit == "amount" else (format_number, format_delta_days)
    card.metric(
        label,
        show(current[key]),
        change(current[key], previous[key]) if compare else None,
        delta_color="inverse" if lower_is_better else "normal",
        help=help_text,
        border=True,
    )

missing_payments = wording.describe_missing_payments(overview.invoice_count, len(overview.delays))
if missing_payments:
    st.info(missing_payments, icon=":material/hourglass_empty:")

st.subheader("Invoiced and collected per month")
st.plotly_chart(charts.monthly_figure(overview.monthly), key="overview_monthly_chart")
st.caption(f"Moving average over {settings.moving_avg_window} months. Collected is counted in the month paid.")

left, right = st.columns(2)
with left:
    st.subheader("Days to pay")
    if overview.delays.empty:
        st.info(
            "No paid invoices in this selection yet, so there are no payment delays to show.",
            icon=":material/hourglass_empty:",
        )
    else:
        st.plotly_chart(
            charts.delay_histogram_figure(overview.delays["delay_days"], current["avg_payment_delay_days"]),
            key="overview_delay_chart",
        )
with right:
    st.subheader("Aging of open invoices")
    if overview.aging["invoice_count"].sum() == 0:
        st.success("Nothing is open: every invoice in this selection is paid.", icon=":material/task_alt:")
    else:
        st.plotly_chart(charts.aging_figure(overview.aging), key="overview_aging_chart")

left, right = st.columns(2)
with left:
    st.subheader("Top customers by revenue")
    ranking = overview.top_by_revenue.rename(columns={"customer": "name", "total_amount": "value"})
    st.plotly_chart(charts.ranking_figure(ranking, value_label="Invoiced"), key="overview_top_revenue_chart")
with right:
    st.subheader("Slowest payers")
    if overview.top_by_delay.empty:
        st.info("No paid invoices yet, so no customer has a payment delay.", icon=":material/hourglass_empty:")
    else:
        ranking = overview.top_by_delay.rename(columns={"customer": "name", "avg_payment_delay_days": "value"})
        st.plotly_chart(
            charts.ranking_figure(ranking, value_label="Average days to pay", days=True), key="overview_top_delay_chart"
        )
