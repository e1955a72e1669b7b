"""One server for the dashboard and the HTTP API: `python -m finlib serve` (or `streamlit run server.py`).

The dashboard at / is app.py exactly as `streamlit run app.py` serves it; the API (/upload, /query, /api/...,
docs at /docs) is finlib's, installed on the same FastAPI app. `streamlit run` finds the ``app`` below and
serves it with the same configuration (.streamlit/config.toml, command-line flags) as the dashboard alone.
"""

from __future__ import annotations

import streamlit as st
from fastapi import FastAPI

from finlib.api.app import API_METADATA, ApiOptions, install_api
from finlib.api.guards import LocalPolicy, MembershipPolicy
from finlib.projects import Services
from ui.auth import sign_in_mode
from ui.services import mark_api_served


def _services() -> Services:
    """The dashboard's own services object (settings, engine, parser server), shared with the API."""
    from ui.data import ensure_demo
    from ui.services import get_services, get_settings, settings_fingerprint

    settings = get_settings()
    fingerprint = settings_fingerprint(settings)
    services = get_services(settings, fingerprint)
    ensure_demo(services, fingerprint)  # as the dashboard does: a fresh server has the demo project
    return services


dashboard = st.App("app.py")
app = FastAPI(lifespan=dashboard.lifespan(), **API_METADATA)
# With sign-in (st.login or a trusted proxy's headers) the dashboard knows its users; the API knows them by token.
sign_in = sign_in_mode() != "local"
install_api(app, _services, ApiOptions(require_token=sign_in, policy=MembershipPolicy() if sign_in else LocalPolicy()))
mark_api_served()  # the API page then stops warning that the curl examples would get the dashboard's HTML
app.mount("/", dashboard)
