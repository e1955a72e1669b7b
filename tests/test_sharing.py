"""Several app processes, one truth: two Services with their own data homes on one PostgreSQL and one bucket."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers.ledgers import LEDGER_CSV
from sqlalchemy import func, select

from finlib import db, projects, reports, summaries
from finlib.config import Settings
from finlib.errors import SourceNotAllowedError
from finlib.ingest import sandbox, storage

GROWN_CSV = LEDGER_CSV + "Gamma Ltd,2026-03-20,INV-6,900.00,,Omar Khan\n"


@pytest.fixture
def bucket(s3_settings: Settings) -> str:
    return str(s3_settings.aws_s3_bucket)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts of the parses (a parser child's result collected) and source fetches this test process makes."""
    counts = {"parses": 0, "fetches": 0}
    parse, fetch = sandbox.PendingParse.result, storage.fetch_source

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        counts["parses"] += 1
        return parse(*args, **kwargs)

    def counting_fetch(*args: Any, **kwargs: Any) -> Any:
        counts["fetches"] += 1
        return fetch(*args, **kwargs)

    monkeypatch.setattr(sandbox.PendingParse, "result", counting_parse)
    monkeypatch.setattr(storage, "fetch_source", counting_fetch)
    return counts


def bucket_keys(client: Any, bucket: str) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_a_project_uploaded_by_one_process_is_served_by_another_without_a_fetch_or_a_parse(
    make_shared_services, counted, s3_client, bucket
) -> None:
    first, second = make_shared_services("a"), make_shared_services("b")
    projects.upload_project(first, "acme", "march.csv", GROWN_CSV.encode())
    assert counted == {"parses": 1, "fetches": 1}

    assert [p.name for p in projects.list_projects(second)] == ["acme"]
    mine, theirs = projects.load_project(first, "acme"), projects.load_project(second, "acme")
    assert counted == {"parses": 1, "fetches": 1}  # the second process neither fetched nor parsed
    pd.testing.assert_frame_equal(theirs.ledger, mine.ledger)
    assert theirs.report == mine.report
    assert reports.stats_report(theirs, second.settings) == reports.stats_report(mine, first.settings)
    assert counted == {"parses": 1, "fetches": 1}


def test_the_shared_entry_is_one_parquet_object_under_the_cache_prefix_and_no_temporary_key_is_left(
    make_shared_services, s3_client, bucket
) -> None:
    first = make_shared_services("a")
    projects.upload_project(first, "acme", "march.csv", GROWN_CSV.encode())
    keys = bucket_keys(s3_client, bucket)
    ledgers = [key for key in keys if key.endswith(".parquet")]
    assert len(ledgers) == 1 and ledgers[0].startswith("cache/parsed/")
    assert len([key for key in keys if ".summary-" in key]) == 1
    assert not [key for key in keys if ".part-" in key]
    table = pq.read_table(io.BytesIO(s3_client.get_object(Bucket=bucket, Key=ledgers[0])["Body"].read()))
    assert sorted(set(table.column("customer_name").to_pylist())) == ["ACME Corp", "Beta LLC", "Gamma Ltd"]


def test_stats_in_a_second_process_read_the_shared_figures_without_the_ledger(make_shared_services, counted) -> None:
    first, second = make_shared_services("a"), make_shared_services("b")
    projects.upload_project(first, "acme", "march.csv", GROWN_CSV.encode())
    theirs = summaries.load_summary(second, "acme")
    assert theirs.summary == summaries.load_summary(first, "acme").summary
    assert counted == {"parses": 1, "fetches": 1}
    cached = [p.name for p in (second.settings.cache_dir / "parsed").rglob("*") if p.is_file()]
    assert len(cached) == 1 and ".summary-" in cached[0]  # the figures, not the ledger, were read


def test_a_second_process_serves_a_project_whose_source_is_gone(make_shared_services, s3_client, bucket) -> None:
    first, second = make_shared_services("a"), make_shared_services("b")
    s3_client.put_object(Bucket=bucket, Key="exports/ar.csv", Body=GROWN_CSV.encode())
    projects.register_project(first, "acme", f"s3://{bucket}/exports/ar.csv")
    s3_client.delete_object(Bucket=bucket, Key="exports/ar.csv")
    assert len(projects.load_project(second, "acme").ledger) == 6


def test_without_the_shared_cache_a_second_process_must_fetch_and_parse(
    make_shared_services, counted, s3_client, bucket
):
    first, second = make_shared_services("a"), make_shared_services("b")
    projects.upload_project(first, "acme", "march.csv", GROWN_CSV.encode())
    for key in bucket_keys(s3_client, bucket):
        if key.startswith("cache/"):
            s3_client.delete_object(Bucket=bucket, Key=key)
    projects.load_project(second, "acme")
    assert counted == {"parses": 2, "fetches": 2}  # the counts can see a parse in the second process


def test_the_parse_cache_in_the_bucket_cannot_be_registered_as_a_source(
    make_shared_services, s3_client, bucket
) -> None:
    first = make_shared_services("a")
    projects.upload_project(first, "acme", "march.csv", GROWN_CSV.encode())
    entry = next(key for key in bucket_keys(s3_client, bucket) if key.endswith(".parquet"))
    with pytest.raises(SourceNotAllowedError, match="parse cache"):
        projects.register_project(first, "thief", f"s3://{bucket}/{entry}")


def test_two_processes_registering_one_name_at_once_end_with_one_consistent_project(make_shared_services) -> None:
    first, second = make_shared_services("a"), make_shared_services("b")
    contents = [(first, LEDGER_CSV), (second, GROWN_CSV)] * 3

    def upload(job: tuple[projects.Services, str]) -> projects.ProjectInfo:
        services, text = job
        return projects.upload_project(services, "shared", "ledger.csv", text.encode())

    with ThreadPoolExecutor(max_workers=len(contents)) as pool:
        list(pool.map(upload, contents))
    with db.session_scope(first.engine) as session:
        assert session.scalar(select(func.count()).select_from(db.Project)) == 1
    info = projects.get_project(first, "shared")
    assert (info.row_count, info.customer_count) in {(5, 2), (6, 3)}
    for services in (first, second):
        loaded = projects.load_project(services, "shared")
        assert (loaded.info.etag, len(loaded.ledger)) == (info.etag, info.row_count)
        assert loaded.ledger["customer_key"].nunique() == info.customer_count
        assert loaded.ledger["customer_alias"].notna().all()
