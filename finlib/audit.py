"""The chat audit log as a table: what was sent (or refused) to a model, newest first, aliased text only."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select

from finlib import db

AUDIT_FIELDS = (
    "id", "created_at", "verdict", "model", "question_aliased", "prompt_tokens", "completion_tokens", "cost_usd",
    "latency_ms", "detail", "messages",
)  # fmt: skip
AUDIT_ROWS = 200


def list_audit_entries(engine: Engine, project: str, limit: int = AUDIT_ROWS) -> pd.DataFrame:
    """The newest ``limit`` audit entries of a project, one row each (``AUDIT_FIELDS``); ``created_at`` naive UTC."""
    with db.session_scope(engine) as session:
        project_id = session.scalar(select(db.Project.id).where(db.Project.name == project))
        rows = session.scalars(
            select(db.AuditEntry)
            .where(db.AuditEntry.project_id == project_id)
            .order_by(db.AuditEntry.created_at.desc())
            .limit(limit)
        ).all()
        records = [tuple(getattr(row, field) for field in AUDIT_FIELDS) for row in rows]
    frame = pd.DataFrame.from_records(records, columns=list(AUDIT_FIELDS))
    if not frame.empty:
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True).dt.tz_localize(None)
    return frame
