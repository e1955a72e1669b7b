"""The frame of the dashboard: page config, navigation, the shared sidebar; then the selected page runs."""

from __future__ import annotations

import streamlit as st

from finlib.access import is_global_admin
from finlib.errors import FinlibError
from ui.auth import record_view, render_no_access, require_user
from ui.data import ensure_demo, list_project_infos
from ui.errors import render_error
from ui.frame import inside_frame
from ui.preload import start_chart_library
from ui.services import get_services, get_settings, settings_fingerprint
from ui.sidebar import render_sidebar

st.set_page_config(
    page_title="Invoice analytics",
    # An emoji, drawn by the browser: a Material icon name here makes the browser fetch the favicon from a font CDN.
    page_icon="🧾",
    layout="wide",
    initial_sidebar_state="expanded",
)

PAGES = {
    "Analysis": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/worklist.py", title="Worklist", icon=":material/checklist:"),
        st.Page("pages/customers.py", title="Customers", icon=":material/group:"),
        st.Page("pages/forecast.py", title="Forecast", icon=":material/query_stats:"),
        st.Page("pages/breakdown.py", title="Breakdown", icon=":material/stacked_bar_chart:"),
        st.Page("pages/chat.py", title="Chat", icon=":material/forum:"),
    ],
    "Data": [
        st.Page("pages/projects.py", title="Projects", icon=":material/folder_open:"),
        st.Page("pages/privacy.py", title="Privacy", icon=":material/shield_lock:"),
        st.Page("pages/api.py", title="API", icon=":material/api:"),
    ],
}

FILTERED_PAGES = {"Overview", "Worklist", "Customers", "Breakdown"}
CHART_PAGES = {"Overview", "Customers", "Forecast"}

page = st.navigation(PAGES)
# Before anything slow: the browser loads the chart library while this run registers, loads and computes.
preload = start_chart_library() if page.title in CHART_PAGES else None

try:
    settings = get_settings()
    fingerprint = settings_fingerprint(settings)
    services = get_services(settings, fingerprint)
    ensure_demo(services, fingerprint)
except FinlibError as error:
    st.title("Invoice analytics")
    render_error(error, context="The app cannot start")
    st.caption("Fix the setting named above (or start the service it points to), then reload this page.")
    st.stop()

# Filters shape what Overview and Customers show; elsewhere they would look active while doing nothing.
user = require_user()
if not is_global_admin(settings, user) and not list_project_infos(services, user):
    render_no_access(user)  # deny by default: nothing else is drawn
    st.stop()
context = render_sidebar(settings, services, fingerprint, show_filters=page.title in FILTERED_PAGES, user=user)
record_view(
    services,
    user,
    context.project.name if context.ready and context.project else None,
    context.project.version if context.project else "",
    page.title,
    names_shown=not context.presentation,
)
with inside_frame():
    try:
        page.run()
    finally:
        if preload is not None:
            preload.empty()
