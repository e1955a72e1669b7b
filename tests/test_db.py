"""Database: models, constraints, cascades and transactions, on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from finlib.config import Settings
from finlib.db import Alias, AuditEntry, Project, create_engine_for, init_db, session_scope
from finlib.errors import ConfigError, DatabaseError


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine over a fresh database with the tables created."""
    engine = create_engine_for(database_url)
    init_db(engine)
    yield engine
    engine.dispose()


def add_project(engine: Engine, name: str = "acme", **fields: object) -> int:
    with session_scope(engine) as session:
        project = Project(name=name, source=f"s3://ledgers/{name}.xlsx", format="xlsx", **fields)
        session.add(project)
        session.flush()
        return project.id


def add_alias(engine: Engine, project_id: int, kind: str, key: str, alias: str) -> None:
    with session_scope(engine) as session:
        session.add(Alias(project_id=project_id, kind=kind, real_name=key.title(), key=key, alias=alias))


def count(engine: Engine, model: type) -> int:
    with session_scope(engine) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def add_audit_entry(engine: Engine, project_id: int) -> None:
    with session_scope(engine) as session:
        session.add(
            AuditEntry(
                project_id=project_id,
                question_aliased="Who pays late, CUST-7K3M9Q2X?",
                messages=[{"role": "user", "content": "Who pays late, CUST-7K3M9Q2X?"}],
                model="gemini/gemini-2.5-flash-lite",
                prompt_tokens=120,
                completion_tokens=40,
                cost_usd=0.0001,
                latency_ms=850,
                verdict="sent",
                answer_aliased="CUST-7K3M9Q2X pays 12 days late on average.",
            )
        )


def test_init_db_creates_the_tables_and_can_run_again(engine: Engine) -> None:
    init_db(engine)
    assert {"projects", "aliases", "audit_entries"} <= set(sa.inspect(engine).get_table_names())


def test_a_project_round_trips_its_json_and_tz_aware_utc_times(engine: Engine) -> None:
    mapping = {"customer_name": "CUSTOMER NAME", "invoice_date": "INVOICE DATE"}
    report = {"rejected": [{"row": 7, "reason": "no invoice date"}], "warnings": []}
    project_id = add_project(engine, column_mapping=mapping, parse_report=report, row_count=3, size_bytes=2**40)

    with session_scope(engine) as session:
        project = session.get(Project, project_id)
        assert project is not None
        assert project.column_mapping == mapping
        assert project.parse_report == report
        assert project.detected_mapping is None
        assert project.size_bytes == 2**40
        assert project.registered_at.tzinfo is not None
        assert project.registered_at.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - project.updated_at) < timedelta(minutes=1)


def test_a_time_in_another_zone_is_stored_as_the_same_instant_in_utc(engine: Engine) -> None:
    instant = datetime(2025, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=4)))
    project_id = add_project(engine, registered_at=instant)
    with session_scope(engine) as session:
        stored = session.get(Project, project_id)
        assert stored is not None and stored.registered_at == instant
        assert stored.registered_at.tzinfo == UTC


def test_project_names_are_unique(engine: Engine) -> None:
    add_project(engine, "acme")
    with pytest.raises(DatabaseError, match="conflicts with existing data"):
        add_project(engine, "acme")
    assert count(engine, Project) == 1


@pytest.mark.parametrize(
    ("second", "allowed"),
    [
        (("customer", "globex", "CUST-AAAAAAAA"), False),  # same alias in the project
        (("customer", "acme corp", "CUST-BBBBBBBB"), False),  # same kind and key
        (("person", "acme corp", "PERS-BBBBBBBB"), True),  # a person may share a customer's key
        (("customer", "globex", "CUST-BBBBBBBB"), True),
    ],
)
def test_aliases_are_unique_per_project_by_alias_and_by_kind_and_key(
    engine: Engine, second: tuple[str, str, str], allowed: bool
) -> None:
    project_id = add_project(engine)
    add_alias(engine, project_id, "customer", "acme corp", "CUST-AAAAAAAA")
    if allowed:
        add_alias(engine, project_id, *second)
        assert count(engine, Alias) == 2
    else:
        with pytest.raises(DatabaseError):
            add_alias(engine, project_id, *second)
        assert count(engine, Alias) == 1


def test_two_projects_may_use_the_same_alias_and_key(engine: Engine) -> None:
    first, second = add_project(engine, "acme"), add_project(engine, "globex")
    add_alias(engine, first, "customer", "acme corp", "CUST-AAAAAAAA")
    add_alias(engine, second, "customer", "acme corp", "CUST-AAAAAAAA")
    assert count(engine, Alias) == 2


def test_an_unknown_alias_kind_is_refused_by_the_database(engine: Engine) -> None:
    project_id = add_project(engine)
    with pytest.raises(DatabaseError):
        add_alias(engine, project_id, "supplier", "acme corp", "SUPP-AAAAAAAA")


@pytest.mark.parametrize("how", ["orm", "sql"])
def test_deleting_a_project_deletes_its_aliases_and_audit_entries(engine: Engine, how: str) -> None:
    doomed, kept = add_project(engine, "doomed"), add_project(engine, "kept")
    for project_id in (doomed, kept):
        add_alias(engine, project_id, "customer", "acme corp", "CUST-AAAAAAAA")
        add_alias(engine, project_id, "person", "jane doe", "PERS-AAAAAAAA")
        add_audit_entry(engine, project_id)

    with session_scope(engine) as session:
        if how == "orm":
            session.delete(session.get(Project, doomed))
        else:  # the database's own ON DELETE CASCADE (SQLite needs foreign keys switched on)
            session.execute(sa.delete(Project).where(Project.id == doomed))

    with session_scope(engine) as session:
        assert session.scalars(sa.select(Alias.project_id).distinct()).all() == [kept]
        assert session.scalars(sa.select(AuditEntry.project_id).distinct()).all() == [kept]


def test_an_audit_entry_keeps_the_exact_messages_sent(engine: Engine) -> None:
    project_id = add_project(engine)
    add_audit_entry(engine, project_id)
    with session_scope(engine) as session:
        entry = session.scalars(sa.select(AuditEntry)).one()
        assert entry.messages == [{"role": "user", "content": "Who pays late, CUST-7K3M9Q2X?"}]
        assert entry.verdict == "sent" and entry.created_at.tzinfo is not None


def test_a_failed_transaction_leaves_the_earlier_state_intact(engine: Engine) -> None:
    project_id = add_project(engine, "acme", etag="v1", row_count=10)
    add_project(engine, "globex")

    with pytest.raises(DatabaseError):
        with session_scope(engine) as session:
            project = session.get(Project, project_id)
            assert project is not None
            project.etag, project.row_count = "v2", 20
            session.add(Alias(project_id=project_id, kind="customer", real_name="A", key="a", alias="CUST-AAAAAAAA"))
            session.flush()
            project.name = "globex"  # the unique name makes the commit fail

    with session_scope(engine) as session:
        project = session.get(Project, project_id)
        assert project is not None
        assert (project.name, project.etag, project.row_count) == ("acme", "v1", 10)
    assert count(engine, Alias) == 0


def test_an_error_that_is_not_the_databases_rolls_back_and_passes_through_unchanged(engine: Engine) -> None:
    with pytest.raises(KeyError):
        with session_scope(engine) as session:
            session.add(Project(name="acme", source="s3://ledgers/a.xlsx"))
            session.flush()
            raise KeyError("boom")
    assert count(engine, Project) == 0


def test_create_engine_for_accepts_settings_and_creates_the_sqlite_folder(settings: Settings) -> None:
    engine = create_engine_for(settings)
    init_db(engine)
    assert (settings.home / "finlib.db").is_file()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_an_unreachable_postgresql_is_a_database_error_that_names_the_host_but_not_the_password() -> None:
    engine = create_engine_for("postgresql+psycopg2://finance:hunter2secret@127.0.0.1:1/ledgers")
    started = time.monotonic()
    with pytest.raises(DatabaseError) as raised:
        init_db(engine)
    message = str(raised.value)
    assert time.monotonic() - started < 10
    assert "127.0.0.1:1" in message and "DB_HOST" in message
    assert "hunter2secret" not in message


def test_an_unreachable_postgresql_fails_inside_a_session_scope_too() -> None:
    engine = create_engine_for("postgresql+psycopg2://finance:hunter2secret@127.0.0.1:1/ledgers")
    with pytest.raises(DatabaseError, match="Cannot reach the database"):
        with session_scope(engine) as session:
            session.execute(sa.select(Project)).all()


def test_a_sqlite_file_that_cannot_be_opened_is_a_database_error(tmp_path: Path) -> None:
    (tmp_path / "a-folder.db").mkdir()
    with pytest.raises(DatabaseError, match="SQLite file"):
        init_db(create_engine_for(f"sqlite:///{tmp_path / 'a-folder.db'}"))


def test_a_sqlite_folder_that_cannot_be_created_is_a_database_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    with pytest.raises(DatabaseError, match="FINLIB_HOME"):
        create_engine_for(f"sqlite:///{tmp_path / 'not-a-folder' / 'finlib.db'}")


@pytest.mark.parametrize("url", ["not a url", "nosuchdb+nodriver://h/d"])
def test_a_malformed_or_unknown_database_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_engine_for(url)
