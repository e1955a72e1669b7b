"""Specification of finlib.ingest.parsing: files in every supported shape become the ledger frame and a report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from finlib.config import Settings
from finlib.errors import MissingColumnsError, ParseError
from finlib.ingest.parsing import LEDGER_DTYPES, ParseReport, parse_ledger

ERP_HEADER = [
    "CUSTOMER NAME",
    "Entity Legal Name",
    "INVOICE DATE",
    "INVOICE NO",
    "SALES ORDER NO",
    "PAY TERMS",
    "DUE DATE",
    "NET AMOUNT",
    "VAT (5%)",
    "TOTAL INVOICE AMT",
    "PAYMENT DATE",
    "SALES MANAGER NAME",
    "SERVICE TYPE",
    "LOCATION",
]
ERP_ROWS = [
    [
        "ACME Corp ",
        "ACME Corporation LLC",
        dt.datetime(2024, 1, 5),
        "INV-1",
        "SO-1",
        "Net 45",
        None,
        100.0,
        5.0,
        105.0,
        dt.datetime(2024, 2, 1),
        "Sara  Khan",
        "Freight",
        "Dubai",
    ],
    [
        "acme corp",
        "ACME Corporation LLC",
        dt.datetime(2024, 2, 5),
        "INV-2",
        "SO-2",
        "30 days",
        dt.datetime(2024, 3, 1),
        200.0,
        10.0,
        210.0,
        None,
        "sara khan",
        "Freight",
        "Dubai",
    ],
    [
        "ACME Corp",
        "ACME Corporation LLC",
        dt.datetime(2024, 3, 5),
        "CN-3",
        "SO-3",
        "",
        None,
        -50.0,
        -2.5,
        -52.5,
        None,
        "Sara Khan",
        "Freight",
        "Dubai",
    ],
    [
        "Beta Trading",
        "Beta Trading FZE",
        dt.datetime(2024, 3, 9),
        "INV-4",
        "SO-4",
        None,
        None,
        1000.0,
        50.0,
        1050.0,
        dt.datetime(2024, 4, 1),
        "Omar Said",
        "Customs",
        "Sharjah",
    ],
]


def write_xlsx(path: Path, rows: list[list[object]], sheet_title: str = "Ledger", extra_sheets: int = 0) -> Path:
    workbook = Workbook()
    for index in range(extra_sheets):
        other = workbook.active if index == 0 else workbook.create_sheet()
        other.title = f"Notes {index}"
        other.append(["Notes", "about", "this", "export"])
    sheet = workbook.active if not extra_sheets else workbook.create_sheet()
    sheet.title = sheet_title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def erp_shape(rows: list[list[object]] = ERP_ROWS) -> list[list[object]]:
    return [[None, "ACME ERP - Receivables"], [None, "Period: 2024"], [None, *ERP_HEADER]] + [[None, *r] for r in rows]


def test_the_original_erp_export_is_read_into_the_ledger_frame(tmp_path: Path, settings: Settings) -> None:
    ledger, report = parse_ledger(write_xlsx(tmp_path / "erp.xlsx", erp_shape()), settings=settings)
    assert list(ledger.columns) == list(LEDGER_DTYPES)
    assert {c: str(t) for c, t in ledger.dtypes.items()} == {
        c: str(pd.Series(dtype=d).dtype) for c, d in LEDGER_DTYPES.items()
    }
    assert report.format == "xlsx" and report.sheet == "Ledger" and report.header_row == 3
    assert report.rows_read == 4 and report.rows_loaded == 4 and report.rejected_count == 0
    assert list(ledger["source_row"]) == [4, 5, 6, 7]
    assert report.unmapped_columns == []
    assert report.fallback_columns == {"Entity Legal Name": "customer_name"}


def test_header_on_row_three_with_blank_first_column_is_detected(tmp_path: Path, settings: Settings) -> None:
    _, report = parse_ledger(write_xlsx(tmp_path / "erp.xlsx", erp_shape()), settings=settings)
    assert report.header_row == 3
    assert report.mapping["CUSTOMER NAME"] == "customer_name"


def test_merged_title_cell_on_row_one_and_header_on_row_two(tmp_path: Path, settings: Settings) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Receivables 2024"])
    sheet.merge_cells("A1:D1")
    sheet.append(["Customer", "Invoice Date", "Invoice #", "Amount"])
    sheet.append(["A", dt.datetime(2024, 1, 1), "1", 10])
    path = tmp_path / "merged.xlsx"
    workbook.save(path)
    ledger, report = parse_ledger(path, settings=settings)
    assert report.header_row == 2
    assert list(ledger["source_row"]) == [3]
    assert ledger["invoice_number"].iloc[0] == "1"


def test_plain_header_on_row_one_csv(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("Client,Invoice Date,Amount\nA,2024-01-01,10\nB,2024-01-02,20\n", encoding="utf-8")
    ledger, report = parse_ledger(path, settings=settings)
    assert (report.format, report.header_row) == ("csv", 1)
    assert list(ledger["source_row"]) == [2, 3]
    assert list(ledger["amount"]) == [10.0, 20.0]


def test_a_german_export_with_decimal_commas_and_dotted_dates_loads_with_its_figures(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "offene_posten.csv"
    path.write_text(
        "Kunde;Rechnungsnummer;Rechnungsdatum;Fälligkeitsdatum;Bruttobetrag;Zahlungsdatum\n"
        "Müller GmbH;R-1001;03.01.2025;02.02.2025;1.234,56;15.02.2025\n"
        "Schmidt AG;R-1002;15.01.2025;14.02.2025;987,10;\n"
        "Müller GmbH;R-1003;01.02.2025;03.03.2025;-200,00;01.02.2025\n",
        encoding="utf-8",
    )
    ledger, report = parse_ledger(path, settings=settings)
    assert report.rows_loaded == 3 and report.rejected_count == 0
    assert list(ledger["customer_name"]) == ["Müller GmbH", "Schmidt AG", "Müller GmbH"]
    assert list(ledger["amount"]) == [1234.56, 987.10, -200.0]
    assert list(ledger["invoice_date"].dt.strftime("%Y-%m-%d")) == ["2025-01-03", "2025-01-15", "2025-02-01"]
    assert list(ledger["due_date"].dt.strftime("%Y-%m-%d")) == ["2025-02-02", "2025-02-14", "2025-03-03"]
    assert ledger["payment_date"].isna().tolist() == [False, True, False]


def test_the_first_sheet_that_maps_the_required_columns_is_chosen(tmp_path: Path, settings: Settings) -> None:
    path = write_xlsx(tmp_path / "multi.xlsx", erp_shape(), sheet_title="AR", extra_sheets=2)
    _, report = parse_ledger(path, settings=settings)
    assert report.sheet == "AR"


def test_names_get_a_key_and_their_most_frequent_spelling(tmp_path: Path, settings: Settings) -> None:
    ledger, _ = parse_ledger(write_xlsx(tmp_path / "erp.xlsx", erp_shape()), settings=settings)
    assert list(ledger["customer_key"]) == ["acme corp"] * 3 + ["beta trading"]
    assert list(ledger["customer_name"]) == ["ACME Corp"] * 3 + ["Beta Trading"]
    assert ledger["sales_manager_key"].iloc[0] == "sara khan"
    assert ledger["sales_manager"].iloc[1] == "Sara Khan"


def test_credit_notes_stay_negative_and_amount_prefers_the_total(tmp_path: Path, settings: Settings) -> None:
    ledger, _ = parse_ledger(write_xlsx(tmp_path / "erp.xlsx", erp_shape()), settings=settings)
    assert list(ledger["amount"]) == [105.0, 210.0, -52.5, 1050.0]


@pytest.mark.parametrize(
    ("header", "row", "amount"),
    [
        ("Customer,Invoice Date,Net Amount,VAT", "A,2024-01-01,100,5", 105.0),
        ("Customer,Invoice Date,Net Amount,VAT", "A,2024-01-01,100,", 100.0),
        ("Customer,Invoice Date,Net Amount", "A,2024-01-01,100", 100.0),
        ("Customer,Invoice Date,Net Amount,VAT,Total", "A,2024-01-01,100,5,106", 106.0),
    ],
)
def test_amount_is_total_else_net_plus_vat_else_net(
    tmp_path: Path, settings: Settings, header: str, row: str, amount: float
) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    ledger, _ = parse_ledger(path, settings=settings)
    assert ledger["amount"].iloc[0] == amount


def test_due_date_comes_from_the_column_else_pay_terms_else_the_default(tmp_path: Path, settings: Settings) -> None:
    ledger, _ = parse_ledger(write_xlsx(tmp_path / "erp.xlsx", erp_shape()), settings=settings)
    assert list(ledger["due_date"]) == [
        pd.Timestamp("2024-02-19"),
        pd.Timestamp("2024-03-01"),
        pd.Timestamp("2024-04-04"),
        pd.Timestamp("2024-04-08"),
    ]


def test_unparseable_rows_are_rejected_with_row_numbers_and_reasons(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "Customer,Invoice Date,Amount\nA,2024-01-01,10\n,2024-01-02,5\nB,someday,5\nC,2024-01-03,lots\nD,2024-01-04,\n",
        encoding="utf-8",
    )
    ledger, report = parse_ledger(path, settings=settings)
    assert report.rows_loaded == 1 and report.rejected_count == 4
    assert report.rejected_examples == [
        {"row": 3, "reason": "missing customer name"},
        {"row": 4, "reason": "invoice date 'someday' is not a date"},
        {"row": 5, "reason": "amount 'lots' is not a number"},
        {"row": 6, "reason": "missing amount"},
    ]


def test_empty_rows_and_total_rows_are_skipped_and_counted(tmp_path: Path, settings: Settings) -> None:
    rows = erp_shape() + [
        [None] * 15,
        [None, "Total", None, None, None, None, None, None, None, None, 1312.5],
        [None, None, None, None, None, None, None, None, "Grand Total", None, 1312.5],
    ]
    ledger, report = parse_ledger(write_xlsx(tmp_path / "totals.xlsx", rows), settings=settings)
    assert report.rows_loaded == 4 and report.rejected_count == 0
    assert "Skipped 1 empty rows." in report.warnings
    assert "Skipped 2 total or subtotal rows (rows 9, 10)." in report.warnings


def test_repeated_header_rows_are_skipped(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "repeat.csv"
    path.write_text(
        "Customer,Invoice Date,Amount\nA,2024-01-01,1\nCustomer,Invoice Date,Amount\nB,2024-01-02,2\n", encoding="utf-8"
    )
    ledger, report = parse_ledger(path, settings=settings)
    assert list(ledger["source_row"]) == [2, 4] and report.rejected_count == 0
    assert "Skipped 1 repeated header row (row 3)." in report.warnings


def test_dates_and_amounts_in_text_formats_are_parsed(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "text.csv"
    path.write_text(
        'Customer;Invoice Date;Amount;Paid On\nA;05-Jan-2024;"AED 1,23,456.00";13/02/2024\nB;06-Jan-2024;(500.00);\n',
        encoding="utf-8",
    )
    ledger, _ = parse_ledger(path, settings=settings)
    assert list(ledger["amount"]) == [123456.0, -500.0]
    assert ledger["payment_date"].iloc[0] == pd.Timestamp("2024-02-13")
    assert pd.isna(ledger["payment_date"].iloc[1])


def test_missing_required_columns_raise_a_listing_error(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("Name,When\nA,2024-01-01\n", encoding="utf-8")
    with pytest.raises(MissingColumnsError) as caught:
        parse_ledger(path, settings=settings)
    assert "customer name" in str(caught.value) and "'Name'" in str(caught.value)


def test_an_explicit_mapping_overrides_detection(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "german.csv"
    path.write_text("Kunde,Rechnungsdatum,Betrag\nA,2024-01-01,10\n", encoding="utf-8")
    mapping = {"Kunde": "customer_name", "Rechnungsdatum": "invoice_date", "Betrag": "total_amount"}
    ledger, report = parse_ledger(path, settings=settings, mapping=mapping)
    assert report.mapping == mapping and ledger["customer_name"].iloc[0] == "A"


def test_the_filename_hint_is_used_for_cache_files_and_magic_bytes_win(tmp_path: Path, settings: Settings) -> None:
    cache = tmp_path / "0123abcd"
    cache.write_bytes(write_xlsx(tmp_path / "x.xlsx", erp_shape()).read_bytes())
    _, report = parse_ledger(cache, settings=settings, filename="ledger.csv")
    assert report.format == "xlsx"


def test_the_report_round_trips_through_json(tmp_path: Path, settings: Settings) -> None:
    _, report = parse_ledger(write_xlsx(tmp_path / "erp.xlsx", erp_shape()), settings=settings)
    assert ParseReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report


def test_the_compact_ledger_keeps_repetitive_text_as_categoricals_and_expands_to_the_ledger(
    tmp_path: Path, settings: Settings
) -> None:
    from finlib.ingest.parsing import COMPACT_COLUMNS, expand_ledger, parse_ledger_compact

    path = tmp_path / "ledger.csv"
    path.write_text(
        "Customer,Invoice Date,Amount,Pay Terms,Location\n"
        "ACME Corp ,2024-01-01,10,Net 30,Dubai\nacme corp,2024-01-02,5,,\nBeta,2024-01-03,7,Net 30, Dubai\n",
        encoding="utf-8",
    )
    compact, _ = parse_ledger_compact(path, settings=settings)
    assert all(isinstance(compact[c].dtype, pd.CategoricalDtype) for c in COMPACT_COLUMNS)
    ledger = expand_ledger(compact)
    assert dict(ledger.dtypes.astype(str)) == LEDGER_DTYPES
    assert list(ledger["customer_key"]) == ["acme corp", "acme corp", "beta"]
    assert ledger["location"].tolist()[0::2] == ["Dubai", "Dubai"] and pd.isna(ledger["location"][1])
    pd.testing.assert_frame_equal(ledger, parse_ledger(path, settings=settings)[0])


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ledger.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rows", "invoice_dates", "payment_date"),
    [
        # The invoice dates settle month-first (04/13); the payment date alone settles nothing and follows them.
        ("A,03/04/2025,10,04/05/2025\nA,04/13/2025,10,\n", ["2025-03-04", "2025-04-13"], "2025-04-05"),
        # The payment date settles day-first (25/04); the invoice dates follow it.
        ("A,03/04/2025,10,25/04/2025\nA,05/01/2025,10,\n", ["2025-04-03", "2025-01-05"], "2025-04-25"),
        # Nothing settles it: day-first, the original ledgers' convention, for every column.
        ("A,03/04/2025,10,04/05/2025\n", ["2025-04-03"], "2025-05-04"),
    ],
)
def test_one_day_month_order_is_decided_per_file_from_all_its_date_columns(
    tmp_path: Path, settings: Settings, rows: str, invoice_dates: list[str], payment_date: str
) -> None:
    path = write_csv(tmp_path, "Customer,Invoice Date,Amount,Payment Date\n" + rows)
    ledger, report = parse_ledger(path, settings=settings)
    assert list(ledger["invoice_date"]) == [pd.Timestamp(d) for d in invoice_dates]
    assert ledger["payment_date"].iloc[0] == pd.Timestamp(payment_date)
    assert report.rejected_count == 0 and not any("disagree" in w for w in report.warnings)


def test_date_columns_that_disagree_are_reported_and_the_minority_dates_rejected(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(
        tmp_path,
        "Customer,Invoice Date,Amount,Payment Date\nA,04/13/2025,10,04/25/2025\nB,04/14/2025,10,25/04/2025\n",
    )
    ledger, report = parse_ledger(path, settings=settings)
    assert list(ledger["payment_date"]) == [pd.Timestamp("2025-04-25")]
    assert any("'Payment Date' has 1 date that only fits day-first (e.g. '25/04/2025')" in w for w in report.warnings)
    assert report.rejected_examples == [
        {"row": 3, "reason": "payment date '25/04/2025' is day-first, but this file's payment dates are month-first "
         "(MM/DD/YYYY)"}
    ]  # fmt: skip


def test_a_date_that_reads_only_in_the_other_order_is_rejected_with_its_row(tmp_path: Path, settings: Settings) -> None:
    path = write_csv(tmp_path, "Customer,Invoice Date,Amount\nA,31/12/2025,10\nB,12/31/2025,10\nC,30/11/2025,10\n")
    ledger, report = parse_ledger(path, settings=settings)
    assert list(ledger["customer_name"]) == ["A", "C"]
    assert report.rejected_examples == [
        {"row": 3, "reason": "invoice date '12/31/2025' is month-first, but this file's invoice dates are day-first "
         "(DD/MM/YYYY)"}
    ]  # fmt: skip


def test_iso_datetimes_with_mixed_offsets_do_not_stop_the_parse(tmp_path: Path, settings: Settings) -> None:
    path = write_csv(
        tmp_path,
        "Customer,Invoice Date,Amount,Payment Date\n"
        "A,2025-04-03T10:00:00Z,10,2025-04-10 23:30\nA,2025-04-03 00:00:00+04:00,10,\n",
    )
    ledger, report = parse_ledger(path, settings=settings)
    assert list(ledger["invoice_date"]) == [pd.Timestamp("2025-04-03 10:00"), pd.Timestamp("2025-04-03 00:00")]
    assert report.rejected_count == 0


@pytest.mark.parametrize("name", ["TOTAL", "Total", "Grand Total", "totals:"])
def test_a_customer_named_like_a_total_keeps_its_invoices(tmp_path: Path, settings: Settings, name: str) -> None:
    path = write_csv(
        tmp_path, f"Customer,Invoice Date,Invoice No,Amount\n{name},2025-01-01,INV-1,5000\nAcme,2025-01-02,INV-2,100\n"
    )
    ledger, report = parse_ledger(path, settings=settings)
    assert list(ledger["amount"]) == [5000.0, 100.0]
    assert report.rejected_count == 0 and not any("Skipped" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("total_row", "skipped"),
    [
        ("Total,,,5100", True),
        (",,,5100", False),  # no label: an invoice without date or customer, rejected and reported
        ("Total,,,", False),  # no amount: nothing to double count, rejected and reported
        ("Total,2025-01-03,,5100", False),  # a dated row is an invoice of a customer named Total
    ],
)
def test_a_row_is_a_total_only_without_invoice_date_and_number_and_with_an_amount(
    tmp_path: Path, settings: Settings, total_row: str, skipped: bool
) -> None:
    path = write_csv(tmp_path, f"Customer,Invoice Date,Invoice No,Amount\nAcme,2025-01-02,INV-2,100\n{total_row}\n")
    ledger, report = parse_ledger(path, settings=settings)
    assert ("Skipped 1 total or subtotal row (row 3)." in report.warnings) is skipped
    assert len(ledger) + report.rejected_count == (1 if skipped else 2)


def test_a_blank_customer_name_takes_the_entity_legal_name_of_its_row(tmp_path: Path, settings: Settings) -> None:
    path = write_csv(
        tmp_path,
        "Entity Legal Name,Customer Name,Invoice Date,Amount\n"
        "Legal A,,2025-01-01,10\nLegal B,Cust B,2025-01-02,20\n,,2025-01-03,30\n",
    )
    ledger, report = parse_ledger(path, settings=settings)
    assert list(ledger["customer_name"]) == ["Legal A", "Cust B"]
    assert report.rejected_examples == [{"row": 4, "reason": "missing customer name"}]
    assert report.fallback_columns == {"Entity Legal Name": "customer_name"}


@pytest.mark.parametrize(
    ("payment", "reason"),
    [
        ("xx/yy", "payment date 'xx/yy' is not a date"),
        ("31/31/2025", "payment date '31/31/2025' is not a date"),
        ("12/31/2025", "payment date '12/31/2025' is month-first, but this file's payment dates are day-first "
         "(DD/MM/YYYY)"),
    ],
)  # fmt: skip
def test_an_unreadable_payment_date_rejects_its_row_instead_of_counting_it_unpaid(
    tmp_path: Path, settings: Settings, payment: str, reason: str
) -> None:
    path = write_csv(
        tmp_path,
        "Customer,Invoice Date,Amount,Payment Date\n"
        f"A,25/01/2025,10,01/02/2025\nA,26/01/2025,20,{payment}\nA,27/01/2025,30,\n",
    )
    ledger, report = parse_ledger(path, settings=settings)
    assert list(ledger["amount"]) == [10.0, 30.0]
    assert report.rejected_examples == [{"row": 3, "reason": reason}]


def test_an_unreadable_due_date_falls_back_to_the_terms_with_a_warning_naming_its_rows(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(
        tmp_path,
        "Customer,Invoice Date,Amount,Due Date,Pay Terms\n"
        "A,2025-01-01,10,soon,Net 45\nA,2025-01-02,20,2025-02-01,\nA,2025-01-03,30,later,\n"
        "A,2025-01-04,40,2025-02-04,\nA,2025-01-05,50,2025-02-05,\n",
    )
    ledger, report = parse_ledger(path, settings=settings)
    assert report.rejected_count == 0
    assert list(ledger["due_date"][:3]) == [pd.Timestamp(d) for d in ("2025-02-15", "2025-02-01", "2025-02-02")]
    assert any("2 due dates" in w and "rows 2, 4" in w and "'soon'" in w for w in report.warnings)


EXTRA_CSV = "Client,Invoice Date,Amount,Billing Channel,Disputed,Memo\n" + "".join(
    f"C{i % 3},2024-01-{i + 1:02d},{10 + i},{('electronic', 'paper')[i % 2]},{'Y' if i == 4 else 'N'},note {i}\n"
    for i in range(12)
)


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_extra_columns_that_read_as_categories_are_kept_and_named_in_the_report(
    tmp_path: Path, settings: Settings, suffix: str
) -> None:
    lines = [line.split(",") for line in EXTRA_CSV.splitlines()]
    path = tmp_path / f"extra.{suffix}"
    if suffix == "csv":
        path.write_text(EXTRA_CSV, encoding="utf-8")
    else:
        write_xlsx(path, [lines[0], *([r[0], dt.datetime.fromisoformat(r[1]), float(r[2]), *r[3:]] for r in lines[1:])])
    ledger, report = parse_ledger(path, settings=settings)
    assert report.extra_columns == ["Billing Channel", "Disputed"]
    assert list(ledger["extra:Billing Channel"].iloc[:3]) == ["electronic", "paper", "electronic"]
    assert list(ledger["extra:Disputed"]).count("Y") == 1
    assert "extra:Memo" not in ledger.columns  # one distinct value per row is free text, not a category
    assert "Memo" in report.unmapped_columns


FORMULA_ROWS = [
    ["Customer", "Invoice Date", "Net", "VAT", "Total"],
    ["A", "2024-01-05", 100, "=1+4", "=100+5"],
    ["B", "2024-01-06", 200, "=1+9", "=200+10"],
]


def _save_results(path: Path, results: dict[str, str]) -> Path:
    """The workbook as a spreadsheet application leaves it: each formula followed by its saved result."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = re.sub(
        r"<f>([^<]*)</f><v ?/>", lambda m: f"<f>{m.group(1)}</f><v>{results[m.group(1)]}</v>", sheet
    ).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def test_a_workbook_whose_formula_results_were_never_saved_is_refused_naming_the_empty_columns(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_xlsx(tmp_path / "scripted.xlsx", FORMULA_ROWS)
    with pytest.raises(ParseError, match=r"columns 'VAT', 'Total' of sheet 'Ledger' are empty because .* never saved"):
        parse_ledger(path, settings=settings)


def test_the_same_workbook_with_its_formula_results_saved_loads_with_them(tmp_path: Path, settings: Settings) -> None:
    path = write_xlsx(tmp_path / "saved.xlsx", FORMULA_ROWS)
    _save_results(path, {"1+4": "5", "1+9": "10", "100+5": "105", "200+10": "210"})
    ledger, _ = parse_ledger(path, settings=settings)
    assert list(ledger["amount"]) == [105.0, 210.0]


def test_an_empty_vat_column_without_formulas_is_no_reason_to_refuse(tmp_path: Path, settings: Settings) -> None:
    rows = [["Customer", "Invoice Date", "Net", "VAT"], ["A", "2024-01-05", 100, None], ["B", "2024-01-06", 200, None]]
    ledger, _ = parse_ledger(write_xlsx(tmp_path / "plain.xlsx", rows), settings=settings)
    assert list(ledger["amount"]) == [100.0, 200.0]
