"""Aliasing: the alias format, HMAC aliases of real names, collision re-derivation, persistence, the AliasBook.

This module owns the alias format: an alias is a kind prefix (``PREFIXES``) and the Crockford base32 (upper case,
no I L O U) of HMAC-SHA256(salt, project + "\\0" + key [+ "\\0" + attempt]) cut to the alias length.
``ALIAS_PATTERN`` finds aliases in text and ``AliasLookup`` turns them back into names; both accept any letter
case and Crockford's look-alikes (O for 0, I and L for 1), so a model that changes an alias's case cannot break
de-aliasing.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType
from typing import cast

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from finlib.db import ALIAS_KINDS, Alias
from finlib.errors import AliasError
from finlib.names import normalise_name

CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIXES = {"customer": "CUST-", "person": "PERS-"}
MAX_CODE_CHARS = 40
# Regex text of any alias prefix ("CUST-" or "PERS-"), for patterns that must step over aliases.
PREFIX_PATTERN = "(?:" + "|".join(re.escape(prefix) for prefix in PREFIXES.values()) + ")"
# ASCII boundaries, not \b: an alias written against Japanese or Cyrillic text ("CUST-7K3M9Q2Xの") is still one.
ALIAS_PATTERN = re.compile(
    rf"(?<![0-9A-Za-z]){PREFIX_PATTERN}[0-9A-Z]{{2,{MAX_CODE_CHARS}}}(?![0-9A-Za-z])", re.IGNORECASE
)
MAX_ATTEMPTS = 10_000
ENTRY_COLUMNS = ["kind", "real_name", "key", "alias"]
# The ledger's alias columns: (alias column, the key column it is looked up by, kind of alias).
ALIAS_COLUMNS = (("customer_alias", "customer_key", "customer"), ("sales_manager_alias", "sales_manager_key", "person"))

_CROCKFORD_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# RFC 4648 base32 and Crockford's both take 5 bits at a time from the left; only the symbols differ.
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CROCKFORD_ALPHABET.encode("ascii"))


def encode_crockford(digest: bytes) -> str:
    """Crockford base32 of some bytes, upper case, without padding."""
    return base64.b32encode(digest).rstrip(b"=").translate(_TO_CROCKFORD).decode("ascii")


def _prefix(kind: str) -> str:
    try:
        return PREFIXES[kind]
    except KeyError:
        raise AliasError(f"Unknown alias kind {kind!r}; use one of {', '.join(ALIAS_KINDS)}.") from None


def _crockford_head(digest: bytes, length: int) -> str:
    """The first ``length`` symbols of ``encode_crockford(digest)``, without encoding the rest.

    base64.b32encode is pure Python (about 6 µs a digest); reading 5-bit groups off one integer is what it
    computes, for the few symbols an alias keeps.
    """
    bits = len(digest) * 8
    number = int.from_bytes(digest, "big")
    return "".join(CROCKFORD_ALPHABET[(number >> (bits - 5 * (i + 1))) & 31] for i in range(length))


def derive_alias(salt: bytes, project: str, key: str, length: int, kind: str, attempt: int = 0) -> str:
    """The alias of one normalised key; ``attempt`` > 0 re-derives after a collision."""
    message = project + "\0" + key + ("\0" + str(attempt) if attempt > 0 else "")
    digest = hmac.digest(salt, message.encode("utf-8"), "sha256")
    return _prefix(kind) + _crockford_head(digest, length)


class AliasLookup:
    """Alias → real name, whatever the alias's letter case, Crockford look-alikes accepted (the one such lookup)."""

    __slots__ = ("_names",)

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._names: Mapping[str, str] = MappingProxyType({alias.upper(): name for alias, name in pairs if alias})

    def __len__(self) -> int:
        return len(self._names)

    def real_for(self, alias: str) -> str | None:
        """The real name behind ``alias`` (any case, O read as 0 and I or L as 1), or None."""
        upper = alias.strip().upper()
        found = self._names.get(upper)
        if found is None:
            prefix, _, code = upper.partition("-")
            found = self._names.get(f"{prefix}-{code.translate(_CROCKFORD_LOOKALIKES)}")
        return found


def partial_alias_pattern() -> re.Pattern[str]:
    """Regex for a piece at the end of a text that may still grow into an alias (``CU``, ``pers-4h``)."""
    options = []
    for prefix in PREFIXES.values():
        tail = f"(?:-[0-9A-Z]{{0,{MAX_CODE_CHARS}}})?"
        for letter in reversed(prefix[1:-1]):
            tail = f"(?:{letter}{tail})?"
        options.append(prefix[0] + tail)
    return re.compile(rf"(?<![0-9A-Za-z])(?:{'|'.join(options)})$", re.IGNORECASE)


def alias_shaped(texts: Iterable[str]) -> set[str]:
    """Alias-shaped strings (upper case) inside ``texts``: real names that look like aliases must never be taken."""
    return {match.group().upper() for text in texts for match in ALIAS_PATTERN.finditer(text)}


def derive_aliases(
    keys: Iterable[str], *, salt: bytes, project: str, length: int, kind: str, taken: Iterable[str] = ()
) -> dict[str, str]:
    """Aliases of new keys, unique among themselves and against ``taken``.

    Keys are handled in sorted order and a colliding key tries attempt 1, 2, ... until its alias is free, so
    the result depends only on the keys, the salt and the aliases already taken.

    Raises:
        AliasError: the alias length leaves too few aliases for this many names.
    """
    prefix = _prefix(kind)
    used = {alias.upper() for alias in taken}
    new_keys = sorted(set(keys))
    capacity = len(CROCKFORD_ALPHABET) ** length
    if sum(alias.startswith(prefix) for alias in used) + len(new_keys) > capacity:
        raise AliasError(
            f"ALIAS_LENGTH={length} allows {capacity} aliases per kind, fewer than the names to alias; raise it."
        )
    heads = _first_aliases(new_keys, salt=salt, project=project, length=length, prefix=prefix)
    if len(set(heads)) == len(heads) and used.isdisjoint(heads):
        return dict(zip(new_keys, heads, strict=True))  # no collision (the usual case): nothing to re-derive
    result: dict[str, str] = {}
    for key, alias in zip(new_keys, heads, strict=True):
        attempt = 0
        while alias in used:
            attempt += 1
            if attempt > MAX_ATTEMPTS:
                raise AliasError(
                    f"Could not find a free alias for a name after {MAX_ATTEMPTS} tries; raise ALIAS_LENGTH."
                )
            alias = derive_alias(salt, project, key, length, kind, attempt)
        used.add(alias)
        result[key] = alias
    return result


def _first_aliases(keys: list[str], *, salt: bytes, project: str, length: int, prefix: str) -> list[str]:
    """``derive_alias`` (first attempt) of many keys: one HMAC call each, the base32 heads cut with NumPy at once.

    Equal to ``derive_alias`` key by key (a test compares them); ``_crockford_head`` costs ~5 µs a key in Python.
    """
    if not keys:
        return []
    head_bytes = (5 * length + 7) // 8
    start = (project + "\0").encode("utf-8")
    digests = b"".join([hmac.digest(salt, start + key.encode("utf-8"), "sha256")[:head_bytes] for key in keys])
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(len(keys), head_bytes), axis=1)
    groups = bits[:, : 5 * length].reshape(len(keys), length, 5)
    symbols = groups @ np.array([16, 8, 4, 2, 1], dtype=np.uint8)
    codes = np.frombuffer(CROCKFORD_ALPHABET.encode("ascii"), dtype=np.uint8)[symbols]
    heads = np.ascontiguousarray(codes).view(f"S{length}").ravel().tolist()
    return [prefix + head.decode("ascii") for head in heads]


def assign_aliases(
    session: Session,
    project_id: int,
    project_name: str,
    kind: str,
    names: pd.Series,
    *,
    salt: bytes,
    length: int,
) -> dict[str, str]:
    """Aliases of ``names`` (display names indexed by normalised key), reusing stored ones and storing new ones.

    One query loads the project's aliases, one bulk INSERT stores the new ones; existing rows get the current
    display spelling. Runs inside the caller's transaction.
    """
    _prefix(kind)
    wanted = names[names.index.notna()]
    wanted = wanted[~wanted.index.duplicated()]
    display = {str(key): str(name) for key, name in wanted.items()}
    # Only this kind's aliases: another kind's have another prefix, so they can never be taken by this one (the
    # people's query otherwise read back every customer alias just written: 0.1 s at 19,402 customers).
    rows = session.execute(
        sa.select(Alias.id, Alias.key, Alias.alias, Alias.real_name).where(
            Alias.project_id == project_id, Alias.kind == kind
        )
    ).all()
    existing = {row.key: row for row in rows}
    renamed = [
        {"id": existing[key].id, "real_name": name}
        for key, name in display.items()
        if key in existing and existing[key].real_name != name
    ]
    if renamed:
        session.execute(sa.update(Alias), renamed)
    new = derive_aliases(
        (key for key in display if key not in existing),
        salt=salt,
        project=project_name,
        length=length,
        kind=kind,
        # A real name spelled like an alias ("CUST-AAAAAAAA") is never handed out as someone's alias.
        taken=[*(row.alias for row in rows), *alias_shaped(display.values())],
    )
    if new:
        _insert_aliases(session, project_id, kind, {key: (display[key], alias) for key, alias in new.items()})
    return {key: existing[key].alias if key in existing else new[key] for key in display}


def _insert_aliases(session: Session, project_id: int, kind: str, rows: dict[str, tuple[str, str]]) -> None:
    """Store new aliases (key → (real name, alias)) in one statement."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql  # its dialect only where it runs (13 ms of a command's start)

        # Three arrays unnested server-side: one statement and one round trip for any number of names.
        text_array = postgresql.ARRAY(sa.Text)
        columns = (
            sa.func.unnest(
                sa.bindparam("real_names", [name for name, _ in rows.values()], type_=text_array),
                sa.bindparam("keys", list(rows), type_=text_array),
                sa.bindparam("aliases", [alias for _, alias in rows.values()], type_=text_array),
            )
            .table_valued("real_name", "key", "alias")
            .render_derived(name="new_aliases")
        )
        source = sa.select(
            sa.literal(project_id), sa.literal(kind), columns.c.real_name, columns.c.key, columns.c.alias
        )
        session.execute(sa.insert(Alias).from_select(["project_id", "kind", "real_name", "key", "alias"], source))
        return
    values = [
        {"project_id": project_id, "kind": kind, "real_name": name, "key": key, "alias": alias}
        for key, (name, alias) in rows.items()
    ]
    # SQLite: one executemany on the session's connection (its transaction). A Core insert of the table: the ORM's
    # bulk insert of the same rows took 2-3 times as long (0.22 s for 19,402 customers).
    session.connection().execute(sa.insert(cast(sa.Table, Alias.__table__)), values)


class AliasBook:
    """Immutable two-way lookup between a project's real names and their aliases."""

    __slots__ = ("_entries", "_by_key", "_lookup")
    _entries: pd.DataFrame
    _by_key: Mapping[tuple[str, str], str]
    _lookup: AliasLookup

    def __init__(self, entries: pd.DataFrame) -> None:
        missing = [column for column in ENTRY_COLUMNS if column not in entries.columns]
        if missing:
            raise AliasError(f"An alias table needs the columns {', '.join(missing)}.")
        frame = entries[ENTRY_COLUMNS].astype("str").sort_values(["kind", "alias"], kind="stable")
        frame = frame.reset_index(drop=True)
        object.__setattr__(self, "_entries", frame)
        # Python lists first: iterating an Arrow-backed column makes one call per value (0.07 s at 19,402 customers).
        kinds, keys, aliases = frame["kind"].tolist(), frame["key"].tolist(), frame["alias"].tolist()
        by_key = {(kind, key): alias for kind, key, alias in zip(kinds, keys, aliases, strict=True)}
        object.__setattr__(self, "_by_key", MappingProxyType(by_key))
        object.__setattr__(self, "_lookup", AliasLookup(zip(aliases, frame["real_name"].tolist(), strict=True)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("AliasBook is immutable")

    def __len__(self) -> int:
        return len(self._entries)

    def __reduce__(self) -> tuple[type[AliasBook], tuple[pd.DataFrame]]:
        return (AliasBook, (self._entries,))  # pickles (st.cache_data) without going through __setattr__

    def __repr__(self) -> str:
        return f"AliasBook({len(self)} aliases)"  # never the real names

    @classmethod
    def empty(cls) -> AliasBook:
        """A book with no aliases."""
        return cls(pd.DataFrame(columns=ENTRY_COLUMNS))

    @property
    def entries(self) -> pd.DataFrame:
        """A copy of the table: ``kind, real_name, key, alias``."""
        return self._entries.copy()

    def alias_for(self, name: str, kind: str = "customer") -> str | None:
        """The alias of a real name (any spelling with the same normalised key)."""
        return self._by_key.get((kind, normalise_name(name)))

    @property
    def lookup(self) -> AliasLookup:
        """The alias → real name lookup of this book."""
        return self._lookup

    def real_for(self, alias: str) -> str | None:
        """The real name behind an alias, whatever its letter case."""
        return self._lookup.real_for(alias)

    def real_names(self, kind: str | None = None) -> list[str]:
        """Every real name in the book (optionally of one kind), sorted."""
        frame = self._entries if kind is None else self._entries[self._entries["kind"] == kind]
        return sorted(set(frame["real_name"]))

    def aliases(self, kind: str | None = None) -> list[str]:
        """Every alias in the book (optionally of one kind), sorted."""
        frame = self._entries if kind is None else self._entries[self._entries["kind"] == kind]
        return sorted(frame["alias"])

    def alias_series(self, keys: pd.Series, kind: str = "customer") -> pd.Series:
        """Vectorised alias lookup of normalised keys (missing where a key has no alias)."""
        import pyarrow as pa  # loaded with pandas, whose text columns it holds
        import pyarrow.compute as pc

        if isinstance(keys.dtype, pd.CategoricalDtype):
            return self._alias_categorical(keys, kind)
        of_kind = self._entries[self._entries["kind"] == kind]
        # Each row's key is hashed into the book's keys and its alias taken by position, in Arrow: no Python string
        # per row (a factorize, then 1M Python strings encoded again took 0.12 CPU-s per column at 1M rows).
        text = pa.large_string()
        known = pa.array(of_kind["key"], type=text)
        positions = pc.index_in(pa.array(keys, type=text, from_pandas=True), value_set=known)
        found = pc.take(pa.array(of_kind["alias"], type=text), positions)  # null where a key has no alias
        return pd.Series(found, index=keys.index, dtype="str")

    def _alias_categorical(self, keys: pd.Series, kind: str) -> pd.Series:
        """``alias_series`` of categorical keys: looked up once per category, a categorical of sorted aliases."""
        per_category = self.alias_series(pd.Series(keys.cat.categories), kind).to_numpy(dtype=object)
        known = pd.notna(per_category)
        aliases = np.unique(per_category[known].astype(str))
        lookup = np.full(len(per_category) + 1, -1, dtype=np.int32)  # the last entry: a missing key's code, -1
        lookup[:-1][known] = np.searchsorted(aliases, per_category[known].astype(str))
        codes = lookup[keys.cat.codes.to_numpy()]
        categories = pd.Index(aliases, dtype="str")
        return pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories)), index=keys.index)

    def with_alias_columns(self, ledger: pd.DataFrame, wanted: Collection[str] | None = None) -> pd.DataFrame:
        """The ledger with ``customer_alias`` and ``sales_manager_alias`` beside their key columns (the ``wanted``)."""
        for alias, key, kind in ALIAS_COLUMNS:
            if key in ledger.columns and (wanted is None or alias in wanted):
                ledger = ledger.assign(**{alias: self.alias_series(ledger[key], kind)})
        return ledger


def load_alias_book(session: Session, project_id: int, kinds: Collection[str] | None = None) -> AliasBook:
    """The AliasBook of one project (only the aliases of ``kinds``, when given), in one query."""
    if kinds is not None and not kinds:
        return AliasBook.empty()
    query = sa.select(Alias.kind, Alias.real_name, Alias.key, Alias.alias).where(Alias.project_id == project_id)
    if kinds is not None:
        query = query.where(Alias.kind.in_(sorted(kinds)))
    rows = session.execute(query).all()
    return AliasBook(pd.DataFrame([tuple(row) for row in rows], columns=ENTRY_COLUMNS))


def alias_kinds(columns: Collection[str]) -> set[str]:
    """The kinds of alias the ledger columns ``columns`` show (``customer`` for ``customer_alias``, ...)."""
    return {kind for alias, _, kind in ALIAS_COLUMNS if alias in columns}
