"""Plotly figures of the Forecast page: weekly cash-in with its band, and past weeks' forecast against actual."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ui.charts import COLLECTED_COLOR, FORECAST_COLOR, INVOICED_COLOR, _layout

BAND_COLOR = "rgba(31, 95, 168, 0.18)"


def cash_in_figure(weeks: pd.DataFrame, past: pd.DataFrame) -> go.Figure:
    """Expected collections per week with the 10th-90th percentile band; past weeks also show what came in."""
    figure = go.Figure()
    for frame, name in ((past, "Forecast made 13 weeks earlier"), (weeks, "Expected")):
        if frame.empty:
            continue
        x = pd.concat([frame["week_start"], frame["week_start"][::-1]])
        y = pd.concat([frame["high"], frame["low"][::-1]])
        figure.add_trace(
            go.Scatter(x=x, y=y, fill="toself", fillcolor=BAND_COLOR, line=dict(width=0), hoverinfo="skip",
                       name="10th–90th percentile band", showlegend=name == "Expected")
        )  # fmt: skip
        dash = "dot" if frame is past else "solid"
        figure.add_trace(
            go.Scatter(x=frame["week_start"], y=frame["expected"], name=name, mode="lines+markers",
                       line=dict(color=INVOICED_COLOR if frame is weeks else FORECAST_COLOR, dash=dash),
                       hovertemplate="%{y:,.0f}")
        )  # fmt: skip
    if not past.empty:
        figure.add_trace(
            go.Bar(x=past["week_start"], y=past["actual"], name="Actually collected", marker_color=COLLECTED_COLOR,
                   opacity=0.7, hovertemplate="%{y:,.0f}")
        )  # fmt: skip
    return _layout(figure, y_title="Cash in per week")
