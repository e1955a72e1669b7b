"""Projects: add a ledger (upload or S3 URL), see what parsing found, fix the column mapping, refresh or delete."""

from __future__ import annotations

from typing import Any

import streamlit as st

from finlib import projects, uploads
from finlib.currency import changed_currency
from finlib.errors import FinlibError, MissingColumnsError, ProjectError
from finlib.ingest import schema, storage
from ui import data, load_report
from ui.actions import flash, refresh, render_flash, render_pending_delete, request_delete
from ui.errors import render_error
from ui.format import MISSING_TEXT
from ui.load_report import MANAGE_NEXT_STATE, open_after_load
from ui.sidebar import PENDING_PROJECT_STATE, PROJECT_KEY, AppContext, page_context

CHOOSE = "(choose a column)"
UPLOAD_MAPPING_STATE = "projects_upload_mapping"
REQUIRED_FIELDS = {
    "customer_name": "Customer name column",
    "invoice_date": "Invoice date column",
    "amount": "Invoice amount column",
}
REQUIRED_HELP = {
    "customer_name": "The column with the customer's name.",
    "invoice_date": "The column with the date each invoice was issued.",
    "amount": "The invoice total including tax (credit notes negative).",
}
MAPPED_FIELD = {"customer_name": "customer_name", "invoice_date": "invoice_date", "amount": "total_amount"}


def _name_problem(name: str, existing: list[str], replace: bool) -> str | None:
    try:
        name = projects.validate_project_name(name)
    except ProjectError as error:
        return str(error)
    if name in existing and not replace:
        return (
            f"A project named {name!r} exists. Tick “Replace it” to load this file in its place, or pick another name."
        )
    return None


def render_upload_form(context: AppContext) -> None:
    """Upload an .xlsx/.xls/.csv/.parquet/.json into the object store and register it."""
    existing = [info.name for info in context.projects]
    uploaded = st.file_uploader(
        "Ledger file (.xlsx, .xls, .csv, .parquet or .json)",
        type=["xlsx", "xls", "csv", "parquet", "json"],
        key="projects_upload_file",
        help=f"Up to {context.settings.max_file_mb} MB. The file is stored in the "
        f"{'S3 bucket' if context.settings.storage_backend == 's3' else 'local store'}.",
    )
    name = st.text_input(
        "Project name",
        key="projects_upload_name",
        placeholder=uploads.suggest_project_name(uploaded.name) if uploaded else "e.g. acme-2025",
        help="Letters, digits, '-', '_' or '.'. Left empty, it comes from the file name.",
    ).strip() or (uploads.suggest_project_name(uploaded.name) if uploaded else "")
    replace = name in existing and st.checkbox(f"Replace it ({name} exists)", key="projects_upload_replace")
    if st.button(
        "Upload and load",
        key="projects_upload_submit",
        type="primary",
        icon=":material/upload:",
        disabled=uploaded is None,
    ):
        problem = _name_problem(name, existing, replace)
        if problem:
            st.error(problem, icon=":material/edit:")
            return
        st.session_state.pop(UPLOAD_MAPPING_STATE, None)
        try:
            with st.spinner(f"Reading {uploaded.name}…"):
                info = projects.upload_project(
                    context.services, name, uploaded.name, uploaded.getvalue(), user=context.user
                )
        except MissingColumnsError as error:
            st.session_state[UPLOAD_MAPPING_STATE] = {
                "name": name,
                "filename": uploaded.name,
                "found": error.found,
                "missing": error.missing,
                "unreadable": " ".join(
                    error.unreadable[label] + "." for label in error.missing if label in error.unreadable
                ),
            }
        except FinlibError as error:
            render_error(error, context=f"{uploaded.name} was not loaded")
            return
        else:
            open_after_load(info, "Loaded")
    pending = st.session_state.get(UPLOAD_MAPPING_STATE)
    if uploaded is not None and pending and pending["filename"] == uploaded.name:
        _render_upload_mapping(context, pending, uploaded.getvalue())


def _render_upload_mapping(context: AppContext, pending: dict[str, Any], data: bytes) -> None:
    """The file lacks a required column by name: let the user say which column holds it, then load again."""
    found, missing = list(pending["found"]), list(pending["missing"])
    # A column named like a required one whose values do not read as its type is named, not called missing.
    problem = pending.get("unreadable") or f"no column was recognised as {', '.join(missing)}."
    st.error(
        f"{pending['filename']} was not loaded: {problem} "
        f"Columns found: {', '.join(repr(column) for column in found)}. Choose the columns below and load again.",
        icon=":material/table_view:",
    )
    chosen: dict[str, str] = {}
    fields = [(field, label) for field, label in REQUIRED_FIELDS.items() if schema.REQUIRED_LABELS[field] in missing]
    for column, (field, label) in zip(st.columns(len(fields)), fields, strict=True):
        picked = column.selectbox(
            label,
            [CHOOSE, *found],
            key=f"projects_upload_map_{field}",
            help=REQUIRED_HELP[field],
        )
        if picked != CHOOSE:
            chosen[picked] = MAPPED_FIELD[field]
    if st.button(
        "Load with these columns",
        key="projects_upload_map_submit",
        type="primary",
        icon=":material/upload:",
        disabled=len(chosen) < len(fields),
    ):
        if len(set(chosen)) < len(fields):
            st.error("Pick a different column for each field.", icon=":material/edit:")
            return
        try:
            with st.spinner(f"Reading {pending['filename']} with your columns…"):
                info = projects.upload_project(
                    context.services, pending["name"], pending["filename"], data, mapping=chosen, user=context.user
                )
        except FinlibError as error:
            render_error(error, context=f"{pending['filename']} was not loaded")
            return
        st.session_state.pop(UPLOAD_MAPPING_STATE, None)
        open_after_load(info, "Loaded")


def render_register_form(context: AppContext) -> None:
    """Register an object in an allowed S3 bucket; the URL is checked before anything is fetched."""
    settings = context.settings
    existing = [info.name for info in context.projects]
    allowed = sorted(settings.allowed_buckets)
    if allowed:
        st.caption("Allowed buckets: " + ", ".join(f"`{bucket}`" for bucket in allowed))
    else:
        st.caption(
            "No S3 bucket is configured (AWS_S3_BUCKET / S3_ALLOWED_BUCKETS), so S3 URLs are refused. "
            "Upload the file instead."
        )
    name = st.text_input("Project name", key="projects_s3_name", placeholder="e.g. acme-2025").strip()
    url = st.text_input(
        "S3 URL",
        key="projects_s3_url",
        placeholder="s3://bucket/path/ledger.xlsx",
        help="s3://bucket/key, or an https:// S3 object URL (virtual-hosted or path style).",
    ).strip()
    replace = name in existing and st.checkbox(f"Replace it ({name} exists)", key="projects_s3_replace")
    if st.button("Register", key="projects_s3_register", type="primary", icon=":material/add_link:"):
        problems = []
        name_problem = _name_problem(name, existing, replace) if name else "Enter a project name."
        if name_problem:
            problems.append(name_problem)
        if not url:
            problems.append("Enter the S3 URL of the ledger file.")
        else:
            try:
                storage.parse_source(url, settings)
            except FinlibError as error:
                problems.append(str(error))
        if problems:
            for problem in problems:
                st.error(problem, icon=":material/edit:")
            return
        try:
            with st.spinner("Fetching and reading the file…"):
                info = projects.register_project(context.services, name, url, user=context.user)
        except FinlibError as error:
            render_error(error, context="The file was not registered")
            return
        open_after_load(info, "Registered")


context = page_context()
services = context.services
st.title("Projects")
st.caption("A project is one invoice ledger (Excel, CSV, Parquet or JSON), uploaded here or read from S3.")
render_flash()


def render_currency_form(context: AppContext, info: projects.ProjectInfo) -> None:
    """The currency every amount of the project is shown with: ISO code and symbol (empty code: none)."""
    with st.form(f"projects_currency_form_{info.name}", border=False):
        left, middle, right = st.columns([1, 1, 2], vertical_alignment="bottom")
        code = left.text_input(
            "Currency code",
            value=info.currency.code if info.currency else "",
            key=f"projects_currency_code_{info.name}",
            placeholder="e.g. EUR",
            help="ISO 4217 code used on every amount: cards, tables, exports, chat. Empty: bare numbers.",
        )
        symbol = middle.text_input(
            "Symbol",
            value=info.currency.symbol if info.currency else "",
            key=f"projects_currency_symbol_{info.name}",
            placeholder="the code's usual one",
        )
        if not right.form_submit_button("Save currency", icon=":material/euro:"):
            return
    try:
        chosen = changed_currency(code, symbol or None, info.currency) if code.strip() else None
        projects.set_currency(context.services, info.name, chosen, user=context.user)
    except FinlibError as error:
        render_error(error, context=f"Setting the currency of {info.name} failed")
        return
    flash(f"{info.name}: amounts are shown in {chosen.label if chosen else 'bare numbers (no currency)'}.")
    st.rerun()


st.subheader("Add a ledger")
upload_tab, s3_tab = st.tabs([":material/upload_file: Upload a file", ":material/cloud: Register an S3 file"])
with upload_tab:
    render_upload_form(context)
with s3_tab:
    render_register_form(context)

if not context.projects:
    st.info("No projects yet: upload a ledger above to get started.", icon=":material/inbox:")
    st.stop()

st.subheader("Your projects")
# Filled after the actions below, from a fresh read, so a failed Refresh shows its status in this same run.
table_slot = st.container()

names = [info.name for info in context.projects]
default = st.session_state.pop(MANAGE_NEXT_STATE, None) or st.session_state.get("projects_manage")
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
render_currency_form(context, info)

infos = tuple(data.list_project_infos(services))
table_slot.dataframe(
    load_report.project_table(infos, context.settings),
    hide_index=True,
    key="projects_table",
    column_config=load_report.PROJECT_COLUMN_CONFIG,
    placeholder=MISSING_TEXT,
)
info = next((p for p in infos if p.name == selected), info)
load_report.render_load_report(context, info)
