"""Specification of finlib.ingest.duplicates: rows that repeat an earlier row in every cell are named."""

from __future__ import annotations

from pathlib import Path

from finlib.config import Settings
from finlib.ingest.parsing import parse_ledger

HEADER = "Customer,Invoice No,Invoice Date,Amount,Payment Date,Description\n"


def _warnings(tmp_path: Path, settings: Settings, body: str) -> list[str]:
    path = tmp_path / "ledger.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    ledger, report = parse_ledger(path, settings=settings)
    assert len(ledger) == body.count("\n"), "every row stays loaded"
    return [w for w in report.warnings if "repeat" in w]


def test_rows_that_repeat_an_earlier_row_in_every_cell_are_named_by_their_file_rows(
    tmp_path: Path, settings: Settings
) -> None:
    body = (
        "A,1,2025-01-01,100,2025-01-20,fee\n"
        "B,2,2025-01-02,50,,fee\n"
        "A,1,2025-01-01,100,2025-01-20,fee\n"
        "B,2,2025-01-02,50,,fee\n"
        "B,2,2025-01-02,50,,fee\n"
    )
    assert _warnings(tmp_path, settings, body) == [
        "3 rows repeat an earlier row in every cell (rows 4, 5, 6); they are counted. If the export was appended "
        "to itself, export it again."
    ]


def test_lines_that_differ_in_a_column_the_ledger_does_not_read_are_not_repeats(
    tmp_path: Path, settings: Settings
) -> None:
    body = "A,1,2025-01-01,100,2025-01-20,fee\nA,1,2025-01-01,100,2025-01-20,travel\n"
    assert _warnings(tmp_path, settings, body) == []


def test_rows_without_an_invoice_number_are_not_called_repeats(tmp_path: Path, settings: Settings) -> None:
    body = "A,,2025-01-01,100,,fee\nA,,2025-01-01,100,,fee\n"
    assert _warnings(tmp_path, settings, body) == []


def test_one_repeated_row_is_said_in_the_singular(tmp_path: Path, settings: Settings) -> None:
    body = "A,1,2025-01-01,100,2025-01-20,fee\nA,1,2025-01-01,100,2025-01-20,fee\n"
    assert _warnings(tmp_path, settings, body) == [
        "1 row repeats an earlier row in every cell (row 3); it is counted as a separate line. If the export was "
        "appended to itself, export it again."
    ]
