"""Specification of finlib.ingest.sandbox: parsing in a child process that may die without taking the parent along."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from finlib.config import Settings
from finlib.errors import FileRejectedError, MissingColumnsError
from finlib.ingest.parsing import parse_ledger
from finlib.ingest.sandbox import PendingParse, parse_ledger_isolated, stop_parser_server

HERE = "tests.test_sandbox"
STAND_INS = "tests.helpers.stand_ins"  # imported in the child: no `helpers` import here
ROOT = Path(__file__).resolve().parents[1]


def abort_in_child(path: Path, **_: Any) -> None:
    """Stand-in parser that dies the way a native crash does."""
    os.abort()


def sleep_in_child(path: Path, **_: Any) -> None:
    """Stand-in parser that never finishes."""
    time.sleep(60)


def allocate_in_child(path: Path, **_: Any) -> None:
    """Stand-in parser that tries to hold far more memory than the cap."""
    blocks = [bytearray(64 * 1024 * 1024) for _ in range(200)]
    raise AssertionError(f"allocated {len(blocks)} blocks despite the cap")


def crash_with_unexpected_error(path: Path, **_: Any) -> None:
    """Stand-in parser with a bug."""
    raise KeyError("boom")


@pytest.fixture
def ledger_csv(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.csv"
    path.write_text(
        "Customer,Invoice Date,Amount,Paid On\nA,2024-01-01,10,2024-02-01\nB,2024-01-02,-5,\n", encoding="utf-8"
    )
    return path


def test_isolated_parsing_returns_the_same_frame_and_report(ledger_csv: Path, settings: Settings) -> None:
    expected, expected_report = parse_ledger(ledger_csv, settings=settings)
    ledger, report = parse_ledger_isolated(ledger_csv, settings=settings)
    pd.testing.assert_frame_equal(ledger, expected)
    assert report == expected_report


def test_a_parse_error_in_the_child_keeps_its_class_and_message(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("Name,When\nA,2024-01-01\n", encoding="utf-8")
    with pytest.raises(MissingColumnsError) as caught:
        parse_ledger_isolated(path, settings=settings)
    assert caught.value.missing == ["customer name", "invoice date", "amount"]
    assert "'When'" in str(caught.value)


def test_files_above_the_size_limit_are_refused_before_parsing(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * (2 * 1024 * 1024))
    with pytest.raises(FileRejectedError, match="above the 1 MB limit"):
        parse_ledger_isolated(path, settings=make_settings(MAX_FILE_MB="1"))


@pytest.mark.parametrize(
    ("entry", "env", "message"),
    [
        ("abort_in_child", {}, "crashed .*SIGABRT"),
        ("sleep_in_child", {"PARSE_TIMEOUT_S": "2"}, "longer than 2 s"),
        ("allocate_in_child", {"PARSE_MEMORY_MB": "1024"}, "more than the 1024 MB memory limit"),
        ("crash_with_unexpected_error", {}, "could not be read: KeyError"),
    ],
)
def test_a_child_that_dies_becomes_a_clear_error_and_the_parent_survives(
    ledger_csv: Path, make_settings: Callable[..., Settings], entry: str, env: dict[str, str], message: str
) -> None:
    settings = make_settings(**env)
    started = time.monotonic()
    with pytest.raises(FileRejectedError, match=message):
        parse_ledger_isolated(ledger_csv, settings=settings, entry=f"{HERE}:{entry}")
    assert time.monotonic() - started < 30
    ledger, _ = parse_ledger_isolated(ledger_csv, settings=settings)
    assert len(ledger) == 2


def test_a_file_that_exceeds_the_memory_cap_is_rejected(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    path = tmp_path / "wide.csv"
    row = ",".join(["A", "2024-01-01", "10"] + ["x" * 200] * 20)
    header = ",".join(["Customer", "Invoice Date", "Amount"] + [f"note {i}" for i in range(20)])
    with path.open("w", encoding="utf-8") as handle:
        handle.write(header + "\n")
        handle.write((row + "\n") * 80_000)
    with pytest.raises(FileRejectedError, match="memory limit|crashed"):
        parse_ledger_isolated(path, settings=make_settings(PARSE_MEMORY_MB="1024"))


def test_parsing_starts_a_new_parser_server_after_the_old_one_stopped(ledger_csv: Path, settings: Settings) -> None:
    parse_ledger_isolated(ledger_csv, settings=settings)
    stop_parser_server()
    ledger, _ = parse_ledger_isolated(ledger_csv, settings=settings)
    assert len(ledger) == 2


def test_parses_can_run_concurrently(ledger_csv: Path, settings: Settings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        sizes = list(pool.map(lambda _: len(parse_ledger_isolated(ledger_csv, settings=settings)[0]), range(8)))
    assert sizes == [2] * 8


@pytest.mark.parametrize("content", [b"PK\x03\x04garbage", b"PK\x03\x04" + b"\x00" * 64], ids=["text", "zeros"])
def test_a_fake_workbook_is_refused_in_one_line_naming_the_upload(
    tmp_path: Path, settings: Settings, content: bytes
) -> None:
    path = tmp_path / "0123abcd"
    path.write_bytes(content)
    with pytest.raises(FileRejectedError) as caught:
        parse_ledger_isolated(path, settings=settings, filename="march.xlsx")
    assert str(caught.value) == (
        "march.xlsx is not a readable Excel workbook; open it in Excel and save it again, or export it as CSV."
    )


@pytest.mark.parametrize(
    ("returncode", "stderr", "peak_mb", "expected"),
    [
        (-6, b"", 1900.0, "needed more than the 2048 MB memory limit"),  # a native reader aborting on allocation
        (-6, b"memory allocation of 4294967296 bytes failed", 300.0, "needed more than the 2048 MB"),
        (3, b"MemoryError", 10.0, "raise PARSE_MEMORY_MB"),
        (-11, b"", 120.0, "The parser crashed on ledger.xlsx (SIGSEGV)"),
        (1, b"", 120.0, "stopped on ledger.xlsx with exit code 1"),
    ],
)
def test_a_dead_parse_child_is_explained_by_size_when_it_died_near_the_memory_cap(
    make_settings: Callable[..., Settings], returncode: int, stderr: bytes, peak_mb: float, expected: str
) -> None:
    from finlib.ingest.limits import death_message

    message = death_message("ledger.xlsx", returncode, stderr, make_settings(PARSE_MEMORY_MB="2048"), peak_mb)
    assert expected in message and "\n" not in message


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text().casefold()


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_a_pending_parse_returns_what_the_isolated_parse_returns(ledger_csv: Path, settings: Settings) -> None:
    expected, expected_report = parse_ledger_isolated(ledger_csv, settings=settings)
    with PendingParse(ledger_csv, settings=settings) as pending:
        ledger, report = pending.result()
        counted = pending.display_names()
    pd.testing.assert_frame_equal(ledger, expected)
    assert report == expected_report
    from finlib.names import display_names

    assert set(counted) == {"customer_key", "sales_manager_key"}
    for key, name in (("customer_key", "customer_name"), ("sales_manager_key", "sales_manager")):
        pd.testing.assert_series_equal(counted[key], display_names(expected[name], expected[key]))


def test_a_parse_left_without_its_result_stops_its_child_and_removes_its_files(
    ledger_csv: Path, settings: Settings
) -> None:
    pid_file = ledger_csv.with_suffix(".pid")
    started = time.monotonic()
    with PendingParse(ledger_csv, settings=settings, entry="tests.helpers.stand_ins:announce_and_sleep"):
        assert _within(20, pid_file.exists), "the parse child never started"
        child = int(pid_file.read_text())
        assert _alive(child)
    assert not _alive(child)  # stopped before the block was left, not when its 120 s sleep ends
    assert time.monotonic() - started < 30
    assert list((settings.home / "tmp").iterdir()) == []


def test_a_parse_left_before_the_server_took_it_leaves_no_child_running(ledger_csv: Path, settings: Settings) -> None:
    stop_parser_server()  # the next parse starts a server that is still importing when the parse is left
    pid_file = ledger_csv.with_suffix(".pid")
    with PendingParse(ledger_csv, settings=settings, entry="tests.helpers.stand_ins:announce_and_sleep"):
        pass
    time.sleep(0.5)
    assert not pid_file.exists() or not _alive(int(pid_file.read_text()))
    assert list((settings.home / "tmp").iterdir()) == []


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_checks_before_a_parse_import_no_pandas(tmp_path: Path, kind: str) -> None:
    """They run in the process that asked, before the child starts: pandas there would delay every parse."""
    import subprocess
    import sys
    import zipfile

    path = tmp_path / f"ledger.{kind}"
    if kind == "xlsx":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    else:
        path.write_text("Customer,Invoice Date,Amount\nA,2024-01-01,10\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from finlib.config import load_settings\n"
        "from finlib.ingest import limits\n"
        f"environ = {{'FINLIB_HOME': {str(tmp_path / 'home')!r}, 'ALIAS_SALT': 's'}}\n"
        "settings = load_settings(environ, dotenv_path=None)\n"
        f"limits.refuse_zip_bomb(Path({str(path)!r}), 'ledger', 0.1, settings)\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_follow_up_runs_in_the_child_after_the_frame_is_handed_over(ledger_csv: Path, settings: Settings) -> None:
    from finlib.ingest.sandbox import Followup

    go = ledger_csv.with_suffix(".go")
    followup = Followup(f"{STAND_INS}:count_when_told", ("customer_key", "amount"), {"go": str(go)})
    with PendingParse(ledger_csv, settings=settings, followup=followup) as pending:
        ledger, _ = pending.result()  # returns while the follow-up still waits for its go
        assert len(ledger) == 2
        go.touch()
        assert pending.followup_output() == b"2 rows, columns customer_key,amount"
    assert list((settings.home / "tmp").iterdir()) == []


@pytest.mark.parametrize(
    ("stand_in", "env", "logged"),
    [
        ("die_after_hand_over", {}, "failed (exit code -9)"),
        ("fail_after_hand_over", {}, "failed (exit code 1)"),
        ("hang_after_hand_over", {"PARSE_TIMEOUT_S": "3"}, "took longer than 3 s"),
    ],
)
def test_a_follow_up_that_does_not_finish_gives_nothing_and_leaves_nothing_running(
    ledger_csv: Path,
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
    stand_in: str,
    env: dict[str, str],
    logged: str,
) -> None:
    from finlib.ingest.sandbox import Followup

    settings = make_settings(**env)
    started = time.monotonic()
    with PendingParse(ledger_csv, settings=settings, followup=Followup(f"{STAND_INS}:{stand_in}")) as pending:
        ledger, _ = pending.result()
        assert len(ledger) == 2
        assert pending.followup_output() is None  # a partly written output is not taken either
    assert time.monotonic() - started < 30
    assert any(logged in record.getMessage() for record in caplog.records), caplog.text
    assert list((settings.home / "tmp").iterdir()) == []
