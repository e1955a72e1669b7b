"""What a session's browser loads ahead of its first charts: plotly.js, while the server computes the page."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go
import streamlit as st

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

PRELOADED_STATE = "preload_charts_sent"
# Enough for plotly.js to run and nothing a reader would notice: no axes, no toolbar, ten pixels high.
BLANK_LAYOUT = {
    "height": 10,
    "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
    "xaxis": {"visible": False},
    "yaxis": {"visible": False},
}


def start_chart_library() -> DeltaGenerator | None:
    """On a session's first run, a blank chart in a placeholder (clear it when the page is drawn); else None.

    The browser fetches and evaluates plotly.js (4.7 MB, about 0.5 s of its CPU) only when a first chart arrives,
    and a page sends its charts last, after the server computed it: sent first, the library loads meanwhile.
    """
    if st.session_state.get(PRELOADED_STATE):
        return None
    st.session_state[PRELOADED_STATE] = True
    placeholder = st.empty()
    placeholder.plotly_chart(go.Figure(layout=BLANK_LAYOUT), key="preload_chart", config={"displayModeBar": False})
    return placeholder
