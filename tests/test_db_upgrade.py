"""Schema upgrades and the team-use tables: init_db upgrades an older database in place, keeping every row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from helpers import previous_schema
from sqlalchemy.engine import Engine

from finlib import db
from finlib.errors import DatabaseError


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.create_engine_for(database_url)
    yield engine
    engine.dispose()


def fill_previous_version(engine: Engine) -> None:
    previous_schema.metadata.create_all(engine)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(previous_schema.projects).values(
                id=1, name="acme", source="store://uploads/acme/x.csv", registered_at=now, updated_at=now,
                row_count=5, rejected_count=0, customer_count=2,
            )
        )  # fmt: skip
        connection.execute(
            sa.insert(previous_schema.aliases).values(
                project_id=1, kind="customer", real_name="ACME Corp", key="acme corp", alias="CUST-7K3M9Q2X"
            )
        )
        connection.execute(
            sa.insert(previous_schema.audit_entries).values(
                project_id=1, created_at=now, question_aliased="When does CUST-7K3M9Q2X pay?",
                messages=[{"role": "user", "content": "When does CUST-7K3M9Q2X pay?"}], model="offline",
                verdict="offline",
            )
        )  # fmt: skip


def test_init_db_upgrades_a_database_of_the_previous_version_without_losing_a_row(engine: Engine) -> None:
    fill_previous_version(engine)
    db.init_db(engine)
    db.init_db(engine)  # and again: nothing left to do
    with db.session_scope(engine) as session:
        project = session.scalars(sa.select(db.Project)).one()
        assert (project.name, project.row_count, project.salt_version) == ("acme", 5, 0)
        alias = session.scalars(sa.select(db.Alias)).one()
        assert (alias.real_name, alias.alias) == ("ACME Corp", "CUST-7K3M9Q2X")
        entry = session.scalars(sa.select(db.AuditEntry)).one()
        assert (entry.question_aliased, entry.salt_version, entry.user_email) == (
            "When does CUST-7K3M9Q2X pay?", 0, None,
        )  # fmt: skip
        session.add(db.Membership(project_id=project.id, principal="ana@example.com", role="viewer"))
        session.add(db.ProjectKey(project_id=project.id, data_key=b"k" * 32))
    columns = {column["name"] for column in sa.inspect(engine).get_columns("projects")}
    assert {"salt_version", "currency_code", "currency_symbol"} <= columns
    with db.session_scope(engine) as session:
        project = session.scalars(sa.select(db.Project)).one()
        assert (project.currency_code, project.currency_symbol) == (None, None)  # an older project states none
        project.currency_code, project.currency_symbol = "EUR", "€"
    with db.session_scope(engine) as session:
        assert session.scalars(sa.select(db.Project.currency_symbol)).one() == "€"


def test_a_membership_role_outside_viewer_analyst_admin_is_refused(engine: Engine) -> None:
    db.init_db(engine)
    with db.session_scope(engine) as session:
        session.add(db.Project(name="acme", source="s3://b/k.csv"))
    with pytest.raises(DatabaseError), db.session_scope(engine) as session:
        session.add(db.Membership(project_id=1, principal="ana@example.com", role="owner"))


def test_an_access_event_outlives_its_project_with_the_project_name(engine: Engine) -> None:
    db.init_db(engine)
    with db.session_scope(engine) as session:
        project = db.Project(name="acme", source="s3://b/k.csv")
        session.add(project)
        session.flush()
        session.add(
            db.AccessEvent(
                project_id=project.id, project_name="acme", user_email="ana@example.com", action="export",
                summary="customers.csv", sealed=b"x",
            )
        )  # fmt: skip
        session.add(db.ProjectKey(project_id=project.id, data_key=b"k" * 32))
    with db.session_scope(engine) as session:
        session.execute(sa.delete(db.Project))
    with db.session_scope(engine) as session:
        event = session.scalars(sa.select(db.AccessEvent)).one()
        assert (event.project_id, event.project_name, event.action) == (None, "acme", "export")
        assert session.scalar(sa.select(sa.func.count()).select_from(db.ProjectKey)) == 0


def test_sqlite_overwrites_deleted_rows_whatever_the_build_default(tmp_path) -> None:
    engine = db.create_engine_for(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    engine.dispose()
