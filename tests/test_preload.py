"""ui.preload: a session's first chart page sends a blank chart first, so the browser loads plotly.js early."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest


def _preloading_script() -> None:
    import streamlit as st

    from ui.preload import start_chart_library

    placeholder = start_chart_library()
    st.caption(f"sent: {placeholder is not None}")


def _preloading_then_clearing_script() -> None:
    import streamlit as st

    from ui.preload import start_chart_library

    placeholder = start_chart_library()
    st.caption("the page")
    if placeholder is not None:
        placeholder.empty()


def test_the_first_run_of_a_session_sends_a_blank_chart_and_later_runs_none() -> None:
    at = AppTest.from_function(_preloading_script).run()
    assert [caption.value for caption in at.caption] == ["sent: True"]
    first = at.main.children[0]  # the placeholder holds it, before anything of the page
    assert first.type == "plotly_chart"
    assert json.loads(first.proto.spec)["data"] == [], "blank: nothing to draw but the library itself"
    at.run()
    assert [caption.value for caption in at.caption] == ["sent: False"]
    assert not at.get("plotly_chart")


def test_the_blank_chart_is_cleared_once_the_page_is_drawn() -> None:
    at = AppTest.from_function(_preloading_then_clearing_script).run()
    assert not at.exception
    assert not at.get("plotly_chart")
    assert [caption.value for caption in at.caption] == ["the page"]
