"""The database schema as the version before team use (salt versions, keys, memberships, access log) created it."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), unique=True, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("format", sa.String(16)),
    sa.Column("etag", sa.String(200)),
    sa.Column("size_bytes", sa.BigInteger),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("refreshed_at", sa.DateTime(timezone=True)),
    sa.Column("column_mapping", sa.JSON),
    sa.Column("detected_mapping", sa.JSON),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("rejected_count", sa.Integer, nullable=False),
    sa.Column("customer_count", sa.Integer, nullable=False),
    sa.Column("parse_report", sa.JSON),
    sa.Column("status", sa.Text),
    sa.Column("last_error", sa.Text),
)

aliases = sa.Table(
    "aliases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("real_name", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("alias", sa.String(64), nullable=False),
    sa.UniqueConstraint("project_id", "alias", name="uq_aliases_project_alias"),
    sa.UniqueConstraint("project_id", "kind", "key", name="uq_aliases_project_kind_key"),
)

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("question_aliased", sa.Text, nullable=False),
    sa.Column("messages", sa.JSON, nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("prompt_tokens", sa.Integer),
    sa.Column("completion_tokens", sa.Integer),
    sa.Column("cost_usd", sa.Float),
    sa.Column("latency_ms", sa.Integer),
    sa.Column("verdict", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text),
    sa.Column("answer_aliased", sa.Text),
)
