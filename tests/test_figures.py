"""Specification of finlib.analytics.figures: the stored figures do not depend on where they were computed."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from helpers.ledgers import LEDGER_CSV

from finlib.analytics.figures import FIGURE_COLUMNS, compute_figures, figures_json, write_figures
from finlib.config import Settings
from finlib.ingest.parsing import parse_ledger

# Ties on a date (invoice numbers in natural order), a credit note, an open and an overdue invoice, due dates.
RICH_CSV = """Customer Name,Invoice Date,Invoice No,Due Date,Total Amount,Payment Date,Sales Manager,Service
Acme,2026-01-05,INV-10,2026-02-04,100.10,2026-02-01,Jane Doe,Audit
Acme,2026-01-05,INV-9,2026-02-04,200.20,2026-02-10,Jane Doe,Audit
acme ,2026-02-05,INV-11,2026-03-07,(30.00),2026-02-06,Jane Doe,Tax
Beta,2026-01-20,B-1,2026-01-30,500.00,,Omar Khan,Audit
Beta,2026-03-01,B-2,2026-04-01,0.30,,Omar Khan,Tax
"""


@pytest.mark.parametrize("text", [LEDGER_CSV, RICH_CSV], ids=["small", "rich"])
@pytest.mark.parametrize("window", [1, 3])
def test_the_figure_columns_alone_give_the_figures_of_the_whole_ledger(
    tmp_path: Path, settings: Settings, text: str, window: int
) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(text, encoding="utf-8")
    ledger, _ = parse_ledger(path, settings=settings)
    assert set(ledger.columns) - set(FIGURE_COLUMNS)  # the whole ledger has more columns than the figures read
    whole = compute_figures(ledger, window=window, trend_threshold=0.05)
    assert compute_figures(ledger[list(FIGURE_COLUMNS)], window=window, trend_threshold=0.05) == whole


def test_the_written_figures_are_the_bytes_the_registering_process_would_store(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(RICH_CSV, encoding="utf-8")
    ledger, _ = parse_ledger(path, settings=settings)
    output = tmp_path / "figures.json"
    write_figures(ledger[list(FIGURE_COLUMNS)], output, window=3, trend_threshold=0.05)
    customers, portfolio = compute_figures(ledger, window=3, trend_threshold=0.05)
    assert output.read_bytes() == figures_json(customers, portfolio)
    stored = orjson.loads(output.read_bytes())
    assert [c["alias"] for c in stored["customers"]] == [None, None]  # aliases are joined when read
    assert stored["portfolio"]["invoice_count"] == 5
