"""Benchmark data: a 100k-row xlsx and a 1M-row CSV in the original ERP shape, written to bench/data/."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"
TITLE_ROWS = [["ACME Trading LLC - Accounts Receivable Register"], ["Exported from ERP, all amounts in AED"]]
SEED = 20250101


def build_ledger(rows: int, customers: int, seed: int = SEED) -> pd.DataFrame:
    """A deterministic ledger in the original column layout (dates as datetimes, amounts as floats)."""
    rng = np.random.default_rng(seed)
    customer_ids = rng.zipf(1.3, rows) % customers
    names = np.array([f"Customer {i:05d} Trading LLC" for i in range(customers)], dtype=object)
    start = np.datetime64("2021-01-01")
    invoice_dates = start + rng.integers(0, 4 * 365, rows).astype("timedelta64[D]")
    terms = rng.choice(np.array([30, 45, 60, 90]), rows)
    net = np.round(rng.lognormal(8, 1.2, rows), 2)
    credit = rng.random(rows) < 0.02
    net[credit] = -net[credit]
    vat = np.round(net * 0.05, 2)
    delay = rng.gamma(2.0, 25.0, rows).astype("int64")
    paid = rng.random(rows) < 0.8
    payment = (invoice_dates + delay.astype("timedelta64[D]")).astype("datetime64[ns]")
    managers = np.array(["Sara Khan", "John Smith", "Ravi Patel", "Layla Haddad", "Omar Said"], dtype=object)
    frame = pd.DataFrame(
        {
            "CUSTOMER NAME": names[customer_ids],
            "Entity Legal Name": names[customer_ids],
            "INVOICE DATE": invoice_dates.astype("datetime64[ns]"),
            "INVOICE NO": [f"INV-{i:07d}" for i in range(rows)],
            "SALES ORDER NO": [f"SO-{i:07d}" for i in range(rows)],
            "PAY TERMS": [f"{t} DAYS" for t in terms],
            "DUE DATE": (invoice_dates + terms.astype("timedelta64[D]")).astype("datetime64[ns]"),
            "NET AMOUNT": net,
            "VAT (5%)": vat,
            "TOTAL INVOICE AMT": np.round(net + vat, 2),
            "PAYMENT DATE": pd.Series(payment).where(paid),
            "SALES MANAGER NAME": managers[customer_ids % len(managers)],
            "SERVICE TYPE": rng.choice(np.array(["Freight", "Customs", "Warehousing"], dtype=object), rows),
            "LOCATION": rng.choice(np.array(["Dubai", "Abu Dhabi", "Sharjah"], dtype=object), rows),
        }
    )
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write the ERP shape as CSV: two title lines, then the header with a blank first column, DD/MM/YYYY dates."""
    out = frame.copy()
    for column in ("INVOICE DATE", "DUE DATE", "PAYMENT DATE"):
        out[column] = out[column].dt.strftime("%d/%m/%Y")
    out.insert(0, "", "")
    width = len(out.columns)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for title in TITLE_ROWS:
            writer.writerow(["", *title] + [""] * (width - 2))
        out.to_csv(handle, index=False, lineterminator="\n")


def write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    """Write the ERP shape as xlsx (openpyxl write-only): title rows, header on row 3, blank column A."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("AR Register")
    for title in TITLE_ROWS:
        sheet.append([None, *title])
    sheet.append([None, *frame.columns])
    columns = [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in frame.columns]
    for values in zip(*columns, strict=True):
        sheet.append([None, *values])
    workbook.save(path)


def main() -> None:
    """Generate the benchmark files (skips files that already exist unless --force)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    csv_path = DATA_DIR / f"ledger_{args.csv_rows}.csv"
    xlsx_path = DATA_DIR / f"ledger_{args.xlsx_rows}.xlsx"
    if args.force or not csv_path.exists():
        write_csv(build_ledger(args.csv_rows, args.customers), csv_path)
        print(f"wrote {csv_path} ({csv_path.stat().st_size / 1e6:.0f} MB)")
    if args.force or not xlsx_path.exists():
        write_xlsx(build_ledger(args.xlsx_rows, min(args.customers, 2_000)), xlsx_path)
        print(f"wrote {xlsx_path} ({xlsx_path.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
