"""What a project's ledger reads as: the project list in words, the load report and the column-mapping editor.

Shared by the Projects page and any page that shows a project's load; the rules (what a valid mapping is) are
in ``finlib``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from finlib import projects
from finlib.config import Settings
from finlib.errors import FinlibError
from finlib.ingest import schema
from finlib.projects import ProjectInfo
from ui.actions import flash
from ui.errors import render_error
from ui.format import format_count
from ui.sidebar import PENDING_PROJECT_STATE, AppContext

IGNORE = "(ignore)"
MANAGE_NEXT_STATE = "projects_manage_next"  # set after a load; the page applies it before drawing the selector
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


def open_after_load(info: ProjectInfo, verb: str) -> None:
    """Open the project just loaded on every page, select it on the Projects page, and say what was read."""
    st.session_state[PENDING_PROJECT_STATE] = info.name
    st.session_state[MANAGE_NEXT_STATE] = info.name
    warning = f" {format_count(info.rejected_count)} rows could not be read; see below." if info.rejected_count else ""
    flash(
        f"{verb} {info.name}: {format_count(info.row_count)} invoices, "
        f"{format_count(info.customer_count)} customers.{warning}"
    )
    st.rerun()


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

    render_mapping_editor(context, info)


def render_mapping_editor(context: AppContext, info: ProjectInfo) -> None:
    """Each column of the file and the field it was read as; saving re-reads the file with the user's mapping."""
    report = info.report
    mapping = dict(report.mapping or {})
    unmapped = list(report.unmapped_columns or [])
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
        problem = schema.mapping_problem(chosen, FIELD_LABELS)
        if problem:
            st.error(problem)
            return
        # Columns set to "(ignore)" are saved as ignored, so detection does not read them again.
        ignored = {
            str(column): schema.IGNORED
            for column, label in zip(edited["Column in the file"], edited["Read as"], strict=True)
            if label == IGNORE
        }
        try:
            with st.spinner("Re-reading the file with your mapping…"):
                saved = projects.save_mapping(context.services, info.name, {**chosen, **ignored}, user=context.user)
        except FinlibError as error:
            render_error(error, context="The mapping was not saved")
            return
        open_after_load(saved, "Re-read")
