"""Sources: which source strings are accepted, and the bucket and key they name (no client is involved)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from finlib.config import Settings
from finlib.errors import SourceNotAllowedError
from finlib.ingest.sources import LocalStoreKey, S3Location, parse_source, source_uri

ENDPOINT = "http://127.0.0.1:9000"


@pytest.fixture
def allow_ledgers(make_settings: Callable[..., Settings]) -> Settings:
    """Settings allowing the buckets 'ledgers' and 'exports.archive' behind an S3-compatible endpoint."""
    return make_settings(AWS_S3_BUCKET="ledgers", S3_ALLOWED_BUCKETS="exports.archive", AWS_ENDPOINT_URL=ENDPOINT)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("s3://ledgers/exports/ar-2025.xlsx", S3Location("ledgers", "exports/ar-2025.xlsx")),
        ("  s3://ledgers/ar.csv  ", S3Location("ledgers", "ar.csv")),
        ("s3://exports.archive/2025/ar.xls", S3Location("exports.archive", "2025/ar.xls")),
        ("https://ledgers.s3.amazonaws.com/exports/ar.xlsx", S3Location("ledgers", "exports/ar.xlsx")),
        ("https://ledgers.s3.eu-west-1.amazonaws.com/ar%202025.xlsx", S3Location("ledgers", "ar 2025.xlsx")),
        ("https://ledgers.s3-eu-west-1.amazonaws.com/ar.csv", S3Location("ledgers", "ar.csv")),
        ("https://s3.eu-west-1.amazonaws.com/ledgers/exports/ar.csv", S3Location("ledgers", "exports/ar.csv")),
        ("https://s3.amazonaws.com/ledgers/ar.csv", S3Location("ledgers", "ar.csv")),
        ("https://exports.archive.s3.amazonaws.com/ar.csv", S3Location("exports.archive", "ar.csv")),
        ("HTTPS://LEDGERS.S3.AMAZONAWS.COM/Ar.CSV", S3Location("ledgers", "Ar.CSV")),
        (f"{ENDPOINT}/ledgers/exports/ar.xlsx", S3Location("ledgers", "exports/ar.xlsx")),
        ("http://127.0.0.1:9000/ledgers/ar.xlsx?X-Amz-Signature=abc", S3Location("ledgers", "ar.xlsx")),
        ("store://uploads/acme/ledger.xlsx", LocalStoreKey("uploads/acme/ledger.xlsx")),
    ],
)
def test_supported_source_forms_parse_into_bucket_and_key(
    allow_ledgers: Settings, source: str, expected: S3Location | LocalStoreKey
) -> None:
    # store:// names objects finlib uploaded itself: trusted callers only (see the refusal test below).
    assert parse_source(source, allow_ledgers, allow_local_paths=source.startswith("store:")) == expected


@pytest.mark.parametrize(
    ("source", "filename"),
    [
        ("https://ledgers.s3.amazonaws.com/exports/ar.csv?response-content-type=application/xlsx", "ar.csv"),
        ("https://ledgers.s3.amazonaws.com/exports/ar.xlsx?name=x.csv#sheet.csv", "ar.xlsx"),
        ("s3://ledgers/folder/ar%20march.xls", "ar march.xls"),
        ("store://uploads/acme/ledger.csv", "ledger.csv"),
    ],
)
def test_query_strings_and_fragments_never_change_the_file_name(
    allow_ledgers: Settings, source: str, filename: str
) -> None:
    location = parse_source(source, allow_ledgers, allow_local_paths=source.startswith("store:"))
    assert isinstance(location, S3Location | LocalStoreKey)
    assert location.filename == filename


@pytest.mark.parametrize(
    "location",
    [
        S3Location("ledgers", "exports/ar 2025 (final).xlsx"),
        S3Location("ledgers", "a/b%20c?.csv"),
        S3Location("exports.archive", "été/ä#1.csv"),
        LocalStoreKey("uploads/acme/my ledger.xlsx"),
    ],
)
def test_a_locations_uri_parses_back_to_the_same_location(
    allow_ledgers: Settings, location: S3Location | LocalStoreKey
) -> None:
    assert parse_source(location.uri, allow_ledgers, allow_local_paths=True) == location


@pytest.mark.parametrize(
    "source",
    [
        "",
        "s3://other-bucket/ar.csv",
        "https://other-bucket.s3.amazonaws.com/ar.csv",
        "https://s3.amazonaws.com/other-bucket/ar.csv",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://169.254.169.254/ledgers/ar.csv",
        "file:///etc/passwd",
        "file://ledgers/ar.csv",
        "ftp://ledgers/ar.csv",
        "javascript:alert(1)",
        "s3:///ar.csv",
        "s3://ledgers",
        "s3://ledgers/",
        "s3://ledgers/exports/",
        "s3://ledgers/../other-bucket/ar.csv",
        "s3://ledgers/exports/%2e%2e/%2e%2e/ar.csv",
        "s3://ledgers/a//b.csv",
        "s3://ledgers/a%00.csv",
        "https://s3.amazonaws.com/ledgers%2F..%2Fother-bucket/ar.csv",
        "https://ledgers.s3.amazonaws.com@evil.example/ar.csv",
        "https://user:pw@ledgers.s3.amazonaws.com/ar.csv",
        "https://ledgers.s3.amazonaws.com.evil.example/ar.csv",
        "https://evil.example/ledgers/ar.csv",
        "https://ledgers.s3.amazonaws.com:8443/ar.csv",
        "http://127.0.0.1:9001/ledgers/ar.csv",
        "http://localhost:9000/ledgers/ar.csv",
        "http://127.0.0.1:notaport/ledgers/ar.csv",
        "store://../secrets.txt",
        "store:///etc/passwd",
        "store://uploads/other-project/ledger.csv",
        "s3://ledgers//ar.csv",
        "/etc/passwd",
        "./ledgers/march.csv",
        "C:\\ledgers\\march.csv",
    ],
)
def test_anything_outside_the_allowed_buckets_is_refused(allow_ledgers: Settings, source: str) -> None:
    with pytest.raises(SourceNotAllowedError) as refused:
        parse_source(source, allow_ledgers)
    message = str(refused.value)
    assert "S3_ALLOWED_BUCKETS" in message
    assert "exports.archive, ledgers" in message


def test_store_locations_are_for_trusted_callers_only(allow_ledgers: Settings) -> None:
    with pytest.raises(SourceNotAllowedError, match="internal; upload the file instead"):
        parse_source("store://uploads/other-project/ledger.csv", allow_ledgers)
    trusted = parse_source("store://uploads/other-project/ledger.csv", allow_ledgers, allow_local_paths=True)
    assert trusted == LocalStoreKey("uploads/other-project/ledger.csv")


def test_the_refusal_never_echoes_a_query_string(allow_ledgers: Settings) -> None:
    with pytest.raises(SourceNotAllowedError) as refused:
        parse_source("https://other.s3.amazonaws.com/ar.csv?X-Amz-Credential=AKIASECRET", allow_ledgers)
    assert "AKIASECRET" not in str(refused.value)


def test_with_no_bucket_configured_the_refusal_says_none_are_allowed(settings: Settings) -> None:
    with pytest.raises(SourceNotAllowedError, match="none configured"):
        parse_source("s3://ledgers/ar.csv", settings)


def test_local_paths_are_accepted_only_when_the_caller_allows_them(settings: Settings, tmp_path: Path) -> None:
    ledger = tmp_path / "ledgers" / "march.csv"
    assert parse_source(str(ledger), settings, allow_local_paths=True) == ledger
    with pytest.raises(SourceNotAllowedError, match="upload"):
        parse_source(str(ledger), settings)
    with pytest.raises(SourceNotAllowedError):
        parse_source(f"file://{ledger}", settings, allow_local_paths=True)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (S3Location("ledgers", "a b.csv"), "s3://ledgers/a%20b.csv"),
        (LocalStoreKey("uploads/acme/a.csv"), "store://uploads/acme/a.csv"),
        (Path("/srv/ledgers/a.csv"), "/srv/ledgers/a.csv"),
    ],
)
def test_source_uri_is_what_a_project_records(source: S3Location | LocalStoreKey | Path, expected: str) -> None:
    assert source_uri(source) == expected
