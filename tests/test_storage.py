"""Storage: which sources are accepted, the S3 and local stores over real HTTP and disk, the ETag download cache."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from finlib.config import Settings
from finlib.errors import ObjectNotFoundError, SourceNotAllowedError, StorageError
from finlib.ingest.storage import (
    LocalStore,
    LocalStoreKey,
    S3Location,
    S3Store,
    fetch_source,
    make_s3_client,
    open_store,
    safe_filename,
    upload_key,
    upload_object,
)

ENDPOINT = "http://127.0.0.1:9000"
LEDGER = b"Customer,Invoice Date,Amount\nACME Corp,2025-01-31,1200.00\n"


@pytest.fixture
def allow_ledgers(make_settings: Callable[..., Settings]) -> Settings:
    """Settings allowing the buckets 'ledgers' and 'exports.archive' behind an S3-compatible endpoint."""
    return make_settings(AWS_S3_BUCKET="ledgers", S3_ALLOWED_BUCKETS="exports.archive", AWS_ENDPOINT_URL=ENDPOINT)


def refuse_requests() -> Any:
    raise AssertionError("a refused source must not create a client or make a request")


def counting_client_factory(settings: Settings, calls: list[str]) -> Callable[[], Any]:
    """make_s3_client, recording the name of every S3 operation the client calls."""

    def factory() -> Any:
        client = make_s3_client(settings)
        client.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
        return client

    return factory


@pytest.mark.parametrize(
    "source",
    ["s3://other-bucket/ar.csv", "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd", "/etc/passwd"],
)
def test_fetch_source_refuses_a_source_before_creating_a_client(allow_ledgers: Settings, source: str) -> None:
    with pytest.raises(SourceNotAllowedError, match="S3_ALLOWED_BUCKETS"):
        fetch_source(source, allow_ledgers, refuse_requests)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ledger.xlsx", "ledger.xlsx"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\AR March.csv", "AR March.csv"),
        ("..", "upload"),
        ("", "upload"),
        ("ar;rm -rf $HOME.csv", "ar_rm -rf _HOME.csv"),
        ("Ｌｅｄｇｅｒ.csv", "Ledger.csv"),
        ("a" * 300 + ".xlsx", "a" * 115 + ".xlsx"),
    ],
)
def test_safe_filename_keeps_only_a_plain_last_segment(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_uploads_go_under_the_prefix_and_the_project_name(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(S3_UPLOAD_PREFIX="team/in")
    assert upload_key(settings, "acme", "../AR 2025.xlsx") == "team/in/acme/AR 2025.xlsx"
    assert upload_key(settings, "../../x", "a.csv") == "team/in/x/a.csv"


def test_the_s3_client_uses_standard_retries_explicit_timeouts_and_the_settings(s3_settings: Settings) -> None:
    client = make_s3_client(s3_settings)
    assert client.meta.config.retries["mode"] == "standard"
    assert client.meta.config.retries["total_max_attempts"] == 2  # the first attempt and one retry
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (3, 10)
    assert s3_settings.s3_deadline_s == 26.0  # 2 attempts x (3 s to connect + 10 s without a byte)
    assert client.meta.endpoint_url == s3_settings.aws_endpoint_url
    assert client.meta.region_name == "us-east-1"


def test_open_store_picks_s3_when_a_bucket_is_configured_else_the_local_store(
    settings: Settings, s3_settings: Settings
) -> None:
    assert isinstance(open_store(s3_settings), S3Store)
    local = open_store(settings, refuse_requests)
    assert isinstance(local, LocalStore) and local.root == settings.store_dir


def test_an_upload_to_s3_can_be_fetched_back_with_its_etag(s3_settings: Settings) -> None:
    location = upload_object(s3_settings, "acme", "AR March.csv", LEDGER)

    assert location == S3Location(s3_settings.aws_s3_bucket or "", "uploads/acme/AR March.csv")
    fetched = fetch_source(location.uri, s3_settings)
    assert fetched.path.read_bytes() == LEDGER
    assert fetched.etag == hashlib.md5(LEDGER).hexdigest()
    assert (fetched.size, fetched.filename) == (len(LEDGER), "AR March.csv")
    assert fetched.path.is_relative_to(s3_settings.cache_dir / "downloads")
    assert fetched.path.suffix == ".csv"


def test_an_unchanged_object_is_downloaded_only_once(s3_settings: Settings) -> None:
    location = upload_object(s3_settings, "acme", "ledger.csv", LEDGER)
    calls: list[str] = []
    factory = counting_client_factory(s3_settings, calls)

    first = fetch_source(location.uri, s3_settings, factory)
    second = fetch_source(location, s3_settings, factory)

    assert first == second
    assert calls == ["HeadObject", "GetObject", "HeadObject"]


def test_a_changed_object_is_downloaded_again(s3_settings: Settings) -> None:
    location = upload_object(s3_settings, "acme", "ledger.csv", LEDGER)
    first = fetch_source(location, s3_settings)
    upload_object(s3_settings, "acme", "ledger.csv", LEDGER + b"Globex,2025-02-28,300.00\n")

    second = fetch_source(location, s3_settings)

    assert second.etag != first.etag and second.path != first.path
    assert second.path.read_bytes().endswith(b"300.00\n")
    assert first.path.read_bytes() == LEDGER


def test_an_https_url_on_the_configured_endpoint_is_fetched_with_boto3(s3_settings: Settings) -> None:
    location = upload_object(s3_settings, "acme", "ledger.csv", LEDGER, lambda: make_s3_client(s3_settings))
    url = f"{s3_settings.aws_endpoint_url}/{location.bucket}/{location.key}?ignored=1"
    assert fetch_source(url, s3_settings).path.read_bytes() == LEDGER


def test_a_bucket_from_the_allow_list_is_read_even_if_it_is_not_the_upload_bucket(
    s3_settings: Settings, s3_client: Any
) -> None:
    client = s3_client
    client.create_bucket(Bucket="finance-exports")
    client.put_object(Bucket="finance-exports", Key="2025/ar.csv", Body=LEDGER)
    settings = s3_settings.with_overrides(s3_allowed_buckets=("finance-exports",))

    assert fetch_source("s3://finance-exports/2025/ar.csv", settings).path.read_bytes() == LEDGER


def test_a_missing_object_is_object_not_found_naming_bucket_and_key(s3_settings: Settings) -> None:
    with pytest.raises(ObjectNotFoundError) as missing:
        fetch_source(f"s3://{s3_settings.aws_s3_bucket}/exports/absent.xlsx", s3_settings)
    assert s3_settings.aws_s3_bucket in str(missing.value)
    assert "exports/absent.xlsx" in str(missing.value)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_endpoint_that_is_down_is_a_quick_storage_error_saying_what_to_check(
    make_settings: Callable[..., Settings],
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    settings = make_settings(
        AWS_S3_BUCKET="ledgers",
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="k",
        AWS_SECRET_ACCESS_KEY="s",
        S3_CONNECT_TIMEOUT_S="1",
        S3_MAX_ATTEMPTS="1",
    )
    factory = counting_client_factory(settings, [])

    started = time.monotonic()
    with pytest.raises(StorageError) as failed:
        fetch_source("s3://ledgers/ar.csv", settings, factory)

    assert time.monotonic() - started < 5
    assert not isinstance(failed.value, ObjectNotFoundError)
    assert endpoint in str(failed.value) and "AWS_ENDPOINT_URL" in str(failed.value)
    assert failed.value.__cause__ is not None


def test_missing_credentials_are_a_storage_error_naming_the_variables(
    make_settings: Callable[..., Settings], s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Keep boto3's own credential chain (profiles, instance metadata) from finding this machine's credentials.
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings = make_settings(AWS_S3_BUCKET="ledgers", AWS_ENDPOINT_URL=s3_endpoint)

    with pytest.raises(StorageError, match="AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        fetch_source("s3://ledgers/ar.csv", settings)


class DenyEverything(http.server.BaseHTTPRequestHandler):
    """An S3-like endpoint that answers 403 AccessDenied to every request."""

    def _deny(self) -> None:
        body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_PUT = _deny

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def denying_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DenyEverything)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_access_denied_is_a_storage_error_pointing_at_the_credentials(
    make_settings: Callable[..., Settings], denying_endpoint: str
) -> None:
    settings = make_settings(
        AWS_S3_BUCKET="ledgers",
        AWS_ENDPOINT_URL=denying_endpoint,
        AWS_ACCESS_KEY_ID="wrong",
        AWS_SECRET_ACCESS_KEY="wrong",
    )
    with pytest.raises(StorageError, match="AWS_ACCESS_KEY_ID") as denied:
        fetch_source("s3://ledgers/ar.csv", settings)
    assert not isinstance(denied.value, ObjectNotFoundError)
    with pytest.raises(StorageError, match="Access denied"):
        upload_object(settings, "acme", "ar.csv", LEDGER)


def test_without_s3_uploads_go_to_the_local_store_and_are_fetched_in_place(settings: Settings) -> None:
    location = upload_object(settings, "acme", "ledger.csv", LEDGER, refuse_requests)

    assert location == LocalStoreKey("uploads/acme/ledger.csv")
    assert (settings.store_dir / "uploads" / "acme" / "ledger.csv").read_bytes() == LEDGER
    fetched = fetch_source(location.uri, settings, refuse_requests, allow_local_paths=True)
    assert fetched.path == settings.store_dir / "uploads" / "acme" / "ledger.csv"
    assert fetched.etag == hashlib.md5(LEDGER).hexdigest()


def test_an_upload_from_a_file_path_stores_the_files_bytes(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    source.write_bytes(LEDGER * 3)
    location = upload_object(settings, "acme", source.name, source)
    assert fetch_source(location, settings).path.read_bytes() == LEDGER * 3


def test_a_missing_local_store_object_is_object_not_found(settings: Settings) -> None:
    with pytest.raises(ObjectNotFoundError, match="upload the file again"):
        fetch_source("store://uploads/acme/absent.csv", settings, refuse_requests, allow_local_paths=True)


def test_the_local_store_refuses_keys_that_leave_its_folder(settings: Settings) -> None:
    store = LocalStore(settings.store_dir)
    with pytest.raises(SourceNotAllowedError):
        store.put("../outside.csv", LEDGER, "outside.csv")
    assert not (settings.home / "outside.csv").exists()


def test_the_local_store_download_copies_the_object(settings: Settings, tmp_path: Path) -> None:
    store = LocalStore(settings.store_dir)
    location = store.put("uploads/acme/a.csv", LEDGER, "a.csv")
    store.download(location, tmp_path / "copy.csv", etag=store.head(location).etag)
    assert (tmp_path / "copy.csv").read_bytes() == LEDGER
    with pytest.raises(StorageError, match="changed"):
        store.download(location, tmp_path / "copy.csv", etag="stale")


def test_a_local_path_is_read_in_place_with_the_md5_of_its_content(settings: Settings, tmp_path: Path) -> None:
    ledger = tmp_path / "march.csv"
    ledger.write_bytes(LEDGER)
    fetched = fetch_source(str(ledger), settings, refuse_requests, allow_local_paths=True)
    assert fetched.path == ledger
    assert (fetched.etag, fetched.size, fetched.filename) == (hashlib.md5(LEDGER).hexdigest(), len(LEDGER), "march.csv")


def test_a_missing_local_path_is_object_not_found(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFoundError, match="check the path"):
        fetch_source(str(tmp_path / "absent.csv"), settings, refuse_requests, allow_local_paths=True)


def test_a_parsed_local_path_is_refused_unless_local_paths_are_allowed(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(SourceNotAllowedError):
        fetch_source(tmp_path / "march.csv", settings, refuse_requests)


def test_deleting_an_s3_object_makes_it_missing_and_deleting_again_is_fine(s3_settings: Settings) -> None:
    store = open_store(s3_settings)
    location = store.put("uploads/acme/ledger.csv", LEDGER, "ledger.csv")
    store.delete(location)
    store.delete(location)
    with pytest.raises(ObjectNotFoundError):
        store.head(location)


def test_deleting_a_local_store_object_makes_it_missing_and_deleting_again_is_fine(settings: Settings) -> None:
    store = LocalStore(settings.store_dir)
    location = store.put("uploads/acme/ledger.csv", LEDGER, "ledger.csv")
    store.delete(location)
    store.delete(location)
    with pytest.raises(ObjectNotFoundError):
        store.head(location)


@pytest.fixture
def silent_endpoint() -> Any:
    """An endpoint that accepts connections and never answers (a hung proxy or a stopped S3 gateway)."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def test_an_endpoint_that_never_answers_fails_within_the_configured_deadline(
    make_settings: Callable[..., Settings], silent_endpoint: str
) -> None:
    settings = make_settings(
        AWS_S3_BUCKET="ledgers",
        AWS_ENDPOINT_URL=silent_endpoint,
        AWS_ACCESS_KEY_ID="k",
        AWS_SECRET_ACCESS_KEY="s",
        S3_READ_TIMEOUT_S="1",
    )
    started = time.monotonic()
    with pytest.raises(StorageError, match="Cannot reach the S3 endpoint"):
        fetch_source("s3://ledgers/ar.csv", settings, lambda: make_s3_client(settings))
    assert time.monotonic() - started < settings.s3_deadline_s + 3
