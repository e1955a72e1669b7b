"""One server for the dashboard and the HTTP API: `python -m finlib serve` (or `streamlit run server.py`).

The dashboard at / is app.py exactly as `streamlit run app.py` serves it; the API (/upload, /query, /api/...,
docs at /docs) is finlib's, installed on the same FastAPI app. `streamlit run` finds the ``app`` below and
serves it with the same configuration (.streamlit/config.toml, command-line flags) as the dashboard alone.
"""

from __future__ import annotations

import logging
import os
import socket
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

log = logging.getLogger("finlib.serve")


def _listen_without_nagle() -> int:
    """Turn Nagle's algorithm off on this process's listening TCP sockets; connections they accept inherit it (Linux).

    `streamlit run` binds its socket without naming the protocol, so asyncio never sets TCP_NODELAY on the
    connections: a response's body then waits for the client to acknowledge its headers, which a client delays
    by 40 ms, on every request but a connection's first. A first page's 61 boot scripts over six connections
    arrived about 0.2 s later for it. The socket is bound before this module is imported, so it is found among the
    process's open files. Returns how many sockets were changed.
    """
    changed = 0
    try:
        descriptors = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # not Linux: nothing to find this way
        return 0
    for descriptor in descriptors:
        try:
            duplicate = os.dup(descriptor)
        except OSError:  # closed since it was listed
            continue
        try:
            listener = socket.socket(fileno=duplicate)  # owns the duplicate from here on
        except OSError:  # not a socket
            os.close(duplicate)
            continue
        with listener:  # closes the duplicate only
            try:
                if listener.family in (socket.AF_INET, socket.AF_INET6) and listener.getsockopt(
                    socket.SOL_SOCKET, socket.SO_ACCEPTCONN
                ):
                    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    changed += 1
            except OSError:  # a socket without these options
                continue
    return changed


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


log.debug("TCP_NODELAY set on %d listening sockets", _listen_without_nagle())
dashboard = st.App("app.py", lifespan=_warm_up_at_start)
app = FastAPI(lifespan=dashboard.lifespan(), **API_METADATA)
# With sign-in (st.login or a trusted proxy's headers) the dashboard knows its users; the API knows them by token.
sign_in = sign_in_mode() != "local"
install_api(app, _services, ApiOptions(require_token=sign_in, policy=MembershipPolicy() if sign_in else LocalPolicy()))
mark_api_served()  # the API page then stops warning that the curl examples would get the dashboard's HTML
app.mount("/", dashboard)
