"""The one place a FinlibError becomes a message on the page instead of a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import streamlit as st

from finlib.errors import (
    ConfigError,
    DatabaseError,
    FinlibError,
    LLMError,
    ParseError,
    ProjectError,
    StorageError,
)

_ICONS: dict[type[FinlibError], str] = {
    ConfigError: ":material/settings:",
    DatabaseError: ":material/database:",
    StorageError: ":material/cloud_off:",
    ParseError: ":material/table_view:",
    ProjectError: ":material/folder_off:",
    LLMError: ":material/smart_toy:",
}


def icon_for(error: FinlibError) -> str:
    """Material icon that hints at the kind of failure."""
    for kind, icon in _ICONS.items():
        if isinstance(error, kind):
            return icon
    return ":material/error:"


def render_error(error: FinlibError, *, context: str | None = None) -> None:
    """Show the error's message (which says what to do), optionally after a short context line."""
    message = str(error) if context is None else f"{context}: {error}"
    st.error(message, icon=icon_for(error))


def stop_with_error(error: FinlibError, *, context: str | None = None) -> NoReturn:
    """Show the error and end this run of the page."""
    render_error(error, context=context)
    st.stop()
    raise AssertionError("st.stop() returned")  # pragma: no cover


@contextmanager
def finlib_errors(context: str | None = None) -> Iterator[None]:
    """Run a block; a FinlibError inside it is shown as ``st.error`` and the page stops."""
    try:
        yield
    except FinlibError as error:
        stop_with_error(error, context=context)
