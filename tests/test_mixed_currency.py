"""Specification of finlib.ingest.mixed_currency: several currencies in one ledger are named, never summed silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from finlib.config import Settings
from finlib.ingest.parsing import parse_ledger


def _currency_warnings(tmp_path: Path, settings: Settings, header: str, cells: list[str]) -> list[str]:
    rows = "".join(f"C{i},{i},2025-01-0{i % 9 + 1},{100 * (i + 1)},{cell}\n" for i, cell in enumerate(cells))
    path = tmp_path / "ledger.csv"
    path.write_text(f"Customer,Invoice No,Invoice Date,Amount,{header}\n{rows}", encoding="utf-8")
    _, report = parse_ledger(path, settings=settings)
    return [w for w in report.warnings if "currencies" in w]


def test_each_currency_is_named_with_its_rows_and_amount_codes_and_symbols_alike(
    tmp_path: Path, settings: Settings
) -> None:
    # Amounts 100, 200, 300, 400: USD rows 0, 1 and 3 ('usd ', 'USD', '$'), EUR row 2.
    assert _currency_warnings(tmp_path, settings, "Currency", ["usd ", "USD", "EUR", "$"]) == [
        "Column 'Currency' names 2 currencies (USD: 3 rows, 700.00; EUR: 1 row, 300.00). Every total adds the "
        "amounts as one currency: right only if they are already converted to one. If they are not, export one file "
        "per currency and register each as its own project."
    ]


@pytest.mark.parametrize("cells", [["EUR", "EUR", "", "eur"], ["", "", "", ""]])
def test_one_currency_or_none_says_nothing(tmp_path: Path, settings: Settings, cells: list[str]) -> None:
    assert _currency_warnings(tmp_path, settings, "CCY", cells) == []
