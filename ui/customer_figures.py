"""A customer's two charts, built once per view and customer: a rerun on cached results draws them again as built."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from finlib.currency import Currency
from finlib.projects import Services
from ui import charts, data


@dataclass(frozen=True)
class CustomerFigures:
    """The invoice amounts chart, and the days-to-pay chart (None when nothing is paid yet)."""

    amounts: go.Figure
    delays: go.Figure | None


# Building the two figures of a large account (2,000 points each) with plotly's validation took 0.1-0.3 s of every
# rerun; Streamlit copies a figure into its message, so one shared object serves every run and session.
@st.cache_resource(ttl=data.CACHE_TTL_S, max_entries=data.RESULT_CACHE_ENTRIES, show_spinner=False)
def customer_figures(
    _services: Services,
    key: data.ViewKey,
    filters: data.LedgerFilters,
    customer_key: str,
    predicted_amount: float | None,
    average_delay: float | None,
    currency: Currency | None,
) -> CustomerFigures:
    """The charts of ``data.compute_customer_invoices``, each point carrying its ``chart_row`` (forecast order)."""
    invoices = data.compute_customer_invoices(_services, key, filters, customer_key)
    invoices = invoices.assign(chart_row=range(len(invoices)))
    paid = invoices[invoices["delay_days"].notna()]
    return CustomerFigures(
        amounts=charts.customer_amounts_figure(invoices, predicted_amount=predicted_amount, currency=currency),
        delays=None if paid.empty else charts.customer_delays_figure(paid, average_delay),
    )


def figure_number(value: object) -> float | None:
    """A stats figure as a cache argument: a float, or None where it is missing."""
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]
