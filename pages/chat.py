"""Chat: placeholder until the chat issue lands (questions answered from aliased facts)."""

from __future__ import annotations

import streamlit as st

from ui.sidebar import page_context

context = page_context()
st.title("Chat")
st.info(
    "Ask questions about this ledger in plain language: coming soon. Answers will be computed from aliased "
    "facts, so no customer or person name leaves the app.",
    icon=":material/forum:",
)
st.caption("Meanwhile, the Overview and Customers pages show every figure the chat will use.")
