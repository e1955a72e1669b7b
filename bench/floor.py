"""The polars floor: one process that reads a ledger file and computes the same per-customer figures as `stats`.

What the best general tool does with the same file, written plainly: read (CSV or xlsx via fastexcel), parse
DD/MM/YYYY dates, normalise customer names (trim, collapse spaces, lower case), then one group-by giving invoice
count, total, average, moving average of the last three invoices, average delay over paid positive invoices,
last payment date, predicted next payment date, outstanding and overdue at the latest date; the per-customer
table and the portfolio totals are written as JSON to stdout, as `stats --json` does.

    python bench/floor.py FILE > /dev/null
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

TITLE_ROWS = 2
DATE_FORMAT = "%d/%m/%Y"
WINDOW = 3


def read_ledger(path: Path) -> pl.DataFrame:
    """The file's rows with typed dates and amounts (header on the third row, a blank first column)."""
    if path.suffix == ".xlsx":
        frame = pl.read_excel(path, engine="calamine", read_options={"header_row": TITLE_ROWS})
        dates = [pl.col(c).cast(pl.Datetime("ms")) for c in ("INVOICE DATE", "DUE DATE", "PAYMENT DATE")]
    else:
        frame = pl.read_csv(path, skip_rows=TITLE_ROWS, infer_schema_length=10_000)
        dates = [
            pl.col(c).str.strptime(pl.Datetime("ms"), DATE_FORMAT) for c in ("INVOICE DATE", "DUE DATE", "PAYMENT DATE")
        ]
    return frame.with_columns(
        *dates,
        pl.col("CUSTOMER NAME").str.strip_chars().str.replace_all(r"\s+", " ").str.to_lowercase().alias("key"),
    ).filter(pl.col("INVOICE DATE").is_not_null() & pl.col("key").is_not_null())


def customer_stats(ledger: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, object]]:
    """Per-customer figures and portfolio totals, as of the latest invoice or payment date."""
    as_of = max(ledger["INVOICE DATE"].max(), ledger["PAYMENT DATE"].max())  # type: ignore[type-var]
    amount = pl.col("TOTAL INVOICE AMT")
    paid = pl.col("PAYMENT DATE").is_not_null() & (amount > 0)
    delay = (pl.col("PAYMENT DATE") - pl.col("INVOICE DATE")).dt.total_days()
    unpaid = pl.col("PAYMENT DATE").is_null()
    stats = (
        ledger.sort("key", "INVOICE DATE", "INVOICE NO")
        .group_by("key", maintain_order=True)
        .agg(
            pl.col("CUSTOMER NAME").first().alias("customer"),
            pl.len().alias("invoice_count"),
            amount.sum().alias("total_amount"),
            amount.mean().alias("average_amount"),
            amount.tail(WINDOW).mean().alias("moving_average"),
            delay.filter(paid).mean().alias("avg_payment_delay_days"),
            pl.col("PAYMENT DATE").filter(paid).max().alias("last_payment_date"),
            amount.filter(unpaid).sum().alias("outstanding_amount"),
            amount.filter(unpaid & (pl.col("DUE DATE") < as_of)).sum().alias("overdue_amount"),
        )
        .with_columns(
            (pl.col("last_payment_date") + pl.duration(days=pl.col("avg_payment_delay_days").round())).alias(
                "predicted_next_payment_date"
            ),
        )
    )
    portfolio = {
        "invoice_count": ledger.height,
        "customer_count": stats.height,
        "total_invoiced": ledger["TOTAL INVOICE AMT"].sum(),
        "outstanding": ledger.filter(unpaid)["TOTAL INVOICE AMT"].sum(),
    }
    return stats, portfolio


def main() -> None:
    """Read the file named on the command line and print the statistics as JSON."""
    stats, portfolio = customer_stats(read_ledger(Path(sys.argv[1])))
    sys.stdout.write(f'{{"portfolio": {portfolio!r}, "customers": ')
    sys.stdout.write(stats.write_json())
    sys.stdout.write("}\n")


if __name__ == "__main__":
    main()
