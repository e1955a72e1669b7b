"""Cached loaders and computations for the pages, keyed on (project, ETag, settings fingerprint, filters).

Every cached function takes everything it depends on as an argument (the Services object is passed with a
leading underscore, so it is not hashed; the fingerprint stands for it), and never reads widgets or globals.
``st.cache_data`` hands each caller its own copy, so nothing a page does can change the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from finlib import projects
from finlib.projects import LoadedProject, ProjectInfo, Services

CACHE_TTL_S = 6 * 3600
LEDGER_CACHE_ENTRIES = 8
RESULT_CACHE_ENTRIES = 64


@dataclass(frozen=True)
class LedgerFilters:
    """The sidebar's filters; ``None`` or an empty tuple means "all"."""

    start: date | None = None
    end: date | None = None
    service_types: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    sales_manager_keys: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """True when any filter narrows the ledger."""
        return bool(self.service_types or self.locations or self.sales_manager_keys)


@dataclass(frozen=True)
class FilterOptions:
    """What the sidebar can offer for a ledger: only columns that hold values get a filter."""

    first_date: date
    last_date: date
    service_types: tuple[str, ...]
    locations: tuple[str, ...]
    sales_managers: dict[str, str]  # normalised key -> label (real name, or alias in presentation mode)


def list_project_infos(services: Services) -> list[ProjectInfo]:
    """Projects as stored now (a small database read, deliberately not cached: other sessions change it)."""
    return projects.list_projects(services)


@st.cache_resource(show_spinner=False)
def ensure_demo(_services: Services, fingerprint: str) -> None:
    """Register the bundled demo project once per process when no project exists yet."""
    projects.ensure_demo_project(_services)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=LEDGER_CACHE_ENTRIES, show_spinner="Loading the ledger…")
def load_project(_services: Services, name: str, etag: str, fingerprint: str) -> LoadedProject:
    """A project's ledger with alias columns; the ETag in the key makes a refreshed file a new entry."""
    return projects.load_project(_services, name)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_filter_options(
    _services: Services, name: str, etag: str, fingerprint: str, presentation: bool
) -> FilterOptions:
    """Distinct values of the filterable columns of a project's ledger."""
    ledger = load_project(_services, name, etag, fingerprint).ledger
    dates = ledger["invoice_date"]
    managers = ledger.dropna(subset=["sales_manager_key"]).drop_duplicates("sales_manager_key")
    label_column = "sales_manager_alias" if presentation else "sales_manager"
    labels = dict(zip(managers["sales_manager_key"], managers[label_column].fillna("—"), strict=True))
    return FilterOptions(
        first_date=dates.min().date(),
        last_date=dates.max().date(),
        service_types=_distinct(ledger["service_type"]),
        locations=_distinct(ledger["location"]),
        sales_managers=dict(sorted(labels.items(), key=lambda item: str(item[1]).casefold())),
    )


def _distinct(values: pd.Series) -> tuple[str, ...]:
    return tuple(sorted(values.dropna().astype(str).unique(), key=str.casefold))
