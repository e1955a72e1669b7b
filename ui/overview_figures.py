"""The Overview's charts, built once per view: a rerun on cached figures draws them again without rebuilding them."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

from finlib.analytics.drilldown import delay_bins
from finlib.currency import Currency
from finlib.projects import Services
from ui import charts, data


@dataclass(frozen=True)
class OverviewFigures:
    """The Overview's figures that do not depend on a widget; None where the page shows a message instead."""

    monthly: go.Figure
    aging: go.Figure | None  # nothing open on the balance date
    delays: go.Figure | None  # nothing paid in the period
    top_invoiced: go.Figure
    most_overdue: go.Figure | None  # nothing overdue on the balance date


# Building the six figures with plotly's validation was about half of a rerun on cached results (45 ms of CPU);
# Streamlit copies a figure into its message (``to_dict``), so one shared object serves every run and session.
@st.cache_resource(ttl=data.CACHE_TTL_S, max_entries=data.RESULT_CACHE_ENTRIES, show_spinner=False)
def overview_figures(
    _services: Services, key: data.ViewKey, filters: data.LedgerFilters, currency: Currency | None
) -> OverviewFigures | None:
    """The figures of ``data.compute_overview`` for this view (None when the ledger has no invoices)."""
    overview = data.compute_overview(_services, key, filters)
    if overview is None:
        return None
    return OverviewFigures(
        monthly=charts.monthly_figure(overview.monthly, currency),
        aging=charts.aging_figure(overview.aging, currency) if overview.aging["invoice_count"].sum() else None,
        delays=None
        if overview.delays.empty
        else charts.delay_histogram_figure(
            delay_bins(overview.delays["delay_days"]), overview.report.activity.avg_days_to_pay
        ),
        top_invoiced=charts.ranking_figure(
            overview.top_invoiced.rename(columns={"customer": "name"}), value_label="Invoiced", currency=currency
        ),
        most_overdue=None
        if overview.most_overdue.empty
        else charts.ranking_figure(
            overview.most_overdue.rename(columns={"customer": "name"}), value_label="Overdue", currency=currency
        ),
    )
