"""API: how programs reach the figures (`python -m finlib serve`), and the signed-in user's API tokens."""

from __future__ import annotations

import streamlit as st

from finlib import tokens
from finlib.errors import FinlibError
from ui.auth import session_user
from ui.errors import render_error
from ui.services import api_served
from ui.sidebar import page_context

LAST_SECRET_STATE = "api_last_secret"

services = page_context().services
user = session_user().email

st.title("API")
st.caption(
    "Schedulers, notebooks and BI tools read the same figures over HTTP. The API is served by "
    "`python -m finlib serve`, which runs it beside this dashboard: `POST /upload`, `POST /query`, "
    "`GET /api/projects/NAME/stats`, `.../forecast`, `.../backtest` and more, described at `/docs`. "
    "Add `?aliases=true` to any read for aliases instead of names."
)
if not api_served():
    st.info(
        "This dashboard was started without the API (`streamlit run app.py`), so the commands below get the "
        "dashboard's page instead of figures. Start it with `python -m finlib serve` to use them.",
        icon=":material/info:",
    )
st.code(
    "curl -s localhost:8501/api/projects/demo/stats?aliases=true\n"
    "curl -s -X POST localhost:8501/query -H 'Content-Type: application/json' \\\n"
    '     -d \'{"project_name": "demo", "query": "Who pays slowest?"}\'',
    language="bash",
)

st.subheader("Your API tokens")
st.caption(
    f"A token acts as you (**{user}**), with your role in each project. With sign-in configured, every API call "
    "needs one (`Authorization: Bearer <token>`). A token is shown once, and only its digest is kept."
)
with st.form("api_create_form", clear_on_submit=True):
    label = st.text_input("What the token is for", key="api_token_label", placeholder="e.g. nightly refresh")
    if st.form_submit_button("Create a token", icon=":material/key:"):
        try:
            created = tokens.create_token(services, user, label.strip() or None)
        except FinlibError as error:
            render_error(error, context="The token was not created")
        else:
            st.session_state[LAST_SECRET_STATE] = created.secret

secret = st.session_state.pop(LAST_SECRET_STATE, None)
if secret:
    st.success("Copy the token now: it is not shown again.", icon=":material/key:")
    st.code(secret, language=None)

mine = tokens.list_tokens(services, user)
if not mine:
    st.caption("No tokens yet.")
    st.stop()
st.dataframe(
    [
        {
            "Token": f"{info.prefix}…",
            "For": info.label or "",
            "Created": f"{info.created_at:%Y-%m-%d %H:%M}",
            "Last used": f"{info.last_used_at:%Y-%m-%d %H:%M}" if info.last_used_at else "never",
            "State": "active" if info.active else f"revoked {info.revoked_at:%Y-%m-%d}",
        }
        for info in mine
    ],
    hide_index=True,
    key="api_tokens_table",
)
active = [info.prefix for info in mine if info.active]
if active:
    chosen = st.selectbox("Revoke a token", active, key="api_revoke_select", format_func=lambda prefix: f"{prefix}…")
    if st.button("Revoke", key="api_revoke", icon=":material/block:"):
        tokens.revoke_token(services, chosen)
        st.rerun()
