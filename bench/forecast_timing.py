"""Times the forecast and the backtest on a benchmark ledger (default: bench/data/ledger_1000000.csv).

Prints wall and CPU seconds per step: parse (not part of the forecast), every date method's forecast as of the
latest date, its JSON document, and the full backtest. Run `python bench/generate.py` first.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from finlib.config import load_settings  # noqa: E402
from finlib.forecast.backtest import run_backtest  # noqa: E402
from finlib.forecast.outlook import compute_forecast, write_forecast_json  # noqa: E402
from finlib.forecast.payment_dates import DATE_METHODS  # noqa: E402
from finlib.ingest.parsing import parse_ledger  # noqa: E402


def timed(label: str, work):  # type: ignore[no-untyped-def]
    """Run ``work`` and print its wall and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(f"{label:<34} {time.perf_counter() - wall:7.2f} s wall {time.process_time() - cpu:7.2f} s CPU", flush=True)
    return result


def main() -> None:
    """Parse the ledger once, then time each forecast step."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=ROOT / "bench" / "data" / "ledger_1000000.csv")
    parser.add_argument("--no-backtest", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    ledger, _ = timed("parse (in process)", lambda: parse_ledger(args.path, settings=settings))
    print(f"{len(ledger):,} invoices")
    for method in DATE_METHODS:
        forecast = timed(f"forecast {method}", lambda m=method: compute_forecast(ledger, None, m))
    print(f"{len(forecast.invoices):,} open invoices")
    timed("forecast JSON (compact)", lambda: write_forecast_json(forecast, "bench", io.StringIO(), indent=None))
    if not args.no_backtest:
        result = timed("backtest (every method, 12 origins)", lambda: run_backtest(ledger))
        for score in result.dates:
            print(f"  {score.method:<17} MAE {score.mae_days:6.2f} days  within 7 {score.within_7_days:.1%}")


if __name__ == "__main__":
    main()
