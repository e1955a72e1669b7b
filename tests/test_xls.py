"""Legacy Excel (.xls) ledgers: the original ERP shape read from a real .xls file built here with xlwt."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

xlwt = pytest.importorskip("xlwt", reason="xlwt (a dev requirement) writes the .xls fixtures")

from finlib.ingest.parsing import parse_ledger  # noqa: E402
from finlib.ingest.sandbox import parse_ledger_isolated  # noqa: E402

HEADER = ["", "CUSTOMER NAME", "INVOICE DATE", "INVOICE NO", "NET AMOUNT", "VAT (5%)", "TOTAL INVOICE AMT",
          "PAYMENT DATE", "SALES MANAGER NAME"]  # fmt: skip
ROWS = [
    ["ABC Company", date(2026, 1, 5), "INV-1", 1000.0, 50.0, 1050.0, date(2026, 2, 4), "Jane Doe"],
    ["abc company ", date(2026, 2, 5), "INV-2", 2000.0, 100.0, 2100.0, None, "Jane Doe"],
    ["Beta LLC", date(2026, 1, 20), "INV-3", -100.0, -5.0, -105.0, date(2026, 1, 20), "Omar Khan"],
]


def write_erp_xls(path: Path) -> Path:
    """Two title rows, the header on row 3 with a blank first column, dates as real Excel date cells."""
    book = xlwt.Workbook()
    sheet = book.add_sheet("Invoice Register")
    dates = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    sheet.write(0, 1, "Accounts Receivable - Invoice Register")
    sheet.write(1, 1, "Exported 2026-03-01")
    for column, title in enumerate(HEADER):
        if title:
            sheet.write(2, column, title)
    for offset, row in enumerate(ROWS):
        for column, value in enumerate(row, start=1):
            if isinstance(value, date):
                sheet.write(3 + offset, column, value, dates)
            elif value is not None:
                sheet.write(3 + offset, column, value)
    book.save(str(path))
    return path


def test_an_erp_export_saved_as_xls_is_read_like_the_xlsx(settings, tmp_path: Path) -> None:
    ledger, report = parse_ledger(write_erp_xls(tmp_path / "register.xls"), settings=settings)
    assert report.format == "xls"
    assert report.header_row == 3
    assert report.rows_loaded == 3 and report.rejected_count == 0
    assert list(ledger["source_row"]) == [4, 5, 6]
    assert list(ledger["customer_name"]) == ["ABC Company", "ABC Company", "Beta LLC"]
    assert list(ledger["amount"]) == [1050.0, 2100.0, -105.0]
    assert ledger["invoice_date"].iloc[0] == pd.Timestamp("2026-01-05")
    assert ledger["payment_date"].isna().tolist() == [False, True, False]


def test_an_xls_file_is_recognised_by_its_bytes_whatever_its_name(settings, tmp_path: Path) -> None:
    path = write_erp_xls(tmp_path / "register.xls").rename(tmp_path / "download")
    ledger, report = parse_ledger_isolated(path, settings=settings, filename="export?version=3")
    assert report.format == "xls"
    assert len(ledger) == 3
