"""Export buttons: CSV downloads of a table, the view's Excel workbook and PDF report, built when clicked."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from finlib import documents
from finlib.analytics.overview import Overview
from finlib.export import export_csv
from ui import data, tables
from ui.auth import names_in, record_export
from ui.sidebar import AppContext

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_download(
    context: AppContext, label: str, build: Callable[[], pd.DataFrame], *, file_name: str, key: str, names: list[str]
) -> None:
    """A CSV download built when clicked (formula-safe); one with real names (``names``) is logged with its user."""
    assert context.project is not None
    st.download_button(
        label,
        lambda: export_csv(build()),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        key=key,
        on_click=record_export,
        args=(context.services, context.user, context.project.name, file_name, names),
    )


def report_inputs(context: AppContext, overview: Overview) -> documents.ReportInputs:
    """What the exports show: this view's KPIs, aging, monthly trend, worklist and invoices."""
    assert context.project is not None
    services, key = context.services, context.key
    worklist = data.compute_worklist(services, key, context.filters)
    invoices = tables.invoice_table(data.compute_view_invoices(services, key, context.filters), with_customer=True)
    return documents.ReportInputs(
        project=context.project.name,
        report=overview.report,
        aging=overview.aging,
        monthly=overview.monthly,
        worklist=worklist,
        invoices=invoices,
        currency=context.project.currency,
        notes=tuple(context.project.report.figure_notes),
    )


def render_export_buttons(context: AppContext, overview: Overview, *, key: str) -> None:
    """Two download buttons: Excel (KPIs, aging, monthly, worklist, invoices) and PDF."""
    assert context.project is not None
    stem = f"{context.project.name}-{overview.report.dates.as_of:%Y-%m-%d}"

    def names() -> list[str]:  # when clicked: the worklist is computed (cached) only for an export
        return names_in(report_inputs(context, overview).worklist, "customer", context)

    st.subheader("Export this view")
    left, right = st.columns(2)
    left.download_button(
        "Excel workbook",
        lambda: documents.build_workbook(report_inputs(context, overview)),
        file_name=f"{stem}-receivables.xlsx",
        mime=XLSX_MIME,
        icon=":material/table_view:",
        key=f"{key}_export_xlsx",
        help="KPIs, aging, monthly trend, worklist and the invoices of this view, on separate sheets.",
        on_click=record_export,
        args=(context.services, context.user, context.project.name, f"{stem}-receivables.xlsx", names),
    )
    right.download_button(
        "PDF report",
        lambda: documents.build_pdf(report_inputs(context, overview)),
        file_name=f"{stem}-receivables.pdf",
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        key=f"{key}_export_pdf",
        help="The KPI tables, aging and collections charts and the top of the worklist, to forward.",
        on_click=record_export,
        args=(context.services, context.user, context.project.name, f"{stem}-receivables.pdf", names),
    )
