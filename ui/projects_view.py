"""The Projects page's parts: add-a-ledger forms with inline validation, the project list and the load report."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import pandas as pd
import streamlit as st

from finlib import projects
from finlib.config import Settings
from finlib.errors import FinlibError, MissingColumnsError, ProjectError
from finlib.ingest import schema, storage
from finlib.projects import ProjectInfo
from ui.actions import flash
from ui.errors import render_error
from ui.format import format_count
from ui.sidebar import PENDING_PROJECT_STATE, AppContext

IGNORE = "(ignore)"
CHOOSE = "(choose a column)"
UPLOAD_MAPPING_STATE = "projects_upload_mapping"
MANAGE_NEXT_STATE = "projects_manage_next"  # set after a load; the page applies it before drawing the selector
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
FIELD_LABELS = {
    "customer_name": "Customer name",
    "invoice_date": "Invoice date",
    "invoice_number": "Invoice number",
    "sales_order_number": "Sales order number",
    "pay_terms": "Payment terms",
    "due_date": "Due date",
    "net_amount": "Net amount",
    "vat_amount": "VAT amount",
    "total_amount": "Total amount",
    "payment_date": "Payment date",
    "sales_manager": "Sales manager",
    "service_type": "Service type",
    "location": "Location",
}
PROJECT_COLUMN_CONFIG = {
    "Last loaded (UTC)": st.column_config.DatetimeColumn("Last loaded (UTC)", format="D MMM YYYY, HH:mm"),
    "Invoices": st.column_config.NumberColumn("Invoices", format="localized"),
    "Customers": st.column_config.NumberColumn("Customers", format="localized"),
    "Rejected rows": st.column_config.NumberColumn("Rejected rows", format="localized"),
}


def suggest_name(filename: str) -> str:
    """A valid project name from a file name (``AR Export 2025.xlsx`` → ``AR-Export-2025``)."""
    stem = PurePath(filename).stem
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem).strip("-_.")
    return (cleaned or "ledger")[:63]


def _open_after_load(info: ProjectInfo, verb: str) -> None:
    st.session_state[PENDING_PROJECT_STATE] = info.name
    st.session_state[MANAGE_NEXT_STATE] = info.name
    warning = f" {format_count(info.rejected_count)} rows could not be read; see below." if info.rejected_count else ""
    flash(
        f"{verb} {info.name}: {format_count(info.row_count)} invoices, "
        f"{format_count(info.customer_count)} customers.{warning}"
    )
    st.rerun()


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
        placeholder=suggest_name(uploaded.name) if uploaded else "e.g. acme-2025",
        help="Letters, digits, '-', '_' or '.'. Left empty, it comes from the file name.",
    ).strip() or (suggest_name(uploaded.name) if uploaded else "")
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
                info = projects.upload_project(context.services, name, uploaded.name, uploaded.getvalue())
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
            _open_after_load(info, "Loaded")
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
                    context.services, pending["name"], pending["filename"], data, mapping=chosen
                )
        except FinlibError as error:
            render_error(error, context=f"{pending['filename']} was not loaded")
            return
        st.session_state.pop(UPLOAD_MAPPING_STATE, None)
        _open_after_load(info, "Loaded")


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
                info = projects.register_project(context.services, name, url)
        except FinlibError as error:
            render_error(error, context="The file was not registered")
            return
        _open_after_load(info, "Registered")


def project_table(infos: tuple[ProjectInfo, ...], settings: Settings) -> pd.DataFrame:
    """One row per project, in words."""
    rows = [
        {
            "Project": info.name,
            "Source": projects.source_label(settings, info),
            "Invoices": info.row_count,
            "Customers": info.customer_count,
            "Rejected rows": info.rejected_count,
            "Warnings": len(info.report.warnings),
            "Last loaded (UTC)": _naive_utc(info.refreshed_at or info.updated_at),
            "Status": f"⚠ {info.status}" if info.status else "OK",
        }
        for info in infos
    ]
    return pd.DataFrame(rows)


def _naive_utc(moment: object) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp


def render_load_report(context: AppContext, info: ProjectInfo) -> None:
    """What parsing found for a project: mapping, unmapped columns, rejected rows, warnings; mapping editor."""
    report = info.report
    if info.last_error:
        st.error(f"Last refresh failed: {info.last_error}", icon=":material/cloud_off:")
    st.markdown(f"#### What was read from {info.name}")
    summary = st.columns(4)
    summary[0].metric("Invoices read", format_count(report.rows_loaded))
    summary[1].metric("Rows rejected", format_count(report.rejected_count))
    summary[2].metric("Customers", format_count(info.customer_count))
    summary[3].metric("Format", (report.format or info.format or "?").upper())
    for warning in report.warnings:
        st.warning(warning, icon=":material/warning:")

    mapping = dict(report.mapping or {})
    unmapped = list(report.unmapped_columns or [])
    if report.rejected_count:
        examples = pd.DataFrame(report.rejected_examples or [])
        with st.expander(
            f"Rejected rows ({format_count(report.rejected_count)}); examples with row numbers",
            icon=":material/block:",
            expanded=True,
        ):
            if examples.empty:
                st.caption("No examples were kept.")
            else:
                shown = examples.rename(columns={"row": "Row", "reason": "Why it was rejected"})
                st.dataframe(shown, hide_index=True, key="projects_rejected")
            st.caption(
                "Row numbers are as in Excel (or the CSV line). Fix those cells in the file and refresh, "
                "or correct the column mapping below."
            )

    st.markdown("#### Column mapping")
    st.caption(
        "Each column of the file and the ledger field it was read as. Change a field and save to re-read "
        "the file with your mapping; it is kept for later refreshes."
    )
    editor_rows = pd.DataFrame(
        {
            "Column in the file": [*mapping, *unmapped],
            "Read as": [FIELD_LABELS.get(c, c) for c in mapping.values()] + [IGNORE] * len(unmapped),
        }
    )
    if editor_rows.empty:
        st.caption("No column information was kept for this project.")
        return
    choices = [IGNORE, *FIELD_LABELS.values()]
    edited = st.data_editor(
        editor_rows,
        hide_index=True,
        height=38 + 35 * len(editor_rows),
        key=f"projects_mapping_{info.name}_{info.etag}",
        disabled=["Column in the file"],
        column_config={"Read as": st.column_config.SelectboxColumn("Read as", options=choices, required=True)},
    )
    fallbacks = dict(getattr(report, "fallback_columns", None) or {})
    for column, field_name in fallbacks.items():
        st.caption(f"`{column}` fills {FIELD_LABELS.get(field_name, field_name).lower()} where that cell is blank.")
    if unmapped:
        st.caption("Not used: " + ", ".join(f"`{column}`" for column in unmapped))
    if st.button("Save mapping and reload", key="projects_mapping_save", icon=":material/save:"):
        by_label = {label: field for field, label in FIELD_LABELS.items()}
        chosen = {
            str(column): by_label[label]
            for column, label in zip(edited["Column in the file"], edited["Read as"], strict=True)
            if label != IGNORE
        }
        duplicates = pd.Series(list(chosen.values())).value_counts()
        duplicates = [FIELD_LABELS[f] for f in duplicates[duplicates > 1].index]
        missing = schema.missing_required(chosen.values())
        if duplicates:
            st.error(f"Each field can come from one column only: {', '.join(duplicates)} is chosen twice.")
            return
        if missing:
            st.error(f"The mapping needs a column for {', '.join(missing)}.")
            return
        # Columns set to "(ignore)" are saved as ignored, so detection does not read them again.
        ignored = {
            str(column): schema.IGNORED
            for column, label in zip(edited["Column in the file"], edited["Read as"], strict=True)
            if label == IGNORE
        }
        try:
            with st.spinner("Re-reading the file with your mapping…"):
                saved = projects.save_mapping(context.services, info.name, {**chosen, **ignored})
        except FinlibError as error:
            render_error(error, context="The mapping was not saved")
            return
        _open_after_load(saved, "Re-read")
