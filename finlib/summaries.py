"""Per-customer statistics and portfolio figures, computed once per project version and kept beside its ledger.

`stats` reads these instead of reading a million rows back and recomputing: registration and refresh compute
them right after the parse. They are kept in their JSON form (what `stats --json` prints, figures rounded as
``customer_stats.decimals_for`` says), so reading them needs neither pandas nor the ledger. An entry is keyed by
the parsed-ledger entry it was computed from (source, ETag, mapping, parse settings: ``parsed_cache.entry_base``)
plus every setting the formulas use (moving-average window, trend threshold) and ``SUMMARY_VERSION``; it lives
in the source's parse-cache folder, so forgetting the source removes it too. Aliases are not stored: they are
joined from the alias table when read, since a salt rotation changes them without changing the ledger. The file
is written to a temporary name and renamed, like the parsed ledger. With a shared cache (PostgreSQL and a bucket)
it is also kept in the bucket beside the shared ledger, so another process reads the figures without the ledger.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select

from finlib import access, db, registry
from finlib.access import LOCAL_USER, User
from finlib.config import Settings
from finlib.currency import Currency, currency_json
from finlib.errors import ProjectError
from finlib.ingest import parsed_cache, scratch, shared_cache
from finlib.lazy import deferred
from finlib.project_info import ProjectInfo

if TYPE_CHECKING:
    import pandas as pd

    from finlib import projects
    from finlib.analytics import figures
    from finlib.ingest import sandbox
else:
    figures = deferred("finlib.analytics.figures")
    projects = deferred("finlib.projects")
    sandbox = deferred("finlib.ingest.sandbox")

log = logging.getLogger(__name__)

# Bump when a formula of customer_stats or compute_portfolio changes, so stored figures are recomputed.
SUMMARY_VERSION = "1"


@dataclass(frozen=True)
class Summary:
    """A ledger's figures in JSON form: one record per customer (``customer_stats.STATS_COLUMNS``), the portfolio."""

    customers: list[dict[str, Any]] = field(repr=False)
    portfolio: dict[str, Any]

    def with_aliases(self, aliases: Mapping[str, str]) -> Summary:
        """The summary with each customer's ``alias`` looked up by its key (``None`` where it has none)."""
        customers = [{**record, "alias": aliases.get(record["customer_key"])} for record in self.customers]
        return Summary(customers=customers, portfolio=self.portfolio)


def compute_summary(ledger: pd.DataFrame, settings: Settings) -> Summary:
    """The figures `stats` shows, as of the ledger's latest date (the same steps as ``reports.compute_stats_table``)."""
    customers, portfolio = figures.compute_figures(
        ledger, window=settings.moving_avg_window, trend_threshold=settings.trend_threshold
    )
    return Summary(customers=customers, portfolio=portfolio)


def figures_followup(settings: Settings) -> sandbox.Followup:
    """The parse child's follow-up that computes a new read's figures (``keep_figures`` stores its output)."""
    arguments = {"window": settings.moving_avg_window, "trend_threshold": settings.trend_threshold}
    return sandbox.Followup(figures.FOLLOWUP_ENTRY, figures.FIGURE_COLUMNS, arguments)


def stats_document(
    project: str, summary: Summary, *, customer: str | None = None, currency: Currency | None = None
) -> dict[str, Any]:
    """The ``stats --json`` document of a summary; with ``customer``, that customer only (any spelling)."""
    customers = summary.customers if customer is None else select_customer(summary.customers, customer)
    portfolio = summary.portfolio
    return {
        "project": project,
        "currency": currency_json(currency),
        "as_of": portfolio.get("as_of"),
        "portfolio": portfolio,
        "customers": customers,
    }


def select_customer(customers: list[dict[str, Any]], wanted: str) -> list[dict[str, Any]]:
    """The record whose normalised name is ``wanted``'s, or ProjectError naming up to five close names."""
    keys = [record["customer_key"] for record in customers]
    labels = [record["customer"] for record in customers]
    return [customers[position] for position in customer_positions(keys, labels, wanted)]


def customer_positions(keys: Sequence[str | None], labels: Sequence[str], wanted: str) -> list[int]:
    """Where the customer whose normalised name is ``wanted``'s stands, or ProjectError naming up to five close names.

    The one rule for picking a customer by name in ``stats``, the API and their alias-only variants (where the
    keys and labels are aliases).
    """
    import numpy as np

    from finlib.names import normalise_name

    key = normalise_name(wanted)
    match = np.flatnonzero(np.asarray(keys, dtype=object) == key)
    if len(match):
        return [int(position) for position in match]
    # Only a failed lookup walks the names, to suggest close ones.
    close = [labels[position] for position, known in enumerate(keys) if key and key in (known or "")][:5]
    hint = f" Did you mean: {', '.join(close)}?" if close else " Leave the customer out to list every customer."
    raise ProjectError(f"No customer named {wanted!r} in this project.{hint}")


def _path(settings: Settings, source: str, etag: str, mapping: dict[str, str] | None) -> Path:
    base = parsed_cache.entry_base(settings, source, etag, mapping)
    material = json.dumps([SUMMARY_VERSION, settings.moving_avg_window, settings.trend_threshold])
    return base.with_name(f"{base.name}.summary-{hashlib.sha256(material.encode()).hexdigest()[:12]}.json")


def store_summary(
    settings: Settings,
    source: str,
    etag: str,
    mapping: dict[str, str] | None,
    summary: Summary,
    shared: shared_cache.SharedCache | None = None,
) -> None:
    """Keep a summary (without aliases) beside the parsed ledger it was computed from (and in the shared cache)."""
    data = figures.figures_json(summary.customers, summary.portfolio)
    _store_bytes(_path(settings, source, etag, mapping), data, shared)


def _store_bytes(path: Path, data: bytes, shared: shared_cache.SharedCache | None) -> None:
    _write_local(path, data)
    if shared is not None:
        shared_cache.write_bytes(shared, shared.key_for(path), data)


def _write_local(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = scratch.temporary_beside(path)
    try:
        temporary.write_bytes(data)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def read_summary(
    settings: Settings,
    source: str,
    etag: str,
    mapping: dict[str, str] | None,
    shared: shared_cache.SharedCache | None = None,
) -> Summary | None:
    """The stored summary of this project version and these settings (disk, else shared cache), or None."""
    path = _path(settings, source, etag, mapping)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        found = shared_cache.read_bytes(shared, shared.key_for(path)) if shared is not None else None
        if found is None:
            return None
        data = found
        try:
            _write_local(path, data)
        except OSError as exc:  # the disk copy only saves the next read a download
            log.warning("could not keep the shared summary %s on disk: %s", path.name, exc.strerror)
    except OSError as exc:
        log.warning("ignoring unreadable summary %s: %s", path.name, exc.strerror)
        return None
    try:
        parsed = orjson.loads(data)
        return Summary(customers=parsed["customers"], portfolio=parsed["portfolio"])
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable summary %s: %s", path.name, exc)
        return None


@dataclass(frozen=True)
class SummarizedProject:
    """A project's per-customer stats (with aliases) and portfolio as of its latest date, without its ledger."""

    info: ProjectInfo
    summary: Summary = field(repr=False)


def load_summary(services: projects.Services, name: str, *, user: User = LOCAL_USER) -> SummarizedProject:
    """The figures `stats` shows, as stored at registration (computed and stored now if they are missing).

    A viewer's figures are computed from the presentation ledger (aliases only), never from the stored ones.
    """
    settings = services.settings
    if access.require_role(services.engine, settings, user, name, "viewer") == "viewer":
        loaded = projects.load_project(services, name, user=user)
        return SummarizedProject(info=loaded.info, summary=compute_summary(loaded.ledger, settings))
    with db.session_scope(services.engine) as session:
        row = registry.require_row(session, name)
        info = ProjectInfo.from_row(row)
        query = select(db.Alias.key, db.Alias.alias).where(db.Alias.project_id == row.id, db.Alias.kind == "customer")
        aliases = {key: alias for key, alias in session.execute(query)}
    shared = services.shared_cache()
    summary = read_summary(settings, info.source, info.etag, info.column_mapping, shared)
    if summary is None:
        ledger = projects.load_project(services, name).ledger
        summary = keep_summary(settings, info.source, info.etag, info.column_mapping, ledger, shared)
    return SummarizedProject(info=info, summary=summary.with_aliases(aliases))


def keep_summary(
    settings: Settings,
    source: str,
    etag: str,
    mapping: dict[str, str] | None,
    ledger: pd.DataFrame,
    shared: shared_cache.SharedCache | None = None,
) -> Summary:
    """Compute a version's figures once and store them beside its parsed ledger; a failed write only costs time."""
    summary = read_summary(settings, source, etag, mapping, shared)
    if summary is not None:
        return summary
    summary = compute_summary(ledger, settings)
    try:
        store_summary(settings, source, etag, mapping, summary, shared)
    except OSError as exc:
        log.warning("could not store the figures of %s: %s", source, exc.strerror)
    return summary


def keep_figures(
    settings: Settings,
    source: str,
    etag: str,
    mapping: dict[str, str] | None,
    computed: bytes | None,
    ledger: pd.DataFrame,
    shared: shared_cache.SharedCache | None = None,
) -> None:
    """Store the figures the parse child computed (``figures_json`` bytes); with None, ``keep_summary`` here."""
    if computed is None:
        keep_summary(settings, source, etag, mapping, ledger, shared)
        return
    try:
        _store_bytes(_path(settings, source, etag, mapping), computed, shared)
    except OSError as exc:
        log.warning("could not store the figures of %s: %s", source, exc.strerror)
