"""Lifecycle of a project's pseudonyms: salt rotation and erasure for good.

``rotate_salt`` re-derives every alias of a project under a new random salt in one transaction; audit rows
keep what was sent then, marked with the salt version they used. ``erase_project`` removes the project, its
aliases, chat audit and memberships, every version of its cached parses (on disk and in the bucket's shared
cache), downloads and finlib's own uploads in every store, blanks the aliases in the access log and destroys the
project's data key, so the real names sealed in access events can no longer be read (crypto-shredding); then it
reports what it removed.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from finlib import access, db
from finlib.access import LOCAL_USER, User
from finlib.errors import FinlibError, ProjectNotFoundError, StorageError
from finlib.ingest import parsed_cache, storage
from finlib.privacy import aliasing, keys
from finlib.projects import ProjectInfo, Services, get_project, list_projects
from finlib.uploads import is_own_upload

log = logging.getLogger(__name__)

ERASED_ALIAS = "[erased]"


@dataclass(frozen=True)
class RotationReport:
    """What a salt rotation changed."""

    project: str
    salt_version: int
    customers: int
    people: int
    seconds: float


@dataclass
class ErasureReport:
    """What ``erase_project`` removed, and what it left and why."""

    project: str
    aliases: int = 0
    chat_audit_entries: int = 0
    memberships: int = 0
    access_events_shredded: int = 0
    key_destroyed: bool = False
    cache_files: int = 0
    stored_objects: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as the CLI prints it."""
        lines = [
            f"erased project {self.project}",
            f"  aliases deleted: {self.aliases}",
            f"  chat audit entries deleted: {self.chat_audit_entries}",
            f"  memberships deleted: {self.memberships}",
            f"  access events shredded (who and when kept, names unreadable): {self.access_events_shredded}",
            f"  project key destroyed: {'yes' if self.key_destroyed else 'none existed'}",
            f"  cached parses and downloads deleted: {self.cache_files}",
            f"  stored uploads deleted: {len(self.stored_objects)}",
        ]
        lines += [f"    {uri}" for uri in self.stored_objects]
        lines += [f"  kept: {note}" for note in self.kept]
        return lines


def rotate_salt(services: Services, name: str, *, user: User = LOCAL_USER) -> RotationReport:
    """Give project ``name`` a new random salt and re-derive all its aliases with it, in one transaction."""
    access.require_role(services.engine, services.settings, user, name, "admin")
    started = time.perf_counter()
    salt = keys.new_salt()
    length = services.settings.alias_length
    with db.session_scope(services.engine) as session:
        row = session.scalar(sa.select(db.Project).where(db.Project.name == name).with_for_update())
        if row is None:
            raise ProjectNotFoundError(name)
        entries = pd.DataFrame(
            session.execute(
                sa.select(db.Alias.kind, db.Alias.key, db.Alias.real_name).where(db.Alias.project_id == row.id)
            ).all(),
            columns=["kind", "key", "real_name"],
        )
        session.execute(sa.delete(db.Alias).where(db.Alias.project_id == row.id))
        counts = {}
        for kind in db.ALIAS_KINDS:
            of_kind = entries[entries["kind"] == kind]
            names = pd.Series(of_kind["real_name"].to_numpy(), index=of_kind["key"].to_numpy(), dtype=object)
            counts[kind] = len(aliasing.assign_aliases(session, row.id, name, kind, names, salt=salt, length=length))
        keys.set_salt(session, row.id, salt)
        row.salt_version = (row.salt_version or 0) + 1
        row.updated_at = db.utc_now()  # a new version: the app's caches reload the aliases
        version = row.salt_version
    log.info("rotated the alias salt of project %s to version %d", name, version)
    return RotationReport(name, version, counts["customer"], counts["person"], time.perf_counter() - started)


def erase_project(services: Services, name: str, *, user: User = LOCAL_USER) -> ErasureReport:
    """Erase a project for good and report what was removed (the user's own source files are left alone)."""
    access.require_role(services.engine, services.settings, user, name, "admin")
    info = get_project(services, name)
    report = ErasureReport(project=name)
    # Stores first: if one fails, the project still exists and erase can be run again.
    _remove_copies(services, info, report)
    with db.session_scope(services.engine) as session:
        row = session.scalar(sa.select(db.Project).where(db.Project.name == name).with_for_update())
        if row is None:
            raise ProjectNotFoundError(name)
        report.aliases = _count(session, db.Alias, db.Alias.project_id == row.id)
        report.chat_audit_entries = _count(session, db.AuditEntry, db.AuditEntry.project_id == row.id)
        report.memberships = _count(session, db.Membership, db.Membership.project_id == row.id)
        report.key_destroyed = session.get(db.ProjectKey, row.id) is not None
        report.access_events_shredded = _shred_access_events(session, row.id, services.settings.alias_length)
        session.execute(sa.delete(db.ProjectKey).where(db.ProjectKey.project_id == row.id))
        session.execute(sa.delete(db.Project).where(db.Project.id == row.id))
    # A process that was loading the project meanwhile may have cached it again: a second pass.
    _remove_copies(services, info, report)
    log.info("erased project %s", name)
    return report


def _count(session: Any, model: type[db.Base], condition: Any) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(condition)) or 0)


def _shred_access_events(session: Any, project_id: int, alias_length: int) -> int:
    """Drop the sealed names and blank the aliases of a project's access events; who and when stay."""
    rows = session.execute(
        sa.select(db.AccessEvent.id, db.AccessEvent.summary).where(db.AccessEvent.project_id == project_id)
    ).all()
    if not rows:
        return 0
    pattern = aliasing.ALIAS_PATTERN
    # Aliases of salt version 0 come from ALIAS_SALT, which survives the erase: blanked so none can be confirmed.
    updates = [{"id": row.id, "summary": pattern.sub(ERASED_ALIAS, row.summary), "sealed": None} for row in rows]
    session.execute(sa.update(db.AccessEvent), updates)
    return len(updates)


def _remove_copies(services: Services, info: ProjectInfo, report: ErasureReport) -> None:
    """Delete cached parses (on disk and in the bucket), downloads and finlib's own uploads of the project.

    Copies of a source another project uses are kept. Every upload under the project's prefix goes, older versions
    too, and with each the parses of it that any process left in the shared cache.
    """
    settings = services.settings
    others = {p.source for p in list_projects(services) if p.name != info.name}
    if info.source in others:
        note = f"cached copies of {info.source}: another project reads the same source"
        if note not in report.kept:
            report.kept.append(note)
    else:
        report.cache_files += _forget_cached(services, info.source)
        location = storage.parse_source(info.source, settings, allow_local_paths=True)
        if isinstance(location, Path) or not is_own_upload(settings, location, info.name):
            note = f"the source {info.source}: it is your file, not a copy finlib made"
            if note not in report.kept:
                report.kept.append(note)
    for uri in _delete_uploads(services, info.name, others):
        report.cache_files += _forget_cached(services, uri)
        if uri not in report.stored_objects:
            report.stored_objects.append(uri)


def _forget_cached(services: Services, source: str) -> int:
    """Remove every cached parse (disk and bucket) and every downloaded version of one source; files removed."""
    settings = services.settings
    count = parsed_cache.forget(settings, source, services.shared_cache())
    location = storage.parse_source(source, settings, allow_local_paths=True)
    if isinstance(location, storage.S3Location):
        folder = storage.download_folder(settings, location)
        if folder.is_dir():
            count += sum(1 for path in folder.iterdir() if path.is_file())
            shutil.rmtree(folder)
    return count


def _delete_uploads(services: Services, name: str, keep: set[str]) -> list[str]:
    """Every upload stored under the project's prefix, in the local store and in the bucket: deleted, as URIs."""
    settings = services.settings
    prefix = f"{settings.s3_upload_prefix}{name}/"
    removed: list[str] = []
    local_root = settings.store_dir.resolve()
    folder = local_root / prefix
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            uri = storage.LocalStoreKey(path.relative_to(local_root).as_posix()).uri
            if uri not in keep:
                path.unlink()
                removed.append(uri)
    if settings.aws_s3_bucket:
        client, bucket = services.s3_client(), settings.aws_s3_bucket
        try:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    uri = storage.S3Location(bucket, item["Key"]).uri
                    if uri not in keep:
                        client.delete_object(Bucket=bucket, Key=item["Key"])
                        removed.append(uri)
        except FinlibError:
            raise
        except Exception as exc:  # botocore's errors: one message that says what to do
            raise StorageError(
                f"Cannot delete the uploads of project {name!r} in bucket {bucket} ({type(exc).__name__}); "
                "nothing else was erased. Check the bucket's permissions, then run erase again."
            ) from exc
    return removed
