"""The service layer: registering, refreshing, loading and deleting projects, on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers.ledgers import LEDGER_CSV
from sqlalchemy import func, select

from finlib import db, projects
from finlib.config import Settings
from finlib.errors import (
    MissingColumnsError,
    ObjectNotFoundError,
    ParseError,
    ProjectError,
    ProjectNotFoundError,
    SourceNotAllowedError,
)

CHANGED_CSV = LEDGER_CSV + "Gamma Ltd,2026-03-20,INV-6,900.00,,Omar Khan\n"
BROKEN_CSV = "Foo,Bar\n1,2\n"


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def services(make_settings: Callable[..., Settings], database_url: str) -> projects.Services:
    return projects.Services(make_settings(DATABASE_URL=database_url))


def _alias_count(services: projects.Services) -> int:
    with db.session_scope(services.engine) as session:
        return session.scalar(select(func.count()).select_from(db.Alias)) or 0


def test_registering_a_local_csv_stores_the_project_and_aliases_every_name(services, write_file) -> None:
    info = projects.register_project(
        services, "local2", str(write_file("march.csv", LEDGER_CSV)), allow_local_paths=True
    )
    assert (info.name, info.format, info.row_count, info.customer_count) == ("local2", "csv", 5, 2)
    loaded = projects.load_project(services, "local2")
    assert set(loaded.ledger["customer_name"]) == {"ACME Corp", "Beta LLC"}
    assert loaded.ledger["customer_alias"].str.match(r"^CUST-[0-9A-Z]{8}$").all()
    assert loaded.ledger["sales_manager_alias"].str.match(r"^PERS-[0-9A-Z]{8}$").all()
    assert sorted(loaded.aliases.real_names()) == ["ACME Corp", "Beta LLC", "Jane Doe", "Omar Khan"]


def test_loading_only_some_columns_reads_those_and_the_aliases_of_the_alias_asked_for(services, write_file) -> None:
    projects.register_project(services, "narrow", str(write_file("march.csv", LEDGER_CSV)), allow_local_paths=True)
    full = projects.load_project(services, "narrow")
    wanted = ("customer_key", "amount", "invoice_date", "customer_alias")
    narrow = projects.load_project(services, "narrow", columns=wanted)
    assert list(narrow.ledger.columns) == ["customer_key", "invoice_date", "amount", "customer_alias"]
    pd.testing.assert_frame_equal(narrow.ledger, full.ledger[list(narrow.ledger.columns)])
    assert narrow.aliases.real_names() == full.aliases.real_names("customer") == ["ACME Corp", "Beta LLC"]
    without_alias = projects.load_project(services, "narrow", columns=("customer_key", "amount"))
    assert list(without_alias.ledger.columns) == ["customer_key", "amount"]
    assert len(without_alias.aliases) == 0


def test_a_compact_load_has_the_same_values_and_keeps_no_page_of_the_parsed_file(services, write_file) -> None:
    projects.register_project(services, "compact", str(write_file("march.csv", LEDGER_CSV)), allow_local_paths=True)
    wanted = ("customer_name", "customer_key", "invoice_number", "amount", "customer_alias", "sales_manager_alias")
    full = projects.load_project(services, "compact", columns=wanted)
    compact = projects.load_project(services, "compact", columns=wanted, compact=True)
    assert isinstance(compact.ledger["customer_key"].dtype, pd.CategoricalDtype)
    assert isinstance(compact.ledger["customer_alias"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(compact.ledger.astype(dict(full.ledger.dtypes)), full.ledger)
    maps = Path("/proc/self/maps")  # Linux: the files the process has mapped
    if maps.exists():
        parsed = [path.name for path in services.settings.home.rglob("*.arrow")]
        assert any(name in maps.read_text() for name in parsed)  # the text load's columns point into its file
        del full
        gc.collect()
        assert not any(name in maps.read_text() for name in parsed)


def test_local_paths_are_refused_unless_the_caller_allows_them(services, write_file) -> None:
    with pytest.raises(SourceNotAllowedError):
        projects.register_project(services, "web", str(write_file("march.csv", LEDGER_CSV)))
    assert projects.list_projects(services) == []


@pytest.mark.parametrize("bad_name", ["", " ", "../etc", "a b", "-dash", "x" * 70])
def test_invalid_project_names_are_refused_with_a_hint(services, write_file, bad_name: str) -> None:
    with pytest.raises(ProjectError, match="letters, digits"):
        projects.register_project(services, bad_name, str(write_file("a.csv", LEDGER_CSV)), allow_local_paths=True)


def test_a_failed_reregistration_leaves_the_previous_one_intact(services, write_file) -> None:
    good = projects.register_project(services, "acme", str(write_file("good.csv", LEDGER_CSV)), allow_local_paths=True)
    aliases_before = _alias_count(services)
    with pytest.raises(MissingColumnsError):
        projects.register_project(services, "acme", str(write_file("broken.csv", BROKEN_CSV)), allow_local_paths=True)
    after = projects.get_project(services, "acme")
    assert (after.source, after.etag, after.row_count) == (good.source, good.etag, good.row_count)
    assert _alias_count(services) == aliases_before
    assert len(projects.load_project(services, "acme").ledger) == 5


def test_reregistering_keeps_existing_aliases_and_adds_new_customers(services, write_file) -> None:
    path = write_file("ledger.csv", LEDGER_CSV)
    projects.register_project(services, "acme", str(path), allow_local_paths=True)
    first = projects.load_project(services, "acme").aliases
    path.write_text(CHANGED_CSV, encoding="utf-8")
    info, changed = projects.refresh_project(services, "acme")
    second = projects.load_project(services, "acme").aliases
    assert changed and info.customer_count == 3
    assert second.alias_for("ACME Corp") == first.alias_for("ACME Corp")
    assert second.alias_for("Gamma Ltd") is not None


def test_refresh_of_an_unchanged_source_does_not_reparse(services, write_file) -> None:
    projects.register_project(services, "acme", str(write_file("ledger.csv", LEDGER_CSV)), allow_local_paths=True)
    info, changed = projects.refresh_project(services, "acme")
    assert not changed
    assert info.row_count == 5


def test_a_local_file_is_already_being_parsed_while_its_etag_is_computed(
    services, write_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    from finlib.ingest import storage

    md5, parses_running = storage._md5_of_file, []

    def md5_noting_parses(path: Path) -> str:
        parses_running.append(len(list((services.settings.home / "tmp").glob("parse-*"))))
        return md5(path)

    monkeypatch.setattr(storage, "_md5_of_file", md5_noting_parses)
    path = write_file("ledger.csv", LEDGER_CSV)
    info = projects.register_project(services, "acme", str(path), allow_local_paths=True)
    assert parses_running == [1]  # the parse had been started (its scratch folder made) before the MD5 pass
    assert info.row_count == 5


def test_registering_an_unchanged_local_file_again_is_served_by_the_cache(
    services, write_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    from finlib.ingest import sandbox

    path = write_file("ledger.csv", LEDGER_CSV)
    first = projects.register_project(services, "acme", str(path), allow_local_paths=True)

    def no_second_parse(self: Any) -> Any:
        raise AssertionError("the cache should have decided once the ETag was known")

    monkeypatch.setattr(sandbox.PendingParse, "result", no_second_parse)
    again = projects.register_project(services, "acme", str(path), allow_local_paths=True)
    assert (again.etag, again.row_count) == (first.etag, 5)
    assert list((services.settings.home / "tmp").iterdir()) == []  # the speculative parse was stopped and removed


def test_refresh_of_a_vanished_source_says_so_and_marks_the_project(services, write_file) -> None:
    path = write_file("ledger.csv", LEDGER_CSV)
    projects.register_project(services, "acme", str(path), allow_local_paths=True)
    path.unlink()
    with pytest.raises(ObjectNotFoundError, match="delete the project"):
        projects.refresh_project(services, "acme")
    assert projects.get_project(services, "acme").status == "source missing"


def test_deleting_a_project_deletes_its_aliases(services, write_file) -> None:
    projects.register_project(services, "acme", str(write_file("ledger.csv", LEDGER_CSV)), allow_local_paths=True)
    projects.delete_project(services, "acme")
    assert _alias_count(services) == 0
    with pytest.raises(ProjectNotFoundError):
        projects.get_project(services, "acme")


def test_deleting_an_unknown_project_says_how_to_list_projects(services) -> None:
    with pytest.raises(ProjectNotFoundError, match="python -m finlib projects"):
        projects.delete_project(services, "nope")


def test_upload_without_s3_goes_to_the_local_store_under_the_prefix(services) -> None:
    info = projects.upload_project(services, "acme2", "ledger.csv", LEDGER_CSV.encode())
    assert info.source.startswith("store://uploads/acme2/")
    assert info.row_count == 5


def test_a_failed_upload_leaves_no_stored_file_and_no_project(services) -> None:
    with pytest.raises(MissingColumnsError):
        projects.upload_project(services, "acme2", "broken.csv", BROKEN_CSV.encode())
    assert projects.list_projects(services) == []
    assert not any(p.is_file() for p in services.settings.store_dir.rglob("*"))


def test_an_upload_with_an_explicit_mapping_reads_headers_detection_misses_and_keeps_the_mapping(services) -> None:
    data = b"Partner,Tag,Wert\nACME Corp,2026-01-05,100.00\nBeta LLC,2026-01-20,50.00\n"
    mapping = {"Partner": "customer_name", "Tag": "invoice_date", "Wert": "total_amount"}
    with pytest.raises(MissingColumnsError):
        projects.upload_project(services, "german", "german.csv", data)
    info = projects.upload_project(services, "german", "german.csv", data, mapping=mapping)
    assert info.row_count == 2
    assert info.column_mapping == mapping
    assert projects.refresh_project(services, "german")[0].column_mapping == mapping


def test_demo_project_is_created_once_when_there_are_no_projects(services) -> None:
    info = projects.ensure_demo_project(services)
    assert info is not None and info.name == "demo"
    assert 20 <= info.customer_count <= 40
    assert info.rejected_count == 0
    assert projects.ensure_demo_project(services) is None


def test_registering_from_s3_records_the_etag_and_loads_from_cache_afterwards(
    s3_settings: Settings, s3_client: Any
) -> None:
    services = projects.Services(s3_settings)
    client = s3_client
    bucket = s3_settings.aws_s3_bucket
    client.put_object(Bucket=bucket, Key="exports/ar-2025.csv", Body=LEDGER_CSV.encode())
    info = projects.register_project(services, "acme", f"s3://{bucket}/exports/ar-2025.csv")
    assert info.etag == client.head_object(Bucket=bucket, Key="exports/ar-2025.csv")["ETag"].strip('"')
    client.delete_object(Bucket=bucket, Key="exports/ar-2025.csv")
    # The parse cache is keyed by ETag: loading needs neither the object nor a parse.
    assert len(projects.load_project(services, "acme").ledger) == 5


def test_every_new_read_of_an_s3_source_stores_the_figures_its_parse_child_computed(
    s3_settings: Settings, s3_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registration, refresh and a saved mapping each parse anew; the child computes the figures meanwhile."""
    from finlib import summaries
    from finlib.ingest.parsing import parse_ledger

    kept: list[bool] = []
    keep_figures = summaries.keep_figures

    def recording(*args: Any, **kwargs: Any) -> None:
        kept.append(args[4] is not None)  # the figures' bytes from the parse child, or None (computed here)
        keep_figures(*args, **kwargs)

    monkeypatch.setattr(summaries, "keep_figures", recording)
    services = projects.Services(s3_settings)
    bucket = s3_settings.aws_s3_bucket
    s3_client.put_object(Bucket=bucket, Key="exports/ar.csv", Body=LEDGER_CSV.encode())
    projects.register_project(services, "acme", f"s3://{bucket}/exports/ar.csv")
    grown = LEDGER_CSV + "Gamma Ltd,2026-03-20,INV-6,900.00,,Omar Khan\n"
    s3_client.put_object(Bucket=bucket, Key="exports/ar.csv", Body=grown.encode())
    info, changed = projects.refresh_project(services, "acme")
    assert changed
    info = projects.save_mapping(services, "acme", {"Sales Manager": "service_type"})
    assert kept == [True, True, True]
    stored = summaries.read_summary(s3_settings, info.source, info.etag, info.column_mapping)
    path = s3_settings.home / "grown.csv"
    path.write_text(grown, encoding="utf-8")
    ledger = parse_ledger(path, settings=s3_settings, mapping={"Sales Manager": "service_type"})[0]
    assert stored == summaries.compute_summary(ledger, s3_settings)
    services.engine.dispose()


def test_registering_a_missing_s3_object_is_a_clear_error_and_stores_nothing(s3_settings: Settings) -> None:
    services = projects.Services(s3_settings)
    with pytest.raises(ObjectNotFoundError):
        projects.register_project(services, "acme", f"s3://{s3_settings.aws_s3_bucket}/missing.xlsx")
    assert projects.list_projects(services) == []


def test_a_bucket_outside_the_allow_list_is_refused(s3_settings: Settings) -> None:
    services = projects.Services(s3_settings)
    with pytest.raises(SourceNotAllowedError):
        projects.register_project(services, "acme", "s3://someone-elses-bucket/ledger.csv")


def test_upload_with_s3_configured_stores_the_file_in_the_bucket(s3_settings: Settings, s3_client: Any) -> None:
    services = projects.Services(s3_settings)
    info = projects.upload_project(services, "acme2", "ledger.csv", LEDGER_CSV.encode())
    bucket = s3_settings.aws_s3_bucket
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert len(keys) == 1 and keys[0].startswith("uploads/acme2/")
    assert info.source == f"s3://{bucket}/{keys[0]}"


def _stored_files(settings: Settings) -> list[Path]:
    return [p for p in settings.store_dir.rglob("*") if p.is_file()]


def _cached_ledgers(settings: Settings) -> list[Path]:
    return [p for p in (settings.cache_dir / "parsed").rglob("*") if p.is_file()]


def test_deleting_an_uploaded_project_removes_its_stored_file_and_cached_ledger(services) -> None:
    projects.upload_project(services, "acme2", "ledger.csv", LEDGER_CSV.encode())
    assert _stored_files(services.settings) and _cached_ledgers(services.settings)
    projects.delete_project(services, "acme2")
    assert _stored_files(services.settings) == []
    assert _cached_ledgers(services.settings) == []


def test_a_new_upload_replaces_the_previous_stored_file(services) -> None:
    projects.upload_project(services, "acme2", "ledger.csv", LEDGER_CSV.encode())
    info = projects.upload_project(services, "acme2", "ledger.csv", CHANGED_CSV.encode())
    stored = _stored_files(services.settings)
    assert len(stored) == 1 and info.source.endswith(stored[0].name)
    assert len(_cached_ledgers(services.settings)) == 3  # a frame, a report and its figures, of the new version


def test_deleting_a_project_registered_from_a_local_file_leaves_that_file_alone(services, write_file) -> None:
    path = write_file("ledger.csv", LEDGER_CSV)
    projects.register_project(services, "acme", str(path), allow_local_paths=True)
    projects.delete_project(services, "acme")
    assert path.read_text(encoding="utf-8") == LEDGER_CSV


def test_the_web_app_cannot_register_another_projects_stored_upload(services) -> None:
    other = projects.upload_project(services, "acme2", "ledger.csv", LEDGER_CSV.encode())
    with pytest.raises(SourceNotAllowedError, match="upload the file instead"):
        projects.register_project(services, "thief", other.source)


def test_a_changed_default_terms_setting_is_not_served_a_stale_parse(make_settings, database_url, write_file) -> None:
    path = write_file("ledger.csv", LEDGER_CSV)
    first = projects.Services(make_settings(DATABASE_URL=database_url))
    projects.register_project(first, "acme", str(path), allow_local_paths=True)
    due_30 = projects.load_project(first, "acme").ledger["due_date"].iloc[0]
    second = projects.Services(make_settings(DATABASE_URL=database_url, DEFAULT_TERMS_DAYS="60"))
    due_60 = projects.load_project(second, "acme").ledger["due_date"].iloc[0]
    assert (due_60 - due_30).days == 30


def test_deleting_an_s3_upload_removes_the_object_but_never_a_users_own_export(
    s3_settings: Settings, s3_client
) -> None:
    services = projects.Services(s3_settings)
    client, bucket = s3_client, s3_settings.aws_s3_bucket
    client.put_object(Bucket=bucket, Key="exports/ar.csv", Body=LEDGER_CSV.encode())
    projects.register_project(services, "acme", f"s3://{bucket}/exports/ar.csv")
    projects.upload_project(services, "acme2", "ledger.csv", LEDGER_CSV.encode())
    projects.delete_project(services, "acme")
    projects.delete_project(services, "acme2")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["exports/ar.csv"]


def test_a_saved_mapping_gives_the_project_a_new_version_so_no_cache_serves_the_old_read(services, write_file) -> None:
    path = write_file("ledger.csv", LEDGER_CSV)
    first = projects.register_project(services, "acme", str(path), allow_local_paths=True)
    saved = projects.save_mapping(services, "acme", {"Sales Manager": "service_type"})
    assert saved.etag == first.etag
    assert saved.version != first.version
    ledger = projects.load_project(services, "acme").ledger
    assert set(ledger["service_type"]) == {"Jane Doe", "Omar Khan"}
    assert ledger["sales_manager"].isna().all()


def test_ignoring_a_column_in_the_saved_mapping_stops_it_being_read(services, write_file) -> None:
    text = "Customer,Invoice Date,Due Date,Amount\nAcme,2026-01-01,2026-07-01,100\nAcme,2026-02-01,2026-08-01,50\n"
    projects.register_project(services, "terms", str(write_file("terms.csv", text)), allow_local_paths=True)
    projects.save_mapping(services, "terms", {"Due Date": ""})
    ledger = projects.load_project(services, "terms").ledger
    assert list(ledger["due_date"] - ledger["invoice_date"]) == [pd.Timedelta(days=30)] * 2  # DEFAULT_TERMS_DAYS


def test_deleting_a_project_removes_every_cached_read_of_it_including_older_mappings(services, write_file) -> None:
    projects.register_project(services, "acme", str(write_file("ledger.csv", LEDGER_CSV)), allow_local_paths=True)
    projects.save_mapping(services, "acme", {"Sales Manager": "service_type"})
    assert len(_cached_ledgers(services.settings)) == 6  # two reads, each a frame, a report and its figures
    projects.delete_project(services, "acme")
    assert _cached_ledgers(services.settings) == []


def test_messages_about_an_upload_name_the_file_as_the_user_named_it(services) -> None:
    with pytest.raises(MissingColumnsError):
        projects.upload_project(services, "acme2", "march-ledger.csv", BROKEN_CSV.encode())
    info = projects.upload_project(services, "acme2", "march-ledger.csv", LEDGER_CSV.encode())
    for path in services.settings.store_dir.rglob("*"):
        if path.is_file():
            path.unlink()
    with pytest.raises(ObjectNotFoundError) as gone:
        projects.refresh_project(services, "acme2")
    assert str(gone.value) == (
        "The uploaded file of project 'acme2' is no longer in the store. Upload it again, or delete the project."
    )
    assert projects.get_project(services, "acme2").last_error == str(gone.value)
    assert info.source.endswith("-march-ledger.csv")


def test_a_parse_error_of_an_upload_names_the_uploaded_file(services) -> None:
    fake = b"this is not a spreadsheet"
    with pytest.raises(ParseError) as refused:
        projects.upload_project(services, "acme2", "march.xlsx", fake)
    assert "march.xlsx" in str(refused.value)
    assert not re.search(r"[0-9a-f]{16}-", str(refused.value))


def test_the_app_can_ask_whether_a_delete_removes_the_file_behind_a_project(services, write_file) -> None:
    projects.upload_project(services, "uploaded", "ledger.csv", LEDGER_CSV.encode())
    projects.register_project(services, "registered", str(write_file("own.csv", LEDGER_CSV)), allow_local_paths=True)
    assert projects.deletes_stored_copy(services, "uploaded")
    assert not projects.deletes_stored_copy(services, "registered")
    assert not projects.deletes_stored_copy(services, "missing")


def test_an_uploaded_source_is_labelled_by_its_file_name_and_others_as_given(services, write_file) -> None:
    uploaded = projects.upload_project(services, "uploaded", "march ledger.csv", LEDGER_CSV.encode())
    path = write_file("own.csv", LEDGER_CSV)
    registered = projects.register_project(services, "registered", str(path), allow_local_paths=True)
    assert projects.source_label(services.settings, uploaded) == "Uploaded file march ledger.csv"
    assert projects.source_label(services.settings, registered) == str(path)


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("AR Export 2025.xlsx", "AR-Export-2025"),
        ("...csv", "ledger"),
        ("Müller AR.csv", "M-ller-AR"),
        ("x" * 80 + ".csv", "x" * 63),
    ],
)
def test_a_project_name_is_suggested_from_the_file_name(filename: str, name: str) -> None:
    from finlib.uploads import suggest_project_name

    assert suggest_project_name(filename) == name
    assert projects.validate_project_name(name) == name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Customer,Invoice Date,Amount\n,,\nTotal,,150.00\n",
            r"has no invoice rows: every row below the header was skipped \(Skipped 1 empty rows\. Skipped 1 total",
        ),
        (
            "Customer,Invoice Date,Amount\nAcme,2024-01-05,100\nBeta,2024-01-06,5\nGamma,2099-01-01,7\n",
            None,
        ),
        (
            "Customer,Invoice Date,Amount\nAcme,2024-03-05,inf\nBeta,2024-03-06,1e300\n",
            r"No invoice rows could be read from only\.csv: all 2 rows were rejected \(e\.g\. row 2: amount",
        ),
    ],
)
def test_a_file_without_one_usable_row_is_refused_saying_why(services, write_file, text, message) -> None:
    path = write_file("only.csv", text)
    if message is None:
        assert projects.register_project(services, "only", str(path), allow_local_paths=True).row_count == 2
        return
    with pytest.raises(ParseError, match=message):
        projects.register_project(services, "only", str(path), allow_local_paths=True)
    assert projects.list_projects(services) == []


def test_a_project_whose_kept_read_is_gone_is_read_again_and_every_name_it_finds_gets_an_alias(
    services, write_file
) -> None:
    # As an older version of the code left it: a read without Gamma Ltd's row, a failed refresh on record.
    projects.register_project(services, "p", str(write_file("ledger.csv", CHANGED_CSV)), allow_local_paths=True)
    with db.session_scope(services.engine) as session:
        session.execute(db.Alias.__table__.delete().where(db.Alias.real_name == "Gamma Ltd"))
        row = session.scalar(select(db.Project).where(db.Project.name == "p"))
        row.row_count, row.customer_count, row.status, row.last_error = 5, 2, "refresh failed", "S3 was down"
    for path in _cached_ledgers(services.settings):
        path.unlink()

    loaded = projects.load_project(services, "p")

    gamma = loaded.ledger[loaded.ledger["customer_name"] == "Gamma Ltd"]
    assert len(gamma) == 1 and gamma["customer_alias"].str.match(r"^CUST-[0-9A-Z]{8}$").all()
    assert "Gamma Ltd" in loaded.aliases.real_names()
    info = projects.get_project(services, "p")
    assert (info.row_count, info.customer_count) == (6, 3)
    assert (info.status, info.last_error) == ("refresh failed", "S3 was down")
