"""Database: the models (projects, aliases, keys, memberships, audit, API tokens), engines, upgrades, transactions.

Every write runs in one ``session_scope`` transaction; SQLAlchemy failures leave it as ``DatabaseError`` with a
message that says what to check and never shows a password. ``init_db`` creates missing tables and adds the
columns a newer version introduced to tables an older version created, keeping their rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from finlib.config import Settings
from finlib.errors import ConfigError, DatabaseError

ALIAS_KINDS = ("customer", "person")
AUDIT_VERDICTS = ("sent", "blocked", "offline", "error")
ACCESS_ACTIONS = ("view", "export", "chat")
ROLES = ("viewer", "analyst", "admin")
PG_CONNECT_TIMEOUT_S = 5
SQLITE_BUSY_TIMEOUT_S = 30


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back tz-aware (SQLite keeps no zone of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    """The current time, tz-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of finlib's tables."""

    type_annotation_map = {dict[str, Any]: sa.JSON, datetime: UTCDateTime}


class Project(Base):
    """A registered ledger: where it lives, the version last read, and what parsing found."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    source: Mapped[str] = mapped_column(sa.Text)
    format: Mapped[str | None] = mapped_column(sa.String(16))
    etag: Mapped[str | None] = mapped_column(sa.String(200))
    size_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    registered_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    refreshed_at: Mapped[datetime | None] = mapped_column(comment="last time the source was fetched and parsed")
    column_mapping: Mapped[dict[str, Any] | None] = mapped_column(comment="explicit override of detection")
    detected_mapping: Mapped[dict[str, Any] | None]
    row_count: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    customer_count: Mapped[int] = mapped_column(default=0)
    parse_report: Mapped[dict[str, Any] | None]
    status: Mapped[str | None] = mapped_column(sa.Text)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    salt_version: Mapped[int] = mapped_column(default=0, server_default="0", comment="0: ALIAS_SALT; n: rotated")
    currency_code: Mapped[str | None] = mapped_column(sa.String(3), comment="ISO 4217; None: not stated")
    currency_symbol: Mapped[str | None] = mapped_column(sa.String(8))

    aliases: Mapped[list[Alias]] = relationship(
        back_populates="project", cascade="all, delete-orphan", passive_deletes=True
    )
    audit_entries: Mapped[list[AuditEntry]] = relationship(
        back_populates="project", cascade="all, delete-orphan", passive_deletes=True
    )


class Alias(Base):
    """The alias of one real name (a customer or a person) within one project."""

    __tablename__ = "aliases"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "alias", name="uq_aliases_project_alias"),
        sa.UniqueConstraint("project_id", "kind", "key", name="uq_aliases_project_kind_key"),
        sa.CheckConstraint(f"kind IN {ALIAS_KINDS!r}", name="ck_aliases_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    real_name: Mapped[str] = mapped_column(sa.Text)
    key: Mapped[str] = mapped_column(sa.Text)
    alias: Mapped[str] = mapped_column(sa.String(64))

    project: Mapped[Project] = relationship(back_populates="aliases")


class AuditEntry(Base):
    """One chat question: exactly what was (or would have been) sent to the model, and what came back."""

    __tablename__ = "audit_entries"
    __table_args__ = (sa.CheckConstraint(f"verdict IN {AUDIT_VERDICTS!r}", name="ck_audit_entries_verdict"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    question_aliased: Mapped[str] = mapped_column(sa.Text)
    messages: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    model: Mapped[str] = mapped_column(sa.String(200))
    prompt_tokens: Mapped[int | None]
    completion_tokens: Mapped[int | None]
    cost_usd: Mapped[float | None] = mapped_column(sa.Float)
    latency_ms: Mapped[int | None]
    verdict: Mapped[str] = mapped_column(sa.String(16))
    detail: Mapped[str | None] = mapped_column(sa.Text)
    answer_aliased: Mapped[str | None] = mapped_column(sa.Text)
    salt_version: Mapped[int | None] = mapped_column(server_default="0", comment="the aliases' salt version")
    user_email: Mapped[str | None] = mapped_column(sa.String(320))

    project: Mapped[Project] = relationship(back_populates="audit_entries")


class ProjectKey(Base):
    """A project's secrets: the alias salt of its current salt version and the key sealing real-name audit details.

    Deleting this row is the crypto-shredding step of ``erase``: sealed details become unreadable everywhere,
    backups included.
    """

    __tablename__ = "project_keys"

    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    salt: Mapped[bytes | None] = mapped_column(sa.LargeBinary, comment="None: ALIAS_SALT (salt version 0)")
    data_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    rotated_at: Mapped[datetime | None]


class Membership(Base):
    """Who may do what in a project: a user's e-mail (or ``group:NAME``) and a role."""

    __tablename__ = "memberships"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "principal", name="uq_memberships_project_principal"),
        sa.CheckConstraint(f"role IN {ROLES!r}", name="ck_memberships_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    principal: Mapped[str] = mapped_column(sa.String(320))
    role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    created_by: Mapped[str | None] = mapped_column(sa.String(320))


class AccessEvent(Base):
    """A view, export or chat answer that showed real names, and who saw it.

    ``summary`` holds aliases only; the real names shown are in ``sealed`` (AES-GCM under the project's data
    key). The row outlives its project: ``erase`` keeps who saw what when, and shreds what they saw.
    """

    __tablename__ = "access_events"
    __table_args__ = (sa.CheckConstraint(f"action IN {ACCESS_ACTIONS!r}", name="ck_access_events_action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(sa.ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    project_name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    user_email: Mapped[str] = mapped_column(sa.String(320))
    action: Mapped[str] = mapped_column(sa.String(16))
    salt_version: Mapped[int] = mapped_column(default=0)
    summary: Mapped[str] = mapped_column(sa.Text)
    sealed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)


class ApiToken(Base):
    """A personal API token: only its SHA-256 digest is stored, with the user it acts for."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user: Mapped[str] = mapped_column(sa.String(320), index=True)
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    label: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros, whatever the build's default: erased names leave no bytes behind.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _describe(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"the SQLite file {url.database or ':memory:'}"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def _hint(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return "check FINLIB_HOME / DATABASE_URL and that the folder is writable"
    return (
        "check DATABASE_URL or DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD, "
        "that the server is running and that it accepts this user"
    )


def create_engine_for(settings_or_url: Settings | str) -> Engine:
    """An Engine with pre-ping; for SQLite the parent folder is created and foreign keys are enforced.

    Raises:
        ConfigError: the URL is malformed or names a driver that is not installed.
        DatabaseError: the SQLite folder cannot be created.
    """
    raw = settings_or_url.database_url if isinstance(settings_or_url, Settings) else settings_or_url
    try:
        url = make_url(raw)
    except exc.ArgumentError as error:
        raise ConfigError("DATABASE_URL is not a valid database URL (e.g. postgresql+psycopg2://...).") from error
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        if url.database and url.database != ":memory:":
            try:
                Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DatabaseError(f"Cannot create the folder for {_describe(url)} ({_hint(url)}).") from error
    elif url.drivername == "postgresql+psycopg2" and "connect_timeout" not in url.query:
        kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    try:
        engine = sa.create_engine(url, **kwargs)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as error:
        raise ConfigError(f"DATABASE_URL names a database driver that is not available ({url.drivername}).") from error
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
    return engine


def translate_error(error: BaseException, engine: Engine) -> DatabaseError:
    """A DatabaseError that says what failed and what to check, for a SQLAlchemy or driver failure."""
    url = engine.url
    detail = str(getattr(error, "orig", None) or error).strip().splitlines()
    first_line = detail[0] if detail else type(error).__name__
    if url.password:
        first_line = first_line.replace(str(url.password), "***")
    if isinstance(error, exc.IntegrityError):
        # Only the first line: PostgreSQL's DETAIL line repeats the conflicting values, which may be real names.
        return DatabaseError(f"The database refused a write that conflicts with existing data ({first_line}).")
    if isinstance(error, exc.OperationalError | exc.InterfaceError | exc.TimeoutError):
        return DatabaseError(f"Cannot reach the database at {_describe(url)}: {first_line} ({_hint(url)}).")
    return DatabaseError(f"A database operation on {_describe(url)} failed: {first_line}.")


_WRAPPED = (exc.DBAPIError, exc.TimeoutError)


def init_db(engine: Engine) -> None:
    """Create missing tables and add missing columns to tables an older version made (safe on every start)."""
    try:
        Base.metadata.create_all(engine)
        _add_missing_columns(engine)
    except _WRAPPED as error:
        raise translate_error(error, engine) from error


def _add_missing_columns(engine: Engine) -> None:
    """ALTER TABLE ... ADD COLUMN for every model column an existing table lacks (each is nullable or defaulted)."""
    inspector = sa.inspect(engine)
    postgres = engine.dialect.name == "postgresql"
    for table in Base.metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            definition = sa.schema.CreateColumn(column).compile(dialect=engine.dialect)
            # Two processes may start together: PostgreSQL skips a column that appeared meanwhile; SQLite
            # serialises writers, and a duplicate there is ignored below.
            guard = "IF NOT EXISTS " if postgres else ""
            statement = f"ALTER TABLE {table.name} ADD COLUMN {guard}{definition}"
            try:
                with engine.begin() as connection:
                    connection.execute(sa.text(statement))
            except exc.OperationalError as error:
                if "duplicate column" not in str(error).lower():
                    raise


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back (and re-raised as DatabaseError) on failure."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except _WRAPPED as error:
        _rollback_quietly(session)
        raise translate_error(error, engine) from error
    except BaseException:
        _rollback_quietly(session)
        raise
    finally:
        session.close()


def _rollback_quietly(session: Session) -> None:
    try:
        session.rollback()
    except _WRAPPED:
        pass  # the connection is gone; the server discards the transaction anyway
