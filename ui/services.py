"""Long-lived objects of the app process: Settings, the database engine and the finlib Services, cached once."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import streamlit as st

from finlib.config import Settings, load_settings

if TYPE_CHECKING:
    from finlib.projects import Services

# Whether this process serves the HTTP API beside the dashboard (server.py, `python -m finlib serve`, says so);
# a fact about the process, not about a session or a user.
_process = {"api_served": False}


def mark_api_served() -> None:
    """Record that the HTTP API is installed in this process (called by server.py)."""
    _process["api_served"] = True


def api_served() -> bool:
    """True when this process serves the HTTP API; False under `streamlit run app.py` (the dashboard alone)."""
    return _process["api_served"]


def settings_fingerprint(settings: Settings) -> str:
    """Short stable digest of everything in Settings that changes results (the salt included, never shown)."""
    digest = hashlib.sha256(repr(settings).encode("utf-8"))
    digest.update(b"\0" + settings.alias_salt)
    return digest.hexdigest()[:16]


@st.cache_resource(show_spinner=False)
def get_settings() -> Settings:
    """Settings of this process: defaults, .env, the environment and top-level ``st.secrets`` values.

    Raises:
        ConfigError: a variable is invalid; the message names it.
    """
    # Streamlit copies top-level string secrets into the environment when it loads them,
    # so load_settings sees them like any other variable.
    try:
        st.secrets.load_if_toml_exists()
    except Exception:  # noqa: BLE001 - a malformed secrets.toml must not hide a working environment
        pass
    return load_settings()


@st.cache_resource(show_spinner=False)
def get_services(_settings: Settings, fingerprint: str) -> Services:
    """The finlib service bundle (engine, object store client factory), built once per settings."""
    from finlib.ingest.sandbox import start_parser_server
    from finlib.logs import configure_logging
    from finlib.projects import Services

    configure_logging(_settings)
    start_parser_server()  # warm before the first upload: a parse then forks instead of importing pandas anew
    return Services(_settings)
