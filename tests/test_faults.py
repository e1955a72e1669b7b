"""Faults around a registration: kill -9 mid-parse, concurrent registrations of one project."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from helpers import stand_ins
from helpers.environment import TEST_SALT
from helpers.ledgers import LEDGER_CSV
from sqlalchemy import func, select

from finlib import db, projects
from finlib.config import Settings
from finlib.errors import DatabaseError, ParseError

ROOT = Path(__file__).resolve().parents[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().casefold()


def _wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_kill_9_mid_parse_stops_the_child_and_the_next_parse_removes_its_files(
    settings: Settings, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER_CSV, encoding="utf-8")
    system_temp = Path(tempfile.mkdtemp(prefix="fb-"))  # short: a socket path is limited to 107 bytes
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from finlib.config import load_settings
        from finlib.ingest.sandbox import parse_ledger_isolated
        settings = load_settings({{"FINLIB_HOME": {str(settings.home)!r}, "ALIAS_SALT": "s"}}, dotenv_path=None)
        parse_ledger_isolated(Path({str(ledger)!r}), settings=settings, entry="{stand_ins.ENTRY}:announce_and_sleep")
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(system_temp)},
    )
    pid_file = ledger.with_suffix(".pid")
    try:
        assert _wait_for(pid_file.exists), "the parse child never started"
        child = int(pid_file.read_text())
        left = list((settings.home / "tmp").glob(f"parse-{parent.pid}-*"))
        assert len(left) == 1 and left[0].stat().st_mode & 0o777 == 0o700
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        assert _wait_for(lambda: not _alive(child), 10), "the parse child outlived the process that asked for it"
    finally:
        if parent.poll() is None:
            parent.kill()
    assert left[0].exists()  # a killed process cannot clean up; the next one does
    from finlib.ingest import scratch

    scratch._swept.discard(settings.home / "tmp")
    with scratch.parse_folder(settings.home):
        assert not left[0].exists()
    # The parser server outlives its parent only until it reads end of file, and takes its socket folder along.
    assert _wait_for(lambda: list(system_temp.iterdir()) == [], 10), list(system_temp.rglob("*"))
    shutil.rmtree(system_temp)


def test_ten_concurrent_registrations_of_one_project_end_in_one_consistent_project(
    make_settings: Callable[..., Settings], database_url: str, tmp_path: Path
) -> None:
    services = projects.Services(make_settings(DATABASE_URL=database_url))
    paths = []
    for index in range(10):
        path = tmp_path / f"ledger{index % 2}.csv"
        path.write_text(LEDGER_CSV, encoding="utf-8")
        paths.append(path)

    def register(path: Path) -> projects.ProjectInfo:
        return projects.register_project(services, "shared", str(path), allow_local_paths=True)

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(register, paths))
    assert {(r.name, r.row_count, r.customer_count) for r in results} == {("shared", 5, 2)}
    with db.session_scope(services.engine) as session:
        assert session.scalar(select(func.count()).select_from(db.Project)) == 1
        assert session.scalar(select(func.count()).select_from(db.Alias)) == 4
    loaded = projects.load_project(services, "shared")
    assert len(loaded.ledger) == 5 and loaded.ledger["customer_alias"].notna().all()
    services.engine.dispose()


@pytest.fixture(autouse=True)
def _no_leftover_temporary_cache_files(settings: Settings) -> Any:
    yield
    assert not list(settings.cache_dir.rglob("*.tmp"))


def test_a_failed_refresh_is_recorded_on_the_project_and_the_previous_ledger_stays(
    services_sqlite: projects.Services, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(LEDGER_CSV, encoding="utf-8")
    projects.register_project(services_sqlite, "acme", str(path), allow_local_paths=True)
    path.write_text("Foo,Bar\n1,2\n", encoding="utf-8")
    with pytest.raises(ParseError, match="no column for"):
        projects.refresh_project(services_sqlite, "acme")
    info = projects.get_project(services_sqlite, "acme")
    assert info.status == "refresh failed" and "no column for" in (info.last_error or "")
    assert len(projects.load_project(services_sqlite, "acme").ledger) == 5


def test_a_database_that_is_down_is_one_clear_error_within_seconds(make_settings: Callable[..., Settings]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(DatabaseError, match=f"Cannot reach the database at 127.0.0.1:{port}"):
        projects.Services(make_settings(DATABASE_URL=f"postgresql+psycopg2://postgres@127.0.0.1:{port}/test"))
    assert time.monotonic() - started < 10


@pytest.fixture
def services_sqlite(settings: Settings) -> projects.Services:
    return projects.Services(settings)


@pytest.mark.parametrize("delay_s", [0.3, 1.0, 2.5, 5.0])
def test_kill_9_of_a_re_registration_at_any_point_leaves_one_whole_registration_and_no_leftovers(
    settings: Settings, tmp_path: Path, delay_s: float
) -> None:
    services = projects.Services(settings)
    first = tmp_path / "march.csv"
    first.write_text(LEDGER_CSV, encoding="utf-8")
    projects.register_project(services, "acme", str(first), allow_local_paths=True)
    second = tmp_path / "april.csv"
    second.write_text(LEDGER_CSV + "Gamma Ltd,2026-03-20,INV-6,900.00,,Omar Khan\n", encoding="utf-8")
    system_temp = Path(tempfile.mkdtemp(prefix="fb-"))  # short: a socket path is limited to 107 bytes
    environ = {
        **os.environ,
        "FINLIB_HOME": str(settings.home),
        "ALIAS_SALT": TEST_SALT,
        "PYTHONPATH": str(ROOT),
        "TMPDIR": str(system_temp),
    }
    command = [sys.executable, "-m", "finlib", "register", "acme", str(second)]
    process = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay_s)
    process.kill()
    process.wait()
    info = projects.get_project(services, "acme")
    loaded = projects.load_project(services, "acme")
    assert (info.row_count, len(loaded.ledger)) in {(5, 5), (6, 6)}
    assert loaded.ledger["customer_alias"].notna().all()
    from finlib.ingest import scratch

    scratch._swept.discard(settings.home / "tmp")
    with scratch.parse_folder(settings.home):
        pass
    assert list((settings.home / "tmp").iterdir()) == []
    assert not [p for p in settings.cache_dir.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".part-")]
    # Nothing in the system temp folder either: the parser server removed its socket folder when its parent died.
    assert _wait_for(lambda: list(system_temp.iterdir()) == [], 10), list(system_temp.rglob("*"))
    shutil.rmtree(system_temp)
    services.engine.dispose()


def _break_the_connection_at_the_first_project_update(engine: Any) -> list[str]:
    """Make the database fail mid-transaction: on the first UPDATE of the projects row (the row already locked,
    the transaction open), PostgreSQL's backend is terminated from another connection; SQLite raises the error a
    lost disk gives. Returns the statements that were failed."""
    import sqlite3

    from sqlalchemy import event, exc

    failed: list[str] = []

    def before_execute(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if failed or not statement.lstrip().upper().startswith("UPDATE PROJECTS"):
            return
        failed.append(statement)
        if engine.dialect.name == "postgresql":
            import psycopg2

            with psycopg2.connect(engine.url.set(drivername="postgresql").render_as_string(False)) as killer:
                with killer.cursor() as kill:
                    kill.execute("SELECT pg_terminate_backend(%s, 5000)", (cursor.connection.get_backend_pid(),))
        else:
            raise exc.OperationalError(statement, parameters, sqlite3.OperationalError("disk I/O error"))

    event.listen(engine, "before_cursor_execute", before_execute)
    return failed


def test_the_database_failing_during_a_registration_is_one_clear_error_and_the_previous_one_stays(
    make_settings: Callable[..., Settings], database_url: str, tmp_path: Path
) -> None:
    services = projects.Services(make_settings(DATABASE_URL=database_url))
    first = tmp_path / "march.csv"
    first.write_text(LEDGER_CSV, encoding="utf-8")
    before = projects.register_project(services, "acme", str(first), allow_local_paths=True)
    with db.session_scope(services.engine) as session:
        aliases_before = sorted(session.scalars(select(db.Alias.alias)))
    second = tmp_path / "april.csv"
    second.write_text(LEDGER_CSV + "Gamma Ltd,2026-03-20,INV-6,900.00,,Omar Khan\n", encoding="utf-8")
    failed = _break_the_connection_at_the_first_project_update(services.engine)

    with pytest.raises(DatabaseError) as raised:
        projects.register_project(services, "acme", str(second), allow_local_paths=True)
    message = str(raised.value)
    assert failed, "the registration never wrote the project row"
    assert re.fullmatch(
        r"Cannot reach the database at .+: .+ \(check .+\)\. Nothing of this registration of 'acme' was saved and "
        r"any earlier version of the project is unchanged; retry once the database is back\.",
        message,
    ), message
    assert "\n" not in message and "Traceback" not in message and "sqlalchemy" not in message.casefold()

    info = projects.get_project(services, "acme")
    assert (info.source, info.etag, info.row_count) == (before.source, before.etag, 5)
    loaded = projects.load_project(services, "acme")
    assert len(loaded.ledger) == 5 and loaded.ledger["customer_alias"].notna().all()
    with db.session_scope(services.engine) as session:
        assert session.scalar(select(func.count()).select_from(db.Project)) == 1
        assert sorted(session.scalars(select(db.Alias.alias))) == aliases_before  # no alias of Gamma Ltd
    assert [p for p in (services.settings.home / "tmp").iterdir()] == []
    services.engine.dispose()


def _lying_workbook(path: Path, unpacked_mb: int, declared_bytes: int) -> None:
    """A real xlsx whose sheet (one inline text cell) unpacks to ``unpacked_mb`` while its zip headers declare
    ``declared_bytes``: the size pre-check believes them, so only the parser's own limits can stop it."""
    import struct
    import zipfile

    from openpyxl import Workbook

    template = path.with_suffix(".template.xlsx")
    book = Workbook()
    book.active.append(["Customer", "Invoice Date", "Amount"])
    book.save(template)
    sheet = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for member in source.infolist():
            if member.filename != sheet:
                out.writestr(member, source.read(member))
                continue
            with out.open(sheet, "w") as written:
                written.write(
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                    b'<row r="1"><c r="A1" t="inlineStr"><is><t>'
                )
                chunk = b"Acme " * (1024 * 1024 // 5)
                for _ in range(unpacked_mb):
                    written.write(chunk)
                written.write(b"</t></is></c></row></sheetData></worksheet>")
    template.unlink()
    data = bytearray(path.read_bytes())
    name = sheet.encode()
    # The uncompressed size sits at offset 22 of a local header and at offset 24 of a central directory entry.
    for signature, offset, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if data[start + name_at : start + name_at + len(name)] == name:
                data[start + offset : start + offset + 4] = struct.pack("<I", declared_bytes)
            start += 4
    path.write_bytes(bytes(data))


def test_a_workbook_lying_about_its_unpacked_size_is_refused_clearly_in_bounded_memory(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging
    import resource
    import zipfile

    from finlib.errors import FileRejectedError
    from finlib.ingest.sandbox import stop_parser_server

    # With Rust backtraces on, the reader's "memory allocation of N bytes failed" is followed by a long backtrace.
    monkeypatch.setenv("RUST_BACKTRACE", "1")
    stop_parser_server()  # the next parse starts a server (and children) with this environment

    services = projects.Services(settings)
    good = tmp_path / "march.csv"
    good.write_text(LEDGER_CSV, encoding="utf-8")
    projects.register_project(services, "acme", str(good), allow_local_paths=True)
    bomb = tmp_path / "bomb.xlsx"
    _lying_workbook(bomb, unpacked_mb=2 * settings.parse_memory_mb // 3, declared_bytes=4096)
    with zipfile.ZipFile(bomb) as archive:
        assert sum(member.file_size for member in archive.infolist()) < 100_000  # what the headers claim
    parent_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()

    with caplog.at_level(logging.INFO), pytest.raises(FileRejectedError) as raised:
        projects.register_project(services, "acme", str(bomb), allow_local_paths=True)
    message = str(raised.value)
    assert message == (
        f"Reading bomb.xlsx needed more than the {settings.parse_memory_mb} MB memory limit and was stopped. "
        "Split the file, remove unused sheets, or raise PARSE_MEMORY_MB."
    )
    assert "\n" not in message and not re.search(r"\b\w+(Error|Exception)\b|Traceback", message), message
    assert time.monotonic() - started < 60
    peaks = [getattr(r, "child_peak_mb", 0.0) for r in caplog.records if hasattr(r, "child_peak_mb")]
    assert peaks and max(peaks) <= settings.parse_memory_mb * 1.05, peaks  # the cap held in the child
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - parent_before_kb) / 1024
    assert grown_mb < 200, f"the registering process grew by {grown_mb:.0f} MB"
    info = projects.get_project(services, "acme")
    assert info.row_count == 5 and len(projects.load_project(services, "acme").ledger) == 5
    services.engine.dispose()
    stop_parser_server()


@pytest.mark.parametrize(
    ("stand_in", "env"),
    [("die_after_hand_over", {}), ("fail_after_hand_over", {}), ("hang_after_hand_over", {"PARSE_TIMEOUT_S": "4"})],
)
def test_a_parse_child_killed_after_handing_over_its_frame_still_gives_a_whole_registration(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    stand_in: str,
    env: dict[str, str],
) -> None:
    """The child computes the figures after handing the frame over; when it does not, the registering process does."""
    from finlib import summaries
    from finlib.ingest.parsing import parse_ledger
    from finlib.ingest.sandbox import Followup

    settings = make_settings(**env)
    services = projects.Services(settings)
    path = tmp_path / "ledger.csv"
    path.write_text(LEDGER_CSV, encoding="utf-8")
    monkeypatch.setattr(summaries, "figures_followup", lambda _: Followup(f"{stand_ins.ENTRY}:{stand_in}"))
    info = projects.register_project(services, "acme", str(path), allow_local_paths=True)

    assert any("follow-up of the parse of ledger.csv" in record.getMessage() for record in caplog.records)
    assert info.row_count == 5 and info.customer_count == 2
    loaded = projects.load_project(services, "acme")
    assert len(loaded.ledger) == 5 and loaded.ledger["customer_alias"].notna().all()
    stored = summaries.read_summary(settings, info.source, info.etag, info.column_mapping)
    assert stored == summaries.compute_summary(parse_ledger(path, settings=settings)[0], settings)
    assert list((settings.home / "tmp").iterdir()) == []
    services.engine.dispose()
