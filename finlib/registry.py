"""The projects table: a registration written in one transaction with its aliases, refresh outcomes, row lookup.

Concurrent registrations of one name are serialised by the database: the transaction that loses the race on a
unique constraint is rolled back whole and retried, and then updates the winner's row; an existing row is locked
(``SELECT ... FOR UPDATE``) for the whole transaction, so the row and its aliases are always one writer's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from finlib import db
from finlib.config import Settings
from finlib.currency import CURRENCY_HEADER, Currency, stated_currency
from finlib.errors import DatabaseError, ProjectNotFoundError
from finlib.ingest import storage
from finlib.ingest.report import ParseReport
from finlib.lazy import deferred
from finlib.project_info import ProjectInfo

if TYPE_CHECKING:
    import pandas as pd

    from finlib import names, summaries
    from finlib.ingest import parsed_cache, shared_cache
    from finlib.privacy import aliasing, keys
else:
    aliasing = deferred("finlib.privacy.aliasing")
    keys = deferred("finlib.privacy.keys")
    names = deferred("finlib.names")
    parsed_cache = deferred("finlib.ingest.parsed_cache")
    summaries = deferred("finlib.summaries")

log = logging.getLogger(__name__)

STORE_ATTEMPTS = 4
# Third-party modules a registration's transaction imports on first use (the alias and key stores' SQL dialects,
# the key store's cipher: ~0.05 s), imported while the parse runs (``lazy.import_in_background``).
TRANSACTION_MODULES = (
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.sqlite",
    "cryptography.hazmat.primitives.ciphers.aead",
)


def require_row(session: Any, name: str) -> db.Project:
    """The project's row in this session, or ProjectNotFoundError."""
    row: db.Project | None = session.scalar(select(db.Project).where(db.Project.name == name))
    if row is None:
        raise ProjectNotFoundError(name)
    return row


def _keep_stated_currency(row: db.Project, ledger: pd.DataFrame) -> None:
    """Set the project's currency from the ledger's currency column, when it states exactly one."""
    columns = {
        str(name): ledger[name].dropna().unique() for name in ledger.columns if CURRENCY_HEADER.search(str(name))
    }
    found = stated_currency(columns)
    if found is not None:
        row.currency_code, row.currency_symbol = found.code, found.symbol


def store_currency(engine: Engine, name: str, currency: Currency | None) -> ProjectInfo:
    """Set (or with None, clear) the currency of project ``name``."""
    with db.session_scope(engine) as session:
        row = require_row(session, name)
        row.currency_code = currency.code if currency else None
        row.currency_symbol = currency.symbol if currency else None
        row.updated_at = now_utc()  # a new version: cached pages, exports and chat sessions pick the currency up
        session.flush()
        return ProjectInfo.from_row(row)


def record_status(engine: Engine, name: str, status: str | None, error: str | None) -> None:
    """Record the outcome of a refresh on the project (None, None: it succeeded)."""
    with db.session_scope(engine) as session:
        row = require_row(session, name)
        row.status = status
        row.last_error = error
        row.refreshed_at = now_utc()


@dataclass(frozen=True)
class Registration:
    """A parsed ledger about to be stored as project ``name``: its source, the fetched file and the parse.

    ``store_registration`` also writes the parse to the parse cache when it is not there yet.
    """

    name: str
    source: str
    fetched: storage.FetchedFile
    ledger: pd.DataFrame
    report: ParseReport
    mapping: dict[str, str] | None  # the column mapping given by the user (None: detected)
    # Waits for the figures' JSON the parse child computed (None from it, or no callable: computed here).
    figures: Callable[[], bytes | None] | None = None
    # ``names.display_names`` per key column when the parse already counted them (None: counted here).
    display_names: dict[str, pd.Series] | None = None


def store_registration(
    engine: Engine,
    settings: Settings,
    registration: Registration,
    shared: shared_cache.SharedCache | None = None,
    *,
    reread: bool = False,
) -> ProjectInfo:
    """Write a parsed ledger as its project (row and aliases) in one transaction, replacing the previous one.

    ``reread``: the project's own file, read again because its kept read is gone (evicted, or written by other
    code): its counts, report and version follow the new read and every name gets its alias, but the refresh
    outcome (status, last error, refresh time) is left as it was.
    """
    new = registration
    # A new parse is written to the parse cache while the transaction is prepared (Arrow writes without the GIL);
    # the figures come from the parse child, which computes them meanwhile, or are computed here when it did not.
    # Both are stored before the transaction commits, so a failed write still leaves the previous registration.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="finlib-keep-parse") as writer:
        etag = new.fetched.etag
        parse_kept = writer.submit(
            parsed_cache.keep_parsed, settings, new.source, etag, new.mapping, new.ledger, new.report, shared
        )
        files = _VersionFiles(settings, new, parse_kept, shared)
        # Concurrent registrations of one name race to insert the same rows; the loser's transaction is rolled
        # back whole and retried, and then finds (and updates) the winner's rows instead of failing on a unique
        # constraint.
        for attempt in range(STORE_ATTEMPTS):
            try:
                return _store_registration_once(engine, settings, new, reread, files.finish)
            except DatabaseError as exc:
                if not isinstance(exc.__cause__, IntegrityError) or attempt == STORE_ATTEMPTS - 1:
                    # The transaction was rolled back whole (or died with its connection): say nothing changed.
                    raise DatabaseError(
                        f"{exc} Nothing of this registration of {new.name!r} was saved and any earlier version of "
                        "the project is unchanged; retry once the database is back."
                    ) from exc.__cause__
                log.info("registration of %s conflicted with a concurrent one; retrying", new.name)
                time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


class _VersionFiles:
    """The figures and the parse-cache entry of a registered version, finished once before its transaction commits."""

    def __init__(
        self,
        settings: Settings,
        registration: Registration,
        parse_kept: Future[None],
        shared: shared_cache.SharedCache | None,
    ) -> None:
        self._settings, self._registration, self._parse_kept, self._shared = settings, registration, parse_kept, shared
        self._finished = False

    def finish(self) -> None:
        """Store the figures (the child's, else computed here) and wait for the parse-cache write; once only."""
        if self._finished:
            return
        new = self._registration
        computed = new.figures() if new.figures is not None else None
        etag = new.fetched.etag
        summaries.keep_figures(self._settings, new.source, etag, new.mapping, computed, new.ledger, self._shared)
        self._parse_kept.result()
        self._finished = True


def _store_registration_once(
    engine: Engine, settings: Settings, new: Registration, reread: bool, before_commit: Callable[[], None]
) -> ProjectInfo:
    name, fetched, ledger, report = new.name, new.fetched, new.ledger, new.report
    counted = new.display_names or {}
    customers, people = (
        counted[key] if key in counted else names.display_names(ledger[name_column], ledger[key])
        for key, name_column in (("customer_key", "customer_name"), ("sales_manager_key", "sales_manager"))
    )
    now = now_utc()
    with db.session_scope(engine) as session:
        row = session.scalar(select(db.Project).where(db.Project.name == name).with_for_update())
        if row is None:
            row = db.Project(name=name, registered_at=now)
            session.add(row)
        row.source = new.source
        row.format = report.format
        row.etag = fetched.etag
        row.size_bytes = fetched.size
        row.updated_at = now
        if not reread:
            row.refreshed_at, row.status, row.last_error = now, None, None
        row.column_mapping = new.mapping
        row.detected_mapping = report.mapping
        row.row_count = report.rows_loaded
        row.rejected_count = report.rejected_count
        row.customer_count = int(customers.size)
        row.parse_report = report.to_dict()
        if row.currency_code is None:
            _keep_stated_currency(row, ledger)
        session.flush()
        salt = keys.project_salt(session, row.id, settings.alias_salt)
        for kind, spellings in (("customer", customers), ("person", people)):
            aliasing.assign_aliases(session, row.id, name, kind, spellings, salt=salt, length=settings.alias_length)
        session.flush()
        before_commit()
        return ProjectInfo.from_row(row)


def now_utc() -> datetime:
    """The current time, tz-aware UTC."""
    return datetime.now(UTC)
