"""The hot group-by at a million rows: finlib's per-customer figures against pandas and polars group-bys.

One process, the same in-memory ledger (``generate.build_ledger``: 1M invoices, 20k customers) for all three:

- finlib: ``analytics.customer_stats.compute_customer_stats`` (integer codes, one sort, ``numpy.bincount``),
  which computes every ``stats`` figure (20 per customer, natural invoice-number order, trend, on-time share);
- pandas: ``sort_values`` + ``groupby().agg`` of the floor's nine figures (``bench/floor.py``);
- polars: the floor's own expression on a polars frame (the pandas -> polars conversion timed apart, since the
  pages and plotly read pandas).

Medians of ``--repeat`` runs, CPU seconds beside wall-clock seconds (the machine is shared).

    python bench/groupby.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import build_ledger  # noqa: E402

from finlib.analytics.customer_stats import compute_customer_stats  # noqa: E402
from finlib.names import normalise_names  # noqa: E402

WINDOW = 3


def ledger_frame(rows: int, customers: int) -> pd.DataFrame:
    """The bench ledger in the ledger frame's column names and dtypes (as the parser hands it over)."""
    raw = build_ledger(rows, customers)
    names = raw["CUSTOMER NAME"].astype("str")
    return pd.DataFrame(
        {
            "customer_name": names,
            "customer_key": normalise_names(names).astype("str"),
            "invoice_date": raw["INVOICE DATE"],
            "invoice_number": raw["INVOICE NO"].astype("str"),
            "due_date": raw["DUE DATE"],
            "amount": raw["TOTAL INVOICE AMT"].astype("float64"),
            "payment_date": pd.to_datetime(raw["PAYMENT DATE"]),
        }
    )


def pandas_groupby(ledger: pd.DataFrame) -> pd.DataFrame:
    """The floor's figures with a pandas sort and group-by."""
    as_of = max(ledger["invoice_date"].max(), ledger["payment_date"].max())
    frame = ledger.sort_values(["customer_key", "invoice_date", "invoice_number"])
    paid = frame["payment_date"].notna() & (frame["amount"] > 0)
    unpaid = frame["payment_date"].isna()
    frame = frame.assign(
        delay=((frame["payment_date"] - frame["invoice_date"]).dt.days).where(paid),
        paid_on=frame["payment_date"].where(paid),
        outstanding=frame["amount"].where(unpaid, 0.0),
        overdue=frame["amount"].where(unpaid & (frame["due_date"] < as_of), 0.0),
    )
    grouped = frame.groupby("customer_key", sort=False)
    stats = grouped.agg(
        customer=("customer_name", "first"),
        invoice_count=("amount", "size"),
        total_amount=("amount", "sum"),
        average_amount=("amount", "mean"),
        avg_payment_delay_days=("delay", "mean"),
        last_payment_date=("paid_on", "max"),
        outstanding_amount=("outstanding", "sum"),
        overdue_amount=("overdue", "sum"),
    )
    stats["moving_average"] = grouped.tail(WINDOW).groupby("customer_key", sort=False)["amount"].mean()
    return stats


def polars_groupby(ledger: pl.DataFrame) -> pl.DataFrame:
    """The floor's figures with a polars group-by (``bench/floor.py``'s expression)."""
    as_of = max(ledger["invoice_date"].max(), ledger["payment_date"].max())  # type: ignore[type-var]
    amount = pl.col("amount")
    paid = pl.col("payment_date").is_not_null() & (amount > 0)
    unpaid = pl.col("payment_date").is_null()
    return (
        ledger.sort("customer_key", "invoice_date", "invoice_number")
        .group_by("customer_key", maintain_order=True)
        .agg(
            pl.col("customer_name").first().alias("customer"),
            pl.len().alias("invoice_count"),
            amount.sum().alias("total_amount"),
            amount.mean().alias("average_amount"),
            amount.tail(WINDOW).mean().alias("moving_average"),
            (pl.col("payment_date") - pl.col("invoice_date")).dt.total_days().filter(paid).mean().alias("delay"),
            pl.col("payment_date").filter(paid).max().alias("last_payment_date"),
            amount.filter(unpaid).sum().alias("outstanding_amount"),
            amount.filter(unpaid & (pl.col("due_date") < as_of)).sum().alias("overdue_amount"),
        )
    )


def timed(function: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    """Print one line per implementation."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ledger = ledger_frame(args.rows, args.customers)
    print(f"load average: {' '.join(f'{value:.2f}' for value in os.getloadavg())}  ({os.cpu_count()} CPUs)")
    print(f"{args.rows:,} rows, {ledger['customer_key'].nunique():,} customers, median of {args.repeat}")
    print(f"   {'':<58}{'seconds':>9}{'CPU s':>8}")
    rows = [
        ("finlib compute_customer_stats (20 figures, numpy bincount)", lambda: compute_customer_stats(ledger)),
        ("pandas sort + groupby.agg (the floor's 9 figures)", lambda: pandas_groupby(ledger)),
        ("polars: pandas -> polars conversion", lambda: pl.from_pandas(ledger)),
    ]
    for label, function in rows:
        wall, cpu = timed(function, args.repeat)
        print(f"   {label:<58}{wall:9.2f}{cpu:8.2f}")
    frame = pl.from_pandas(ledger)
    wall, cpu = timed(lambda: polars_groupby(frame), args.repeat)
    print(f"   {'polars sort + group_by (the floor 9 figures, 2 threads)':<58}{wall:9.2f}{cpu:8.2f}")
    np.testing.assert_allclose(
        polars_groupby(frame)["total_amount"].sum(), compute_customer_stats(ledger)["total_amount"].sum(), rtol=1e-9
    )


if __name__ == "__main__":
    main()
