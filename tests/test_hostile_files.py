"""A corpus of hostile and awkward ledger files, each with its exact outcome through the isolated parser.

Every file either loads with the right figures (rows, total, rejected rows and why) or is refused in one clear
line that names the problem and what to do, within a bounded time and under the default memory cap.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from finlib.config import Settings
from finlib.errors import ParseError
from finlib.ingest.sandbox import parse_ledger_isolated

MAX_SECONDS = 30.0
HEADER = "Customer,Invoice Date,Amount,Payment Date\n"
CLEAN_ROWS = "Acme,2024-01-05,100.00,2024-02-01\nBeta,2024-01-10,50.50,\n"
Build = Callable[[Path], Path]


@dataclass(frozen=True)
class Loads:
    """The file loads: this many rows, this total amount, and these rejected rows, warnings and names."""

    rows: int
    total: float
    rejected: int = 0
    reason: str = ""  # a regex one rejected example's reason matches
    warning: str = ""  # a regex one warning matches
    customers: tuple[str, ...] = ()  # the display names, when the test is about names
    before: str = "2030-01-01"  # every loaded invoice is dated before this day
    prepayments: int = 0  # rows paid before their invoice date (loaded, counted in the report)


@dataclass(frozen=True)
class Refused:
    """The file is refused with one line matching this regex."""

    message: str


def text(body: str, name: str = "ledger.csv", encoding: str = "utf-8") -> Build:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(body.encode(encoding))
        return path

    return build


def raw(data: bytes, name: str = "ledger.csv") -> Build:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return build


def workbook(*sheets: tuple[str, list[list[object]], str], name: str = "ledger.xlsx") -> Build:
    """An xlsx of (title, rows, state) sheets; state is 'visible', 'hidden' or 'veryHidden'."""

    def build(folder: Path) -> Path:
        from openpyxl import Workbook

        book = Workbook()
        book.remove(book.active)
        for title, rows, state in sheets:
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
            sheet.sheet_state = state
        book.active = next(i for i, (_, _, state) in enumerate(sheets) if state == "visible")
        path = folder / name
        book.save(path)
        return path

    return build


def many_sheets(count: int) -> Build:
    def build(folder: Path) -> Path:
        from openpyxl import Workbook

        book = Workbook()
        for index in range(1, count):
            book.create_sheet(f"Notes {index}").append(["note", index])
        book.active.append(["note", 0])
        path = folder / "sheets.xlsx"
        book.save(path)
        return path

    return build


def zip_bomb(unpacked_mb: int) -> Build:
    """A tiny xlsx whose one sheet unpacks to ``unpacked_mb`` of zeros."""

    def build(folder: Path) -> Path:
        path = folder / "bomb.xlsx"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("xl/workbook.xml", "<workbook/>")
            with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
                chunk = b"0" * (1024 * 1024)
                for _ in range(unpacked_mb):
                    member.write(chunk)
        return path

    return build


def frame_file(kind: str, frame: pd.DataFrame, name: str) -> Build:
    def build(folder: Path) -> Path:
        path = folder / name
        if kind == "parquet":
            frame.to_parquet(path)
        else:
            path.write_text(json.dumps(frame), encoding="utf-8")
        return path

    return build


def json_file(document: object, name: str = "ledger.json") -> Build:
    return text(json.dumps(document), name)


def rows_csv(count: int, *, amount: Callable[[int], str] = lambda i: str(10 + i)) -> str:
    return HEADER + "".join(f"C{i},2024-01-{1 + i % 28:02d},{amount(i)},\n" for i in range(count))


UNCLOSED_QUOTE = rows_csv(6001).replace("C2,2024-01-03,12,\n", 'C2,2024-01-03,"12,\n')
LONG_NAMES = "".join(
    f"Customer {i:05d} with a long trading name,2024-01-{1 + i % 28:02d},{10 + i},\n" for i in range(1000)
)
DELIMITER_CHANGE = HEADER + LONG_NAMES + "".join(f"D{i};2024-02-{1 + i % 28:02d};{i};\n" for i in range(2000))
ADDRESSES = (
    'Customer,Address,Invoice Date,Amount\n"Acme","1 Main St\nSpringfield",2024-01-05,100\n'
    'Beta,"Dock 4\nHull",2024-01-06,50\n'
)
CP1252_LINE = "Gärtner AG,2024-01-02,20,\n".encode("cp1252")
QUICKBOOKS = (
    "Invoice List\nAcme Books Inc.\nAll Dates\n\n"
    "Date,Transaction Type,Num,Customer,Due Date,Amount,Open Balance\n"
    "01/05/2024,Invoice,1001,Acme,02/04/2024,100.00,0.00\n"
    "01/10/2024,Invoice,1002,Beta,02/09/2024,50.50,50.50\n"
    '01/20/2024,Invoice,1003,Acme,02/19/2024,"1,200.00",1200.00\n'
    'Total for Invoice,,,,,"$1,350.50",\n'
)
XERO_HEADER = (
    "ContactName,EmailAddress,POAddressLine1,InvoiceNumber,Reference,InvoiceDate,DueDate,Total,TaxTotal,"
    "InvoiceAmountPaid,InvoiceAmountDue,InventoryItemCode,Description,Quantity,UnitAmount,Discount,LineAmount,"
    "AccountCode,TaxType,TaxAmount,Currency,Type,Sent,Status\n"
)
XERO = XERO_HEADER + (
    "Acme,a@acme.test,1 Main St,INV-001,P1,05/01/2024,04/02/2024,120.00,20.00,0,120.00,,Design,1,60,,60.00,200,"
    "20% (VAT on Income),10.00,GBP,Sales Invoice,Sent,Awaiting Payment\n"
    "Acme,a@acme.test,1 Main St,INV-001,P1,05/01/2024,04/02/2024,120.00,20.00,0,120.00,,Build,1,40,,40.00,200,"
    "20% (VAT on Income),10.00,GBP,Sales Invoice,Sent,Awaiting Payment\n"
    "Beta,b@beta.test,2 High St,INV-002,P2,10/01/2024,09/02/2024,60.00,10.00,0,60.00,,Audit,1,50,,50.00,200,"
    "20% (VAT on Income),10.00,GBP,Sales Invoice,Sent,Awaiting Payment\n"
)
LEDGER_FRAME = pd.DataFrame(
    {
        "Customer": ["Acme", "Beta", "Acme"],
        "Invoice Date": pd.to_datetime(["2024-01-05", "2024-01-10", "2024-02-01"]),
        "Amount": [100.0, 50.5, 30.0],
        "Payment Date": pd.to_datetime(["2024-02-01", None, None]),
    }
)
RECORDS = [
    {"Customer": "Acme", "Invoice Date": "2024-01-05", "Amount": 100.0, "Payment Date": "2024-02-01"},
    {"Customer": "Beta", "Invoice Date": "2024-01-10", "Amount": 50.5, "Payment Date": None},
]
PAID_9999 = pd.Series([dt.datetime(2024, 2, 1), None, dt.datetime(9999, 12, 31)], dtype="datetime64[us]")
XL_HEADER = ["Customer", "Invoice Date", "Amount", "Payment Date"]
JAN5, JAN10 = dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 10)

CASES: list[tuple[str, Build, Loads | Refused]] = [
    ("clean csv", text(HEADER + CLEAN_ROWS), Loads(2, 150.5)),
    (
        "payment 9999-12-31 is no date",
        text(HEADER + "Acme,2024-01-05,100,9999-12-31\n"),
        Loads(1, 100, warning="9999-12-31.*empty"),
    ),
    (
        "payment 31/12/9999 is no date",
        text(HEADER + "Acme,05/01/2024,100,31/12/9999\n"),
        Loads(1, 100, warning="no date"),
    ),
    (
        "payment 0000-00-00 is no date",
        text(HEADER + "Acme,2024-01-05,100,0000-00-00\n"),
        Loads(1, 100, warning="0000-00-00"),
    ),
    (
        "invoice 9999-12-31 rejected",
        text(HEADER + "Acme,9999-12-31,100,\n" + CLEAN_ROWS),
        Loads(2, 150.5, 1, "missing invoice date.*means no date"),
    ),
    (
        "year 1150 rejected",
        text(HEADER + "Acme,1150-01-01,100,\n" + CLEAN_ROWS),
        Loads(2, 150.5, 1, "outside the years 1900-2100"),
    ),
    (
        "year 2150 rejected",
        text(HEADER + "Acme,2150-01-01,100,\n" + CLEAN_ROWS),
        Loads(2, 150.5, 1, "outside the years"),
    ),
    (
        "excel serial -5 rejected",
        text(HEADER + "Acme,-5,100,\n" + CLEAN_ROWS),
        Loads(2, 150.5, 1, "'-5' is a number, not a date"),
    ),
    ("excel serials read as dates", text(HEADER + "Acme,45296,100,45323\n"), Loads(1, 100)),
    ("yyyymmdd read as dates", text(HEADER + "Acme,20240105,100,20240201\n"), Loads(1, 100)),
    ("inf amount rejected", text(HEADER + "Acme,2024-01-05,inf,\n" + CLEAN_ROWS), Loads(2, 150.5, 1, "out of range")),
    (
        "minus inf amount rejected",
        text(HEADER + "Acme,2024-01-05,-inf,\n" + CLEAN_ROWS),
        Loads(2, 150.5, 1, "out of range"),
    ),
    (
        "1e308 amount rejected",
        text(HEADER + "Acme,2024-01-05,1e308,\n" + CLEAN_ROWS),
        Loads(2, 150.5, 1, "out of range"),
    ),
    (
        "400-digit amount rejected",
        text(HEADER + f"Acme,2024-01-05,{'9' * 400},\n" + CLEAN_ROWS),
        Loads(2, 150.5, 1, "out of range"),
    ),
    (
        "many out-of-range amounts",
        text(HEADER + "A,2024-01-01,inf,\nB,2024-01-02,1e308,\nC,2024-01-03,5,\n"),
        Loads(1, 5, 2, "out of range"),
    ),
    (
        "payment before invoice loads as a prepayment",
        text(HEADER + "Acme,2024-03-01,100,2023-12-20\n" + CLEAN_ROWS),
        Loads(
            3,
            250.5,
            warning=r"^1 invoice was paid before its invoice date \(prepayments; first: row 2\)\. They "
            r"count as paid, with 0 days to pay\.$",
            prepayments=1,
        ),
    ),
    (
        "empty payment date column warns",
        text(HEADER + "Acme,2024-01-05,100.00,\nBeta,2024-01-10,50.50,\n"),
        Loads(
            2,
            150.5,
            warning=r"^No payment dates: its payment date column is empty .* every invoice counts as "
            r"open, and days to pay, on-time share, payment delays and payment forecasts are not available\.$",
        ),
    ),
    (
        "credit note settled early loads",
        text(HEADER + "Acme,2024-03-01,-40,2024-02-01\n" + CLEAN_ROWS),
        Loads(3, 110.5),
    ),
    (
        "invoice in 2099 rejected",
        text(HEADER + "Acme,2099-03-01,100,\n" + CLEAN_ROWS),
        Loads(2, 150.5, 1, "implausibly far ahead"),
    ),
    (
        # The rule reads the file, not today: a ledger dated decades ahead of today loads whole, so a parse cached
        # yesterday is what a parse today gives.
        "ledger of the 2090s loads whatever today is",
        text(HEADER + "Acme,2090-01-05,100.00,2090-02-01\nBeta,2090-06-10,50.50,\nGamma,2091-05-01,10,2091-06-01\n"),
        Loads(3, 160.5, before="2092-01-01"),
    ),
    (
        "typo a decade after an old ledger rejected",
        text(HEADER + "Acme,2019-03-01,100,\nAcme,2029-03-01,7,\n" + CLEAN_ROWS.replace("2024", "2019")),
        Loads(3, 250.5, 1, r"invoice date 2029-03-01 is implausibly far ahead \(after 2020-03-0\d: more than a year"),
    ),
    (
        "payment in 2099 rejected",
        text(HEADER + "Acme,2024-03-01,100,2099-01-01\n" + CLEAN_ROWS),
        Loads(2, 150.5, 1, "payment date 2099-01-01 is implausibly"),
    ),
    ("header only refused", text(HEADER), Refused(r"has a header row .* but no invoice rows below it\. Export")),
    ("empty file refused", text(""), Refused(r"is empty\. Export the ledger again")),
    ("blank lines refused", text("\n\n  \n"), Refused(r"is empty")),
    (
        "unreadable dates refused",
        text(HEADER + "Acme,garbage,100,\nBeta,junk,50,\n"),
        Refused(
            r"'Invoice Date' looks like the invoice date column, but too few of its values read as a date "
            r"\(e\.g\. 'garbage'\)"
        ),
    ),
    (
        "unreadable amounts refused",
        text(HEADER + "Acme,2024-01-05,lots,\nBeta,2024-01-06,some,\n"),
        Refused(r"'Amount' looks like the amount column, but too few of its values read as a number"),
    ),
    (
        "no ledger columns refused",
        text("Foo,Bar\n1,2\n"),
        Refused(r"no column for customer name, invoice date, amount\. Columns found: 'Foo', 'Bar'"),
    ),
    (
        "utf-16 le without bom",
        text(HEADER + "Müller,2024-01-05,100,\n", encoding="utf-16-le"),
        Loads(1, 100, customers=("Müller",)),
    ),
    (
        "utf-16 be without bom",
        text(HEADER + "Müller,2024-01-05,100,\n", encoding="utf-16-be"),
        Loads(1, 100, customers=("Müller",)),
    ),
    (
        "utf-16 with bom",
        text(HEADER + "Müller,2024-01-05,100,\n", encoding="utf-16"),
        Loads(1, 100, customers=("Müller",)),
    ),
    ("utf-8 with bom", text("\ufeff" + HEADER + "Müller,2024-01-05,100,\n"), Loads(1, 100, customers=("Müller",))),
    (
        "windows-1252",
        text(HEADER + "Müller,2024-01-05,100,\n", encoding="cp1252"),
        Loads(1, 100, customers=("Müller",)),
    ),
    (
        "mixed utf-8 and cp1252",
        raw((HEADER + "Müller GmbH,2024-01-01,10,\n").encode() + CP1252_LINE),
        Loads(2, 30, warning="mixes UTF-8 and Windows-1252.*line 3", customers=("Gärtner AG", "Müller GmbH")),
    ),
    (
        "nul byte after 64 KB",
        raw((HEADER + LONG_NAMES).encode() + b"Ac\x00me,2024-01-05,100,\n"),
        Loads(1001, 509600, warning="Removed 1 NUL character"),
    ),
    (
        "nul bytes early",
        raw(HEADER.encode() + b"Acme\x00,2024-01-05,100,\n"),
        Loads(1, 100, warning="NUL", customers=("Acme",)),
    ),
    (
        "binary garbage refused",
        raw(bytes(range(256)) * 64),
        Refused(r"contains binary data and is not a CSV, Excel, Parquet or JSON ledger"),
    ),
    (
        "single 50 MB line refused",
        raw(b"x" * (50 * 1024 * 1024)),
        Refused(r"first line of ledger\.csv is longer than 64 KB"),
    ),
    (
        "100k columns refused",
        raw((",".join(f"c{i}" for i in range(100_000)) + "\n1,2\n").encode()),
        Refused(r"longer than 64 KB .*thousands of columns"),
    ),
    ("3000 columns refused", raw((",".join("c" for _ in range(3000)) + "\n").encode()), Refused(r"has 3,000 columns")),
    ("unclosed quote in row 3", text(UNCLOSED_QUOTE), Loads(6000, sum(range(10, 6011)) - 12, 1, r"unclosed quote")),
    (
        "delimiter change after 64 KB",
        text(DELIMITER_CHANGE),
        Loads(1000, sum(range(10, 1010)), 2000, r"wrong number of fields \(separated by ';'; the file uses ','\)"),
    ),
    ("quoted multi-line values", text(ADDRESSES), Loads(2, 150)),
    (
        "semicolons and decimal commas",
        text("Customer;Invoice Date;Amount\nAcme;05.01.2024;1.234,50\n", name="de.csv"),
        Loads(1, 1234.5),
    ),
    (
        "repeated headers and totals skipped",
        text(HEADER + CLEAN_ROWS + HEADER + "Total,,150.50,\n"),
        Loads(2, 150.5, warning="Skipped 1 repeated header"),
    ),
    ("crlf line endings", text((HEADER + CLEAN_ROWS).replace("\n", "\r\n")), Loads(2, 150.5)),
    (
        "numbers under a date-like header",
        text("Customer,Invoice Date,Total Due\nAcme,2024-01-05,45000\nBeta,2024-01-06,46000\n"),
        Loads(2, 91000),
    ),
    ("formula-looking names load as text", text(HEADER + '"=HYPERLINK(""x"")",2024-01-05,100,\n'), Loads(1, 100)),
    (
        "csv named .xlsx refused",
        text(HEADER + CLEAN_ROWS, name="ledger.xlsx"),
        Refused(r"named like an Excel file but its content is not one"),
    ),
    (
        "xlsx 9999 and -5",
        workbook(
            (
                "Ledger",
                [XL_HEADER, ["A", JAN5, 10, dt.datetime(9999, 12, 31)], ["B", JAN10, 20, None], ["C", -5, 30, None]],
                "visible",
            )
        ),
        Loads(2, 30, 1, "'-5' is a number", "9999-12-31"),
    ),
    (
        "xlsx hidden first sheet",
        workbook(
            ("Old", [XL_HEADER, ["Z", JAN5, 999, None]], "hidden"),
            ("Ledger", [XL_HEADER, ["A", JAN5, 10, None]], "visible"),
        ),
        Loads(1, 10, customers=("A",)),
    ),
    (
        "xlsx very hidden first sheet",
        workbook(
            ("Old", [XL_HEADER, ["Z", JAN5, 999, None]], "veryHidden"),
            ("Ledger", [XL_HEADER, ["A", JAN5, 10, None]], "visible"),
        ),
        Loads(1, 10, customers=("A",)),
    ),
    (
        "xlsx only a hidden ledger",
        workbook(("Notes", [["note"]], "visible"), ("Ledger", [XL_HEADER, ["A", JAN5, 10, None]], "hidden")),
        Loads(1, 10),
    ),
    (
        "xlsx title rows above the header",
        workbook(("Ledger", [["AR export"], [], XL_HEADER, ["A", JAN5, 10, None]], "visible")),
        Loads(1, 10),
    ),
    (
        "xlsx amounts under a date-like header",
        workbook(
            ("L", [["Customer", "Invoice Date", "Total Due"], ["A", JAN5, 45000], ["B", JAN10, 46000.5]], "visible")
        ),
        Loads(2, 91000.5),
    ),
    (
        "xlsx named .csv",
        workbook(("Ledger", [XL_HEADER, ["A", JAN5, 10, None]], "visible"), name="ledger.csv"),
        Loads(1, 10),
    ),
    ("2000 sheets bounded", many_sheets(2000), Refused(r"no column for customer name")),
    (
        "truncated xlsx refused",
        raw(b"PK\x03\x04" + b"\x00" * 200, name="ledger.xlsx"),
        Refused(r"not a readable Excel workbook; open it in Excel and save it again"),
    ),
    (
        "zip bomb refused by size",
        zip_bomb(1100),
        Refused(r"unpacks to 1,100 MB of spreadsheet data .* more than the parser may use \(2,048 MB\)"),
    ),
    ("parquet", frame_file("parquet", LEDGER_FRAME, "ledger.parquet"), Loads(3, 180.5)),
    (
        "parquet with 9999 dates",
        frame_file("parquet", LEDGER_FRAME.assign(**{"Payment Date": PAID_9999}), "ledger.parquet"),
        Loads(3, 180.5),
    ),
    (
        "broken parquet refused",
        raw(b"PAR1" + b"\x00" * 100, name="ledger.parquet"),
        Refused(r"not a readable Parquet file"),
    ),
    ("json records", json_file(RECORDS), Loads(2, 150.5)),
    ("json columns", json_file({k: [r[k] for r in RECORDS] for k in RECORDS[0]}), Loads(2, 150.5)),
    ("json wrapped records", json_file({"invoices": RECORDS}), Loads(2, 150.5)),
    ("json not a table refused", json_file({"total": 3}), Refused(r"is JSON but not a table")),
    ("invalid json refused", text('[{"Customer": "A",', name="ledger.json"), Refused(r"is not valid JSON \(line 1\)")),
    (
        "json nul escapes dropped",
        text(json.dumps(RECORDS).replace("Acme", "Ac\\u0000me"), name="ledger.json"),
        Loads(2, 150.5, customers=("Acme", "Beta")),
    ),
    (
        "quickbooks online invoice list",
        text(QUICKBOOKS, name="invoice-list.csv"),
        Loads(3, 1350.5, warning="total or subtotal", customers=("Acme", "Beta")),
    ),
    (
        "quickbooks transaction list with payments",
        text(QUICKBOOKS.replace("Total for Invoice", "01/25/2024,Payment,,Acme,,100.00,\nTotal for Acme")),
        Loads(3, 1350.5, warning="Skipped 1 payment row", customers=("Acme", "Beta")),
    ),
    (
        "parquet with a nul in a name",
        frame_file("parquet", LEDGER_FRAME.assign(Customer=["Ac\x00me", "Beta", "Acme"]), "ledger.parquet"),
        Loads(3, 180.5, customers=("Acme", "Beta")),
    ),
    (
        "xero invoice export",
        text(XERO, name="xero.csv"),
        Loads(3, 180, warning="repeats the invoice total", customers=("Acme", "Beta")),
    ),
    (
        "xero invoice export warns it has no payment dates",
        text(XERO, name="xero.csv"),
        Loads(3, 180, warning=r"^No payment dates: it has no payment date column \(Xero and QuickBooks Online"),
    ),
    (
        "quickbooks online invoice list warns it has no payment dates",
        text(QUICKBOOKS, name="invoice-list.csv"),
        Loads(3, 1350.5, warning=r"^No payment dates: it has no payment date column"),
    ),
]


@pytest.fixture
def peak_memory(caplog: pytest.LogCaptureFixture) -> Callable[[], float]:
    caplog.set_level(logging.INFO, logger="finlib.ingest.sandbox")
    return lambda: max((getattr(r, "child_peak_mb", 0.0) for r in caplog.records), default=0.0)


@pytest.mark.parametrize(("build", "outcome"), [pytest.param(b, o, id=i) for i, b, o in CASES])
def test_a_hostile_file_loads_with_the_right_figures_or_is_refused_in_one_clear_line(
    build: Build,
    outcome: Loads | Refused,
    settings: Settings,
    tmp_path: Path,
    peak_memory: Callable[[], float],
) -> None:
    path = build(tmp_path)
    started = time.monotonic()
    if isinstance(outcome, Refused):
        with pytest.raises(ParseError) as refused:
            parse_ledger_isolated(path, settings=settings, filename=path.name)
        message = str(refused.value)
        assert re.search(outcome.message, message), message
        assert "\n" not in message and not re.search(r"\b\w+(Error|Exception)\b|Traceback", message), message
    else:
        ledger, report = parse_ledger_isolated(path, settings=settings, filename=path.name)
        assert (len(ledger), report.rejected_count) == (outcome.rows, outcome.rejected), report.rejected_examples
        assert ledger["amount"].sum() == pytest.approx(outcome.total)
        if outcome.reason:
            assert any(re.search(outcome.reason, e["reason"]) for e in report.rejected_examples), report
        if outcome.warning:
            assert any(re.search(outcome.warning, w) for w in report.warnings), report.warnings
        if outcome.customers:
            assert sorted(set(ledger["customer_name"])) == sorted(outcome.customers)
        assert ledger["invoice_date"].max() < pd.Timestamp(outcome.before)
        prepaid = (ledger["payment_date"] < ledger["invoice_date"]) & (ledger["amount"] >= 0)
        assert report.prepayments == int(prepaid.sum()) == outcome.prepayments
        assert report.payment_dates == int(ledger["payment_date"].notna().sum())
    assert time.monotonic() - started < MAX_SECONDS
    assert peak_memory() < settings.parse_memory_mb


def test_the_corpus_holds_at_least_fifty_files() -> None:
    assert len(CASES) >= 50
