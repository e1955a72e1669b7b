"""The Excel workbook and the PDF report (finlib.documents): numbers as numbers, formulas inert, readable text."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from typing import Any

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from ledger_frames import make_ledger

from finlib.analytics.balances import aging_buckets
from finlib.analytics.drilldown import view_invoices
from finlib.analytics.kpis import compute_kpis, monthly_kpis
from finlib.analytics.periods import resolve_view_dates
from finlib.analytics.worklist import WORKLIST_COLUMNS, WORKLIST_HEADERS, compute_worklist
from finlib.currency import parse_currency
from finlib.documents import ReportInputs, build_pdf, build_workbook
from finlib.export import XLSX_OPTIONS, export_csv, write_sheet


@pytest.fixture
def inputs() -> ReportInputs:
    ledger = make_ledger(
        [
            {"customer_name": '=HYPERLINK("http://x")', "invoice_date": "2025-01-10", "amount": 1000.0},
            {"customer_name": "Zoë Ærø", "invoice_date": "2025-02-10", "amount": 250.5, "payment_date": "2025-03-01"},
            {"customer_name": "Zoë Ærø", "invoice_date": "2025-03-10", "amount": 400.0},
        ]
    )
    dates = resolve_view_dates(ledger)
    assert dates is not None
    return ReportInputs(
        project="tiny",
        report=compute_kpis(ledger, dates),
        aging=aging_buckets(ledger, dates.as_of),
        monthly=monthly_kpis(ledger, dates.period),
        worklist=compute_worklist(ledger, dates.as_of),
        invoices=view_invoices(ledger, dates),
        currency=parse_currency("EUR"),
    )


def test_the_workbook_has_every_sheet_with_numbers_as_numbers_and_no_live_formula(inputs: ReportInputs) -> None:
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(inputs)))
    assert book.sheetnames == ["View", "KPIs", "Aging", "Monthly", "Worklist", "Invoices"]
    kpis = {row[1]: row[2] for row in book["KPIs"].iter_rows(min_row=2, values_only=True)}
    assert kpis["Outstanding"] == pytest.approx(1400.0)
    assert isinstance(kpis["Outstanding"], (int, float)), "a number cell, not text"
    aging = list(book["Aging"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in aging] == ["Not yet due", "1-30", "31-60", "61-90", "Over 90"]
    assert sum(row[2] for row in aging) == pytest.approx(1400.0)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    view = {row[0]: row[1] for row in book["View"].iter_rows(min_row=2, values_only=True)}
    assert view["Currency"] == "EUR (€)"
    assert book["Aging"]["C2"].number_format == '"€"#,##0.00;-"€"#,##0.00'
    assert book["Aging"]["B2"].number_format == "0"  # a count, not an amount
    names = [row[0] for row in book["Worklist"].iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("http://x")' in names and "Zoë Ærø" in names


def test_every_number_in_the_workbook_carries_the_format_of_its_unit_under_a_readable_header(
    inputs: ReportInputs,
) -> None:
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(inputs)))
    money = '"€"#,##0.00;-"€"#,##0.00'
    by_unit = {"amount": money, "days": "0.0", "fraction": "0.0%", "count": "0", "percent": "0.0"}
    kpis = list(book["KPIs"].iter_rows(min_row=2))
    assert {row[3].value for row in kpis} == set(by_unit)
    for _section, kpi, value, unit in kpis:
        assert value.number_format == by_unit[unit.value], kpi.value
    monthly = _formats_by_header(book["Monthly"])
    assert not {"collected", "on_time_share", "open_invoices"} & set(monthly), "code names as headers"
    assert monthly["Month"] == "mmm yyyy"
    assert monthly["Collected (cash received)"] == money and monthly["Over 90 days past due"] == money
    assert monthly["Paid on time"] == "0.0%" and monthly["Open invoices"] == "0"
    assert monthly["DSO (countback), days"] == "0.0"
    worklist = _formats_by_header(book["Worklist"])
    assert list(worklist) == [WORKLIST_HEADERS[column] for column in WORKLIST_COLUMNS if column != "customer_key"]
    assert worklist["Outstanding"] == money and worklist["Overdue"] == money
    assert worklist["Days past due"] == "0" and worklist["Avg days late"] == "0.0"
    assert worklist["Paid on time"] == "0.0%" and worklist["Oldest open invoice"] == "yyyy-mm-dd"
    assert book["Aging"]["C2"].number_format == money


def _formats_by_header(sheet: Any) -> dict[str, str | None]:
    """Each column's header and the number format of its first filled cell (None for a column with no value)."""
    formats: dict[str, str | None] = {}
    for column in sheet.iter_cols():
        filled = [cell for cell in column[1:] if cell.value is not None]
        formats[column[0].value] = filled[0].number_format if filled else None
    return formats


def test_the_pdf_report_carries_the_view_and_its_kpis(inputs: ReportInputs) -> None:
    pdf = build_pdf(inputs)
    assert pdf.startswith(b"%PDF-")
    from pypdf import PdfReader  # noqa: PLC0415 - test-only reader

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Receivables report: tiny" in text
    assert "Amounts in EUR" in text
    assert "€1,400.00" in text or "?1,400.00" in text  # the core font, without DejaVu, has no €
    assert "Zoë Ærø" in text or "Zo? ?r?" in text


def test_a_note_on_what_the_totals_mean_goes_into_the_pdf_and_the_workbook(inputs: ReportInputs) -> None:
    note = "Column 'Currency' names 2 currencies (USD: 2 rows, 170.00; EUR: 1 row, 50.00)."
    noted = replace(inputs, notes=(note,))
    from pypdf import PdfReader  # noqa: PLC0415 - test-only reader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(build_pdf(noted))).pages)
    assert "Note on the data: Column 'Currency' names 2 currencies" in " ".join(text.split())
    view = openpyxl.load_workbook(io.BytesIO(build_workbook(noted)))["View"]
    assert ["Note on the data", note] in [[cell.value for cell in row] for row in view.iter_rows()]
    assert "Note on the data" not in " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(build_pdf(inputs))).pages
    )


def test_the_invoice_sheet_keeps_dates_as_dates_blanks_blank_and_formulas_quoted() -> None:
    invoices = pd.DataFrame(
        {
            "Customer": ["=cmd|' /C calc'!A0", "Zoë Ærø", None],
            "Invoice date": pd.to_datetime(["2026-10-31", "2026-01-02", "2025-12-31"]),
            "Payment date": pd.to_datetime(["2026-11-05", None, None]),
            "Amount": [1250.5, -80.0, float("nan")],
            "Open invoices": pd.array([3, 0, 1], dtype="int64"),
        }
    )
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, XLSX_OPTIONS)
    write_sheet(workbook, "Invoices", invoices)
    workbook.close()
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["Invoices"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Customer", "Invoice date", "Payment date", "Amount", "Open invoices")
    assert rows[1] == ("'=cmd|' /C calc'!A0", dt.datetime(2026, 10, 31), dt.datetime(2026, 11, 5), 1250.5, 3)
    assert rows[2] == ("Zoë Ærø", dt.datetime(2026, 1, 2), None, -80.0, 0)
    assert rows[3] == (None, dt.datetime(2025, 12, 31), None, None, 1)
    assert sheet["B2"].is_date and sheet["D2"].data_type == "n"


def test_a_csv_export_writes_floats_at_15_significant_digits_and_keeps_formulas_quoted() -> None:
    frame = pd.DataFrame(
        {
            "Customer": ["=SUM(A1)", "Fine Co"],
            "Outstanding": [0.1 + 0.2, 256928.69999999998],
            "Mixed": pd.Series([1.1 + 2.2, "-x"], dtype=object),
            "Average": [500 / 3, 2.0],
        }
    )
    text = export_csv(frame).decode("utf-8-sig")
    assert text.splitlines() == [
        "Customer,Outstanding,Mixed,Average",
        "'=SUM(A1),0.3,3.3,166.666666666667",
        "Fine Co,256928.7,'-x,2",
    ]


def _pdf_text(inputs: ReportInputs) -> str:
    from pypdf import PdfReader  # noqa: PLC0415 - test-only reader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(build_pdf(inputs))).pages)


def test_the_pdf_says_how_much_of_the_worklist_and_the_period_it_shows() -> None:
    # 20 customers, each with one open invoice issued in a different month: 20 months of activity.
    rows = [
        {"customer_name": f"Customer {number:02d}", "invoice_date": f"{2024 + number // 12}-{number % 12 + 1:02d}-05",
         "amount": 100.0 * (number + 1)}
        for number in range(20)
    ]  # fmt: skip
    rows.append({"customer_name": "Customer 00", "invoice_date": "2025-08-01", "amount": 10.0,
                 "payment_date": "2025-08-20"})  # fmt: skip
    ledger = make_ledger(rows)
    dates = resolve_view_dates(ledger)
    assert dates is not None
    worklist = compute_worklist(ledger, dates.as_of)
    monthly = monthly_kpis(ledger, dates.period)
    assert len(worklist) == 20 and len(monthly) == 20
    inputs = ReportInputs(
        project="wide",
        report=compute_kpis(ledger, dates),
        aging=aging_buckets(ledger, dates.as_of),
        monthly=monthly,
        worklist=worklist,
        invoices=view_invoices(ledger, dates),
    )
    text = _pdf_text(inputs)
    assert "the 15 largest overdue of 20 customers" in text
    assert "last 12 of the period's 20 months" in text
    assert "Oldest past due, days" in text and "Days late" not in text
    small = replace(inputs, worklist=worklist.head(3), monthly=monthly.tail(12))
    text = _pdf_text(small)
    assert "all 3 customers, largest overdue first" in text and "last 12" not in text
