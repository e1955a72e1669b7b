"""Drill-down on the Overview: which bar the user clicked, and the table of invoices behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from finlib.analytics.periods import ViewDates
from ui import data, exports, tables
from ui.auth import names_in
from ui.charts import AGING_LABELS
from ui.format import MISSING_TEXT, format_date
from ui.sidebar import AppContext

LAST_STATE = "overview_drill_last"
SEEN_STATE = "overview_drill_seen"
CHART_KINDS = ("monthly", "aging", "revenue", "overdue", "delays")


@dataclass(frozen=True)
class Selection:
    """A clicked bar: what kind of number it is and which month, bucket or customer."""

    kind: str  # a finlib.analytics.drilldown kind
    value: str
    title: str
    file_part: str  # how the download's file name names it (an alias, never a customer key)


def _points(event: Any) -> list[dict[str, Any]]:
    if event is None:
        return []
    try:
        return list(event.selection.points)
    except (AttributeError, KeyError):
        return []


def _selection(chart: str, point: dict[str, Any], keys: dict[str, str]) -> Selection | None:
    if chart == "monthly":
        month = pd.Timestamp(point.get("x"))
        collected = point.get("curve_number") == 1
        kind = "collected" if collected else "invoiced"
        return Selection(
            kind, month.strftime("%Y-%m-%d"), f"{'Collected' if collected else 'Invoiced'} in {month:%b %Y}"
        )
    if chart == "aging":
        bucket = (point.get("customdata") or [None, None])[1]
        title = f"Open invoices {AGING_LABELS.get(str(bucket), bucket)} days past due"
        return Selection("aging", str(bucket), title, f"aging-{bucket}")
    if chart == "delays":
        low, high = (int(day) for day in (point.get("customdata") or [0, 0])[:2])
        title = f"Invoices paid {low}–{high} days after their invoice date, in the period"
        return Selection("days_to_pay", f"{low}:{high + 1}", title, f"days-to-pay-{low}-{high}")
    alias = str(point.get("customdata"))
    key = keys.get(alias)  # the chart carries aliases, never keys (normalised names)
    if key is None:
        return None
    name = point.get("y", "")
    if chart == "revenue":
        return Selection("customer_invoiced", key, f"Invoices of {name} dated in the period", f"invoices-{alias}")
    return Selection("overdue", key, f"Overdue invoices of {name}", f"overdue-{alias}")


def selected_rows(*events: Any) -> list[int]:
    """The rows (``customdata`` of the first trace) of the points selected on any of the charts, in order."""
    rows = {
        int(point["customdata"])
        for event in events
        for point in _points(event)
        if point.get("curve_number", 0) == 0 and isinstance(point.get("customdata"), int | float)
    }
    return sorted(rows)


def selected_bar(keys: dict[str, str], *events: Any) -> Selection | None:
    """The bar clicked most recently on any of the charts (in ``CHART_KINDS`` order), or None.

    ``keys`` maps the aliases on the ranking charts to customer keys.
    """
    seen = st.session_state.get(SEEN_STATE, {})
    now = {chart: _points(event) for chart, event in zip(CHART_KINDS, events, strict=True)}
    changed = [chart for chart in CHART_KINDS if now[chart] and now[chart] != seen.get(chart)]
    st.session_state[SEEN_STATE] = now
    if changed:
        st.session_state[LAST_STATE] = (changed[0], now[changed[0]][0])
    last = st.session_state.get(LAST_STATE)
    if last is None or not now.get(last[0]):
        return None
    return _selection(last[0], last[1], keys)


def render_drilldown(context: AppContext, selection: Selection, dates: ViewDates) -> None:
    """The invoices behind the selected bar, overdue first, with a CSV download."""
    assert context.project is not None
    invoices = data.compute_drilldown(context.services, context.key, context.filters, selection.kind, selection.value)
    st.subheader(selection.title)
    st.caption(f"{len(invoices):,} invoices; status as of {format_date(dates.as_of)}. Double-click the chart to clear.")
    table = tables.invoice_table(invoices, with_customer=True)
    shown, config = tables.invoice_display(table, context.project.currency)
    st.dataframe(shown, column_config=config, hide_index=True, key="overview_drill_table", placeholder=MISSING_TEXT)
    exports.csv_download(
        context,
        "Download these invoices (CSV)",
        lambda: table,
        file_name=f"{context.project.name}-{selection.file_part}-{dates.as_of:%Y-%m-%d}.csv",
        key="overview_drill_download",
        names=names_in(invoices, "customer_name", context),
    )
