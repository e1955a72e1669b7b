"""Specification of finlib.ingest.open_amounts: an unread remaining-balance column is checked, not ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from finlib.config import Settings
from finlib.ingest.parsing import parse_ledger

HEADER = "Customer,Invoice No,Invoice Date,Due Date,Amount,Payment Date,{balance}\n"
ROWS = (
    "A,1,2025-01-01,2025-01-31,1000,2025-01-20,0\n"
    "A,2,2025-01-05,2025-02-04,1500,,500\n"
    "B,3,2025-01-06,2025-02-05,700,,0\n"
    "B,4,2025-01-07,2025-02-06,300,,300\n"
)


def _balance_warnings(tmp_path: Path, settings: Settings, text: str) -> list[str]:
    path = tmp_path / "ledger.csv"
    path.write_text(text, encoding="utf-8")
    _, report = parse_ledger(path, settings=settings)
    return [w for w in report.warnings if "remaining balance" in w]


@pytest.mark.parametrize("balance", ["Open Amount", "Balance Due", "Offener Betrag", "Montant restant"])
def test_part_payments_and_settled_invoices_without_a_date_are_named_with_the_overstatement(
    tmp_path: Path, settings: Settings, balance: str
) -> None:
    [warning] = _balance_warnings(tmp_path, settings, HEADER.format(balance=balance) + ROWS)
    assert warning.startswith(f"Column {balance!r} looks like each invoice's remaining balance and is not read: ")
    assert "1 unpaid invoice has less left to pay than its amount (row 3)" in warning
    assert "1 has nothing left to pay but no payment date (row 4)" in warning
    # Invoice 2: 1,500 open of which 500 left (1,000 too much); invoice 3: 700 open with nothing left.
    assert "overstated by up to 1,700.00 in total" in warning


def test_a_balance_column_that_agrees_with_the_open_invoices_says_nothing(tmp_path: Path, settings: Settings) -> None:
    rows = "A,1,2025-01-01,2025-01-31,1000,2025-01-20,0\nA,2,2025-01-05,2025-02-04,1500,,1500\n"
    assert _balance_warnings(tmp_path, settings, HEADER.format(balance="Open Amount") + rows) == []


def test_a_running_balance_is_not_taken_for_what_is_left_to_pay(tmp_path: Path, settings: Settings) -> None:
    rows = (
        "A,1,2025-01-01,2025-01-31,1000,2025-01-20,1000\n"
        "A,2,2025-01-05,2025-02-04,1500,2025-02-01,2500\n"
        "A,3,2025-01-06,2025-02-05,700,,200\n"
    )
    assert _balance_warnings(tmp_path, settings, HEADER.format(balance="Balance") + rows) == []
