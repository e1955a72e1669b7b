"""Storage: the S3 and local object stores, uploads, and the ETag-keyed download cache behind ``fetch_source``.

Which source strings are accepted is decided in ``finlib.ingest.sources`` (re-exported here: one import).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from finlib.config import Settings
from finlib.errors import ObjectNotFoundError, SourceNotAllowedError, StorageError
from finlib.ingest.sources import (
    STORE_SCHEME,
    LocalStoreKey,
    Location,
    S3Location,
    Source,
    parse_source,
    refuse_source,
    source_uri,
)

__all__ = [
    "STORE_SCHEME",
    "FetchedFile",
    "LocalStore",
    "LocalStoreKey",
    "Location",
    "ObjectInfo",
    "ObjectStore",
    "S3Location",
    "S3Store",
    "Source",
    "fetch_source",
    "make_s3_client",
    "open_store",
    "parse_source",
    "safe_filename",
    "source_uri",
    "upload_key",
    "upload_object",
]

S3Client = Any  # boto3 clients are generated at run time; stubs are not a dependency

DOWNLOADS_DIR = "downloads"
CHUNK_BYTES = 1024 * 1024
MAX_FILENAME_CHARS = 120

_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._\- ]+")


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD tells us about an object."""

    etag: str
    size: int


@dataclass(frozen=True)
class FetchedFile:
    """A source available as a local file, with the version it was read at."""

    path: Path
    etag: str
    size: int
    filename: str


class ObjectStore(Protocol):
    """The object store uploads go to and sources are read from."""

    def head(self, location: Any) -> ObjectInfo:
        """ETag and size of an object; ObjectNotFoundError when missing."""

    def download(self, location: Any, dest: Path, etag: str | None = None) -> None:
        """Write the object's bytes to ``dest``."""

    def put(self, key: str, data: bytes | Path, filename: str) -> Location:
        """Store bytes (or a file's bytes) under ``key`` and return its location."""

    def delete(self, location: Any) -> None:
        """Remove an object; a missing object is not an error."""


def safe_filename(name: str) -> str:
    """A file name safe as the last segment of an object key (no folders, no odd characters)."""
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_FILENAME_CHARS.sub("_", base).strip(" .")
    if len(cleaned) > MAX_FILENAME_CHARS:
        stem, dot, suffix = cleaned.rpartition(".")
        keep = MAX_FILENAME_CHARS - len(suffix) - 1
        cleaned = stem[:keep] + dot + suffix if dot and 0 < len(suffix) <= 10 else cleaned[:MAX_FILENAME_CHARS]
    return cleaned or "upload"


def upload_key(settings: Settings, project: str, filename: str, content_digest: str = "") -> str:
    """Object key of an upload: ``S3_UPLOAD_PREFIX`` + project + "/" + [digest + "-"] + a safe file name.

    The content digest makes each version its own object, so storing a new upload never overwrites the file a
    project still points at (a failed re-registration must leave the previous one intact).
    """
    name = safe_filename(filename)
    return f"{settings.s3_upload_prefix}{safe_filename(project)}/{content_digest + '-' if content_digest else ''}{name}"


def make_s3_client(settings: Settings) -> S3Client:
    """A boto3 S3 client for the configured endpoint, region and credentials, with bounded waits and attempts.

    An endpoint that accepts connections but never answers fails a request after ``settings.s3_deadline_s``
    (by default 2 attempts x (3 s to connect + 10 s without a byte) = 26 s), not botocore's minutes.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": settings.s3_max_attempts},
        connect_timeout=settings.s3_connect_timeout_s,
        read_timeout=settings.s3_read_timeout_s,
    )
    return boto3.client(
        "s3",
        endpoint_url=settings.aws_endpoint_url,
        region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key,
        config=config,
    )


@contextmanager
def _s3_errors(action: str, location: S3Location, endpoint: str) -> Iterator[None]:
    from botocore import exceptions as boto_errors

    try:
        yield
    except boto_errors.ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket") or status == 404:
            raise ObjectNotFoundError(
                f"{location.uri} does not exist (bucket {location.bucket!r}, key {location.key!r}). "
                "Check the bucket and key, or upload the file again."
            ) from exc
        if code in ("403", "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch") or (
            status == 403
        ):
            raise StorageError(
                f"Access denied while trying to {action} {location.uri} ({code or status}). Check "
                "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and that they may read (and write) this bucket."
            ) from exc
        if code in ("412", "PreconditionFailed") or status == 412:
            raise StorageError(f"{location.uri} changed while it was being read; try again.") from exc
        raise StorageError(f"S3 refused to {action} {location.uri}: {code or status}.") from exc
    except (boto_errors.NoCredentialsError, boto_errors.PartialCredentialsError) as exc:
        raise StorageError(
            f"No usable AWS credentials to {action} {location.uri}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
        ) from exc
    except (boto_errors.ConnectionError, boto_errors.HTTPClientError) as exc:
        raise StorageError(
            f"Cannot reach the S3 endpoint {endpoint} to {action} {location.uri}. "
            "Check AWS_ENDPOINT_URL / AWS_REGION and the network, then try again."
        ) from exc
    except boto_errors.BotoCoreError as exc:
        raise StorageError(f"S3 failed to {action} {location.uri}: {exc}.") from exc


def _md5_of_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(dest: Path, write: Callable[[Any], None]) -> None:
    """Write through a temporary file in the same folder, so readers never see half a file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=dest.parent, prefix=".part-", delete=False)
    try:
        with handle:
            write(handle)
        os.replace(handle.name, dest)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


class S3Store:
    """Objects in S3 (or an S3-compatible endpoint); uploads go to ``bucket``."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self.endpoint = str(getattr(client.meta, "endpoint_url", "S3"))

    def head(self, location: S3Location) -> ObjectInfo:
        """ETag and size from a HEAD request."""
        with _s3_errors("read", location, self.endpoint):
            response = self.client.head_object(Bucket=location.bucket, Key=location.key)
        return ObjectInfo(etag=str(response["ETag"]).strip('"'), size=int(response["ContentLength"]))

    def download(self, location: S3Location, dest: Path, etag: str | None = None) -> None:
        """Stream the object to ``dest``; with ``etag``, only that version."""
        extra = {"IfMatch": f'"{etag}"'} if etag else {}

        def write(handle: Any) -> None:
            response = self.client.get_object(Bucket=location.bucket, Key=location.key, **extra)
            shutil.copyfileobj(response["Body"], handle, CHUNK_BYTES)

        with _s3_errors("download", location, self.endpoint):
            _write_atomically(dest, write)

    def put(self, key: str, data: bytes | Path, filename: str) -> S3Location:
        """Upload bytes or a file to ``bucket/key``."""
        location = S3Location(self.bucket, key)
        metadata = {"filename": quote(safe_filename(filename))}
        with _s3_errors("upload", location, self.endpoint):
            if isinstance(data, bytes):
                self.client.put_object(Bucket=self.bucket, Key=key, Body=data, Metadata=metadata)
            else:
                with data.open("rb") as body:  # streamed, not read into memory
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=body, Metadata=metadata)
        return location

    def delete(self, location: S3Location) -> None:
        """Delete the object (S3 answers success for a missing key too)."""
        with _s3_errors("delete", location, self.endpoint):
            self.client.delete_object(Bucket=location.bucket, Key=location.key)


class LocalStore:
    """Objects as files under ``root`` (the data home's store folder); ETag = MD5 of the content."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, location: LocalStoreKey) -> Path:
        """File holding the object; refuses keys that would leave the store folder."""
        root = self.root.resolve()
        path = (root / location.key).resolve()
        if not path.is_relative_to(root) or path == root:
            raise SourceNotAllowedError(f"{location.uri} points outside the local store; upload the file again.")
        return path

    def head(self, location: LocalStoreKey) -> ObjectInfo:
        """ETag (MD5) and size of a stored file."""
        path = self.path_for(location)
        if not path.is_file():
            raise ObjectNotFoundError(
                f"{location.uri} is not in the local store at {self.root}; upload the file again."
            )
        try:
            return ObjectInfo(etag=_md5_of_file(path), size=path.stat().st_size)
        except OSError as exc:
            raise StorageError(f"Cannot read {path}: {exc.strerror}. Check the permissions of FINLIB_HOME.") from exc

    def download(self, location: LocalStoreKey, dest: Path, etag: str | None = None) -> None:
        """Copy the stored file to ``dest``."""
        source = self.path_for(location)
        if etag is not None and self.head(location).etag != etag:
            raise StorageError(f"{location.uri} changed while it was being read; try again.")
        try:
            with source.open("rb") as reader:
                _write_atomically(dest, lambda handle: shutil.copyfileobj(reader, handle, CHUNK_BYTES))
        except OSError as exc:
            raise StorageError(f"Cannot copy {source} to {dest}: {exc.strerror}.") from exc

    def put(self, key: str, data: bytes | Path, filename: str) -> LocalStoreKey:
        """Write bytes or a file's bytes under ``key``."""
        location = LocalStoreKey(key)
        path = self.path_for(location)
        try:
            if isinstance(data, bytes):
                _write_atomically(path, lambda handle: handle.write(data))
            else:
                with data.open("rb") as reader:
                    _write_atomically(path, lambda handle: shutil.copyfileobj(reader, handle, CHUNK_BYTES))
        except OSError as exc:
            raise StorageError(f"Cannot write {path}: {exc.strerror}. Check the permissions of FINLIB_HOME.") from exc
        return location

    def delete(self, location: LocalStoreKey) -> None:
        """Delete the stored file, if it is there."""
        path = self.path_for(location)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot delete {path}: {exc.strerror}. Check the permissions of FINLIB_HOME.") from exc


# A zero-argument callable returning a boto3 S3 client (the Services' lazy client); None means make_s3_client.
ClientFactory = Callable[[], S3Client]


def _client(settings: Settings, client_factory: ClientFactory | None) -> S3Client:
    return client_factory() if client_factory is not None else make_s3_client(settings)


def open_store(settings: Settings, client_factory: ClientFactory | None = None) -> S3Store | LocalStore:
    """The store uploads go to: S3 when AWS_S3_BUCKET is set, else the local store under the data home."""
    if settings.aws_s3_bucket:
        return S3Store(_client(settings, client_factory), settings.aws_s3_bucket)
    return LocalStore(settings.store_dir)


def upload_object(
    settings: Settings, project: str, filename: str, data: bytes | Path, client_factory: ClientFactory | None = None
) -> Location:
    """Store an uploaded file under the project's upload prefix and return its location."""
    return open_store(settings, client_factory).put(upload_key(settings, project, filename), data, filename)


def _fetch_local_path(path: Path) -> FetchedFile:
    if not path.is_file():
        raise ObjectNotFoundError(f"No file at {path}; check the path.")
    try:
        return FetchedFile(path=path, etag=_md5_of_file(path), size=path.stat().st_size, filename=path.name)
    except OSError as exc:
        raise StorageError(f"Cannot read {path}: {exc.strerror}.") from exc


def download_folder(settings: Settings, location: S3Location) -> Path:
    """The folder holding the cached downloads of every version of an S3 object (erase removes it whole)."""
    return settings.cache_dir / DOWNLOADS_DIR / hashlib.sha256(location.uri.encode()).hexdigest()[:24]


def download_cache_path(settings: Settings, location: S3Location, etag: str) -> Path:
    """Where the download of one version of an S3 object is cached."""
    cache_key = hashlib.sha256(f"{location.uri}\0{etag}".encode()).hexdigest()[:32]
    return download_folder(settings, location) / f"{cache_key}{Path(location.filename).suffix.lower()}"


def forget_source(
    source: Source, etag: str, settings: Settings, client_factory: ClientFactory | None = None, *, owned: bool
) -> None:
    """Remove finlib's copies of a source version (download cache) and, when finlib ``owned`` it, the object itself.

    Owned objects are uploads: a ``store://`` key, or an S3 key under S3_UPLOAD_PREFIX. A user's own S3 export or
    local file is never deleted.
    """
    if isinstance(location := source, S3Location):
        download_cache_path(settings, location, etag).unlink(missing_ok=True)
        if owned:
            S3Store(_client(settings, client_factory), location.bucket).delete(location)
    elif isinstance(location, LocalStoreKey) and owned:
        LocalStore(settings.store_dir).delete(location)


def local_file(location: Source, settings: Settings) -> tuple[Path, str] | None:
    """The file a source is read from when it is on this disk already (a local path, the local store), and its name.

    None for S3 (downloaded first) and for a local source ``fetch_source`` would refuse: it explains why.
    """
    if isinstance(location, Path):
        return (location, location.name) if location.is_file() else None
    if isinstance(location, LocalStoreKey):
        try:
            path = LocalStore(settings.store_dir).path_for(location)
        except SourceNotAllowedError:
            return None
        return (path, location.filename) if path.is_file() else None
    return None


def fetch_source(
    source: str | Source,
    settings: Settings,
    client_factory: ClientFactory | None = None,
    *,
    allow_local_paths: bool = False,
) -> FetchedFile:
    """Make a source available as a local file, downloading it only when this version is not cached yet.

    Raises:
        SourceNotAllowedError: the source is refused (nothing was requested).
        ObjectNotFoundError: the object or file does not exist.
        StorageError: the store could not be reached or refused access.
    """
    location = (
        parse_source(source, settings, allow_local_paths=allow_local_paths) if isinstance(source, str) else source
    )
    if isinstance(location, Path):
        if not allow_local_paths:
            raise refuse_source(str(location), settings, "server paths are not accepted here; upload the file instead")
        return _fetch_local_path(location)
    if isinstance(location, LocalStoreKey):
        # The local store is already on this disk: hand out its file rather than a copy. Puts replace files
        # atomically, so a reader holding the old file keeps reading the old version.
        local = LocalStore(settings.store_dir)
        info = local.head(location)
        return FetchedFile(path=local.path_for(location), etag=info.etag, size=info.size, filename=location.filename)
    store = S3Store(_client(settings, client_factory), location.bucket)
    info = store.head(location)
    dest = download_cache_path(settings, location, info.etag)
    if not (dest.is_file() and dest.stat().st_size == info.size):
        try:
            store.download(location, dest, etag=info.etag)
        except OSError as exc:
            raise StorageError(f"Cannot write the download cache at {dest.parent}: {exc.strerror}.") from exc
    return FetchedFile(path=dest, etag=info.etag, size=info.size, filename=location.filename)
