"""The view in the page address: filters, balance date, selected customer and presentation mode as query parameters.

A link reproduces the view and a reload keeps it. The address is read once per session (before the widgets are
drawn, so they start from it) and written on every run from what the widgets hold. People appear by alias
(``manager=PERS-...``, ``customer=CUST-...``), never by name, so a forwarded link carries no one's name.
Presentation mode is kept as ``presentation=on``, so a reload, a bookmark or a link shared while screen sharing
opens with aliases, never with real names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import pandas as pd
import streamlit as st

SEEDED_STATE = "url_state_seeded"
PRESENTATION_SEEDED_STATE = "url_state_presentation_seeded"
OPEN_CUSTOMER_STATE = "customers_open_key"  # the worklist asks the Customers page to open this customer
PERIOD = "period"
FROM = "from"
TO = "to"
AS_OF = "as_of"
SERVICE = "service"
LOCATION = "location"
MANAGER = "manager"
CUSTOMER = "customer"
PRESENTATION = "presentation"
PRESENTATION_ON = "on"
FILTER_PARAMS = (PERIOD, FROM, TO, AS_OF, SERVICE, LOCATION, MANAGER, CUSTOMER)


def parse_day(text: str | None, first: date, last: date) -> date | None:
    """An ISO date from the address, if it is one and lies in [first, last]."""
    if not text:
        return None
    try:
        day = pd.Timestamp(text).date()
    except (ValueError, TypeError):
        return None
    return day if first <= day <= last else None


def first_visit() -> bool:
    """True once per session: the run that should take the view from the address."""
    if st.session_state.get(SEEDED_STATE):
        return False
    st.session_state[SEEDED_STATE] = True
    return True


def read_choices(name: str, allowed: Iterable[str], labels: Mapping[str, str] | None = None) -> list[str]:
    """The values of a repeated parameter that the view offers; ``labels`` maps an address value to a choice."""
    offered = list(allowed)
    wanted = st.query_params.get_all(name)
    if labels is not None:
        wanted = [labels[value] for value in wanted if value in labels]
    return [value for value in wanted if value in offered]


def write(name: str, value: str | list[str] | None) -> None:
    """Set a parameter, or remove it when the value is the default (None or empty)."""
    if value in (None, "", []):
        if name in st.query_params:
            del st.query_params[name]
        return
    if st.query_params.get_all(name) != (value if isinstance(value, list) else [value]):
        st.query_params[name] = value


def clear_filters() -> None:
    """Remove every filter from the address (a new project starts from its defaults)."""
    for name in FILTER_PARAMS:
        write(name, None)


def presentation_requested() -> bool:
    """True on the session's first run when the address asks for presentation mode (``presentation=on``)."""
    if st.session_state.get(PRESENTATION_SEEDED_STATE):
        return False
    st.session_state[PRESENTATION_SEEDED_STATE] = True
    return st.query_params.get(PRESENTATION) == PRESENTATION_ON


def write_presentation(on: bool) -> None:
    """Keep presentation mode in the address (only when on), so a reload or a shared link stays in it."""
    write(PRESENTATION, PRESENTATION_ON if on else None)
