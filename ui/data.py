"""Cached loaders and computations for the pages, keyed on a ``ViewKey`` (project version, settings, mode) and filters.

Every cached function takes everything it depends on as an argument (the Services object is passed with a
leading underscore, so it is not hashed; the key's settings fingerprint stands for it and for its settings), and
never reads widgets or globals.
``st.cache_data`` hands each caller its own copy, so nothing a page does can change the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pandas as pd
import streamlit as st

from finlib import access, audit, projects, summaries
from finlib.access import LOCAL_USER, User
from finlib.analytics import breakdowns, customer_stats, drilldown, measures, worklist
from finlib.analytics.overview import Overview, ViewFilters, narrow, view_dates
from finlib.analytics.overview import compute_overview as build_overview
from finlib.analytics.periods import ViewDates, resolve_as_of
from finlib.privacy.presentation import present_ledger
from finlib.projects import LoadedProject, ProjectInfo, Services
from ui import tables

CACHE_TTL_S = 6 * 3600
LEDGER_CACHE_ENTRIES = 8
RESULT_CACHE_ENTRIES = 64

LedgerFilters = ViewFilters  # the sidebar's filters are finlib's view filters


@dataclass(frozen=True)
class ViewKey:
    """What every cached page computation depends on besides its own arguments (the Services object aside)."""

    project: str
    version: str  # a new file or mapping is a new version
    fingerprint: str  # the settings (``ui.services.settings_fingerprint``)
    presentation: bool = False  # names replaced by aliases

    def with_names(self) -> ViewKey:
        """The same view with real names: the key of caches whose result does not depend on presentation mode."""
        return replace(self, presentation=False)


@dataclass(frozen=True)
class FilterOptions:
    """What the sidebar can offer for a ledger: only columns that hold values get a filter."""

    first_date: date  # first invoice date
    last_date: date  # latest invoice or payment date: the default balance date
    service_types: tuple[str, ...]
    locations: tuple[str, ...]
    sales_managers: dict[str, str]  # normalised key -> label (real name, or alias in presentation mode)
    manager_aliases: dict[str, str]  # alias -> normalised key (how the page address names a manager)


def list_project_infos(services: Services, user: User = LOCAL_USER) -> list[ProjectInfo]:
    """The user's projects as stored now (a small database read, deliberately not cached: other sessions change it)."""
    return projects.list_projects(services, user=user)


@st.cache_resource(show_spinner=False)
def ensure_demo(_services: Services, fingerprint: str) -> None:
    """Register the bundled demo project once per process when no project exists yet."""
    projects.ensure_demo_project(_services)


# The two ledger caches hold one shared frame per (project version, settings) instead of handing each caller a
# copy: st.cache_data would unpickle a full ledger (about 0.1 s per 100k rows) on every page run, for every
# computation that starts from it. Sharing is safe because nothing mutates a ledger in place: finlib's functions
# are pure, and pandas' copy-on-write keeps every derived frame independent of its source.
def load_project(services: Services, key: ViewKey, user: User) -> LoadedProject:
    """The project as ``user`` (``ui.auth.session_user()``) may see it, one cache entry whatever the mode.

    The service layer checks the user's role on every call; the loaded ledger is shared by every user of the same
    kind (a viewer's holds aliases only), so a hundred analysts hold one copy.
    """
    role = access.require_role(services.engine, services.settings, user, key.project, "viewer")
    return _load_project(services, key.with_names(), role == "viewer", user)


@st.cache_resource(ttl=CACHE_TTL_S, max_entries=LEDGER_CACHE_ENTRIES, show_spinner="Loading the ledger…")
def _load_project(_services: Services, key: ViewKey, viewer: bool, _user: User) -> LoadedProject:
    """A project's ledger with alias columns (shared, read-only) as the first user of its kind loaded it."""
    return projects.load_project(_services, key.project, user=_user)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_filter_options(_services: Services, key: ViewKey) -> FilterOptions:
    """Distinct values of the filterable columns of a project's ledger."""
    ledger = load_view_ledger(_services, key)
    latest = resolve_as_of(ledger)
    managers = ledger.dropna(subset=["sales_manager_key"]).drop_duplicates("sales_manager_key")
    labels = dict(zip(managers["sales_manager_key"], managers["sales_manager"].fillna("—"), strict=True))
    return FilterOptions(
        first_date=ledger["invoice_date"].min().date(),
        last_date=latest.date() if latest is not None else date.today(),
        service_types=_distinct(ledger["service_type"]),
        locations=_distinct(ledger["location"]),
        sales_managers=dict(sorted(labels.items(), key=lambda item: str(item[1]).casefold())),
        manager_aliases=_manager_aliases(managers),
    )


def _manager_aliases(managers: pd.DataFrame) -> dict[str, str]:
    if "sales_manager_alias" not in managers.columns:
        return {}
    known = managers.dropna(subset=["sales_manager_alias"])
    return dict(zip(known["sales_manager_alias"].astype(str), known["sales_manager_key"], strict=True))


def _distinct(values: pd.Series) -> tuple[str, ...]:
    return tuple(sorted(values.dropna().astype(str).unique(), key=str.casefold))


@st.cache_resource(ttl=CACHE_TTL_S, max_entries=LEDGER_CACHE_ENTRIES, show_spinner=False)
def load_view_ledger(_services: Services, key: ViewKey) -> pd.DataFrame:
    """The ledger the pages show: as loaded, or with every name replaced by its alias in presentation mode."""
    # The frame checked the session user first (its projects are the user's, and a viewer's presentation is forced
    # on), so the ledger with names is loaded once for every session that may see it.
    loaded = _load_project(_services, key.with_names(), False, LOCAL_USER)
    if not key.presentation:
        return loaded.ledger
    return present_ledger(loaded.ledger, loaded.aliases)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_view_dates(_services: Services, key: ViewKey, filters: LedgerFilters) -> ViewDates | None:
    """The balance date, period and comparison the filters choose (None for an empty ledger)."""
    return view_dates(load_view_ledger(_services, key), filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_overview(
    _services: Services,
    key: ViewKey,
    filters: LedgerFilters,
    top_n: int = 10,
) -> Overview | None:
    """The Overview of the project under the filters (finlib decides every date and rule)."""
    return build_overview(load_view_ledger(_services, key), filters, top_n)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_worklist(_services: Services, key: ViewKey, filters: LedgerFilters) -> pd.DataFrame:
    """The worklist of the customers in the category filters, as of the balance date."""
    whole = load_view_ledger(_services, key)
    dates = view_dates(whole, filters)
    if dates is None:
        return pd.DataFrame(columns=list(worklist.WORKLIST_COLUMNS))
    settings = _services.settings  # the key's fingerprint stands for them
    return worklist.compute_worklist(
        narrow(whole, filters),
        dates.as_of,
        window=settings.moving_avg_window,
        trend_threshold=settings.trend_threshold,
        stats=compute_view_stats(_services, key, filters),
    )


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_stats(_services: Services, key: ViewKey, filters: LedgerFilters) -> pd.DataFrame:
    """Per-customer stats and forecasts (the ``stats`` contract) in the category filters, as of the balance date.

    Every customer as of the ledger's latest date, with names, is what registration stored: read, not recomputed.
    """
    if not (key.presentation or filters.active or filters.as_of is not None):
        stored = summaries.load_summary(_services, key.project)
        stats = customer_stats.customer_stats_frame(stored.summary.customers)
    else:
        stats = compute_view_stats(_services, key, filters)
    return stats.sort_values("customer", key=lambda names: names.str.casefold(), kind="stable").reset_index(drop=True)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_view_stats(_services: Services, key: ViewKey, filters: LedgerFilters) -> pd.DataFrame:
    """Every customer's figures as of the view's balance date, computed once per view for the Customers page and
    the worklist (0.4-0.6 s at 1M rows), sorted by key."""
    whole = load_view_ledger(_services, key)
    dates = view_dates(whole, filters)
    if dates is None:
        return customer_stats.compute_customer_stats(whole.iloc[:0])
    known = measures.ledger_as_of(narrow(whole, filters), dates.as_of)
    settings = _services.settings
    return customer_stats.compute_customer_stats(
        known, window=settings.moving_avg_window, trend_threshold=settings.trend_threshold, as_of=dates.as_of
    )


# Shared like the ledgers (no copy per run): a large account's quarter of a million invoices took 0.3 s to pickle
# into st.cache_data on the first visit and 0.1 s to unpickle on every later run. Nothing mutates the frame.
@st.cache_resource(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_customer_invoices(
    _services: Services, key: ViewKey, filters: LedgerFilters, customer_key: str
) -> pd.DataFrame:
    """One customer's invoices up to the balance date in forecast order, with delay, status and moving average."""
    whole = load_view_ledger(_services, key)
    dates = view_dates(whole, filters)
    as_of = dates.as_of if dates is not None else None
    known = narrow(whole, filters) if as_of is None else measures.ledger_as_of(narrow(whole, filters), as_of)
    # Only what the page draws and lists: the ledger's other columns, copied and sorted along for a large account,
    # cost 0.1 s and a third more memory in the cache.
    needed = [column for column in ("customer_key", *tables.INVOICE_COLUMNS) if column in known.columns]
    return measures.customer_invoices(
        known[needed], customer_key, as_of=as_of, window=_services.settings.moving_avg_window
    )


# Shared too: sorting a large account's invoices again on every rerun of the Customers page took 0.1-0.4 s.
@st.cache_resource(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def customer_invoices_overdue_first(
    _services: Services, key: ViewKey, filters: LedgerFilters, customer_key: str
) -> pd.DataFrame:
    """``compute_customer_invoices`` as the Customers table lists them (``drilldown.overdue_first``), each with its
    ``chart_row``: its position in forecast order, as the charts number their points."""
    invoices = compute_customer_invoices(_services, key, filters, customer_key)
    return drilldown.overdue_first(invoices.assign(chart_row=range(len(invoices))))


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_drilldown(
    _services: Services,
    key: ViewKey,
    filters: LedgerFilters,
    kind: str,
    value: str,
) -> pd.DataFrame:
    """The invoices behind a clicked bar of the Overview (``finlib.analytics.drilldown``)."""
    whole = load_view_ledger(_services, key)
    dates = view_dates(whole, filters)
    if dates is None:
        return whole.iloc[:0]
    return drilldown.drill_invoices(narrow(whole, filters), dates.as_of, kind, value, dates.period)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_view_invoices(_services: Services, key: ViewKey, filters: LedgerFilters) -> pd.DataFrame:
    """The view's invoices for export: dated in the period or open at the balance date, overdue first."""
    whole = load_view_ledger(_services, key)
    dates = view_dates(whole, filters)
    if dates is None:
        return whole.iloc[:0]
    return drilldown.view_invoices(narrow(whole, filters), dates)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_breakdown(_services: Services, key: ViewKey, filters: LedgerFilters, by: str) -> pd.DataFrame:
    """Balances and activity per sales manager, location or service type (``finlib.analytics.breakdowns``)."""
    whole = load_view_ledger(_services, key)
    dates = view_dates(whole, filters)
    if dates is None:
        return pd.DataFrame(columns=list(breakdowns.BREAKDOWN_COLUMNS))
    return breakdowns.compute_breakdown(narrow(whole, filters), dates, by)


KIND_LABELS = {"customer": "Customer", "person": "Person"}
HIDDEN_NAME = "hidden (presentation mode)"


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def alias_table(_services: Services, key: ViewKey) -> pd.DataFrame:
    """The project's alias table for display: Kind, Real name (hidden in presentation mode), Alias."""
    entries = _load_project(_services, key.with_names(), False, LOCAL_USER).aliases.entries
    table = pd.DataFrame(
        {
            "Kind": entries["kind"].map(KIND_LABELS).fillna(entries["kind"]),
            "Real name": HIDDEN_NAME if key.presentation else entries["real_name"],
            "Alias": entries["alias"],
        }
    )
    if key.presentation:
        table = table.drop(columns=["Real name"])
    return table.sort_values(["Kind", "Alias"], kind="stable").reset_index(drop=True)


def search_aliases(table: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows whose name or alias contains ``text`` (case-insensitive); all rows for empty text."""
    needle = (text or "").strip().casefold()
    if not needle:
        return table
    columns = [column for column in ("Real name", "Alias") if column in table.columns]
    hit = pd.Series(False, index=table.index)
    for column in columns:
        hit |= table[column].astype(str).str.casefold().str.contains(needle, regex=False)
    return table[hit]


AUDIT_COLUMNS = {
    "id": "Id",
    "created_at": "When",
    "verdict": "Verdict",
    "model": "Model",
    "question_aliased": "Question (aliased)",
    "prompt_tokens": "Prompt tokens",
    "completion_tokens": "Answer tokens",
    "cost_usd": "Cost (USD)",
    "latency_ms": "Latency (ms)",
    "detail": "Detail",
}


def load_audit_log(services: Services, name: str) -> pd.DataFrame:
    """The newest chat audit entries with readable headers; not cached: the chat adds to it."""
    return audit.list_audit_entries(services.engine, name).rename(columns=AUDIT_COLUMNS)
