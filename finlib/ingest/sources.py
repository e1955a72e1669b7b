"""Sources: which source strings are accepted and what they name (an S3 object, a local-store object, a CLI path).

The allow-list is checked here, before any client exists: a source is parsed into a bucket and a key and never
handed to pandas or to an HTTP client.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from finlib.config import Settings
from finlib.errors import SourceNotAllowedError

STORE_SCHEME = "store"
# bucket.s3.amazonaws.com, bucket.s3.REGION.amazonaws.com, bucket.s3-REGION.amazonaws.com, and the bucketless
# s3[.REGION].amazonaws.com used by path-style URLs.
_AWS_HOST = re.compile(r"^(?:(?P<bucket>[a-z0-9][a-z0-9.\-]*)\.)?s3(?:[.\-](?P<region>[a-z0-9\-]+))?\.amazonaws\.com$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class S3Location:
    """An object in an allowed S3 bucket."""

    bucket: str
    key: str

    @property
    def filename(self) -> str:
        """Last segment of the key (the query string was dropped when parsing)."""
        return self.key.rsplit("/", 1)[-1]

    @property
    def uri(self) -> str:
        """Canonical ``s3://bucket/key``; parsing it gives this location back."""
        return f"s3://{self.bucket}/{quote(self.key, safe='/')}"


@dataclass(frozen=True)
class LocalStoreKey:
    """An object in the local store (uploads kept under the data home when no S3 bucket is configured)."""

    key: str

    @property
    def filename(self) -> str:
        """Last segment of the key."""
        return self.key.rsplit("/", 1)[-1]

    @property
    def uri(self) -> str:
        """Canonical ``store://key``; parsing it gives this location back."""
        return f"{STORE_SCHEME}://{quote(self.key, safe='/')}"


Location = S3Location | LocalStoreKey
Source = S3Location | LocalStoreKey | Path


def source_uri(source: Source) -> str:
    """The string a project records for a source: ``s3://``/``store://`` URI, or the absolute local path."""
    return str(source) if isinstance(source, Path) else source.uri


def refuse_source(source: str, settings: Settings, reason: str) -> SourceNotAllowedError:
    """The error for a refused source: why, which buckets are allowed, and how to allow more."""
    shown = re.split(r"[?#]", source, maxsplit=1)[0][:200]  # never echo a presigned signature
    allowed = ", ".join(sorted(settings.allowed_buckets)) or "none configured"
    return SourceNotAllowedError(
        f"Source {shown!r} refused: {reason}. Allowed: s3:// or https:// URLs of these buckets: {allowed}. "
        "To allow another bucket, add it to S3_ALLOWED_BUCKETS (comma-separated) or set AWS_S3_BUCKET."
    )


def _checked_key(raw_key: str, source: str, settings: Settings) -> str:
    key = unquote(raw_key)
    segments = key.split("/")
    if not key or key.endswith("/"):
        raise refuse_source(source, settings, "it names no object (the key is empty or a folder)")
    if any(segment in ("", ".", "..") for segment in segments) or "\\" in key:
        raise refuse_source(source, settings, "the key contains empty, '.' or '..' segments")
    if any(unicodedata.category(char) == "Cc" for char in key):
        raise refuse_source(source, settings, "the key contains control characters")
    return key


def _checked_bucket(raw_bucket: str, source: str, settings: Settings) -> str:
    bucket = unquote(raw_bucket)
    if not bucket:
        raise refuse_source(source, settings, "it names no bucket")
    if not _BUCKET_NAME.match(bucket) or ".." in bucket:
        raise refuse_source(source, settings, f"{bucket[:70]!r} is not a valid bucket name")
    if bucket not in settings.allowed_buckets:
        raise refuse_source(source, settings, f"bucket {bucket!r} is not in the allowed list")
    return bucket


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _endpoint_netloc(settings: Settings) -> tuple[str, int | None] | None:
    if not settings.aws_endpoint_url:
        return None
    endpoint = urlsplit(settings.aws_endpoint_url)
    scheme = endpoint.scheme.lower()
    return (endpoint.hostname or "").lower(), endpoint.port or _DEFAULT_PORTS.get(scheme)


def _without_first_slash(path: str) -> str:
    # Only the separator goes: "//k" keeps its empty segment and is refused, not read as another object "k".
    return path[1:] if path.startswith("/") else path


def parse_source(source: str, settings: Settings, *, allow_local_paths: bool = False) -> Source:
    """Turn a user's source string into a location, refusing anything outside the allowed buckets.

    Raises:
        SourceNotAllowedError: before any request, for other hosts, schemes, buckets or malformed keys.
    """
    text = source.strip()
    if not text:
        raise refuse_source(source, settings, "it is empty")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    # A one-letter "scheme" is a Windows drive (C:\ledgers\a.csv), not a URL.
    if not scheme or (len(scheme) == 1 and allow_local_paths):
        if not allow_local_paths:
            raise refuse_source(source, settings, "server paths are not accepted here; upload the file instead")
        return Path(text).expanduser().resolve()
    if parts.username is not None or parts.password is not None:
        raise refuse_source(source, settings, "URLs with user information are not accepted")
    if scheme == "s3":
        bucket = _checked_bucket(parts.netloc, source, settings)
        return _not_cache(
            S3Location(bucket, _checked_key(_without_first_slash(parts.path), source, settings)), settings
        )
    if scheme == STORE_SCHEME:
        # store:// names files other projects uploaded: only finlib itself (and the CLI's operator) may use it.
        if not allow_local_paths:
            raise refuse_source(source, settings, "store:// locations are internal; upload the file instead")
        return LocalStoreKey(_checked_key(parts.netloc + parts.path, source, settings))
    if scheme not in ("http", "https"):
        raise refuse_source(source, settings, f"the {scheme}:// scheme is not supported")
    try:
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        raise refuse_source(source, settings, "the URL has an invalid port") from None
    path, port = parts.path, port or _DEFAULT_PORTS[scheme]
    aws = _AWS_HOST.match(host) if port == _DEFAULT_PORTS[scheme] else None
    if aws and aws.group("bucket"):
        bucket_part, key_part = aws.group("bucket"), _without_first_slash(path)
    elif aws or (host, port) == _endpoint_netloc(settings):
        bucket_part, _, key_part = _without_first_slash(path).partition("/")
    else:
        raise refuse_source(source, settings, f"host {host!r} is not S3 or the configured AWS_ENDPOINT_URL")
    bucket = _checked_bucket(bucket_part, source, settings)
    return _not_cache(S3Location(bucket, _checked_key(key_part, source, settings)), settings)


def _not_cache(location: S3Location, settings: Settings) -> S3Location:
    # The shared parse cache holds every project's parsed ledger: reading it as a source would bypass access.
    if location.bucket == settings.aws_s3_bucket and location.key.startswith(settings.s3_cache_prefix):
        raise refuse_source(location.uri, settings, "it is finlib's own parse cache, not a ledger")
    return location
