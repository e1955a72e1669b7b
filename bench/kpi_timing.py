"""KPI layer timings on a 100,000-row project: Overview and Worklist renders (cold and cached), the finlib
computations behind them, and the Excel and PDF exports.

    python bench/kpi_timing.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    """Register a generated ledger in a temporary data home and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="finlib-kpi-timing-"))
    os.environ.update(FINLIB_HOME=str(home), ALIAS_SALT="kpi-timing", DATABASE_URL="", AWS_S3_BUCKET="")
    os.environ.update(LITE_LLM_API_KEY="", LITE_LLM_API_BASE="")

    from generate import build_ledger, write_csv  # type: ignore[import-not-found]

    from finlib import documents, projects
    from finlib.analytics import breakdowns, drilldown, kpis, overview, worklist
    from finlib.config import load_settings

    source = home / f"ledger_{args.rows}.csv"
    write_csv(build_ledger(args.rows, min(args.rows // 50, 2_000)), source)
    services = projects.Services(load_settings())
    projects.upload_project(services, "big", source.name, source.read_bytes())
    ledger = projects.load_project(services, "big").ledger
    services.engine.dispose()
    print(f"{len(ledger):,} invoices, {ledger['customer_key'].nunique():,} customers")

    rows: list[tuple[str, float]] = []
    filters = overview.ViewFilters()
    seconds, view = _timed(lambda: overview.compute_overview(ledger, filters))
    rows.append(("finlib compute_overview (KPIs, monthly trend, aging, rankings)", seconds))
    assert view is not None
    dates = view.report.dates
    seconds, _ = _timed(lambda: kpis.monthly_kpis(ledger, dates.period))
    rows.append(("  of which monthly_kpis (every KPI per month end)", seconds))
    seconds, table = _timed(lambda: worklist.compute_worklist(ledger, dates.as_of))
    rows.append(("finlib compute_worklist", seconds))
    seconds, _ = _timed(lambda: breakdowns.compute_breakdown(ledger, dates, "location"))
    rows.append(("finlib compute_breakdown by location", seconds))
    seconds, invoices = _timed(lambda: drilldown.view_invoices(ledger, dates))
    rows.append(("finlib view_invoices (export sheet)", seconds))
    inputs = documents.ReportInputs("big", view.report, view.aging, view.monthly, table, invoices)
    seconds, workbook = _timed(lambda: documents.build_workbook(inputs))
    rows.append((f"Excel workbook ({len(invoices):,} invoice rows, {len(workbook) / 1e6:.1f} MB)", seconds))
    seconds, pdf = _timed(lambda: documents.build_pdf(inputs))
    rows.append((f"PDF report ({len(pdf) / 1e3:.0f} kB)", seconds))

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.query_params["project"] = "big"
    seconds, _ = _timed(at.run)
    assert not at.exception, [e.value for e in at.exception]
    rows.append(("Overview render, cold (ledger load + every computation)", seconds))
    seconds, _ = _timed(at.run)
    rows.append(("Overview render, cached", seconds))
    seconds, _ = _timed(lambda: at.switch_page("pages/worklist.py").run())
    assert not at.exception, [e.value for e in at.exception]
    rows.append(("Worklist render, cold (ledger cached)", seconds))
    seconds, _ = _timed(lambda: at.switch_page("pages/overview.py").run())
    seconds, _ = _timed(lambda: at.switch_page("pages/worklist.py").run())
    rows.append(("Worklist render, cached", seconds))
    print(f"\n{'measurement':<66} {'seconds':>8}")
    for label, value in rows:
        print(f"{label:<66} {value:>8.3f}")


if __name__ == "__main__":
    main()
