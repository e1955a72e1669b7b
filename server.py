"""One server for the dashboard and the HTTP API: `python -m finlib serve` (or `streamlit run server.py`).

The dashboard at / is app.py exactly as `streamlit run app.py` serves it; the API (/upload, /query, /api/...,
docs at /docs) is finlib's, installed on the same FastAPI app. `streamlit run` finds the ``app`` below and
serves it with the same configuration (.streamlit/config.toml, command-line flags) as the dashboard alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st
from fastapi import FastAPI

from finlib.api.app import API_METADATA, ApiOptions, install_api
from finlib.api.guards import LocalPolicy, MembershipPolicy
from finlib.projects import Services
from ui.auth import sign_in_mode
from ui.services import mark_api_served
from ui.warmup import start_warm_up


def _services() -> Services:
    """The dashboard's own services object (settings, engine, parser server), shared with the API."""
    from ui.data import ensure_demo
    from ui.services import get_services, get_settings, settings_fingerprint

    settings = get_settings()
    fingerprint = settings_fingerprint(settings)
    services = get_services(settings, fingerprint)
    ensure_demo(services, fingerprint)  # as the dashboard does: a fresh server has the demo project
    return services


@asynccontextmanager
async def _warm_up_at_start(_app: object) -> AsyncIterator[None]:
    """Once the runtime started: warm the process for the first session, in a thread the server never waits for."""
    start_warm_up(_services)
    yield


dashboard = st.App("app.py", lifespan=_warm_up_at_start)
app = FastAPI(lifespan=dashboard.lifespan(), **API_METADATA)
# With sign-in (st.login or a trusted proxy's headers) the dashboard knows its users; the API knows them by token.
sign_in = sign_in_mode() != "local"
install_api(app, _services, ApiOptions(require_token=sign_in, policy=MembershipPolicy() if sign_in else LocalPolicy()))
mark_api_served()  # the API page then stops warning that the curl examples would get the dashboard's HTML
app.mount("/", dashboard)
