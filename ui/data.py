"""Cached loaders and computations for the pages, keyed on (project, version, settings fingerprint, filters).

Every cached function takes everything it depends on as an argument (the Services object is passed with a
leading underscore, so it is not hashed; the fingerprint stands for it), and never reads widgets or globals.
``st.cache_data`` hands each caller its own copy, so nothing a page does can change the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from finlib import projects
from finlib.access import LOCAL_USER, User
from finlib.analytics import customer_stats, measures
from finlib.privacy.presentation import present_ledger
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
@st.cache_resource(ttl=CACHE_TTL_S, max_entries=LEDGER_CACHE_ENTRIES, show_spinner="Loading the ledger…")
def load_project(_services: Services, name: str, version: str, fingerprint: str) -> LoadedProject:
    """A project's ledger with alias columns (shared, read-only); a new file or mapping is a new version."""
    return projects.load_project(_services, name)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_filter_options(
    _services: Services, name: str, version: str, fingerprint: str, presentation: bool
) -> FilterOptions:
    """Distinct values of the filterable columns of a project's ledger."""
    ledger = load_view_ledger(_services, name, version, fingerprint, presentation)
    dates = ledger["invoice_date"]
    managers = ledger.dropna(subset=["sales_manager_key"]).drop_duplicates("sales_manager_key")
    labels = dict(zip(managers["sales_manager_key"], managers["sales_manager"].fillna("—"), strict=True))
    return FilterOptions(
        first_date=dates.min().date(),
        last_date=dates.max().date(),
        service_types=_distinct(ledger["service_type"]),
        locations=_distinct(ledger["location"]),
        sales_managers=dict(sorted(labels.items(), key=lambda item: str(item[1]).casefold())),
    )


def _distinct(values: pd.Series) -> tuple[str, ...]:
    return tuple(sorted(values.dropna().astype(str).unique(), key=str.casefold))


@st.cache_resource(ttl=CACHE_TTL_S, max_entries=LEDGER_CACHE_ENTRIES, show_spinner=False)
def load_view_ledger(
    _services: Services, name: str, version: str, fingerprint: str, presentation: bool
) -> pd.DataFrame:
    """The ledger the pages show: as loaded, or with every name replaced by its alias in presentation mode."""
    loaded = load_project(_services, name, version, fingerprint)
    if not presentation:
        return loaded.ledger
    return present_ledger(loaded.ledger, loaded.aliases)


def _category_filtered(ledger: pd.DataFrame, filters: LedgerFilters) -> pd.DataFrame:
    return measures.filter_ledger(
        ledger,
        service_types=filters.service_types or None,
        locations=filters.locations or None,
        managers=filters.sales_manager_keys or None,
    )


def _filtered(ledger: pd.DataFrame, filters: LedgerFilters) -> pd.DataFrame:
    """The ledger under every sidebar filter: categories and the invoice-date range."""
    return measures.filter_ledger(_category_filtered(ledger, filters), filters.start, filters.end)


@dataclass(frozen=True)
class OverviewData:
    """Everything the Overview page draws, computed by finlib for one project, filter set and naming mode."""

    kpis: dict[str, dict[str, Any]]
    monthly: pd.DataFrame
    delays: pd.DataFrame
    aging: pd.DataFrame
    top_by_revenue: pd.DataFrame
    top_by_delay: pd.DataFrame
    invoice_count: int
    comparable: bool  # the period before lies wholly inside the ledger, so deltas are like for like


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_overview(
    _services: Services,
    name: str,
    version: str,
    fingerprint: str,
    presentation: bool,
    filters: LedgerFilters,
    window: int,
    trend_threshold: float,
    top_n: int = 10,
) -> OverviewData:
    """KPIs with deltas vs the period before, monthly series, delays, aging and rankings of the filtered ledger."""
    whole = load_view_ledger(_services, name, version, fingerprint, presentation)
    ledger = _category_filtered(whole, filters)
    # One balance date for every view: the whole ledger's latest date (as `finlib stats` uses), whatever the
    # category filters, capped by the end of the chosen period.
    ledger_as_of = measures.resolve_as_of(whole)
    start = pd.Timestamp(filters.start) if filters.start else ledger["invoice_date"].min()
    end = pd.Timestamp(filters.end) if filters.end else ledger_as_of
    if ledger_as_of is not None and end is not None and end >= whole["invoice_date"].max():
        # A range reaching the last invoice runs to the ledger's end: later payments count, as in `stats`.
        end = max(end, ledger_as_of)
    if ledger.empty or ledger_as_of is None:
        start = end = pd.Timestamp.today().normalize()
    kpis = measures.compute_kpi_deltas(ledger, start, end, as_of=ledger_as_of)
    previous_start, _ = measures.period_before(start, end)
    comparable = bool(len(ledger)) and previous_start >= ledger["invoice_date"].min().normalize()
    in_range = measures.filter_ledger(ledger, start, end)
    as_of = kpis["current"]["as_of"]
    known = measures.ledger_as_of(in_range, as_of) if as_of is not None else in_range
    stats = customer_stats.compute_customer_stats(in_range, window=window, trend_threshold=trend_threshold, as_of=as_of)
    # Collected is cash received in each month of the period, whichever month its invoice was issued in.
    monthly = measures.monthly_series(ledger, window=window)
    first_month, last_month = pd.Timestamp(start).to_period("M"), pd.Timestamp(as_of or end).to_period("M")
    months = monthly["month"].dt.to_period("M")
    monthly = monthly[(months >= first_month) & (months <= last_month)].reset_index(drop=True)
    return OverviewData(
        kpis=kpis,
        monthly=monthly,
        delays=measures.delay_distribution(known),
        aging=measures.aging_buckets(in_range, as_of=as_of),
        top_by_revenue=measures.top_customers(stats, by="total_amount", n=top_n),
        top_by_delay=measures.top_customers(stats, by="avg_payment_delay_days", n=top_n),
        invoice_count=len(in_range),
        comparable=comparable and kpis["previous"]["invoice_count"] > 0,
    )


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_stats(
    _services: Services,
    name: str,
    version: str,
    fingerprint: str,
    presentation: bool,
    filters: LedgerFilters,
    window: int,
    trend_threshold: float,
) -> pd.DataFrame:
    """Per-customer stats and forecasts (the ``stats`` contract) of the filtered ledger, by customer name."""
    ledger = _filtered(load_view_ledger(_services, name, version, fingerprint, presentation), filters)
    stats = customer_stats.compute_customer_stats(ledger, window=window, trend_threshold=trend_threshold)
    return stats.sort_values("customer", key=lambda names: names.str.casefold(), kind="stable").reset_index(drop=True)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def compute_customer_invoices(
    _services: Services,
    name: str,
    version: str,
    fingerprint: str,
    presentation: bool,
    filters: LedgerFilters,
    customer_key: str,
    window: int,
) -> pd.DataFrame:
    """One customer's invoices in forecast order with delay, status and the running moving average."""
    ledger = _filtered(load_view_ledger(_services, name, version, fingerprint, presentation), filters)
    invoices = measures.customer_invoices(ledger, customer_key)
    invoices["moving_average"] = invoices["amount"].rolling(window, min_periods=1).mean()
    return invoices


KIND_LABELS = {"customer": "Customer", "person": "Person"}
HIDDEN_NAME = "hidden (presentation mode)"


@st.cache_data(ttl=CACHE_TTL_S, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def alias_table(_services: Services, name: str, version: str, fingerprint: str, presentation: bool) -> pd.DataFrame:
    """The project's alias table for display: Kind, Real name (hidden in presentation mode), Alias."""
    entries = load_project(_services, name, version, fingerprint).aliases.entries
    table = pd.DataFrame(
        {
            "Kind": entries["kind"].map(KIND_LABELS).fillna(entries["kind"]),
            "Real name": HIDDEN_NAME if presentation else entries["real_name"],
            "Alias": entries["alias"],
        }
    )
    if presentation:
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


def load_audit_log(services: Services, name: str, limit: int = 200) -> pd.DataFrame:
    """The newest chat audit entries of a project (aliased text only), not cached: the chat adds to it."""
    from sqlalchemy import select

    from finlib import db

    with db.session_scope(services.engine) as session:
        project_id = session.scalar(select(db.Project.id).where(db.Project.name == name))
        rows = session.scalars(
            select(db.AuditEntry)
            .where(db.AuditEntry.project_id == project_id)
            .order_by(db.AuditEntry.created_at.desc())
            .limit(limit)
        ).all()
        records = [
            {**{column: getattr(row, column) for column in AUDIT_COLUMNS}, "messages": row.messages} for row in rows
        ]
    frame = pd.DataFrame.from_records(records, columns=[*AUDIT_COLUMNS, "messages"]).rename(columns=AUDIT_COLUMNS)
    if not frame.empty:
        frame["When"] = pd.to_datetime(frame["When"], utc=True).dt.tz_localize(None)
    return frame
