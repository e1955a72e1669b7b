"""Per-project keys: the alias salt of each salt version, and the data key that seals real-name audit details.

Salt version 0 is ``ALIAS_SALT`` (every project starts there, as before salt rotation existed); rotating gives
the project a random salt of its own. The data key seals (AES-256-GCM) what an audit row must not keep in
clear, the real names a user saw; destroying the key with ``erase`` makes every sealed copy unreadable.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from finlib.db import ProjectKey, utc_now
from finlib.errors import AliasError

SALT_BYTES = 32
DATA_KEY_BYTES = 32
NONCE_BYTES = 12
# Bound into every seal: a sealed detail cannot be replayed as another kind of secret.
SEAL_CONTEXT = b"finlib access detail v1"
UPSERT_DIALECTS = ("postgresql", "sqlite")


def new_salt() -> bytes:
    """A fresh random alias salt (hex text as bytes, like a generated ALIAS_SALT)."""
    return secrets.token_hex(SALT_BYTES).encode("ascii")


def project_key(session: Session, project_id: int) -> ProjectKey:
    """The project's key row, created (salt version 0, a new data key) the first time it is needed.

    Many sessions open a new project at once (each page view records an access): the row is inserted with
    ``ON CONFLICT DO NOTHING`` and read back, so the second writer reads the first one's key instead of failing
    on the primary key (20 browser sessions on a fresh server hit that).
    """
    row = session.get(ProjectKey, project_id)
    if row is not None:
        return row
    dialect = session.get_bind().dialect.name
    if dialect not in UPSERT_DIALECTS:
        row = ProjectKey(project_id=project_id, salt=None, data_key=os.urandom(DATA_KEY_BYTES))
        session.add(row)
        session.flush()
        return row
    values = {"project_id": project_id, "salt": None, "data_key": os.urandom(DATA_KEY_BYTES), "created_at": utc_now()}
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(ProjectKey).values(**values).on_conflict_do_nothing())
    created = session.get(ProjectKey, project_id, populate_existing=True)
    assert created is not None  # inserted now or by the concurrent writer, in either case committed or ours
    return created


def project_salt(session: Session, project_id: int, default_salt: bytes) -> bytes:
    """The salt new aliases of this project are derived with: its own after a rotation, else ``ALIAS_SALT``."""
    row = session.get(ProjectKey, project_id)
    return row.salt if row is not None and row.salt else default_salt


def set_salt(session: Session, project_id: int, salt: bytes) -> None:
    """Make ``salt`` the project's alias salt (inside the caller's rotation transaction)."""
    row = project_key(session, project_id)
    row.salt = salt
    row.rotated_at = utc_now()


def seal(data_key: bytes, detail: dict[str, Any]) -> bytes:
    """Encrypt and authenticate a JSON-able detail: nonce + ciphertext."""
    nonce = os.urandom(NONCE_BYTES)
    plain = json.dumps(detail, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return nonce + AESGCM(data_key).encrypt(nonce, plain, SEAL_CONTEXT)


def unseal(data_key: bytes, sealed: bytes) -> dict[str, Any]:
    """The detail ``seal`` encrypted.

    Raises:
        AliasError: the bytes were not sealed with this key, or were altered.
    """
    try:
        plain = AESGCM(data_key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], SEAL_CONTEXT)
    except (InvalidTag, ValueError) as exc:
        raise AliasError("A sealed audit detail cannot be opened with this project's key (altered or erased).") from exc
    detail = json.loads(plain.decode("utf-8"))
    if not isinstance(detail, dict):
        raise AliasError("A sealed audit detail is not a JSON object.")
    return detail
