"""The shared parse cache: parsed ledgers and their figures kept in the bucket too, so every app process serves them.

With PostgreSQL (``DATABASE_URL``) and a bucket (``AWS_S3_BUCKET``), several processes or machines serve one set of
projects. Each keeps its own disk cache in front (``parsed_cache``), and behind it this copy in the bucket, so a
process with an empty data home serves a project without fetching or parsing its source again. Keys mirror the disk
cache's layout under ``S3_CACHE_PREFIX``: ``cache/parsed/<source digest>/<entry digest>.parquet`` holds the ledger
(its ParseReport as JSON in the Parquet file's key-value metadata, so one object is one whole entry) and
``...<entry digest>.summary-<digest>.json`` the figures ``stats`` shows. The digests are the disk cache's, so the
key holds every input of the parse (source, ETag, mapping, ``ParseSettings``).

Writes go to a temporary key beside the entry and are then copied to the entry's key, so a reader never sees part
of an object; the temporary key is deleted afterwards. A failed read or write only costs time (the process parses
or keeps its disk copy), except when forgetting a source: erasure must know it worked.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from finlib.config import Settings
from finlib.errors import StorageError
from finlib.ingest.report import ParseReport
from finlib.lazy import deferred

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from finlib.ingest import ledger as ledger_frame
else:
    ledger_frame = deferred("finlib.ingest.ledger")
    pa = deferred("pyarrow")
    pq = deferred("pyarrow.parquet")

log = logging.getLogger(__name__)

REPORT_METADATA_KEY = b"finlib.parse_report"
LEDGER_SUFFIX = ".parquet"
TEMPORARY_MARK = ".part-"


@dataclass(frozen=True)
class SharedCache:
    """The bucket copy of the parse cache: a boto3 client, the bucket and the key prefix of the cache folder."""

    client: Any
    bucket: str
    prefix: str
    cache_dir: Path

    def key_for(self, local_path: Path, suffix: str | None = None) -> str:
        """The object key mirroring a disk-cache path (optionally with another suffix)."""
        relative = local_path.relative_to(self.cache_dir)
        if suffix is not None:
            relative = relative.with_name(relative.name + suffix)
        return self.prefix + relative.as_posix()


def open_shared(settings: Settings, client_factory: Callable[[], Any]) -> SharedCache | None:
    """The shared cache when PostgreSQL and a bucket are configured (``Settings.shared_cache``), else None."""
    if not settings.shared_cache or not settings.aws_s3_bucket:
        return None
    return SharedCache(client_factory(), settings.aws_s3_bucket, settings.s3_cache_prefix, settings.cache_dir)


def read_ledger(shared: SharedCache, base: Path) -> tuple[pd.DataFrame, ParseReport] | None:
    """The ledger and report stored for a disk-cache entry base, or None (missing or unreadable)."""
    data = read_bytes(shared, shared.key_for(base, LEDGER_SUFFIX))
    if data is None:
        return None
    try:
        table = pq.read_table(pa.BufferReader(data))
        report = ParseReport.from_dict(json.loads((table.schema.metadata or {})[REPORT_METADATA_KEY]))
        return table.to_pandas().astype(ledger_frame.LEDGER_DTYPES), report
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        log.warning("ignoring an unreadable shared cache entry %s: %s", base.name, exc)
        return None


def write_ledger(shared: SharedCache, base: Path, ledger: pd.DataFrame, report: ParseReport) -> None:
    """Store a parsed ledger with its report as one Parquet object; a failure is logged, not raised."""
    table = pa.Table.from_pandas(ledger.reset_index(drop=True), preserve_index=False)
    metadata = {**(table.schema.metadata or {}), REPORT_METADATA_KEY: json.dumps(report.to_dict()).encode("utf-8")}
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(metadata), buffer)
    write_bytes(shared, shared.key_for(base, LEDGER_SUFFIX), buffer.getvalue())


def read_bytes(shared: SharedCache, key: str) -> bytes | None:
    """An object's bytes, or None when it is missing or the bucket cannot be read (logged)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        body: bytes = shared.client.get_object(Bucket=shared.bucket, Key=key)["Body"].read()
        return body
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404", "NotFound"):
            log.warning("could not read the shared cache entry %s: %s", key, exc)
        return None
    except BotoCoreError as exc:
        log.warning("could not read the shared cache entry %s: %s", key, exc)
        return None


def write_bytes(shared: SharedCache, key: str, data: bytes) -> None:
    """Put ``data`` under a temporary key, copy it to ``key``, delete the temporary one; failures are logged."""
    from botocore.exceptions import BotoCoreError, ClientError

    temporary = f"{key}{TEMPORARY_MARK}{uuid.uuid4().hex}"
    client, bucket = shared.client, shared.bucket
    try:
        client.put_object(Bucket=bucket, Key=temporary, Body=data)
        try:
            client.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": temporary})
        finally:
            client.delete_object(Bucket=bucket, Key=temporary)
    except (ClientError, BotoCoreError) as exc:
        log.warning("could not store the shared cache entry %s: %s", key, exc)


def forget_folder(shared: SharedCache, folder: Path) -> list[str]:
    """Delete every object under a disk-cache folder's mirror (all reads of one source); the keys deleted.

    Raises:
        StorageError: the bucket could not be listed or an object could not be deleted (run it again).
    """
    prefix = shared.key_for(folder) + "/"
    removed: list[str] = []
    try:
        pages = shared.client.get_paginator("list_objects_v2").paginate(Bucket=shared.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                shared.client.delete_object(Bucket=shared.bucket, Key=item["Key"])
                removed.append(str(item["Key"]))
    except Exception as exc:  # botocore's errors: one message that says what to do
        raise StorageError(
            f"Cannot delete the shared cache under {prefix} in bucket {shared.bucket} ({type(exc).__name__}). "
            "Check the bucket's permissions, then try again."
        ) from exc
    return removed
