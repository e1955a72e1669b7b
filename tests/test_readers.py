"""Specification of finlib.ingest.readers: format detection, encodings, delimiters, header rows and row numbers."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from finlib.errors import FileRejectedError
from finlib.ingest import delimited, readers, schema

HEADER = "Customer,Invoice Date,Amount"


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (b"PK\x03\x04rest", "upload.bin", "xlsx"),
        (readers.XLS_MAGIC + b"rest", "ledger.csv", "xls"),
        (b"a,b\n1,2\n", "ledger.csv", "csv"),
        (b"a,b\n1,2\n", "no_extension", "csv"),
    ],
)
def test_format_is_decided_by_magic_bytes_before_the_extension(
    tmp_path: Path, content: bytes, name: str, expected: str
) -> None:
    path = tmp_path / "cache-file"
    path.write_bytes(content)
    assert readers.detect_format(path, name) == expected


def test_a_text_file_named_xlsx_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"a,b\n")
    with pytest.raises(FileRejectedError, match="not one"):
        readers.detect_format(path)


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (f"{HEADER}\nCafé Ltd,2024-01-01,10\n".encode(), "utf-8"),
        (codecs.BOM_UTF8 + f"{HEADER}\nCafé Ltd,2024-01-01,10\n".encode(), "utf-8-sig"),
        (f"{HEADER}\nCafé Ltd,2024-01-01,10\n".encode("utf-16"), "utf-16"),
        (f"{HEADER}\nCafé Ltd,2024-01-01,10\n".encode("cp1252"), "cp1252"),
    ],
)
def test_encodings_are_detected(tmp_path: Path, encoded: bytes, encoding: str) -> None:
    path = tmp_path / "ledger.csv"
    path.write_bytes(encoded)
    text = delimited.sniff_csv(path)
    assert text.encoding == encoding
    assert text.preview.iloc[1, 0] == "Café Ltd"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str) -> None:
    lines = ["Customer,Invoice Date,Amount", "A,2024-01-01,1.5", "B,2024-01-02,2"]
    path = tmp_path / "ledger.csv"
    path.write_text("\n".join(line.replace(",", delimiter) for line in lines) + "\n", encoding="utf-8")
    assert delimited.sniff_csv(path).delimiter == delimiter


def test_the_header_is_the_row_naming_the_most_known_columns() -> None:
    rows = pd.DataFrame([["ACME export", None, None], [None, None, None], ["CUSTOMER NAME", "INVOICE DATE", "Amount"]])
    assert readers.find_header_row(rows, schema.score_header) == 2


def test_csv_data_rows_carry_their_file_line_numbers_across_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text("Title\n" + HEADER + "\nA,2024-01-01,1\n\nB,2024-01-02,2\n", encoding="utf-8")
    text = delimited.sniff_csv(path)
    grid = delimited.read_csv_body(text, header_line=2, width=3, text_columns={0, 1})
    assert list(grid.row_numbers) == [3, 5]
    assert list(grid.cells[0]) == ["A", "B"]


def test_csv_rows_with_the_wrong_number_of_fields_are_reported_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(HEADER + "\nA,2024-01-01,1\nB,2024-01-02,2,extra\nC,2024-01-03,3\n", encoding="utf-8")
    grid = delimited.read_csv_body(delimited.sniff_csv(path), header_line=1, width=3, text_columns={0, 1})
    assert list(grid.cells[0]) == ["A", "C"]
    assert list(grid.row_numbers) == [2, 4]
    assert grid.rejected == [(3, "wrong number of fields")]


def test_xlsx_grids_number_rows_as_excel_does_even_after_empty_leading_rows(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet["C4"] = "Customer"
    sheet["C5"] = "A"
    path = tmp_path / "ledger.xlsx"
    workbook.save(path)
    grid = next(readers.iter_excel_grids(path, "xlsx"))
    assert list(grid.row_numbers) == [4, 5]
    assert grid.cells.iloc[1, 0] == "A"


def test_csv_dictionary_columns_come_back_as_categoricals_with_the_same_values(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(HEADER + "\nA,2024-01-01,1\n,2024-01-02,2\nA ,2024-01-01,3\n", encoding="utf-8")
    grid = delimited.read_csv_body(
        delimited.sniff_csv(path), header_line=1, width=3, text_columns={0, 1}, dictionary_columns={0}
    )
    assert isinstance(grid.cells[0].dtype, pd.CategoricalDtype)
    assert grid.cells[0].astype(object).where(grid.cells[0].notna(), None).tolist() == ["A", None, "A "]
    assert grid.cells[1].dtype == "str"


def _truncated_workbook(path: Path) -> bytes:
    workbook = Workbook()
    workbook.active.append(["Customer", "Invoice Date", "Amount"])
    workbook.save(path)
    return path.read_bytes()[:300]


@pytest.mark.parametrize(
    ("fmt", "make_bytes"),
    [
        ("xlsx", lambda path: b"PK\x03\x04garbage"),
        ("xlsx", _truncated_workbook),
        ("xls", lambda path: readers.XLS_MAGIC + b"garbage" * 20),
    ],
    ids=["text-with-zip-magic", "truncated-zip", "xls-magic-garbage"],
)
def test_a_file_that_is_not_a_readable_workbook_gets_one_clear_line(
    tmp_path: Path, fmt: str, make_bytes: Callable[[Path], bytes]
) -> None:
    path = tmp_path / "cache-0123"
    path.write_bytes(make_bytes(tmp_path / "source.xlsx"))
    with pytest.raises(FileRejectedError) as caught:
        list(readers.iter_excel_grids(path, fmt, "March ledger.xlsx"))
    assert str(caught.value) == (
        "March ledger.xlsx is not a readable Excel workbook; open it in Excel and save it again, or export it as CSV."
    )
