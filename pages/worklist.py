"""Worklist: every customer in the filters with balances, how they pay and a payer rating; a row opens the customer."""

from __future__ import annotations

import streamlit as st

from finlib.analytics import worklist as rules
from ui import data, exports, url_state
from ui.actions import require_ready
from ui.auth import names_in
from ui.format import MISSING_TEXT, amount_header, format_count, format_date
from ui.sidebar import page_context

HEADERS = rules.WORKLIST_HEADERS

context = page_context()
currency = context.currency
st.title("Worklist")
require_ready(context, "worklist")
project = context.project

table = data.compute_worklist(context.services, context.key, context.filters)
dates = data.compute_view_dates(context.services, context.key, context.filters)
if table.empty or dates is None:
    st.info("No customer matches the filters. Clear a filter in the sidebar.", icon=":material/filter_alt_off:")
    st.stop()

search = st.text_input("Search customers", key="worklist_search", placeholder="Type part of a name")
shown = rules.search_worklist(table, search)
st.caption(
    f"{format_count(len(shown))} of {format_count(len(table))} "
    f"{'customer' if len(table) == 1 else 'customers'}, balances as of {format_date(dates.as_of)}; largest overdue "
    "first (click a header to sort). Select a row to open the customer. Payer rating: **good** = at least 80% paid "
    "by the due date and at most 5 days late on average; **poor** = under 50% on time or more than 30 days late "
    "on average; **average** in between. **Next payment (original formula)** = last payment date + average days to "
    "pay; **Already past** marks one before the balance date (late, or nothing left to pay)."
)
display = shown.drop(columns=["customer_key"]).rename(columns=HEADERS)
display["Paid on time"] = display["Paid on time"] * 100
event = st.dataframe(
    display,
    hide_index=True,
    key="worklist_table",
    on_select="rerun",
    selection_mode="single-row",
    placeholder=MISSING_TEXT,
    column_config={
        "Outstanding": st.column_config.NumberColumn(amount_header("Outstanding", currency), format="accounting"),
        "Overdue": st.column_config.NumberColumn(amount_header("Overdue", currency), format="accounting"),
        "Oldest open invoice": st.column_config.DateColumn(format="D MMM YYYY"),
        "Next payment (original formula)": st.column_config.DateColumn(
            format="D MMM YYYY",
            help="Last payment date plus the average days to pay (the Customers page's formula); the Forecast page "
            "predicts a date per open invoice instead.",
        ),
        "Already past": st.column_config.CheckboxColumn(
            help="The next payment's date is before the balance date: the payment is late, or nothing is left to "
            "pay until a new invoice."
        ),
        "Days past due": st.column_config.NumberColumn(format="%d"),
        "Avg days to pay": st.column_config.NumberColumn(format="%.1f"),
        "Recent days to pay": st.column_config.NumberColumn(format="%.1f"),
        "Avg days late": st.column_config.NumberColumn(format="%.1f"),
        "Paid on time": st.column_config.NumberColumn(format="%.0f%%"),
    },
)
rows = event.selection.rows if event is not None else []
if rows:
    st.session_state[url_state.OPEN_CUSTOMER_STATE] = shown.iloc[rows[0]]["customer_key"]
    st.switch_page("pages/customers.py")

exports.csv_download(
    context,
    "Download the worklist (CSV)",
    lambda: shown.drop(columns=["customer_key"]).rename(columns=HEADERS),
    file_name=f"{project.name}-worklist-{dates.as_of:%Y-%m-%d}.csv",
    key="worklist_download",
    names=names_in(shown, "customer", context),
)
url_state.write(url_state.CUSTOMER, None)
