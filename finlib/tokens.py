"""API tokens: personal bearer tokens for the HTTP API, kept in the database as SHA-256 digests only.

A token is shown once, when it is created (``python -m finlib token create USER``); afterwards only its
first characters identify it. Tokens carry 256 random bits, so one unsalted SHA-256 digest is enough to make
a stolen database useless for calling the API, and lookups by digest need no scan. Which projects a token's
user may read is decided by the API's access policy (sign-in memberships), not here.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from finlib import db
from finlib.errors import AuthenticationError, ProjectError
from finlib.projects import Services

log = logging.getLogger(__name__)

TOKEN_PREFIX = "fin_"
TOKEN_BYTES = 32
SHOWN_CHARS = 12
MAX_USER_CHARS = 320
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenInfo:
    """What is known about a token without its secret: whose it is, how it is recognised, its dates."""

    id: int
    user: str
    prefix: str
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: db.ApiToken) -> TokenInfo:
        """Build from a database row."""
        return cls(row.id, row.user, row.prefix, row.label, row.created_at, row.last_used_at, row.revoked_at)

    @property
    def active(self) -> bool:
        """True until the token is revoked."""
        return self.revoked_at is None


@dataclass(frozen=True)
class CreatedToken:
    """A new token: the secret (shown once) and its stored description."""

    secret: str
    info: TokenInfo


def token_digest(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _checked_user(user: str) -> str:
    user = (user or "").strip()
    if not user or len(user) > MAX_USER_CHARS or any(unicodedata.category(c) == "Cc" for c in user):
        raise ProjectError(f"A token needs a user (e-mail or name) of 1-{MAX_USER_CHARS} printable characters.")
    return user


def create_token(services: Services, user: str, label: str | None = None) -> CreatedToken:
    """Create a token for ``user``; the secret is in the result and nowhere else."""
    user = _checked_user(user)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with db.session_scope(services.engine) as session:
        row = db.ApiToken(user=user, digest=token_digest(secret), prefix=secret[:SHOWN_CHARS], label=label)
        session.add(row)
        session.flush()
        info = TokenInfo.from_row(row)
    log.info("created API token %s (id %d)", info.prefix, info.id)
    return CreatedToken(secret, info)


def verify_token(services: Services, secret: str) -> TokenInfo:
    """The active token with this secret, or AuthenticationError; notes when it was last used (per minute)."""
    if not secret.startswith(TOKEN_PREFIX):
        raise AuthenticationError("The API token is not one this server issued. Create one with `finlib token create`.")
    with db.session_scope(services.engine) as session:
        row = session.scalar(select(db.ApiToken).where(db.ApiToken.digest == token_digest(secret)))
        if row is None:
            raise AuthenticationError("The API token is unknown. Create one with `python -m finlib token create`.")
        if row.revoked_at is not None:
            raise AuthenticationError(f"The API token {row.prefix}… was revoked. Create a new one.")
        now = db.utc_now()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            row.last_used_at = now
        return TokenInfo.from_row(row)


def list_tokens(services: Services, user: str | None = None) -> list[TokenInfo]:
    """Every token (or one user's), oldest first, without secrets."""
    query = select(db.ApiToken).order_by(db.ApiToken.id)
    if user is not None:
        query = query.where(db.ApiToken.user == user.strip())
    with db.session_scope(services.engine) as session:
        return [TokenInfo.from_row(row) for row in session.scalars(query)]


def revoke_token(services: Services, prefix: str) -> TokenInfo:
    """Revoke the token whose shown prefix (or id) is ``prefix``; revoking twice keeps the first date."""
    wanted = prefix.strip().rstrip("…")
    with db.session_scope(services.engine) as session:
        query = select(db.ApiToken).where(db.ApiToken.prefix == wanted)
        if wanted.isdigit():
            query = select(db.ApiToken).where(db.ApiToken.id == int(wanted))
        row = session.scalar(query)
        if row is None:
            raise ProjectError(f"No API token {wanted!r}. List them with `python -m finlib token list`.")
        if row.revoked_at is None:
            row.revoked_at = db.utc_now()
        info = TokenInfo.from_row(row)
    log.info("revoked API token %s (id %d)", info.prefix, info.id)
    return info
