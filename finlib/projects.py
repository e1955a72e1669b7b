"""Projects: the service layer that registers, refreshes, loads and deletes invoice ledgers.

A project is a named ledger source (an S3 object, an object in the local store, or, from the CLI, a local
file). Registration fetches and parses the file, then stores the project row and its aliases in one
transaction, so a failed re-registration leaves the previous one intact. Parsed ledgers are cached on disk
keyed by (source, ETag, mapping), so an unchanged file is never fetched or parsed twice.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Collection
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from finlib import access, db, registry, uploads
from finlib.access import LOCAL_USER, User
from finlib.config import Settings
from finlib.currency import Currency
from finlib.errors import (
    AccessDeniedError,
    FinlibError,
    ObjectNotFoundError,
    ProjectError,
    ProjectNotFoundError,
)
from finlib.ingest import storage
from finlib.lazy import deferred, import_in_background

# Listing projects needs only the database: pandas, the parse cache and the alias module load on first use.
if TYPE_CHECKING:
    import pandas as pd

    from finlib import names, summaries
    from finlib.ingest import ledger as ledger_frame
    from finlib.ingest import parsed_cache, shared_cache
    from finlib.ingest.report import ParseReport
    from finlib.privacy import aliasing, keys, presentation
else:
    shared_cache = deferred("finlib.ingest.shared_cache")
    aliasing = deferred("finlib.privacy.aliasing")
    keys = deferred("finlib.privacy.keys")
    ledger_frame = deferred("finlib.ingest.ledger")
    names = deferred("finlib.names")
    parsed_cache = deferred("finlib.ingest.parsed_cache")
    presentation = deferred("finlib.privacy.presentation")
    summaries = deferred("finlib.summaries")
from finlib.project_info import LoadedProject, ProjectInfo
from finlib.uploads import source_label

log = logging.getLogger(__name__)

__all__ = [
    "DEMO_PROJECT",
    "LoadedProject",
    "ProjectInfo",
    "Services",
    "delete_project",
    "deletes_stored_copy",
    "ensure_demo_project",
    "get_project",
    "list_projects",
    "load_project",
    "refresh_project",
    "register_project",
    "save_mapping",
    "source_label",
    "upload_project",
    "validate_project_name",
]

PROJECT_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
DEMO_PROJECT = "demo"
DEMO_FILENAME = "demo-invoice-register.xlsx"


class Services:
    """The process-wide services finlib needs: settings, a database engine and a lazy S3 client."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        s3_client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine if engine is not None else db.create_engine_for(settings)
        self._s3_client_factory = s3_client_factory or (lambda: storage.make_s3_client(settings))
        self._s3_client: Any = None
        db.init_db(self.engine)

    def s3_client(self) -> Any:
        """The boto3 client, created on first use."""
        if self._s3_client is None:
            self._s3_client = self._s3_client_factory()
        return self._s3_client

    def shared_cache(self) -> shared_cache.SharedCache | None:
        """The parse cache in the bucket, shared by every process (PostgreSQL and a bucket configured), or None."""
        return shared_cache.open_shared(self.settings, self.s3_client)


def validate_project_name(name: str) -> str:
    """Return the trimmed name, or raise ProjectError saying what a valid name looks like."""
    name = (name or "").strip()
    if not PROJECT_NAME_PATTERN.match(name):
        raise ProjectError(
            f"{name!r} is not a valid project name: use 1-63 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit."
        )
    return name


def list_projects(services: Services, *, user: User = LOCAL_USER) -> list[ProjectInfo]:
    """The projects the user may see (all for the local user and admins), by name."""
    visible = access.visible_project_names(services.engine, services.settings, user)
    with db.session_scope(services.engine) as session:
        rows = session.scalars(select(db.Project).order_by(db.Project.name)).all()
        infos = [ProjectInfo.from_row(row) for row in rows if visible is None or row.name in visible]
    return [_as_seen_by(services, user, info) for info in infos]


def get_project(services: Services, name: str, *, user: User = LOCAL_USER) -> ProjectInfo:
    """One project, or ProjectNotFoundError (AccessDeniedError for a user without a membership)."""
    access.require_role(services.engine, services.settings, user, name, "viewer")
    with db.session_scope(services.engine) as session:
        info = ProjectInfo.from_row(registry.require_row(session, name))
    return _as_seen_by(services, user, info)


def _as_seen_by(services: Services, user: User, info: ProjectInfo) -> ProjectInfo:
    """A viewer's copy of the project summary: rejected-row examples may quote names, so they are left out."""
    if access.is_global_admin(services.settings, user):
        return info
    if access.role_in(services.engine, services.settings, user, info.name) != "viewer":
        return info
    return replace(info, report=replace(info.report, rejected_examples=[]))


def _require_admin(services: Services, user: User, name: str) -> None:
    """Admins of an existing project may change it; only FINLIB_ADMINS (or the local user) create projects."""
    if access.is_global_admin(services.settings, user):
        return
    if _find_project(services, name) is None:
        raise AccessDeniedError(
            f"Only administrators can create projects (FINLIB_ADMINS); ask one to create {name!r} and add you."
        )
    access.require_role(services.engine, services.settings, user, name, "admin")


def register_project(
    services: Services,
    name: str,
    source: str,
    *,
    mapping: dict[str, str] | None = None,
    allow_local_paths: bool = False,
    user: User = LOCAL_USER,
) -> ProjectInfo:
    """Fetch, parse and store a ledger as project `name`, replacing a previous registration atomically."""
    name = validate_project_name(name)
    _require_admin(services, user, name)
    location = storage.parse_source(source, services.settings, allow_local_paths=allow_local_paths)
    return _register_location(services, name, location, mapping)


def _register_location(
    services: Services, name: str, location: storage.Source, mapping: dict[str, str] | None
) -> ProjectInfo:
    previous = _find_project(services, name)
    import_in_background(registry.TRANSACTION_MODULES)
    source = storage.source_uri(location)
    shared = services.shared_cache()
    local = storage.local_file(location, services.settings)
    with contextlib.ExitStack() as parsing:
        if local is None:
            read = parsing.enter_context(_parse(services, source, _fetch(services, name, location), mapping, shared))
        else:
            local = (local[0], _shown_filename(services, name, location, local[1]))
            read = parsing.enter_context(
                parsed_cache.parse_local_cached(
                    services.settings,
                    source,
                    local,
                    lambda: _fetch(services, name, location),
                    mapping,
                    shared,
                    keep=False,
                    followup=summaries.figures_followup(services.settings),
                )
            )
        info = registry.store_registration(
            services.engine, services.settings, _registration(name, source, read, mapping), shared
        )
    log.info("registered project %s: %d rows, %d rejected", name, info.row_count, info.report.rejected_count)
    if previous is not None and (previous.source, previous.etag) != (info.source, info.etag):
        _forget_version(services, previous)
    return info


def upload_project(
    services: Services,
    name: str,
    filename: str,
    data: bytes,
    *,
    mapping: dict[str, str] | None = None,
    user: User = LOCAL_USER,
) -> ProjectInfo:
    """Store an uploaded file in the object store, then register it; the stored copy is removed on failure.

    ``mapping`` (source header → canonical column) is for files whose headers detection does not recognise;
    it is kept for later refreshes, like a mapping saved with ``save_mapping``.
    """
    name = validate_project_name(name)
    _require_admin(services, user, name)
    store = storage.open_store(services.settings, services.s3_client)
    return _register_stored(services, store, name, filename, data, mapping)


def refresh_project(services: Services, name: str, *, user: User = LOCAL_USER) -> tuple[ProjectInfo, bool]:
    """Re-fetch and re-parse when the source's ETag changed; returns (info, whether it changed).

    A failure is recorded on the project (status and message, shown on every page) and raised; the previous
    registration stays loaded.
    """
    _require_admin(services, user, name)
    current = get_project(services, name)
    try:
        location = storage.parse_source(current.source, services.settings, allow_local_paths=True)
        fetched = _fetch(services, name, location)
    except ObjectNotFoundError as exc:
        if uploads.is_own_upload(services.settings, location, name):
            message = (
                f"The uploaded file of project {name!r} is no longer in the store. "
                "Upload it again, or delete the project."
            )
        else:
            message = f"The source of project {name!r} is gone: {exc} Restore it, or delete the project."
        registry.record_status(services.engine, name, "source missing", message)
        raise ObjectNotFoundError(message) from exc
    except FinlibError as exc:
        registry.record_status(services.engine, name, "refresh failed", str(exc))
        raise
    if fetched.etag == current.etag and current.status is None:
        registry.record_status(services.engine, name, None, None)
        return get_project(services, name), False
    shared = services.shared_cache()
    with contextlib.ExitStack() as parsing:
        try:
            read = parsing.enter_context(_parse(services, current.source, fetched, current.column_mapping, shared))
        except FinlibError as exc:
            registry.record_status(services.engine, name, "refresh failed", str(exc))
            raise
        registration = _registration(name, current.source, read, current.column_mapping)
        return registry.store_registration(services.engine, services.settings, registration, shared), True


def save_mapping(services: Services, name: str, mapping: dict[str, str], *, user: User = LOCAL_USER) -> ProjectInfo:
    """Re-parse a project with an explicit column mapping and keep the mapping for later refreshes."""
    _require_admin(services, user, name)
    current = get_project(services, name)
    location = storage.parse_source(current.source, services.settings, allow_local_paths=True)
    fetched = _fetch(services, name, location)
    shared = services.shared_cache()
    with _parse(services, current.source, fetched, mapping, shared) as read:
        registration = _registration(name, current.source, read, mapping)
        return registry.store_registration(services.engine, services.settings, registration, shared)


def _parse(
    services: Services,
    source: str,
    fetched: storage.FetchedFile,
    mapping: dict[str, str] | None,
    shared: shared_cache.SharedCache | None,
) -> contextlib.AbstractContextManager[parsed_cache.FileRead]:
    """A fetched file read for storing (``store_registration`` writes the parse), its figures computed by the
    parse child meanwhile."""
    followup = summaries.figures_followup(services.settings)
    return parsed_cache.parse_fetched(
        services.settings, source, fetched, mapping, shared, keep=False, followup=followup
    )


def _registration(
    name: str, source: str, read: parsed_cache.FileRead, mapping: dict[str, str] | None
) -> registry.Registration:
    """What ``store_registration`` stores of a read: the parse, the child's figures and display names."""
    return registry.Registration(
        name, source, read.fetched, read.ledger, read.report, mapping, read.followup, read.display_names
    )


def set_currency(services: Services, name: str, currency: Currency | None, *, user: User = LOCAL_USER) -> ProjectInfo:
    """Set the currency every amount of project ``name`` is shown with (None: none stated, bare numbers)."""
    _require_admin(services, user, name)
    return registry.store_currency(services.engine, name, currency)


def delete_project(services: Services, name: str, *, user: User = LOCAL_USER) -> None:
    """Delete a project with its aliases and audit log (the source file itself is left alone)."""
    _require_admin(services, user, name)
    with db.session_scope(services.engine) as session:
        row = registry.require_row(session, name)
        info = ProjectInfo.from_row(row)
        session.delete(row)
    _forget_version(services, info)
    log.info("deleted project %s", name)


def _fetch(services: Services, name: str, location: storage.Source) -> storage.FetchedFile:
    """The source as a local file; an upload is named as the user named it, without its content-digest prefix."""
    fetched = storage.fetch_source(location, services.settings, services.s3_client, allow_local_paths=True)
    return replace(fetched, filename=_shown_filename(services, name, location, fetched.filename))


def _shown_filename(services: Services, name: str, location: storage.Source, filename: str) -> str:
    """The name the user knows a file by: an upload's stored name without its content-digest prefix."""
    if uploads.is_own_upload(services.settings, location, name):
        return uploads.shown_filename(filename)
    return filename


def deletes_stored_copy(services: Services, name: str) -> bool:
    """Whether ``delete_project`` would also delete the file behind the project (our own upload, used by no other)."""
    info = _find_project(services, name)
    if info is None:
        return False
    others = [p for p in list_projects(services) if p.name != name and p.source == info.source]
    if others:
        return False
    try:
        location = storage.parse_source(info.source, services.settings, allow_local_paths=True)
    except FinlibError:
        return False
    return uploads.is_own_upload(services.settings, location, name)


def _find_project(services: Services, name: str) -> ProjectInfo | None:
    try:
        return get_project(services, name)
    except ProjectNotFoundError:
        return None


def _forget_version(services: Services, info: ProjectInfo) -> None:
    """Remove what finlib kept of a version no project uses any more: parse cache, download, and our own upload."""
    if _source_in_use(services, info.source):
        return
    settings = services.settings
    try:
        # Every parse of this source (each mapping ever saved) lives in one folder: the ledgers hold real names.
        parsed_cache.forget(settings, info.source, services.shared_cache())
        location = storage.parse_source(info.source, settings, allow_local_paths=True)
        storage.forget_source(
            location,
            info.etag,
            settings,
            services.s3_client,
            owned=uploads.is_own_upload(settings, location, info.name),
        )
    except FinlibError as exc:
        # The project change itself succeeded; a leftover copy is logged, not turned into a failure.
        log.warning("could not remove the stored copies of project %s: %s", info.name, exc)
    except OSError as exc:
        log.warning("could not remove the cached copies of project %s: %s", info.name, exc.strerror)


def load_project(
    services: Services,
    name: str,
    *,
    user: User = LOCAL_USER,
    columns: Collection[str] | None = None,
    compact: bool = False,
) -> LoadedProject:
    """The project's ledger (from the parse cache when the ETag is unchanged) with alias columns.

    ``columns`` (e.g. ``reports.KPI_COLUMNS``): only those ledger and alias columns, and an alias book of only the
    kinds of those alias columns (empty without one), for a command that needs no other (text is most of a
    ledger's memory; a million-row ledger's book takes 0.2 s to read). A viewer gets every column in presentation
    mode: names and free text hold aliases only, and the alias book holds no real name (each alias stands for
    itself). ``compact``: repetitive text as categoricals, no column left in the file's mapped pages
    (``ingest.ledger.compact_text``), for a command that only computes (``ask``); not in presentation mode.
    """
    role = access.require_role(services.engine, services.settings, user, name, "viewer")
    columns = None if role == "viewer" else columns
    with db.session_scope(services.engine) as session:
        row = registry.require_row(session, name)
        info = ProjectInfo.from_row(row)
        book = aliasing.load_alias_book(session, row.id, None if columns is None else aliasing.alias_kinds(columns))
    shared = services.shared_cache()
    cached = parsed_cache.read_parsed(services.settings, info.source, info.etag, info.column_mapping, shared, columns)
    if cached is None:
        cached, info, book = _reread(services, info, columns)
    ledger, report = cached
    ledger = ledger if columns is None else ledger[ledger_frame.selected_columns(list(ledger.columns), columns)]
    if compact and role != "viewer":
        ledger = ledger_frame.compact_text(ledger)
        del cached  # the text's mapped pages go with the last column that pointed into them
    ledger = book.with_alias_columns(ledger, columns)
    if role == "viewer":
        return _presented(LoadedProject(info=info, ledger=ledger, aliases=book, report=report))
    return LoadedProject(info=info, ledger=ledger, aliases=book, report=report)


def _reread(
    services: Services, info: ProjectInfo, columns: Collection[str] | None
) -> tuple[tuple[pd.DataFrame, ParseReport], ProjectInfo, aliasing.AliasBook]:
    """Read a project's unchanged file again (its kept read is gone) and store what this read found.

    Newer code may read more of the file (a date format it learnt) or differently: the project's counts, report
    and stored figures follow, and a name it did not hold before gets its alias before anything is shown.
    """
    name = info.name
    location = storage.parse_source(info.source, services.settings, allow_local_paths=True)
    fetched = _fetch(services, name, location)
    if fetched.etag != info.etag:
        raise ProjectError(
            f"The source of project {name!r} changed since it was registered. Refresh the project to load it."
        )
    shared = services.shared_cache()
    with _parse(services, info.source, fetched, info.column_mapping, shared) as read:
        registration = _registration(name, info.source, read, info.column_mapping)
        info = registry.store_registration(services.engine, services.settings, registration, shared, reread=True)
    ledger, report = read.ledger, read.report
    with db.session_scope(services.engine) as session:
        row = registry.require_row(session, name)
        book = aliasing.load_alias_book(session, row.id, None if columns is None else aliasing.alias_kinds(columns))
    if columns is not None:
        # The columns asked for, memory-mapped from the entry just written: the whole parse is freed on return
        # (a command's peak would otherwise add its own work to the parse's).
        kept = parsed_cache.read_parsed(services.settings, info.source, info.etag, info.column_mapping, shared, columns)
        if kept is not None:
            return kept, info, book
    return (ledger, report), info, book


def _presented(loaded: LoadedProject) -> LoadedProject:
    entries = loaded.aliases.entries
    book = aliasing.AliasBook(entries.assign(real_name=entries["alias"], key=entries["alias"].str.lower()))
    report = replace(loaded.report, rejected_examples=[])
    ledger = presentation.present_ledger(loaded.ledger, loaded.aliases)
    # The keys are normalised real names: a viewer's ledger keys its customers and people by alias instead.
    ledger["customer_key"] = ledger["customer_alias"].str.lower()
    ledger["sales_manager_key"] = ledger["sales_manager_alias"].str.lower()
    return LoadedProject(info=replace(loaded.info, report=report), ledger=ledger, aliases=book, report=report)


def ensure_demo_project(services: Services, *, force: bool = False) -> ProjectInfo | None:
    """Register the bundled demo ledger as project 'demo' when no project exists yet (or when forced)."""
    if list_projects(services) and not force:
        return None
    return register_demo_project(services)


def register_demo_project(services: Services) -> ProjectInfo:
    """(Re-)register the bundled demo ledger as project 'demo', in the local store also when S3 is configured."""
    from finlib.demo import shipped_demo_ledger

    store = storage.LocalStore(services.settings.store_dir)
    return _register_stored(services, store, DEMO_PROJECT, DEMO_FILENAME, shipped_demo_ledger())


def _register_stored(
    services: Services, store: Any, name: str, filename: str, data: bytes, mapping: dict[str, str] | None = None
) -> ProjectInfo:
    key = uploads.upload_key_for(services.settings, name, filename, data)
    location = store.put(key, data, filename)
    try:
        return _register_location(services, name, location, mapping)
    except FinlibError:
        if not _source_in_use(services, storage.source_uri(location)):
            store.delete(location)
        raise


def _source_in_use(services: Services, source: str) -> bool:
    with db.session_scope(services.engine) as session:
        return session.scalar(select(db.Project.id).where(db.Project.source == source)) is not None
