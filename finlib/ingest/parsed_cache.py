"""The parsed-ledger cache: each read of a source version kept on disk, so an unchanged file is parsed once.

Entries live in one folder per source (``cache/parsed/<source digest>/``), keyed by every input of the parse
(source, ETag, column mapping, ``ParseSettings``), as uncompressed Arrow IPC (about 0.1 s each way at 1M rows,
where parquet took about 0.5 s) beside the ParseReport as JSON. They hold real names: ``forget`` removes
every read of a source when no project uses it any more. With a ``shared_cache.SharedCache`` (PostgreSQL and a
bucket), a read missing on disk is looked up in the bucket and copied to disk, and each new parse is stored in
both places, so other processes serve it without parsing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from finlib.code_version import code_fingerprint
from finlib.config import Settings
from finlib.errors import FinlibError, ParseError
from finlib.ingest import scratch, shared_cache, storage
from finlib.ingest.report import ParseReport
from finlib.lazy import deferred

# Where an entry lives is needed without pandas (`stats` reads the figures stored beside it, not the ledger).
if TYPE_CHECKING:
    import pandas as pd

    from finlib.ingest import ledger as ledger_frame
    from finlib.ingest import sandbox
else:
    ledger_frame = deferred("finlib.ingest.ledger")
    pd = deferred("pandas")
    sandbox = deferred("finlib.ingest.sandbox")

log = logging.getLogger(__name__)

PARSED_CACHE_VERSION = "5"


def _folder(settings: Settings, source: str) -> Path:
    return settings.cache_dir / "parsed" / hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]


def _base(settings: Settings, source: str, etag: str, mapping: dict[str, str] | None) -> Path:
    # Every input of the parse is in the key: a changed setting must not serve a stale ledger.
    material = json.dumps(
        [PARSED_CACHE_VERSION, code_fingerprint(), source, etag, mapping or {}, settings.parse.cache_material()],
        sort_keys=True,
    )
    return _folder(settings, source) / hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def entry_base(settings: Settings, source: str, etag: str, mapping: dict[str, str] | None) -> Path:
    """The path (without suffix) of this read's entry; figures derived from it are stored beside it."""
    return _base(settings, source, etag, mapping)


def read_parsed(
    settings: Settings,
    source: str,
    etag: str,
    mapping: dict[str, str] | None,
    shared: shared_cache.SharedCache | None = None,
    columns: Collection[str] | None = None,
) -> tuple[pd.DataFrame, ParseReport] | None:
    """The cached read of this source version and mapping (from disk, else from the shared cache), or None.

    With ``columns`` a disk read holds only those (``ingest.ledger.selected_columns``); a shared read holds all.
    """
    base = _base(settings, source, etag, mapping)
    found = _read_local(base, columns)
    if found is None and shared is not None:
        found = shared_cache.read_ledger(shared, base)
        if found is not None:
            try:
                _write_local(base, *found)
            except OSError as exc:  # the disk copy only saves the next read a download
                log.warning("could not keep the shared entry %s on disk: %s", base.name, exc.strerror)
    return found


def _read_local(base: Path, columns: Collection[str] | None = None) -> tuple[pd.DataFrame, ParseReport] | None:
    frame_path, report_path = base.with_suffix(".arrow"), base.with_suffix(".json")
    if not (frame_path.exists() and report_path.exists()):
        return None
    try:
        report = ParseReport.from_dict(json.loads(report_path.read_text(encoding="utf-8")))
        return _read_frame(frame_path, columns), report
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring unreadable parse cache %s: %s", frame_path.name, exc)
        return None


def _read_frame(path: Path, columns: Collection[str] | None) -> pd.DataFrame:
    """The stored ledger frame, or only the wanted columns of it.

    The file is memory-mapped: Arrow reads no column it is not asked for, and text stays in the mapped pages
    instead of being copied (``pandas.read_feather`` reads the whole file, ~0.5 s and 300 MB at 1M rows).
    """
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    if columns is not None:
        table = table.select(ledger_frame.selected_columns(table.column_names, columns))
    frame = table.to_pandas()
    return frame.astype({c: d for c, d in ledger_frame.LEDGER_DTYPES.items() if c in frame.columns})


@contextlib.contextmanager
def parse_fetched(
    settings: Settings,
    source: str,
    fetched: storage.FetchedFile,
    mapping: dict[str, str] | None,
    shared: shared_cache.SharedCache | None = None,
    *,
    keep: bool = True,
    followup: sandbox.Followup | None = None,
) -> Iterator[FileRead]:
    """The cached read of a fetched file, or a new isolated parse of it; a file with no usable row is a ParseError.

    A new parse is cached when ``keep`` (registration passes False: it writes the parse while it stores the
    project). The parse child does its ``followup`` (the figures) after handing the frame over, while the block
    runs; it is stopped when the block ends.
    """
    cached = read_parsed(settings, source, fetched.etag, mapping, shared)
    if cached is not None:
        yield FileRead(fetched, *cached)
        return
    with _parse_new(settings, source, fetched, mapping, shared, keep=keep, followup=followup) as read:
        yield read


@contextlib.contextmanager
def _parse_new(
    settings: Settings,
    source: str,
    fetched: storage.FetchedFile,
    mapping: dict[str, str] | None,
    shared: shared_cache.SharedCache | None,
    *,
    keep: bool,
    followup: sandbox.Followup | None,
) -> Iterator[FileRead]:
    """A new isolated parse of ``fetched`` (no cache looked up), cached when ``keep``."""
    with sandbox.PendingParse(
        fetched.path, settings=settings, filename=fetched.filename, mapping=mapping, followup=followup
    ) as pending:
        yield _collected(pending, settings, source, fetched, mapping, shared, keep=keep)


def _collected(
    pending: sandbox.PendingParse,
    settings: Settings,
    source: str,
    fetched: storage.FetchedFile,
    mapping: dict[str, str] | None,
    shared: shared_cache.SharedCache | None,
    *,
    keep: bool,
) -> FileRead:
    """The read a parse child handed over (a file with no usable row is a ParseError), cached when ``keep``."""
    ledger, report = pending.result()
    _require_rows(report, fetched.filename)
    if keep:
        keep_parsed(settings, source, fetched.etag, mapping, ledger, report, shared)
    return FileRead(fetched, ledger, report, pending.followup_output, pending.display_names())


@dataclass(frozen=True)
class FileRead:
    """A file's read (``parse_local_cached``, ``parse_fetched``): the fetched file, the ledger and its report.

    ``followup`` waits for the parse child's follow-up and returns its output (None: none was asked, or it did
    not finish, and the caller does that work itself); it is None when no child parsed this read (the cache
    served it), and so are ``display_names`` (``names.display_names`` per key column, counted on the child's
    compact frame).
    """

    fetched: storage.FetchedFile
    ledger: pd.DataFrame = field(repr=False)
    report: ParseReport
    followup: Callable[[], bytes | None] | None = None
    display_names: dict[str, pd.Series] | None = field(default=None, repr=False)


@contextlib.contextmanager
def parse_local_cached(
    settings: Settings,
    source: str,
    local: tuple[Path, str],
    fetch: Callable[[], storage.FetchedFile],
    mapping: dict[str, str] | None,
    shared: shared_cache.SharedCache | None = None,
    *,
    keep: bool = True,
    followup: sandbox.Followup | None = None,
) -> Iterator[FileRead]:
    """``parse_fetched`` of a file on this disk (``local``: its path and shown name), fetched by ``fetch``.

    A local file's ETag is the MD5 of its content, a pass over the whole file: the child starts parsing first
    and the ETag is computed meanwhile. The cache still decides: on a hit the child is stopped. A child that
    parsed the read does its ``followup`` after handing the frame over, until the block ends (then it is stopped).
    """
    path, filename = local
    try:
        pending: sandbox.PendingParse | None = sandbox.PendingParse(
            path, settings=settings, filename=filename, mapping=mapping, followup=followup
        )
    except (FinlibError, OSError):
        pending = None  # refused or gone: a cached read may still serve it, else the plain parse below explains
    with contextlib.ExitStack() as running:
        if pending is not None:
            running.enter_context(pending)
        fetched = fetch()
        cached = read_parsed(settings, source, fetched.etag, mapping, shared)
        if pending is None or cached is not None or fetched.path != path or fetched.filename != filename:
            running.close()  # the speculative parse is not needed: stopped before the caller goes on
            if cached is not None:
                yield FileRead(fetched, *cached)
                return
            with _parse_new(settings, source, fetched, mapping, shared, keep=keep, followup=followup) as read:
                yield read
            return
        yield _collected(pending, settings, source, fetched, mapping, shared, keep=keep)


def keep_parsed(
    settings: Settings,
    source: str,
    etag: str,
    mapping: dict[str, str] | None,
    ledger: pd.DataFrame,
    report: ParseReport,
    shared: shared_cache.SharedCache | None = None,
) -> None:
    """Write a new parse to the cache on disk and to the shared cache (nothing if this read is on disk already)."""
    base = _base(settings, source, etag, mapping)
    if base.with_suffix(".arrow").exists() and base.with_suffix(".json").exists():
        return
    _write_local(base, ledger, report)
    if shared is not None:
        shared_cache.write_ledger(shared, base, ledger, report)


def _require_rows(report: ParseReport, filename: str) -> None:
    """A ParseError when the file had no usable row, saying whether rows were skipped or rejected."""
    if report.rows_loaded:
        return
    if not report.rejected_count:
        raise ParseError(
            f"{filename} has no invoice rows: every row below the header was skipped "
            f"({' '.join(report.warnings) or 'empty'}). Export the ledger again with its rows."
        )
    every = "the only row was" if report.rejected_count == 1 else f"all {report.rejected_count:,} rows were"
    raise ParseError(
        f"No invoice rows could be read from {filename}: {every} rejected "
        f"(e.g. {_describe_examples(report)}). Check the file's dates and amounts, or fix the column mapping."
    )


def _write_local(base: Path, ledger: pd.DataFrame, report: ParseReport) -> None:
    base.parent.mkdir(parents=True, exist_ok=True)
    scratch.sweep(base.parent)
    # Unique temporary names, then a rename: concurrent writers of one entry never share a file, and a crash
    # never leaves a half-written entry (its temporary file is swept once its process is gone).
    frame_tmp = scratch.temporary_beside(base.with_suffix(".arrow"))
    report_tmp = scratch.temporary_beside(base.with_suffix(".json"))
    try:
        ledger.reset_index(drop=True).to_feather(frame_tmp, compression="uncompressed")
        report_tmp.write_text(json.dumps(report.to_dict()), encoding="utf-8")
        frame_tmp.replace(base.with_suffix(".arrow"))
        report_tmp.replace(base.with_suffix(".json"))
    finally:
        frame_tmp.unlink(missing_ok=True)
        report_tmp.unlink(missing_ok=True)


def forget(settings: Settings, source: str, shared: shared_cache.SharedCache | None = None) -> int:
    """Remove every cached read of a source (each mapping ever saved for it), also in the bucket; files removed.

    Raises:
        StorageError: the shared cache could not be emptied (the disk copies are gone; run it again).
    """
    folder = _folder(settings, source)
    count = sum(1 for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else 0
    shutil.rmtree(folder, ignore_errors=True)
    if shared is not None:
        count += len(shared_cache.forget_folder(shared, folder))
    return count


def _describe_examples(report: ParseReport) -> str:
    examples = report.rejected_examples[:3]
    return "; ".join(f"row {e['row']}: {e['reason']}" for e in examples) or "no examples"
