"""Breakdown: balances as of the date beside activity in the period, per sales manager, location or service type."""

from __future__ import annotations

import streamlit as st

from finlib.analytics.breakdowns import BREAKDOWN_BY
from ui import data, exports
from ui.actions import require_ready
from ui.auth import names_in
from ui.format import MISSING_TEXT, amount_header, format_date
from ui.sidebar import page_context

HEADERS = {
    "value": "Value",
    "customer_count": "Customers",
    "outstanding": "Outstanding",
    "overdue": "Overdue",
    "overdue_share": "Overdue share",
    "open_invoices": "Open invoices",
    "invoiced": "Invoiced",
    "collected": "Collected",
    "avg_days_to_pay": "Avg days to pay",
    "on_time_share": "Paid on time",
}

context = page_context()
currency = context.currency
st.title("Breakdown")
require_ready(context, "breakdown")
project = context.project
dates = data.compute_view_dates(context.services, context.key, context.filters)
if dates is None:
    st.info("This ledger has no invoices yet.", icon=":material/filter_alt_off:")
    st.stop()

by = st.radio("Break down by", list(BREAKDOWN_BY), format_func=BREAKDOWN_BY.get, horizontal=True, key="breakdown_by")
table = data.compute_breakdown(context.services, context.key, context.filters, by)
st.caption(
    f"Balances as of {format_date(dates.as_of)}; activity from {format_date(dates.period.start)} to "
    f"{format_date(dates.period.end)}. Largest overdue first; click a header to sort."
)
shown = table.rename(columns={**HEADERS, "value": BREAKDOWN_BY[by]})
for share in ("Overdue share", "Paid on time"):
    shown[share] = shown[share] * 100
st.dataframe(
    shown,
    hide_index=True,
    key="breakdown_table",
    placeholder=MISSING_TEXT,
    column_config={
        **{
            header: st.column_config.NumberColumn(amount_header(header, currency), format="accounting")
            for header in ("Outstanding", "Overdue", "Invoiced", "Collected")
        },
        "Overdue share": st.column_config.NumberColumn(format="%.1f%%"),
        "Paid on time": st.column_config.NumberColumn(format="%.1f%%"),
        "Avg days to pay": st.column_config.NumberColumn(format="%.1f"),
    },
)
exports.csv_download(
    context,
    "Download the breakdown (CSV)",
    lambda: shown,
    file_name=f"{project.name}-by-{by}-{dates.as_of:%Y-%m-%d}.csv",
    key="breakdown_download",
    names=names_in(table, "value", context) if by == "sales_manager" else [],
)
