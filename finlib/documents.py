"""Documents leaving the app: an Excel workbook of the current view and a PDF report to forward to a CFO.

Both are built from finlib's own results (a ``KpiReport``, the aging table, the monthly trend, the worklist and
the invoices) and from nothing else, so they say what the pages say. The workbook keeps numbers and dates as
cells of those types and neutralises text that a spreadsheet would run as a formula. The PDF draws its tables
and bar charts natively (fpdf2), so it needs no browser or image renderer; it uses DejaVu Sans when the system
has it (every Unicode name prints) and the PDF core font otherwise (characters outside Latin-1 become "?").
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from finlib.analytics.balances import AGING_BUCKETS
from finlib.analytics.kpis import MONTHLY_HEADERS, KpiReport
from finlib.analytics.worklist import WORKLIST_HEADERS
from finlib.currency import Currency, format_amount
from finlib.export import XLSX_OPTIONS, write_sheet

AGING_TITLES = {"current": "Not yet due", "1-30": "1-30", "31-60": "31-60", "61-90": "61-90", "over_90": "Over 90"}
UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
UNICODE_BOLD_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
PDF_WORKLIST_ROWS = 15
PDF_CHART_MONTHS = 12  # the collections chart's bars: the last months of the activity period
SHEET_ROWS_MAX = 1_048_575  # Excel's limit, less the header
# The unit of every number column of the sheets, by header; an amount gets the project's currency format.
COLUMN_UNITS = {
    **{MONTHLY_HEADERS[column]: "amount" for column in ("invoiced", "collected", "outstanding", "overdue")},
    **{MONTHLY_HEADERS[bucket]: "amount" for bucket in AGING_BUCKETS},
    **{MONTHLY_HEADERS[column]: "days" for column in ("dso_countback", "best_possible_dso", "add")},
    **{MONTHLY_HEADERS[column]: "days" for column in ("avg_days_past_due", "avg_days_to_pay", "weighted_days_to_pay")},
    MONTHLY_HEADERS["cei"]: "percent",
    MONTHLY_HEADERS["overdue_share"]: "fraction",
    MONTHLY_HEADERS["on_time_share"]: "fraction",
    **{MONTHLY_HEADERS[column]: "count" for column in ("open_invoices", "invoice_count", "paid_count")},
    **{WORKLIST_HEADERS[column]: "amount" for column in ("outstanding", "overdue")},
    **{WORKLIST_HEADERS[column]: "count" for column in ("open_invoices", "days_past_due")},
    **{WORKLIST_HEADERS[column]: "days" for column in ("avg_days_to_pay", "recent_days_to_pay", "avg_days_late")},
    WORKLIST_HEADERS["on_time_share"]: "fraction",
    "Amount": "amount",  # the Invoices sheet (ui.tables headers) and the Aging sheet
    "Open amount": "amount",
    "Days to pay": "count",
    "Days overdue": "count",
    "Invoices": "count",
}
# Excel number formats of the units but amounts (those carry the currency: _excel_amount_format).
UNIT_FORMATS = {"days": "0.0", "percent": "0.0", "fraction": "0.0%", "count": "0"}


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report shows: one view of one project."""

    project: str
    report: KpiReport
    aging: pd.DataFrame  # bucket, invoice_count, amount
    monthly: pd.DataFrame  # kpis.monthly_kpis
    worklist: pd.DataFrame  # worklist.compute_worklist
    invoices: pd.DataFrame  # invoice rows with status columns
    currency: Currency | None = None
    notes: tuple[str, ...] = ()  # what the totals mean, from the load report (ParseReport.figure_notes)


def kpi_rows(report: KpiReport) -> pd.DataFrame:
    """The KPIs as rows: section, KPI, value (a number, or empty), unit."""
    balances, activity = report.balances, report.activity
    rows = [
        ("Balances", "Outstanding", balances.outstanding, "amount"),
        ("Balances", "Overdue", balances.overdue, "amount"),
        ("Balances", "Open invoices", balances.open_invoices, "count"),
        ("Balances", "Overdue share", balances.overdue_share, "fraction"),
        ("Balances", "DSO (countback)", balances.dso_countback, "days"),
        ("Balances", "Best possible DSO", balances.best_possible_dso, "days"),
        ("Balances", "ADD (average days delinquent)", balances.add, "days"),
        ("Balances", "Average days past due (overdue invoices)", balances.avg_days_past_due, "days"),
        ("Activity", "Invoiced", activity.invoiced, "amount"),
        ("Activity", "Collected (cash received)", activity.collected, "amount"),
        ("Activity", "CEI", activity.cei, "percent"),
        ("Activity", "Average days to pay", activity.avg_days_to_pay, "days"),
        ("Activity", "Weighted average days to pay", activity.weighted_days_to_pay, "days"),
        ("Activity", "Paid on time", activity.on_time_share, "fraction"),
    ]
    frame = pd.DataFrame(rows, columns=["Section", "KPI", "Value", "Unit"])
    frame["Value"] = pd.to_numeric(frame["Value"], errors="coerce")
    return frame


def _header(inputs: ReportInputs) -> pd.DataFrame:
    dates = inputs.report.dates
    rows = [
        ("Project", inputs.project),
        ("Balances as of", dates.as_of.date()),
        ("Activity from", dates.period.start.date()),
        ("Activity to", dates.period.end.date()),
        ("Currency", inputs.currency.label if inputs.currency else "none stated (amounts as in the ledger)"),
        *(("Note on the data", note) for note in inputs.notes),
    ]
    return pd.DataFrame(rows, columns=["Item", "Value"])


def _aging_table(aging: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Days past due": [AGING_TITLES.get(bucket, bucket) for bucket in aging["bucket"]],
            "Invoices": aging["invoice_count"].astype("int64"),
            "Open amount": aging["amount"].astype("float64"),
        }
    )


def build_workbook(inputs: ReportInputs) -> bytes:
    """An .xlsx with sheets View, KPIs, Aging, Monthly, Worklist, Invoices (numbers as numbers, formulas inert).

    Number columns carry the format of their unit (``COLUMN_UNITS``); the KPIs sheet's values that of their row.
    """
    kpis = kpi_rows(inputs.report)
    sheets = {
        "View": _header(inputs),
        "KPIs": kpis,
        "Aging": _aging_table(inputs.aging),
        "Monthly": inputs.monthly.rename(columns=MONTHLY_HEADERS),
        "Worklist": inputs.worklist.drop(columns=["customer_key"], errors="ignore").rename(columns=WORKLIST_HEADERS),
        "Invoices": inputs.invoices.head(SHEET_ROWS_MAX),
    }
    formats = {**UNIT_FORMATS, "amount": _excel_amount_format(inputs.currency)}
    column_formats = {header: formats[unit] for header, unit in COLUMN_UNITS.items()}
    import xlsxwriter  # imported here: only the export needs it

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {**XLSX_OPTIONS, "in_memory": False})
    try:
        for name, frame in sheets.items():
            by_row = {"Value": [formats[unit] for unit in kpis["Unit"]]} if name == "KPIs" else None
            sheet_formats = {**column_formats, MONTHLY_HEADERS["month"]: "mmm yyyy"} if name == "Monthly" else None
            write_sheet(workbook, name, frame, formats=sheet_formats or column_formats, row_formats=by_row)
    finally:
        workbook.close()
    return buffer.getvalue()


def _excel_amount_format(currency: Currency | None) -> str:
    """An Excel number format writing amounts in full with the currency's symbol: ``"€"#,##0.00``."""
    if currency is None:
        return "#,##0.00"
    symbol = currency.symbol.replace('"', "")
    sign = f'"{symbol} "' if symbol[-1:].isalpha() else f'"{symbol}"'
    return f"{sign}#,##0.00;-{sign}#,##0.00"


def _number(value: float | None, unit: str, currency: Currency | None = None) -> str:
    if value is None or pd.isna(value):
        return "-"
    if unit == "amount":
        return format_amount(value, currency)
    if unit == "fraction":
        return f"{value * 100:.1f}%"
    if unit == "percent":
        return f"{value:.1f}"
    if unit == "count":
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _day(value: object) -> str:
    if value is None or pd.isna(value):
        return "-"
    stamp = pd.Timestamp(value)
    return f"{stamp.day} {stamp:%b %Y}"


def build_pdf(inputs: ReportInputs) -> bytes:
    """A PDF report: the view's dates, KPI tables, aging and monthly bar charts, and the top of the worklist."""
    from fpdf import FPDF  # imported here: only the export needs it

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    family = "Helvetica"
    if UNICODE_FONT.is_file() and UNICODE_BOLD_FONT.is_file():
        pdf.add_font("DejaVu", "", str(UNICODE_FONT))
        pdf.add_font("DejaVu", "B", str(UNICODE_BOLD_FONT))
        family = "DejaVu"

    def text(value: str) -> str:
        return value if family == "DejaVu" else value.encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()
    dates = inputs.report.dates
    pdf.set_font(family, "B", 16)
    pdf.cell(0, 9, text(f"Receivables report: {inputs.project}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    money = inputs.currency
    currency = f"Amounts in {money.label}, including tax." if money else "Amounts include tax."
    pdf.multi_cell(
        0,
        5,
        text(
            f"Balances as of {_day(dates.as_of)}. Activity from {_day(dates.period.start)} to "
            f"{_day(dates.period.end)}. {currency}"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for note in inputs.notes:
        pdf.set_font(family, "B", 10)
        pdf.multi_cell(0, 5, text(f"Note on the data: {note}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.ln(2)
    kpis = kpi_rows(inputs.report)
    for section in ("Balances", "Activity"):
        pdf.set_font(family, "B", 12)
        pdf.cell(0, 7, section, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 10)
        for row in kpis[kpis["Section"] == section].itertuples(index=False):
            pdf.cell(95, 6, text(str(row.KPI)), border="B")
            shown = text(_number(row.Value, str(row.Unit), money))
            pdf.cell(45, 6, shown, border="B", align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    aging = _aging_table(inputs.aging)
    unit = f" ({money.code})" if money else ""
    _bar_chart(pdf, family, f"Aging of open invoices{unit}", list(aging["Days past due"]), list(aging["Open amount"]))
    months = inputs.monthly.tail(PDF_CHART_MONTHS)
    labels = [f"{month:%b %y}" for month in months["month"]]
    _bar_chart(pdf, family, _collected_title(len(inputs.monthly), unit), labels, list(months["collected"]))
    pdf.add_page()
    pdf.set_font(family, "B", 12)
    pdf.cell(0, 7, _worklist_title(len(inputs.worklist)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "B", 9)
    widths = (65, 30, 30, 40, 25)
    titles = ("Customer", "Outstanding", "Overdue", "Oldest past due, days", "Rating")
    for width, title in zip(widths, titles, strict=True):
        pdf.cell(width, 6, title, border="B")
    pdf.ln()
    pdf.set_font(family, "", 9)
    for row in inputs.worklist.head(PDF_WORKLIST_ROWS).itertuples(index=False):
        cells = (
            text(str(row.customer))[:40],
            text(_number(row.outstanding, "amount", money)),
            text(_number(row.overdue, "amount", money)),
            _number(row.days_past_due, "count"),
            str(row.rating or "-"),
        )
        for width, cell in zip(widths, cells, strict=True):
            pdf.cell(width, 6, cell, border="B")
        pdf.ln()
    return bytes(pdf.output())


def _collected_title(months: int, unit: str) -> str:
    """The collections chart's title, saying when it shows only the last months of the activity period."""
    shown = f", last {PDF_CHART_MONTHS} of the period's {months} months" if months > PDF_CHART_MONTHS else ""
    return f"Collected per month (cash received){unit}{shown}"


def _worklist_title(customers: int) -> str:
    """The worklist table's title, saying how many of the view's customers it lists."""
    if customers > PDF_WORKLIST_ROWS:
        return f"Worklist: the {PDF_WORKLIST_ROWS} largest overdue of {customers:,} customers"
    return f"Worklist: all {customers:,} {'customer' if customers == 1 else 'customers'}, largest overdue first"


def _bar_chart(pdf: object, family: str, title: str, labels: list[str], values: list[float]) -> None:
    """Vertical bars with their labels and values, drawn with rectangles (negative values as zero-height)."""
    from fpdf import FPDF

    assert isinstance(pdf, FPDF)
    pdf.set_font(family, "B", 12)
    pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    height, width = 40.0, 180.0
    top = pdf.get_y() + 4
    largest = max([value for value in values if value == value] + [1.0])
    slot = width / max(len(values), 1)
    pdf.set_font(family, "", 7)
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar = max(float(value), 0.0) / largest * height
        x = pdf.l_margin + index * slot + slot * 0.15
        pdf.set_fill_color(31, 95, 168)
        pdf.rect(x, top + height - bar, slot * 0.7, bar, style="F")
        pdf.set_xy(x - slot * 0.15, top + height - bar - 4)
        pdf.cell(slot, 4, f"{value:,.0f}", align="C")
        pdf.set_xy(x - slot * 0.15, top + height + 1)
        pdf.cell(slot, 4, label, align="C")
    pdf.set_xy(pdf.l_margin, top + height + 8)
