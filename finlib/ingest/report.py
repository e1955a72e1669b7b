"""The ParseReport: what parsing a file found, kept with a project (no pandas, so listing projects stays light)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ParseReport:
    """What parsing found: format, header position, column mapping, row counts, rejected rows, warnings."""

    format: str
    sheet: str | None
    header_row: int
    mapping: dict[str, str]
    unmapped_columns: list[str]
    rows_read: int
    rows_loaded: int
    rejected_count: int
    rejected_examples: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Source column → the canonical column whose blank cells it fills row by row (e.g. Entity Legal Name).
    fallback_columns: dict[str, str] = field(default_factory=dict)
    # Unmapped source columns kept as categories (ledger column ``extra:<header>``): channel, dispute, segment.
    extra_columns: list[str] = field(default_factory=list)
    # Loaded rows with a payment date (None in reports written before it was counted) and of those, prepayments:
    # paid before the invoice date (loaded; 0 days to pay).
    payment_dates: int | None = None
    prepayments: int = 0
    # Warnings (also in ``warnings``) that change what the totals mean: repeated rows, part payments the ledger
    # does not read, several currencies added as one. Every analysis page shows them, not only the load report.
    figure_notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParseReport:
        """Inverse of ``to_dict``."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
