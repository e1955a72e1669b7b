"""Benchmark: disk → parse (sandboxed) → normalise → alias → per-customer stats, next to a naive reference."""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from finlib.aliasing import derive_aliases  # noqa: E402
from finlib.config import load_settings  # noqa: E402
from finlib.forecast import compute_customer_stats  # noqa: E402
from finlib.sandbox import parse_ledger_isolated  # noqa: E402

DATA_DIR = ROOT / "bench" / "data"
NAIVE_SAMPLE_CUSTOMERS = 50
BENCH_SALT = b"bench-salt-not-secret"


def peak_memory_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its (waited-for) children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def run_pipeline(path: Path) -> dict[str, float]:
    """Time each stage of the product pipeline on one file."""
    settings = load_settings(
        {"ALIAS_SALT": BENCH_SALT.decode(), "FINLIB_HOME": str(DATA_DIR / "home")}, dotenv_path=None
    )
    timings: dict[str, float] = {}
    started = time.perf_counter()
    ledger, report = parse_ledger_isolated(path, settings=settings)
    timings["parse (sandboxed, incl. name keys)"] = time.perf_counter() - started

    mark = time.perf_counter()
    keys = ledger["customer_key"].astype("category")
    timings["normalise (keys as categories)"] = time.perf_counter() - mark

    mark = time.perf_counter()
    unique_keys = [str(k) for k in keys.cat.categories]
    aliases = derive_aliases(
        unique_keys, salt=BENCH_SALT, project="bench", length=settings.alias_length, kind="customer"
    )
    ledger["customer_alias"] = keys.cat.rename_categories([aliases[k] for k in unique_keys]).astype("str")
    timings["alias (unique keys)"] = time.perf_counter() - mark

    mark = time.perf_counter()
    stats = compute_customer_stats(ledger, window=settings.moving_avg_window, trend_threshold=settings.trend_threshold)
    timings["per-customer stats"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    timings["rows"] = float(report.rows_loaded)
    timings["customers"] = float(len(stats))
    return timings


def naive_reference(path: Path, sample: int) -> tuple[float, float, float]:
    """The original design: openpyxl (or a plain read_csv) then a Python loop filtering the frame per customer."""
    started = time.perf_counter()
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).active
        rows = [r[1:] for r in sheet.iter_rows(min_row=3, values_only=True)]
        frame = pd.DataFrame(rows[1:], columns=rows[0])
    else:
        frame = pd.read_csv(path, skiprows=2)
        frame["INVOICE DATE"] = pd.to_datetime(frame["INVOICE DATE"], dayfirst=True)
        frame["PAYMENT DATE"] = pd.to_datetime(frame["PAYMENT DATE"], dayfirst=True)
    load = time.perf_counter() - started
    customers = frame["CUSTOMER NAME"].dropna().unique()
    mark = time.perf_counter()
    # Evenly spaced customers: the file's first customers are its largest, which would overstate the loop.
    chosen = customers[:: max(1, len(customers) // sample)][:sample]
    for customer in chosen:
        rows = frame[frame["CUSTOMER NAME"] == customer].sort_values(["INVOICE DATE", "INVOICE NO"])
        amounts = list(rows["TOTAL INVOICE AMT"])
        average = sum(amounts) / len(amounts)
        moving = sum(amounts[-3:]) / len(amounts[-3:])
        delays = [(p - i).days for i, p in zip(rows["INVOICE DATE"], rows["PAYMENT DATE"], strict=True) if pd.notna(p)]
        _ = (average, moving, sum(delays) / len(delays) if delays else None)
    loop = (time.perf_counter() - mark) / len(chosen) * len(customers)
    return load, loop, load + loop


def main() -> None:
    """Run the benchmark on the generated files and print times, ratios and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=NAIVE_SAMPLE_CUSTOMERS, help="customers timed in the naive loop")
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    files = sorted(DATA_DIR.glob("ledger_*.csv")) + sorted(DATA_DIR.glob("ledger_*.xlsx"))
    if not files:
        sys.exit("No benchmark data: run `python bench/generate.py` first.")
    for path in files:
        print(f"\n== {path.name} ({path.stat().st_size / 1e6:.0f} MB)")
        timings = run_pipeline(path)
        rows, customers = int(timings.pop("rows")), int(timings.pop("customers"))
        print(f"   {rows:,} rows, {customers:,} customers")
        for stage, seconds in timings.items():
            print(f"   {stage:<38} {seconds:8.2f} s")
        if not args.skip_naive:
            load, loop, total = naive_reference(path, args.sample)
            print(f"   naive load                             {load:8.2f} s")
            print(f"   naive per-customer loop (scaled)       {loop:8.2f} s  (timed on {args.sample} customers)")
            print(f"   naive total                            {total:8.2f} s  → {total / timings['total']:.0f}× slower")
    own, children = peak_memory_mb()
    print(f"\npeak memory: this process {own:.0f} MB, parser children {children:.0f} MB")


if __name__ == "__main__":
    main()
