"""Write the demo invoice register (.xlsx, original ERP shape): a thin command line over ``finlib.demo``."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing finlib

from finlib.demo import DEMO_TODAY, generate_demo_ledger  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, write the ledger, print its path."""
    parser = argparse.ArgumentParser(description="Generate the deterministic demo invoice register (.xlsx).")
    parser.add_argument("output", type=Path, nargs="?", default=Path("demo-invoice-register.xlsx"))
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=DEMO_TODAY,
        help=f"last day of the ledger, YYYY-MM-DD (default {DEMO_TODAY.isoformat()}, fixed for reproducible files)",
    )
    args = parser.parse_args(argv)
    print(generate_demo_ledger(args.output, seed=args.seed, today=args.today))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
