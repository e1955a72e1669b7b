"""Projects: add a ledger (upload or S3 URL), see what parsing found, fix the column mapping, refresh or delete."""

from __future__ import annotations

import streamlit as st

from ui import data, projects_view
from ui.actions import refresh, render_flash, render_pending_delete, request_delete
from ui.format import MISSING_TEXT
from ui.sidebar import PENDING_PROJECT_STATE, PROJECT_KEY, page_context

context = page_context()
services = context.services
st.title("Projects")
st.caption("A project is one invoice ledger (Excel, CSV, Parquet or JSON), uploaded here or read from S3.")
render_flash()

st.subheader("Add a ledger")
upload_tab, s3_tab = st.tabs([":material/upload_file: Upload a file", ":material/cloud: Register an S3 file"])
with upload_tab:
    projects_view.render_upload_form(context)
with s3_tab:
    projects_view.render_register_form(context)

if not context.projects:
    st.info("No projects yet: upload a ledger above to get started.", icon=":material/inbox:")
    st.stop()

st.subheader("Your projects")
# Filled after the actions below, from a fresh read, so a failed Refresh shows its status in this same run.
table_slot = st.container()

names = [info.name for info in context.projects]
default = st.session_state.pop(projects_view.MANAGE_NEXT_STATE, None) or st.session_state.get("projects_manage")
if default in names:
    st.session_state["projects_manage"] = default
else:
    st.session_state["projects_manage"] = st.session_state.get(PROJECT_KEY, names[0])
st.markdown("#### Manage a project")
selected = st.selectbox("Project to refresh, delete or inspect", names, key="projects_manage")
info = next(p for p in context.projects if p.name == selected)

left, middle, right, _ = st.columns([1, 1, 1, 3])
if left.button("Open", key="projects_open", icon=":material/dashboard:", help="Show this project on every page"):
    st.session_state[PENDING_PROJECT_STATE] = selected
    st.switch_page("pages/overview.py")
if middle.button(
    "Refresh",
    key="projects_refresh",
    icon=":material/refresh:",
    help="Read the source again if it changed since the last load",
):
    refresh(services, selected)
if right.button("Delete…", key="projects_delete", icon=":material/delete:"):
    request_delete(selected)
render_pending_delete(services, "projects")

infos = tuple(data.list_project_infos(services))
table_slot.dataframe(
    projects_view.project_table(infos, context.settings),
    hide_index=True,
    key="projects_table",
    column_config=projects_view.PROJECT_COLUMN_CONFIG,
    placeholder=MISSING_TEXT,
)
info = next((p for p in infos if p.name == selected), info)
projects_view.render_load_report(context, info)
