"""Uploads: which sources are finlib's own uploads of a project, and the name the user gave the file.

An upload is stored under ``S3_UPLOAD_PREFIX`` + project + "/" + a content digest + "-" + the file's safe name
(``storage.upload_key``), so every version is its own object; the digest is never shown.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePath

from finlib.config import Settings
from finlib.errors import FinlibError
from finlib.ingest import storage
from finlib.project_info import ProjectInfo

DIGEST_CHARS = 16
_UPLOAD_DIGEST_PREFIX = re.compile(rf"^[0-9a-f]{{{DIGEST_CHARS}}}-")


def upload_key_for(settings: Settings, project: str, filename: str, data: bytes) -> str:
    """The object key of an upload: each content its own object, so a new upload never overwrites the current one."""
    return storage.upload_key(settings, project, filename, hashlib.sha256(data).hexdigest()[:DIGEST_CHARS])


def suggest_project_name(filename: str) -> str:
    """A valid project name from a file name (``AR Export 2025.xlsx`` → ``AR-Export-2025``)."""
    stem = PurePath(filename).stem
    # ASCII only: a project name is letters, digits, '-', '_' and '.' (validate_project_name).
    cleaned = "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "-" for c in stem).strip("-_.")
    return (cleaned or "ledger")[:63]


def shown_filename(stored: str) -> str:
    """The file name as the user named it: the stored name without its content-digest prefix."""
    return _UPLOAD_DIGEST_PREFIX.sub("", stored, count=1)


def is_own_upload(settings: Settings, location: storage.Source, name: str) -> bool:
    """Whether a source is finlib's own upload for project ``name`` (under S3_UPLOAD_PREFIX, in its bucket)."""
    prefix = f"{settings.s3_upload_prefix}{name}/"
    if isinstance(location, storage.LocalStoreKey):
        return location.key.startswith(prefix)
    if isinstance(location, storage.S3Location):
        return location.bucket == settings.aws_s3_bucket and location.key.startswith(prefix)
    return False


def source_label(settings: Settings, info: ProjectInfo) -> str:
    """A project's source as a reader wants it: ``Uploaded file ledger.xlsx`` for our own uploads, else as given."""
    try:
        location = storage.parse_source(info.source, settings, allow_local_paths=True)
    except FinlibError:
        return info.source
    if isinstance(location, Path) or not is_own_upload(settings, location, info.name):
        return info.source
    return "Uploaded file " + shown_filename(location.filename)
