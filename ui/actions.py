"""Project actions shared by the Projects page and every page's "cannot load" banner: refresh and delete."""

from __future__ import annotations

import streamlit as st

from finlib import projects
from finlib.alerting import notify_late_invoices
from finlib.errors import FinlibError
from finlib.projects import Services
from ui.auth import session_user
from ui.errors import render_error
from ui.sidebar import AppContext

FLASH_STATE = "flash_message"
DELETE_STATE = "delete_requested"
# Pages whose figures need payment dates: they say so when the ledger has none, instead of showing blanks.
PAYMENT_PAGES = {"overview", "worklist", "customers", "forecast", "breakdown", "chat"}


def flash(message: str, icon: str = ":material/check_circle:") -> None:
    """Keep a message to show once, after the rerun an action triggers."""
    st.session_state[FLASH_STATE] = (message, icon)


def render_flash() -> None:
    """Show (and forget) the message an action left for this run."""
    kept = st.session_state.pop(FLASH_STATE, None)
    if kept:
        message, icon = kept
        st.success(message, icon=icon)


def refresh(services: Services, name: str) -> None:
    """Re-fetch a project's source; the message says whether anything changed."""
    try:
        with st.spinner(f"Checking the source of {name}…"):
            info, changed = projects.refresh_project(services, name, user=session_user())
    except FinlibError as error:
        render_error(error, context=f"Refreshing {name} failed")
        return
    if changed:
        flash(f"{name} reloaded: {info.row_count:,} invoices, {info.customer_count:,} customers.")
        notify_late_invoices(services, name)  # on its own thread: the page never waits for the webhook
    else:
        flash(f"{name} is up to date: the source has not changed.", icon=":material/done_all:")
    st.rerun()


def request_delete(name: str) -> None:
    """Ask for the delete confirmation; the dialog stays open across reruns until it is answered or dismissed."""
    st.session_state[DELETE_STATE] = name


def _forget_delete() -> None:
    st.session_state.pop(DELETE_STATE, None)


def render_pending_delete(services: Services, prefix: str) -> None:
    """Draw the confirmation dialog when a delete was requested and not yet answered."""
    name = st.session_state.get(DELETE_STATE)
    if name:
        _confirm_delete(services, name, prefix)


def delete_consequence(services: Services, name: str) -> str:
    """What a delete does to the file behind the project, in words true for uploads and registered files alike."""
    if projects.deletes_stored_copy(services, name):
        return "The uploaded file stored for it is deleted too, so to see this ledger again you upload the file again."
    return "The source file stays where it is, so you can register it again later."


# Kept open by session state rather than by the click that opened it, so the answer is not lost when the
# whole script reruns (AppTest does, and so does any widget outside the dialog).
@st.dialog("Delete project", on_dismiss=_forget_delete)
def _confirm_delete(services: Services, name: str, prefix: str) -> None:
    """Ask before deleting, saying whether the file behind the project goes too (uploads) or stays (registered)."""
    st.markdown(f"Delete **{name}**? Its aliases and chat audit log are removed. {delete_consequence(services, name)}")
    left, right = st.columns(2)
    if left.button("Cancel", key=f"{prefix}_delete_cancel", width="stretch"):
        _forget_delete()
        st.rerun()
    if right.button("Delete", key=f"{prefix}_delete_confirm", type="primary", width="stretch"):
        try:
            projects.delete_project(services, name, user=session_user())
        except FinlibError as error:
            render_error(error)
            return
        _forget_delete()
        flash(f"Project {name} deleted.", icon=":material/delete:")
        st.rerun()


def require_ready(context: AppContext, prefix: str) -> None:
    """Guard clause for analysis pages: a designed empty state when there is no project or it cannot load."""
    if context.project is None:
        st.info(
            "No ledger yet. Upload an invoice export or register an S3 file to see KPIs, customers and forecasts.",
            icon=":material/upload_file:",
        )
        st.page_link("pages/projects.py", label="Go to Projects", icon=":material/folder_open:")
        st.stop()
    name = context.project.name
    if context.load_error is not None:
        render_error(context.load_error, context=f"Project {name} cannot be loaded")
        st.caption("If the file was moved or changed, refresh the project; if it is gone for good, delete it.")
        _render_project_actions(context, prefix, "failed")
        st.stop()
    if context.project.status:
        # The ledger still loads (from the cache), but the last refresh failed: say so, and show the last good data.
        detail = f": {context.project.last_error}" if context.project.last_error else "."
        st.warning(
            f"Project {name}: **{context.project.status}**{detail}  \n"
            "The figures below are from the last successful load. Refresh once the file is back, "
            "or delete the project if it is gone for good.",
            icon=":material/cloud_off:",
        )
        _render_project_actions(context, prefix, "status")
    for note in context.project.report.figure_notes:
        st.warning(f"Project {name}: {note}", icon=":material/report:")
    if prefix in PAYMENT_PAGES and not context.loaded().has_payment_dates:
        st.info(
            f"Project {name} has no payment dates (Xero and QuickBooks Online invoice exports carry none): days to "
            "pay, on-time share, payment delays and payment forecasts are not available, and every invoice counts "
            "as open. Load an export with a payment date column to see them.",
            icon=":material/event_busy:",
        )


def _render_project_actions(context: AppContext, prefix: str, state: str) -> None:
    """Refresh and Delete buttons for the selected project, with the delete dialog when it was asked for."""
    assert context.project is not None
    name = context.project.name
    left, right, _ = st.columns([1, 1, 4])
    if left.button("Refresh", key=f"{prefix}_{state}_refresh", icon=":material/refresh:"):
        refresh(context.services, name)
    if right.button("Delete…", key=f"{prefix}_{state}_delete", icon=":material/delete:"):
        request_delete(name)
    render_pending_delete(context.services, prefix)
