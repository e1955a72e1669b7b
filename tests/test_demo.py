"""The demo ledger: deterministic, in the original ERP shape, with the customers the README and the pages need."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from finlib.currency import parse_currency, stated_currency
from finlib.demo import DEMO_TODAY, HEADER_ROW, HEADERS, TITLE, generate_demo_ledger, shipped_demo_ledger
from finlib.names import normalise_names

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_demo_ledger(tmp_path_factory.mktemp("demo") / "demo.xlsx")


@pytest.fixture(scope="module")
def register(demo_path: Path) -> pd.DataFrame:
    """The data rows under the header, as values (dates as datetimes, amounts as numbers)."""
    sheet = load_workbook(demo_path, read_only=True).active
    rows = list(sheet.iter_rows(min_row=HEADER_ROW + 1, min_col=2, values_only=True))
    return pd.DataFrame(rows, columns=list(HEADERS))


def cell_values(path: Path) -> list[tuple[object, ...]]:
    return list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))


def test_the_same_seed_and_day_give_the_same_file(demo_path: Path, tmp_path: Path) -> None:
    again = generate_demo_ledger(tmp_path / "again.xlsx")
    assert again.read_bytes() == demo_path.read_bytes()
    assert cell_values(again) == cell_values(demo_path)


def test_the_shipped_demo_file_is_what_the_generator_writes(demo_path: Path) -> None:
    assert shipped_demo_ledger() == demo_path.read_bytes(), (
        "finlib/data/demo-invoice-register.xlsx is stale: python scripts/make_demo_ledger.py "
        "finlib/data/demo-invoice-register.xlsx"
    )


def test_another_seed_gives_other_invoices(demo_path: Path, tmp_path: Path) -> None:
    assert cell_values(generate_demo_ledger(tmp_path / "other.xlsx", seed=8)) != cell_values(demo_path)


def test_title_rows_then_the_header_on_row_three_with_column_a_blank(demo_path: Path) -> None:
    rows = cell_values(demo_path)
    assert rows[0][1] == TITLE
    assert "exported 31-Oct-2026" in str(rows[1][1])
    assert rows[HEADER_ROW - 1][1:] == HEADERS
    assert all(row[0] is None for row in rows)


def test_a_few_hundred_invoices_over_eighteen_months_ending_on_the_demo_day(register: pd.DataFrame) -> None:
    assert 300 <= len(register) <= 700
    dates = pd.to_datetime(register["INVOICE DATE"])
    assert dates.max() <= pd.Timestamp(DEMO_TODAY)
    assert (pd.Timestamp(DEMO_TODAY) - dates.min()).days > 500
    assert register["INVOICE NO"].is_unique


def test_customer_count_is_within_twenty_and_forty(register: pd.DataFrame) -> None:
    assert 20 <= normalise_names(register["CUSTOMER NAME"]).nunique() <= 40


def test_amounts_carry_five_percent_vat(register: pd.DataFrame) -> None:
    assert (register["VAT (5%)"] - register["NET AMOUNT"] * 0.05).abs().max() <= 0.005 + 1e-9  # rounded to cents
    assert (register["TOTAL INVOICE AMT"] - register["NET AMOUNT"] - register["VAT (5%)"]).abs().max() < 0.006


def test_some_invoices_are_unpaid_and_some_are_overdue(register: pd.DataFrame) -> None:
    unpaid = register["PAYMENT DATE"].isna()
    overdue = unpaid & (pd.to_datetime(register["DUE DATE"]) < pd.Timestamp(DEMO_TODAY))
    assert unpaid.sum() >= 20
    assert overdue.sum() >= 10
    paid = register[~unpaid]
    assert (pd.to_datetime(paid["PAYMENT DATE"]) <= pd.Timestamp(DEMO_TODAY)).all()


def test_the_special_customers_are_there(register: pd.DataFrame) -> None:
    keys = normalise_names(register["CUSTOMER NAME"])
    abc = register[keys == "abc company"]
    assert abc["PAYMENT DATE"].notna().sum() >= 5  # the README's example question
    assert (keys == "northgate trading").sum() == 1
    never = register[keys == "mirage fashion house"]
    assert len(never) >= 2 and never["PAYMENT DATE"].isna().all()
    assert (register["TOTAL INVOICE AMT"] < 0).sum() == 1
    assert register["SALES MANAGER NAME"].nunique() in range(4, 7)


def test_one_customer_is_spelled_several_ways(register: pd.DataFrame) -> None:
    spellings = register.loc[normalise_names(register["CUSTOMER NAME"]) == "gulf star trading llc", "CUSTOMER NAME"]
    assert spellings.nunique() >= 3
    assert spellings.value_counts().index[0] == "Gulf Star Trading LLC"


def test_every_row_states_the_ledger_currency_aed(register: pd.DataFrame) -> None:
    assert set(register["CURRENCY"]) == {"AED"}
    assert stated_currency({"CURRENCY": register["CURRENCY"].unique()}) == parse_currency("AED")


def test_dates_are_real_spreadsheet_dates(register: pd.DataFrame) -> None:
    assert all(isinstance(value, datetime) for value in register["INVOICE DATE"])


def test_the_script_writes_the_ledger(tmp_path: Path) -> None:
    output = tmp_path / "cli.xlsx"
    subprocess.run(
        [sys.executable, str(REPOSITORY / "scripts" / "make_demo_ledger.py"), str(output), "--seed", "7",
         "--today", date(2025, 6, 30).isoformat()],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    assert output.read_bytes() == generate_demo_ledger(tmp_path / "direct.xlsx", today=date(2025, 6, 30)).read_bytes()
