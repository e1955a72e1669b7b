"""Privacy: the project's aliases, presentation mode, and the chat audit log (what was or would have been sent)."""

from __future__ import annotations

import streamlit as st

from finlib.privacy.scanner import messages_were_sent
from ui import data
from ui.actions import require_ready
from ui.format import MISSING_TEXT, format_count
from ui.sidebar import PRESENTATION_STATE, page_context, sync_presentation

context = page_context()
st.title("Privacy")
st.caption(
    "Every customer and person name has a fixed alias in this project. The chat sends aliases, never names, "
    "and the log below shows exactly what left the app, or would have, for questions answered offline."
)

st.session_state["privacy_presentation_mode"] = context.presentation
st.toggle(
    "Presentation mode: show aliases instead of real names on every page",
    key="privacy_presentation_mode",
    on_change=sync_presentation,
    args=("privacy_presentation_mode",),
    help="For screen sharing: charts, tables, filters and KPIs use aliases until you switch it off.",
)
if st.session_state.get(PRESENTATION_STATE):
    st.info(
        "Presentation mode is on: real names are hidden everywhere, including the table below.",
        icon=":material/visibility_off:",
    )

require_ready(context, "privacy")
project = context.project

st.subheader("Aliases")
entries = data.alias_table(context.services, context.key)
search = st.text_input("Search names or aliases", key="privacy_alias_search", placeholder="e.g. CUST-7K3M or Acme")
shown = data.search_aliases(entries, search)
customers = int((entries["Kind"] == "Customer").sum())
st.caption(
    f"{format_count(customers)} customers and {format_count(len(entries) - customers)} people"
    + (f"; {format_count(len(shown))} match." if search else ".")
)
st.dataframe(shown, hide_index=True, key="privacy_aliases", height=min(420, 38 + 35 * max(len(shown), 1)))

st.subheader("Chat audit log: what was sent, or would have been sent, to the model")
audit = data.load_audit_log(context.services, project.name)
st.caption(
    "Every chat question is logged, whether or not a model answered it. Verdict: **sent** left the app (aliased), "
    "**offline** was answered here and nothing was sent, **blocked** was stopped by the privacy guard, "
    "**error** the model failed (the line in Detail says how) and the answer shown was computed offline."
)
if audit.empty:
    st.info(
        "Nothing yet. Each chat question will be logged here with the exact aliased messages sent, the "
        "model, tokens, cost and whether the privacy guard let it through.",
        icon=":material/history:",
    )
else:
    st.dataframe(
        audit.drop(columns=["messages"]),
        hide_index=True,
        key="privacy_audit",
        placeholder=MISSING_TEXT,
        column_config={
            "When": st.column_config.DatetimeColumn("When", format="D MMM YYYY, HH:mm"),
            "Cost (USD)": st.column_config.NumberColumn("Cost (USD)", format="%.4f"),
        },
    )
    choice = st.selectbox(
        "Show the messages of",
        list(audit.index),
        format_func=lambda i: f"#{audit.at[i, 'Id']} · {audit.at[i, 'Question (aliased)'][:80]}",
        key="privacy_audit_entry",
    )
    sent = messages_were_sent(audit.at[choice, "messages"] or [])
    label = "Messages exactly as sent" if sent else "Messages as they would have been sent (nothing left the app)"
    with st.expander(label, icon=":material/code:"):
        st.json(audit.at[choice, "messages"], expanded=True)
