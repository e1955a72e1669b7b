"""Project records: what the app and the CLI show about a registered project, and a project loaded for use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from finlib import db
from finlib.currency import Currency, currency_json, parse_currency
from finlib.errors import CurrencyError
from finlib.ingest.report import ParseReport

# Annotations only: listing projects must not import pandas or the alias module.
if TYPE_CHECKING:
    import pandas as pd

    from finlib.privacy import aliasing


@dataclass(frozen=True)
class ProjectInfo:
    """What the app and the CLI show about a registered project."""

    name: str
    source: str
    format: str
    etag: str
    size_bytes: int
    registered_at: datetime
    updated_at: datetime
    refreshed_at: datetime | None
    row_count: int
    rejected_count: int
    customer_count: int
    column_mapping: dict[str, str] | None
    report: ParseReport
    status: str | None = None
    last_error: str | None = None
    currency: Currency | None = None

    @classmethod
    def from_row(cls, row: db.Project) -> ProjectInfo:
        """Build from a database row."""
        return cls(
            name=row.name,
            source=row.source,
            format=row.format or "",
            etag=row.etag or "",
            size_bytes=row.size_bytes or 0,
            registered_at=row.registered_at,
            updated_at=row.updated_at,
            refreshed_at=getattr(row, "refreshed_at", None),
            row_count=row.row_count or 0,
            rejected_count=row.rejected_count or 0,
            customer_count=row.customer_count or 0,
            column_mapping=dict(row.column_mapping) if row.column_mapping else None,
            report=ParseReport.from_dict(row.parse_report or {}),
            status=row.status,
            last_error=row.last_error,
            currency=_currency(getattr(row, "currency_code", None), getattr(row, "currency_symbol", None)),
        )

    @property
    def version(self) -> str:
        """Changes whenever what ``load_project`` returns can change: a new file (ETag) or a re-read (mapping)."""
        return f"{self.etag}@{self.updated_at.isoformat()}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (the `projects --json` entries)."""
        return {
            "name": self.name,
            "source": self.source,
            "format": self.format,
            "etag": self.etag,
            "size_bytes": self.size_bytes,
            "registered_at": self.registered_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "rows": self.row_count,
            "rejected_rows": self.rejected_count,
            "customers": self.customer_count,
            "column_mapping": self.column_mapping,
            "warnings": list(self.report.warnings),
            "status": self.status,
            "last_error": self.last_error,
            "currency": currency_json(self.currency),
        }


def _currency(code: str | None, symbol: str | None) -> Currency | None:
    """The stored currency of a project (None when none is stated or the stored one no longer reads)."""
    if not code:
        return None
    try:
        return parse_currency(code, symbol)
    except CurrencyError:
        return None


@dataclass(frozen=True)
class LoadedProject:
    """A project's parsed ledger with alias columns, its alias book and its parse report."""

    info: ProjectInfo
    ledger: pd.DataFrame = field(repr=False)
    aliases: aliasing.AliasBook = field(repr=False)
    report: ParseReport

    @property
    def has_payment_dates(self) -> bool:
        """Whether any invoice has a payment date: without one (Xero, QuickBooks Online invoice exports) there are
        no days to pay, on-time share or payment forecasts, and every invoice counts as open."""
        return bool(self.ledger["payment_date"].notna().any())
