"""The frame guard: a page runs inside app.py's frame, also when a server's first request is a deep link to it."""

from __future__ import annotations

import runpy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

APP_PATH = Path(__file__).resolve().parents[1] / "app.py"
# Each session's script runs in its own thread, so "inside the frame" is per thread.
_state = threading.local()


@contextmanager
def inside_frame() -> Iterator[None]:
    """Mark the selected page's run as running inside the frame (app.py wraps ``page.run()`` in this)."""
    outer = getattr(_state, "inside", False)
    _state.inside = True
    try:
        yield
    finally:
        _state.inside = outer


def ensure_frame() -> None:
    """Run the frame first when a page file was started without it, and end the bare run; a no-op inside the frame.

    Until the first ``st.navigation`` call on a server (and on every AppTest run), Streamlit treats an app with a
    ``pages/`` folder as a legacy multipage app: a first request for ``/customers`` runs ``pages/customers.py``
    alone. Running ``app.py`` here sets the page config, the navigation (which turns the legacy mode off for the
    server) and the sidebar, then runs the same page inside the frame (same URL path, same page hash); this bare
    run must then draw nothing more. Call it at the top of a page, never inside a fragment.
    """
    if getattr(_state, "inside", False):
        return
    runpy.run_path(str(APP_PATH), run_name="__main__")
    st.stop()
