"""Excel export timing: ``documents.build_workbook`` of the Overview's view with a 100,000-row invoice sheet.

    python bench/xlsx_timing.py [--rows 100000] [--repeat 2]

The demo ledger is repeated to ``--rows`` invoices and exported as the Overview's Excel button does (the
invoice sheet with the columns of ``ui.tables.invoice_table``), in a temporary data home.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    """Print the seconds ``build_workbook`` takes."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ.update(FINLIB_HOME=tempfile.mkdtemp(prefix="finlib-xlsx-timing-"), ALIAS_SALT="xlsx-timing")
    os.environ.update(DATABASE_URL="", AWS_S3_BUCKET="", LITE_LLM_API_KEY="", LITE_LLM_API_BASE="")

    import pandas as pd

    from finlib import documents, projects
    from finlib.analytics import drilldown, overview, worklist
    from finlib.config import load_settings
    from ui.tables import invoice_table

    services = projects.Services(load_settings())
    projects.ensure_demo_project(services)
    demo = projects.load_project(services, "demo").ledger
    ledger = pd.concat([demo] * (args.rows // len(demo) + 1), ignore_index=True).head(args.rows)
    view = overview.compute_overview(ledger, overview.ViewFilters())
    assert view is not None
    dates = view.report.dates
    invoices = invoice_table(drilldown.view_invoices(ledger, dates), with_customer=True)
    table = worklist.compute_worklist(ledger, dates.as_of)
    inputs = documents.ReportInputs("demo", view.report, view.aging, view.monthly, table, invoices)
    columns = len(invoices.columns)
    for _ in range(args.repeat):
        started = time.perf_counter()
        workbook = documents.build_workbook(inputs)
        seconds = time.perf_counter() - started
        print(f"build_workbook, {len(invoices):,} invoice rows x {columns} columns: {seconds:.2f} s "
              f"({len(workbook) / 1e6:.1f} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
