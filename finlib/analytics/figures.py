"""The figures `stats` shows, from a ledger to the JSON kept beside it, wherever they are computed.

Registration computes them in the parse child, after it has handed its frame over, while the registering
process writes the aliases (``sandbox.Followup``); when the child could not, the registering process computes
them itself. Both use ``compute_figures`` and ``figures_json``, so the stored bytes do not depend on where they
were computed. This module imports no database code: the child loads it in milliseconds. Nor does it import
pandas before its functions run: the registering process reads its constants to start the parse child, and
importing pandas first (~0.3 s) held the child's start back by as much.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from finlib.lazy import deferred

if TYPE_CHECKING:
    import pandas as pd

    from finlib.analytics import customer_stats, measures
else:
    customer_stats = deferred("finlib.analytics.customer_stats")
    measures = deferred("finlib.analytics.measures")

# The ledger columns the figures read (``compute_figures`` gives the same figures from only these).
FIGURE_COLUMNS = (
    "customer_name",
    "customer_key",
    "invoice_date",
    "invoice_number",
    "due_date",
    "payment_date",
    "amount",
)
FOLLOWUP_ENTRY = "finlib.analytics.figures:write_figures"


def compute_figures(
    ledger: pd.DataFrame, *, window: int, trend_threshold: float
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-customer records (``customer_stats.STATS_COLUMNS``) and the portfolio, as of the ledger's latest date."""
    as_of = measures.resolve_as_of(ledger)
    stats = customer_stats.compute_customer_stats(ledger, window=window, trend_threshold=trend_threshold, as_of=as_of)
    customers = customer_stats.customer_stats_records(stats)
    return customers, customer_stats.portfolio_json(measures.compute_portfolio(ledger, as_of=as_of))


def figures_json(customers: list[dict[str, Any]], portfolio: dict[str, Any]) -> bytes:
    """The stored form of figures: without aliases (they are joined when read, a salt rotation changes them)."""
    return orjson.dumps({"portfolio": portfolio, "customers": [{**record, "alias": None} for record in customers]})


def write_figures(ledger: pd.DataFrame, output: Path, *, window: int, trend_threshold: float) -> None:
    """The parse child's follow-up: the figures of the ledger it handed over, written as ``figures_json``."""
    customers, portfolio = compute_figures(ledger, window=window, trend_threshold=trend_threshold)
    output.write_bytes(figures_json(customers, portfolio))
