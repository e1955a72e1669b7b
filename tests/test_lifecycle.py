"""Salt rotation and erasure: aliases change and still resolve, audit rows stay; after erase no real name remains."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from helpers.ledgers import LEDGER_CSV

from finlib import db, projects
from finlib.chat.pipeline import answer_question, build_chat_session
from finlib.cli import main
from finlib.config import Settings
from finlib.errors import AliasError, ProjectNotFoundError
from finlib.lifecycle import ERASED_ALIAS, erase_project, rotate_salt
from finlib.privacy import aliasing, keys

REAL_NAMES = ["ACME Corp", "Beta LLC", "Jane Doe", "Omar Khan", "Gamma Ltd"]
GROWN_CSV = LEDGER_CSV + "Gamma Ltd,2026-03-20,INV-6,900.00,,Omar Khan\n"


@pytest.fixture
def services(make_settings: Callable[..., Settings], database_url: str) -> projects.Services:
    return projects.Services(make_settings(DATABASE_URL=database_url))


def register(services: projects.Services, tmp_path: Path, text: str = LEDGER_CSV) -> projects.ProjectInfo:
    path = tmp_path / "files" / "march.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return projects.register_project(services, "acme", str(path), allow_local_paths=True)


def ask(services: projects.Services, question: str) -> None:
    loaded = projects.load_project(services, "acme")
    session = build_chat_session("acme", loaded.ledger, loaded.aliases, services.settings)
    answer_question(session, question, settings=services.settings, engine=services.engine).finish()


def alias_table(services: projects.Services) -> dict[str, str]:
    with db.session_scope(services.engine) as session:
        rows = session.execute(sa.select(db.Alias.real_name, db.Alias.alias)).all()
    return {row.real_name: row.alias for row in rows}


def audit_rows(services: projects.Services) -> list[Any]:
    with db.session_scope(services.engine) as session:
        return list(
            session.execute(
                sa.select(db.AuditEntry.question_aliased, db.AuditEntry.salt_version).order_by(db.AuditEntry.id)
            ).all()
        )


def test_rotation_changes_every_alias_and_lookups_follow(services, tmp_path) -> None:
    register(services, tmp_path)
    before = alias_table(services)
    report = rotate_salt(services, "acme")
    after = alias_table(services)
    assert (report.salt_version, report.customers, report.people) == (1, 2, 2)
    assert after.keys() == before.keys()
    assert all(after[name] != before[name] for name in before)
    book = projects.load_project(services, "acme").aliases
    assert book.alias_for("acme corp") == after["ACME Corp"]
    assert book.real_for(after["Jane Doe"].lower()) == "Jane Doe"
    assert book.real_for(before["ACME Corp"]) is None
    assert projects.get_project(services, "acme").version != ""


def test_old_audit_rows_keep_what_was_sent_with_their_salt_version(services, tmp_path) -> None:
    register(services, tmp_path)
    old_alias = alias_table(services)["ACME Corp"]
    ask(services, "When will ACME Corp pay next?")
    rotate_salt(services, "acme")
    ask(services, "When will ACME Corp pay next?")
    (first, first_version), (second, second_version) = audit_rows(services)
    assert old_alias in first and first_version == 0
    assert alias_table(services)["ACME Corp"] in second and second_version == 1
    assert old_alias not in second


def test_after_rotation_new_names_get_aliases_of_the_new_salt_and_old_ones_stay(services, tmp_path) -> None:
    register(services, tmp_path)
    rotate_salt(services, "acme")
    rotated = alias_table(services)
    register(services, tmp_path, GROWN_CSV)
    grown = alias_table(services)
    assert {name: grown[name] for name in rotated} == rotated
    with db.session_scope(services.engine) as session:
        project_id = session.scalar(sa.select(db.Project.id))
        salt = keys.project_salt(session, project_id, services.settings.alias_salt)
    assert salt != services.settings.alias_salt
    assert grown["Gamma Ltd"] == aliasing.derive_alias(salt, "acme", "gamma ltd", 8, "customer")


def test_rotating_twice_gives_version_two_and_new_aliases_again(services, tmp_path) -> None:
    register(services, tmp_path)
    first = rotate_salt(services, "acme")
    once = alias_table(services)
    second = rotate_salt(services, "acme")
    assert (first.salt_version, second.salt_version) == (1, 2)
    assert all(alias_table(services)[name] != once[name] for name in once)


def test_rotating_an_unknown_project_says_there_is_none(services) -> None:
    with pytest.raises(ProjectNotFoundError):
        rotate_salt(services, "nope")


@pytest.mark.parametrize("detail", [{"customers": ["ACME Corp"]}, {"question": "Wann zahlt Müller & Söhne?"}])
def test_a_sealed_detail_opens_with_its_key_only(detail) -> None:
    key, other = b"k" * 32, b"o" * 32
    sealed = keys.seal(key, detail)
    assert keys.unseal(key, sealed) == detail
    assert b"ACME" not in sealed and "Müller".encode() not in sealed
    with pytest.raises(AliasError, match="cannot be opened"):
        keys.unseal(other, sealed)
    with pytest.raises(AliasError):
        keys.unseal(key, sealed[:-1] + bytes([sealed[-1] ^ 1]))


def add_access_event(services: projects.Services, names: list[str]) -> None:
    with db.session_scope(services.engine) as session:
        row = session.scalar(sa.select(db.Project).where(db.Project.name == "acme"))
        key = keys.project_key(session, row.id)
        book = aliasing.load_alias_book(session, row.id)
        summary = "Customers page: " + ", ".join(str(book.alias_for(name)) for name in names)
        session.add(
            db.AccessEvent(
                project_id=row.id,
                project_name="acme",
                user_email="ana@example.com",
                action="view",
                summary=summary,
                sealed=keys.seal(key.data_key, {"customers": names}),
            )
        )


def database_text(engine: sa.engine.Engine) -> bytes:
    """Every value of every finlib table, as bytes (what a SELECT of the whole database returns)."""
    chunks: list[bytes] = []
    with engine.connect() as connection:
        for table in db.Base.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)).all():
                chunks.extend(value if isinstance(value, bytes) else str(value).encode() for value in row)
    return b"\n".join(chunks)


def files_text(root: Path) -> bytes:
    return b"\n".join(path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file())


def bucket_text(client: Any, bucket: str, prefix: str = "") -> bytes:
    """Every object's bytes, and a Parquet object's values as text too (its pages may be compressed)."""
    chunks = []
    for item in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
        data = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        chunks.append(data)
        if item["Key"].endswith(".parquet"):
            chunks.append(pq.read_table(io.BytesIO(data)).to_pandas().to_csv().encode())
    return b"\n".join(chunks)


def leaked(data: bytes) -> list[str]:
    folded = data.lower()
    return [name for name in REAL_NAMES if name.lower().encode() in folded]


def test_erase_leaves_no_byte_of_a_real_name_in_the_database_caches_or_store(services, tmp_path) -> None:
    projects.upload_project(services, "acme", "march.csv", GROWN_CSV.encode())
    projects.load_project(services, "acme")
    ask(services, "When will ACME Corp pay next?")
    add_access_event(services, ["ACME Corp", "Beta LLC"])
    home = services.settings.home
    assert leaked(database_text(services.engine) + files_text(home))  # the scan can see them before

    report = erase_project(services, "acme")

    assert leaked(database_text(services.engine)) == []
    assert leaked(files_text(home)) == []  # the SQLite file, parse cache, local store and app.log
    assert (report.aliases, report.chat_audit_entries, report.access_events_shredded) == (5, 1, 1)
    assert report.key_destroyed and report.cache_files >= 2
    assert [uri.startswith("store://uploads/acme/") for uri in report.stored_objects] == [True]
    with db.session_scope(services.engine) as session:
        event = session.scalars(sa.select(db.AccessEvent)).one()
        assert (event.project_id, event.project_name, event.user_email, event.sealed) == (
            None,
            "acme",
            "ana@example.com",
            None,
        )
        assert event.summary == f"Customers page: {ERASED_ALIAS}, {ERASED_ALIAS}"
        assert session.scalar(sa.select(sa.func.count()).select_from(db.ProjectKey)) == 0
    with pytest.raises(ProjectNotFoundError):
        projects.get_project(services, "acme")


def test_erase_of_an_s3_upload_deletes_every_stored_version_and_download(
    s3_settings: Settings, s3_client: Any, tmp_path: Path
) -> None:
    services = projects.Services(s3_settings)
    projects.upload_project(services, "acme", "march.csv", LEDGER_CSV.encode())
    projects.upload_project(services, "acme", "march.csv", GROWN_CSV.encode())
    bucket = s3_settings.aws_s3_bucket
    assert leaked(bucket_text(s3_client, bucket))

    report = erase_project(services, "acme")

    assert leaked(bucket_text(s3_client, bucket)) == []
    assert leaked(files_text(s3_settings.home)) == []
    assert len(report.stored_objects) >= 1 and all(uri.startswith(f"s3://{bucket}/") for uri in report.stored_objects)


def test_erase_with_several_processes_deletes_the_shared_cache_and_every_older_version_in_the_bucket(
    make_shared_services: Callable[[str], projects.Services], s3_client: Any
) -> None:
    first, second = make_shared_services("a"), make_shared_services("b")
    bucket = str(first.settings.aws_s3_bucket)
    projects.upload_project(first, "acme", "march.csv", LEDGER_CSV.encode())
    s3_client.put_object(Bucket=bucket, Key="exports/ar.csv", Body=LEDGER_CSV.encode())
    projects.register_project(first, "acme", f"s3://{bucket}/exports/ar.csv")
    s3_client.put_object(Bucket=bucket, Key="exports/ar.csv", Body=GROWN_CSV.encode())
    projects.refresh_project(first, "acme")  # the older download and parse stay behind
    s3_client.put_object(Bucket=bucket, Key="uploads/acme/0123456789abcdef-old.csv", Body=GROWN_CSV.encode())
    projects.load_project(second, "acme")
    assert leaked(bucket_text(s3_client, bucket, "cache/")) == REAL_NAMES  # the scan sees the shared parses
    assert len([p for p in (first.settings.cache_dir / "downloads").rglob("*") if p.is_file()]) == 2

    report = erase_project(first, "acme")

    assert [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]] == ["exports/ar.csv"]
    assert leaked(files_text(first.settings.home)) == []
    assert report.stored_objects == [f"s3://{bucket}/uploads/acme/0123456789abcdef-old.csv"]
    assert any("your file" in note for note in report.kept)
    with pytest.raises(ProjectNotFoundError):
        projects.load_project(second, "acme")


def test_erase_keeps_the_users_own_source_file_and_says_so(services, tmp_path) -> None:
    info = register(services, tmp_path)
    report = erase_project(services, "acme")
    assert Path(info.source).is_file()
    assert any("your file" in note for note in report.kept)
    assert report.stored_objects == []


def test_cli_rotates_and_erases_with_a_report(make_settings, tmp_path, capsys) -> None:
    environ = {"FINLIB_HOME": str(tmp_path / "home"), "ALIAS_SALT": "cli-salt"}
    path = tmp_path / "march.csv"
    path.write_text(LEDGER_CSV, encoding="utf-8")
    assert main(["upload", "acme", str(path)], environ=environ) == 0
    assert main(["rotate-salt", "acme"], environ=environ) == 0
    assert "salt version 1, 2 customer and 2 person aliases re-derived" in capsys.readouterr().out
    assert main(["erase", "acme", "--yes"], environ=environ) == 0
    out = capsys.readouterr().out
    assert "erased project acme" in out and "aliases deleted: 4" in out and "stored uploads deleted: 1" in out
    assert main(["projects"], environ=environ) == 0
    assert "no projects yet" in capsys.readouterr().out


def test_cli_erase_without_yes_and_without_a_terminal_asks_for_it(tmp_path, capsys, monkeypatch) -> None:
    environ = {"FINLIB_HOME": str(tmp_path / "home"), "ALIAS_SALT": "cli-salt"}
    path = tmp_path / "march.csv"
    path.write_text(LEDGER_CSV, encoding="utf-8")
    assert main(["upload", "acme", str(path)], environ=environ) == 0
    monkeypatch.setattr(sys, "stdin", open(path))  # not a terminal
    assert main(["erase", "acme"], environ=environ) == 1
    assert "rerun with --yes" in capsys.readouterr().err
    assert main(["projects"], environ=environ) == 0
    assert "acme" in capsys.readouterr().out
