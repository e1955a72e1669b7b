"""The demo ledger: a deterministic, realistic invoice register written as .xlsx in the original ERP shape.

Shape: row 1 a title, row 2 the export line, the header on row 3, data from row 4; column A is blank throughout.
About 450 invoices over the 18 months up to ``today`` (default ``DEMO_TODAY``, fixed so the file is the same on
every machine and day), for 30 invented customers with distinct habits: prompt, steady, late and chronic payers,
growing and shrinking accounts, one customer with a single invoice, one that has never paid, one credit note,
and a customer whose name is spelled three ways (identity by normalised name merges them). Amounts are AED with
5% VAT, stated in a CURRENCY column. Every name is invented.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import cast

import numpy as np

DEMO_TODAY = date(2026, 10, 31)
# What generate_demo_ledger writes for the default seed and day, shipped: a fresh server registers the demo on its
# first page, and importing openpyxl and writing the workbook took 0.2 s of it (tests/test_demo.py keeps the two
# the same; scripts/make_demo_ledger.py writes it again).
SHIPPED_DEMO = Path(__file__).resolve().parent / "data" / "demo-invoice-register.xlsx"
DEMO_MONTHS = 18
VAT_RATE = 0.05
COMPANY = "Falcon Gulf Logistics FZ-LLC"
TITLE = "Accounts Receivable — Invoice Register"
HEADER_ROW = 3
HEADERS = (
    "CUSTOMER NAME", "Entity Legal Name", "INVOICE DATE", "INVOICE NO", "SALES ORDER NO", "PAY TERMS", "DUE DATE",
    "NET AMOUNT", "VAT (5%)", "TOTAL INVOICE AMT", "PAYMENT DATE", "SALES MANAGER NAME", "SERVICE TYPE", "LOCATION",
    "CURRENCY",
)  # fmt: skip
CURRENCY = "AED"  # the CURRENCY column on every row: registration takes the project's currency from it
MANAGERS = ("Sara Khan", "Omar Haddad", "Priya Nair", "James Whitfield", "Layla Mansour")
SERVICES = ("Freight Forwarding", "Customs Clearance", "Warehousing", "Last-Mile Delivery", "Project Cargo")
LOCATIONS = ("Dubai", "Abu Dhabi", "Sharjah", "Ajman", "Ras Al Khaimah")
# Days from invoice to payment, as (days past the terms, spread) per habit; "chronic" also leaves some unpaid.
HABITS = {"prompt": (-8, 3), "steady": (4, 5), "late": (35, 12), "chronic": (80, 25)}
CHRONIC_UNPAID_SHARE = 0.15
ABC_NAME = "ABC Company"
SPELLINGS = {"Gulf Star Trading LLC": ("Gulf Star Trading LLC ", "GULF STAR TRADING LLC")}
SINGLE_INVOICE = "Northgate Trading"
NEVER_PAID = "Mirage Fashion House"
CREDIT_NOTE = "Harbor Point Shipping"


@dataclass(frozen=True)
class _Customer:
    name: str
    legal_suffix: str
    habit: str
    per_month: float  # expected invoices per month
    net_amount: float  # typical net amount (AED) at the start
    monthly_growth: float  # multiplicative drift of amounts per month
    terms_days: int
    manager: int
    service: int
    location: int


_CUSTOMERS = (
    _Customer(ABC_NAME, "LLC", "steady", 1.1, 18_500, 1.0, 30, 0, 0, 0),
    _Customer("Gulf Star Trading LLC", "", "prompt", 1.5, 9_200, 1.0, 30, 0, 1, 0),
    _Customer("Al Noor Builders", "L.L.C.", "chronic", 1.0, 42_000, 1.0, 60, 1, 4, 1),
    _Customer("Desert Rose Hospitality", "LLC", "steady", 0.9, 6_000, 1.07, 30, 2, 3, 0),
    _Customer("Meridian Foods", "FZE", "late", 1.3, 15_000, 0.93, 45, 2, 2, 2),
    _Customer("Blue Wave Marine Services", "LLC", "prompt", 0.8, 11_000, 1.0, 15, 3, 0, 0),
    _Customer("Horizon Pharma Distribution", "LLC", "late", 1.0, 23_000, 1.01, 45, 1, 1, 1),
    _Customer("Oasis Retail Group", "PJSC", "steady", 1.4, 8_300, 1.0, 30, 4, 3, 0),
    _Customer("Falcon Steel Industries", "LLC", "late", 0.7, 64_000, 1.0, 60, 3, 4, 4),
    _Customer("Crescent Electronics", "Trading LLC", "steady", 1.0, 12_700, 1.05, 30, 0, 0, 2),
    _Customer("Palm Tree Events", "LLC", "chronic", 0.6, 7_800, 0.97, 30, 4, 3, 0),
    _Customer("Emirates Agro Supplies", "LLC", "prompt", 0.9, 5_400, 1.0, 30, 2, 2, 4),
    _Customer("Silverline Interiors", "LLC", "late", 0.8, 19_500, 1.0, 45, 1, 4, 0),
    _Customer("Sandstone Auto Parts", "Trading LLC", "steady", 1.2, 4_900, 1.0, 30, 3, 3, 3),
    _Customer("Pearl Coast Healthcare", "LLC", "prompt", 1.0, 13_600, 1.04, 30, 4, 1, 1),
    _Customer("Summit Engineering Works", "LLC", "late", 0.7, 37_000, 0.95, 60, 0, 4, 1),
    _Customer("Zenith Textiles", "FZCO", "steady", 0.8, 9_900, 1.0, 30, 2, 0, 2),
    _Customer("Atlas Printing Press", "LLC", "chronic", 0.7, 3_800, 1.0, 30, 3, 3, 3),
    _Customer("Coral Bay Resorts", "LLC", "steady", 0.9, 16_400, 1.06, 45, 4, 2, 4),
    _Customer("Greenfield Packaging", "Industries LLC", "prompt", 1.1, 7_100, 1.0, 30, 0, 2, 2),
    _Customer("Orion IT Solutions", "FZ-LLC", "steady", 0.8, 10_300, 0.94, 30, 1, 1, 0),
    _Customer("Red Dune Contracting", "LLC", "late", 0.9, 28_500, 1.0, 60, 1, 4, 1),
    _Customer("Skyline Facility Management", "LLC", "steady", 1.0, 8_800, 1.0, 30, 2, 2, 0),
    _Customer("Tamarind Catering", "LLC", "late", 0.8, 4_200, 1.0, 30, 3, 3, 0),
    _Customer("Vertex Chemicals", "FZE", "prompt", 0.6, 31_000, 1.0, 45, 4, 1, 3),
    _Customer("Al Qasr & Sons Trading", "LLC", "steady", 0.7, 6_600, 1.0, 30, 0, 0, 1),
    _Customer("Lighthouse Medical Supplies", "LLC", "prompt", 0.9, 14_200, 1.0, 30, 2, 1, 0),
    _Customer(CREDIT_NOTE, "LLC", "steady", 0.8, 21_000, 1.0, 45, 3, 0, 0),
    _Customer(SINGLE_INVOICE, "LLC", "steady", 0.0, 12_000, 1.0, 30, 1, 0, 2),
    _Customer(NEVER_PAID, "LLC", "chronic", 0.0, 5_500, 1.0, 30, 4, 3, 0),
)


def generate_demo_ledger(path: Path, *, seed: int = 7, today: date | None = None) -> Path:
    """Write the demo invoice register to ``path`` (.xlsx) and return the path; same seed and day, same bytes."""
    today = today or DEMO_TODAY
    rows = _invoice_rows(np.random.default_rng(seed), today)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_workbook_bytes(rows, today))
    return path


def shipped_demo_ledger() -> bytes:
    """The demo invoice register as shipped: ``generate_demo_ledger``'s bytes for the default seed and day."""
    return SHIPPED_DEMO.read_bytes()


def _invoice_rows(rng: np.random.Generator, today: date) -> list[dict[str, object]]:
    """Invoices of every customer, numbered in date order."""
    first_month = _add_months(today.replace(day=1), -(DEMO_MONTHS - 1))
    invoices: list[dict[str, object]] = []
    for customer in _CUSTOMERS:
        for invoice_date, month_index in _invoice_dates(rng, customer, first_month, today):
            net = customer.net_amount * customer.monthly_growth**month_index * rng.lognormal(0.0, 0.15)
            invoices.append(_invoice(rng, customer, invoice_date, round(float(net), 2), today))
    credit_source = next(row for row in reversed(invoices) if row["customer"] == CREDIT_NOTE)
    credit = _customer(CREDIT_NOTE)
    source_date, source_net = cast(date, credit_source["invoice_date"]), cast(float, credit_source["net"])
    credit_date = min(source_date + timedelta(days=9), today)
    credit_note = _invoice(rng, credit, credit_date, -round(source_net * 0.4, 2), today)
    credit_note["payment_date"] = credit_date  # applied against the account the day it was issued
    credit_note["credit_note"] = True
    invoices.append(credit_note)

    invoices.sort(key=lambda row: (row["invoice_date"], row["customer"]))
    for number, row in enumerate(invoices, start=1):
        series = "CN" if row.get("credit_note") else "INV"
        row["invoice_number"] = f"{series}-{row['invoice_date'].year}-{number:05d}"  # type: ignore[attr-defined]
        row["sales_order_number"] = f"SO-{40_000 + number * 3}"
    _spell_variants(rng, invoices)
    return invoices


def _invoice_dates(
    rng: np.random.Generator, customer: _Customer, first_month: date, today: date
) -> list[tuple[date, int]]:
    if customer.name == SINGLE_INVOICE:
        return [(_add_months(first_month, 11) + timedelta(days=13), 11)]
    if customer.name == NEVER_PAID:
        return [(_add_months(first_month, month) + timedelta(days=4), month) for month in range(12, 17)]
    dates = []
    for month_index in range(DEMO_MONTHS):
        month_start = _add_months(first_month, month_index)
        month_days = (_add_months(month_start, 1) - month_start).days
        for _ in range(int(rng.poisson(customer.per_month))):
            invoice_date = month_start + timedelta(days=int(rng.integers(0, month_days)))
            if invoice_date <= today:
                dates.append((invoice_date, month_index))
    return dates


def _invoice(
    rng: np.random.Generator, customer: _Customer, invoice_date: date, net: float, today: date
) -> dict[str, object]:
    shift, spread = HABITS[customer.habit]
    delay = max(0, int(round(customer.terms_days + shift + rng.normal(0.0, spread))))
    payment_date: date | None = invoice_date + timedelta(days=delay)
    disputed = customer.habit == "chronic" and rng.random() < CHRONIC_UNPAID_SHARE
    if customer.name == NEVER_PAID or disputed or payment_date > today:  # type: ignore[operator]
        payment_date = None
    vat = round(net * VAT_RATE, 2)
    return {
        "customer": customer.name,
        "legal_name": f"{customer.name} {customer.legal_suffix}".strip(),
        "invoice_date": invoice_date,
        "pay_terms": f"Net {customer.terms_days}",
        "due_date": invoice_date + timedelta(days=customer.terms_days),
        "net": net,
        "vat": vat,
        "total": round(net + vat, 2),
        "payment_date": payment_date,
        "manager": MANAGERS[customer.manager],
        "service": SERVICES[customer.service],
        "location": LOCATIONS[customer.location],
        "currency": CURRENCY,
    }


def _spell_variants(rng: np.random.Generator, invoices: list[dict[str, object]]) -> None:
    """Re-spell about a third of the rows of each customer in ``SPELLINGS``, as hand-typed ERP entries do."""
    for name, variants in SPELLINGS.items():
        for row in invoices:
            if row["customer"] == name and rng.random() < 0.35:
                row["customer"] = variants[int(rng.integers(0, len(variants)))]


def _customer(name: str) -> _Customer:
    return next(customer for customer in _CUSTOMERS if customer.name == name)


def _add_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    return date(month_index // 12, month_index % 12 + 1, 1)


def _workbook_bytes(rows: list[dict[str, object]], today: date) -> bytes:
    from openpyxl import Workbook  # only here: registering the shipped demo needs no writer
    from openpyxl.styles import Alignment, Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Invoice Register"
    sheet["B1"] = TITLE
    sheet["B1"].font = Font(bold=True, size=14)
    sheet["B2"] = f"{COMPANY} · exported {today:%d-%b-%Y} · amounts in AED"
    sheet["B2"].font = Font(italic=True, color="666666")
    header_fill = PatternFill("solid", fgColor="DDE4EE")
    for column, header in enumerate(HEADERS, start=2):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=header)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    fields = (
        "customer", "legal_name", "invoice_date", "invoice_number", "sales_order_number", "pay_terms", "due_date",
        "net", "vat", "total", "payment_date", "manager", "service", "location", "currency",
    )  # fmt: skip
    for row_number, row in enumerate(rows, start=HEADER_ROW + 1):
        for column, field in enumerate(fields, start=2):
            cell = sheet.cell(row=row_number, column=column, value=row[field])
            if field in ("invoice_date", "due_date", "payment_date"):
                cell.number_format = "DD-MMM-YYYY"
            elif field in ("net", "vat", "total"):
                cell.number_format = "#,##0.00"
    sheet.column_dimensions["A"].width = 3
    for letter, width in zip(
        "BCDEFGHIJKLMNOP", (30, 36, 13, 16, 14, 10, 13, 14, 12, 16, 13, 20, 20, 15, 10), strict=True
    ):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"C{HEADER_ROW + 1}"
    stamp = datetime(today.year, today.month, today.day)
    workbook.properties.creator = COMPANY
    workbook.properties.created = stamp
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _fixed_timestamps(buffer.getvalue(), stamp)


def _fixed_timestamps(data: bytes, stamp: datetime) -> bytes:
    """The same workbook with the save time (zip entries, document properties) replaced by ``stamp``."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + iso.encode(), content)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, content)
    return output.getvalue()
