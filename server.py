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


def _auth_configured() -> bool:
    """True when sign-in (st.login) is configured: then every API call needs a token and memberships apply."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no or unreadable secrets file: no sign-in, as on the dashboard
        return False


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
sign_in = _auth_configured()
install_api(app, _services, ApiOptions(require_token=sign_in, policy=MembershipPolicy() if sign_in else LocalPolicy()))
app.mount("/", dashboard)
