"""Aliasing: the HMAC alias format, collision re-derivation, bulk persistence and the AliasBook."""

from __future__ import annotations

import hashlib
import hmac
import pickle
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from finlib.db import Alias, Project, create_engine_for, init_db, session_scope
from finlib.errors import AliasError
from finlib.privacy.aliasing import (
    ALIAS_PATTERN,
    AliasBook,
    AliasLookup,
    alias_kinds,
    assign_aliases,
    derive_alias,
    derive_aliases,
    encode_crockford,
    load_alias_book,
)

SALT = b"test-salt-not-secret"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def reference_alias(salt: bytes, project: str, key: str, length: int, prefix: str, attempt: int = 0) -> str:
    """The documented formula, written out bit by bit."""
    message = project + "\0" + key + (f"\0{attempt}" if attempt else "")
    digest = hmac.new(salt, message.encode(), hashlib.sha256).digest()
    bits = "".join(f"{byte:08b}" for byte in digest)
    bits += "0" * (-len(bits) % 5)
    encoded = "".join(CROCKFORD[int(bits[i : i + 5], 2)] for i in range(0, len(bits), 5))
    return prefix + encoded[:length]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine over a fresh database with the tables created."""
    engine = create_engine_for(database_url)
    init_db(engine)
    yield engine
    engine.dispose()


def new_project(engine: Engine, name: str = "acme") -> int:
    with session_scope(engine) as session:
        project = Project(name=name, source="store://uploads/acme/ledger.xlsx")
        session.add(project)
        session.flush()
        return project.id


def names_of(*pairs: tuple[str, str]) -> pd.Series:
    """A Series of display names indexed by normalised key, as names.display_names returns it."""
    return pd.Series([name for _, name in pairs], index=[key for key, _ in pairs], name="name")


def assign(
    engine: Engine, project_id: int, names: pd.Series, kind: str = "customer", length: int = 8
) -> dict[str, str]:
    with session_scope(engine) as session:
        return assign_aliases(session, project_id, "acme", kind, names, salt=SALT, length=length)


def stored_aliases(engine: Engine, project_id: int) -> pd.DataFrame:
    with session_scope(engine) as session:
        return load_alias_book(session, project_id).entries


@pytest.mark.parametrize(
    ("key", "length", "kind", "prefix", "attempt"),
    [
        ("acme corp", 8, "customer", "CUST-", 0),
        ("acme corp", 8, "customer", "CUST-", 1),
        ("jane doe", 8, "person", "PERS-", 0),
        ("société générale", 12, "customer", "CUST-", 0),
        ("x", 2, "customer", "CUST-", 7),
        ("x", 40, "person", "PERS-", 0),
    ],
)
def test_derive_alias_follows_the_documented_formula(
    key: str, length: int, kind: str, prefix: str, attempt: int
) -> None:
    alias = derive_alias(SALT, "acme", key, length, kind, attempt)
    assert alias == reference_alias(SALT, "acme", key, length, prefix, attempt)
    assert len(alias) == len(prefix) + length


@pytest.mark.parametrize(("length", "count"), [(2, 3), (3, 10), (7, 500), (8, 500), (13, 500), (40, 500)])
def test_many_aliases_derived_at_once_follow_the_documented_formula_key_by_key(length: int, count: int) -> None:
    # Few keys for short aliases: a collision would (rightly) move a key to its next attempt.
    keys = ["acme corp", "", "müller gmbh", "東京商事", "x" * 300, *(f"customer {n:05d}" for n in range(count))]
    aliases = derive_aliases(keys, salt=SALT, project="acme", length=length, kind="person")
    assert aliases == {key: reference_alias(SALT, "acme", key, length, "PERS-") for key in keys}


def test_aliases_use_upper_case_crockford_without_i_l_o_u() -> None:
    body = "".join(derive_alias(SALT, "acme", f"customer {n}", 40, "customer")[5:] for n in range(200))
    assert set(body) <= set(CROCKFORD)
    assert not set(body) & set("ILOUilou")


def test_encode_crockford_of_known_bytes() -> None:
    assert encode_crockford(b"\x00\x00\x00\x00\x00") == "00000000"
    assert encode_crockford(b"\xff\xff\xff\xff\xff") == "ZZZZZZZZ"
    assert encode_crockford(b"\x08\x42\x10\x84\x21") == "11111111"


@pytest.mark.parametrize(
    "other",
    [
        {"salt": b"another-salt"},
        {"project": "globex"},
        {"key": "acme corporation"},
        {"attempt": 1},
    ],
)
def test_the_alias_changes_with_salt_project_key_and_attempt(other: dict[str, object]) -> None:
    arguments: dict[str, object] = {
        "salt": SALT,
        "project": "acme",
        "key": "acme corp",
        "length": 8,
        "kind": "customer",
    }
    base = derive_alias(**arguments)  # type: ignore[arg-type]
    assert derive_alias(**(arguments | other)) != base  # type: ignore[arg-type]
    assert derive_alias(**arguments) == base  # type: ignore[arg-type]


def test_an_unknown_kind_is_an_alias_error() -> None:
    with pytest.raises(AliasError, match="customer, person"):
        derive_alias(SALT, "acme", "x", 8, "supplier")


def test_the_alias_pattern_finds_aliases_whatever_their_case_and_script_around_them() -> None:
    text = "Compare cust-7k3m9q2x with PERS-4H8T0B1R, CUST-7K3M9Q2Xの, not XCUST-7K3M9Q2X or CUST-1."
    assert ALIAS_PATTERN.findall(text) == ["cust-7k3m9q2x", "PERS-4H8T0B1R", "CUST-7K3M9Q2X"]


def test_an_alias_book_and_its_lookup_read_aliases_in_any_case_with_crockford_look_alikes() -> None:
    frame = pd.DataFrame([{"kind": "customer", "real_name": "ABC Ltd", "key": "abc ltd", "alias": "CUST-0A1B2C3D"}])
    book = AliasBook(frame)
    assert [book.real_for(a) for a in ("CUST-0A1B2C3D", "cust-0a1b2c3d", "CUST-OAIB2C3D", "CUST-ZZZZZZZZ")] == [
        "ABC Ltd", "ABC Ltd", "ABC Ltd", None,
    ]  # fmt: skip
    assert book.lookup.real_for("cust-oa1b2c3d") == "ABC Ltd"
    assert AliasLookup().real_for("CUST-0A1B2C3D") is None


def test_derive_aliases_with_a_tiny_length_never_merges_two_names() -> None:
    keys = [f"customer {n}" for n in range(900)]
    aliases = derive_aliases(keys, salt=SALT, project="acme", length=2, kind="customer")
    assert set(aliases) == set(keys)
    assert len(set(aliases.values())) == 900


def test_derive_aliases_does_not_depend_on_the_order_of_the_keys() -> None:
    keys = [f"customer {n}" for n in range(300)]
    forward = derive_aliases(keys, salt=SALT, project="acme", length=2, kind="customer")
    backward = derive_aliases(reversed(keys), salt=SALT, project="acme", length=2, kind="customer")
    assert forward == backward


def test_a_collision_is_resolved_with_the_next_attempt_in_sorted_key_order() -> None:
    first = derive_alias(SALT, "acme", "b", 8, "customer")
    aliases = derive_aliases(["b", "a"], salt=SALT, project="acme", length=8, kind="customer", taken=[first.lower()])
    assert aliases["b"] == derive_alias(SALT, "acme", "b", 8, "customer", attempt=1)
    assert aliases["a"] == derive_alias(SALT, "acme", "a", 8, "customer")


def test_more_names_than_the_alias_length_allows_is_an_alias_error() -> None:
    keys = [f"customer {n}" for n in range(32**2 + 1)]
    with pytest.raises(AliasError, match="ALIAS_LENGTH"):
        derive_aliases(keys, salt=SALT, project="acme", length=2, kind="customer")


def test_assign_aliases_stores_one_row_per_name_with_its_display_spelling(engine: Engine) -> None:
    project_id = new_project(engine)
    aliases = assign(engine, project_id, names_of(("acme corp", "ACME Corp"), ("globex", "Globex")))

    assert aliases == {
        "acme corp": derive_alias(SALT, "acme", "acme corp", 8, "customer"),
        "globex": derive_alias(SALT, "acme", "globex", 8, "customer"),
    }
    stored = stored_aliases(engine, project_id).set_index("key")
    assert stored.loc["acme corp", "real_name"] == "ACME Corp"
    assert stored.loc["globex", "alias"] == aliases["globex"]


def test_assigning_again_keeps_the_aliases_and_updates_the_display_spelling(engine: Engine) -> None:
    project_id = new_project(engine)
    first = assign(engine, project_id, names_of(("acme corp", "ACME Corp"), ("globex", "Globex")))
    second = assign(engine, project_id, names_of(("acme corp", "Acme Corporation"), ("initech", "Initech")))

    assert second["acme corp"] == first["acme corp"]
    stored = stored_aliases(engine, project_id).set_index("key")
    assert len(stored) == 3
    assert stored.loc["acme corp", "real_name"] == "Acme Corporation"


def test_no_customer_gets_an_alias_that_is_another_customers_real_name(engine: Engine) -> None:
    project_id = new_project(engine)
    would_be = derive_alias(SALT, "acme", "acme corp", 8, "customer")
    aliases = assign(engine, project_id, names_of(("acme corp", "ACME Corp"), (would_be.lower(), would_be)))

    assert aliases["acme corp"] == derive_alias(SALT, "acme", "acme corp", 8, "customer", attempt=1)
    assert would_be not in aliases.values()


def test_customers_and_people_are_aliased_separately(engine: Engine) -> None:
    project_id = new_project(engine)
    customers = assign(engine, project_id, names_of(("jane doe", "Jane Doe")), kind="customer")
    people = assign(engine, project_id, names_of(("jane doe", "Jane Doe")), kind="person")
    assert customers["jane doe"].startswith("CUST-") and people["jane doe"].startswith("PERS-")
    assert sorted(stored_aliases(engine, project_id)["kind"]) == ["customer", "person"]


def test_forced_collisions_in_the_database_never_merge_two_customers(engine: Engine) -> None:
    project_id = new_project(engine)
    first = names_of(*[(f"customer {n}", f"Customer {n}") for n in range(0, 600, 2)])
    second = names_of(*[(f"customer {n}", f"Customer {n}") for n in range(1, 600, 2)])

    assign(engine, project_id, first, length=2)
    aliases = assign(engine, project_id, second, length=2)

    stored = stored_aliases(engine, project_id)
    assert len(stored) == 600
    assert stored["alias"].is_unique
    assert set(aliases.values()) <= set(stored["alias"])


def test_aliasing_twenty_thousand_names_takes_one_query_and_one_insert(engine: Engine) -> None:
    project_id = new_project(engine)
    names = names_of(*[(f"customer {n:05d}", f"Customer {n:05d}") for n in range(20_000)])
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        aliases = assign(engine, project_id, names)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    assert statements.count("SELECT") == 1
    assert statements.count("INSERT") == 1
    assert len(statements) <= 3  # plus a BEGIN where the driver sends one
    assert len(set(aliases.values())) == 20_000
    assert len(stored_aliases(engine, project_id)) == 20_000


def test_assign_aliases_gives_what_the_pure_derivation_gives(engine: Engine) -> None:
    project_id = new_project(engine)
    keys = [f"customer {n}" for n in range(200)]
    stored = assign(engine, project_id, names_of(*[(key, key.title()) for key in keys]), length=2)
    assert stored == derive_aliases(keys, salt=SALT, project="acme", length=2, kind="customer")


def test_a_failed_transaction_stores_no_aliases(engine: Engine) -> None:
    project_id = new_project(engine)
    with pytest.raises(RuntimeError):
        with session_scope(engine) as session:
            assign_aliases(session, project_id, "acme", "customer", names_of(("a", "A")), salt=SALT, length=8)
            raise RuntimeError("parsing failed later in the same registration")
    assert stored_aliases(engine, project_id).empty


@pytest.fixture
def book() -> AliasBook:
    return AliasBook(
        pd.DataFrame(
            {
                "kind": ["customer", "customer", "person"],
                "real_name": ["ACME Corp", "Globex", "Jane Doe"],
                "key": ["acme corp", "globex", "jane doe"],
                "alias": ["CUST-7K3M9Q2X", "CUST-AAAA0000", "PERS-4H8T0B1R"],
            }
        )
    )


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("ACME Corp", "customer", "CUST-7K3M9Q2X"),
        ("  acme   CORP ", "customer", "CUST-7K3M9Q2X"),
        ("Jane Doe", "person", "PERS-4H8T0B1R"),
        ("Jane Doe", "customer", None),
        ("Initech", "customer", None),
    ],
)
def test_alias_for_finds_any_spelling_of_a_name(book: AliasBook, name: str, kind: str, expected: str | None) -> None:
    assert book.alias_for(name, kind) == expected


@pytest.mark.parametrize(
    ("alias", "expected"),
    [("CUST-7K3M9Q2X", "ACME Corp"), ("cust-7k3m9q2x", "ACME Corp"), (" Pers-4h8t0b1r ", "Jane Doe"), ("CUST-X", None)],
)
def test_real_for_ignores_letter_case(book: AliasBook, alias: str, expected: str | None) -> None:
    assert book.real_for(alias) == expected


def test_the_book_lists_names_and_aliases(book: AliasBook) -> None:
    assert book.real_names() == ["ACME Corp", "Globex", "Jane Doe"]
    assert book.real_names("person") == ["Jane Doe"]
    assert book.aliases() == ["CUST-7K3M9Q2X", "CUST-AAAA0000", "PERS-4H8T0B1R"]
    assert book.aliases("customer") == ["CUST-7K3M9Q2X", "CUST-AAAA0000"]
    assert list(book.entries.columns) == ["kind", "real_name", "key", "alias"]
    assert len(book) == 3


def test_alias_series_maps_keys_of_a_frame(book: AliasBook) -> None:
    # "jane doe" has an alias as a person, not as a customer.
    keys = pd.Series(["globex", "acme corp", None, "initech", "jane doe", "globex"], index=[10, 11, 12, 13, 14, 15])
    aliases = book.alias_series(keys, "customer")
    assert aliases.index.tolist() == [10, 11, 12, 13, 14, 15] and aliases.dtype == "str"
    assert aliases.tolist()[:2] == ["CUST-AAAA0000", "CUST-7K3M9Q2X"] and aliases.iloc[5] == "CUST-AAAA0000"
    assert aliases.iloc[2:5].isna().all()
    assert book.alias_series(keys.astype("str"), "person").tolist()[4] == "PERS-4H8T0B1R"


def test_alias_series_of_categorical_keys_gives_the_same_aliases_as_a_categorical(book: AliasBook) -> None:
    keys = pd.Series(["globex", "acme corp", None, "initech", "jane doe", "globex"], index=[10, 11, 12, 13, 14, 15])
    aliases = book.alias_series(keys.astype("category"), "customer")
    assert isinstance(aliases.dtype, pd.CategoricalDtype)
    assert list(aliases.cat.categories) == ["CUST-7K3M9Q2X", "CUST-AAAA0000"]
    pd.testing.assert_series_equal(aliases.astype("str"), book.alias_series(keys, "customer"))


def test_the_book_cannot_be_changed_through_its_entries_or_attributes(book: AliasBook) -> None:
    entries = book.entries
    entries.loc[0, "real_name"] = "Changed"
    assert "Changed" not in book.real_names()
    with pytest.raises(AttributeError):
        book.anything = 1  # type: ignore[attr-defined]


def test_the_book_survives_pickling_and_hides_names_in_its_repr(book: AliasBook) -> None:
    copy = pickle.loads(pickle.dumps(book))
    assert copy.real_for("CUST-7K3M9Q2X") == "ACME Corp"
    assert "ACME" not in repr(book)


def test_an_empty_book_answers_none() -> None:
    empty = AliasBook.empty()
    assert empty.alias_for("ACME Corp") is None and empty.real_for("CUST-7K3M9Q2X") is None
    assert empty.real_names() == [] and empty.aliases() == []


def test_a_frame_without_the_alias_columns_is_an_alias_error() -> None:
    with pytest.raises(AliasError, match="alias"):
        AliasBook(pd.DataFrame({"kind": ["customer"], "real_name": ["A"], "key": ["a"]}))


def test_load_alias_book_reads_one_projects_aliases(engine: Engine) -> None:
    acme, globex = new_project(engine, "acme"), new_project(engine, "globex")
    assign(engine, acme, names_of(("acme corp", "ACME Corp")))
    assign(engine, acme, names_of(("jane doe", "Jane Doe")), kind="person")
    assign(engine, globex, names_of(("globex", "Globex")))

    with session_scope(engine) as session:
        book = load_alias_book(session, acme)

    assert book.real_names() == ["ACME Corp", "Jane Doe"]
    alias = book.alias_for("acme corp")
    assert alias is not None and book.real_for(alias.lower()) == "ACME Corp"
    with session_scope(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Alias)) == 3


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [(None, ["ACME Corp", "Jane Doe"]), ({"customer"}, ["ACME Corp"]), ({"person"}, ["Jane Doe"]), (set(), [])],
)
def test_load_alias_book_reads_only_the_kinds_asked_for(engine: Engine, kinds: set[str] | None, expected) -> None:
    acme = new_project(engine, "acme")
    assign(engine, acme, names_of(("acme corp", "ACME Corp")))
    assign(engine, acme, names_of(("jane doe", "Jane Doe")), kind="person")

    with session_scope(engine) as session:
        book = load_alias_book(session, acme, kinds)

    assert book.real_names() == expected


@pytest.mark.parametrize(
    ("columns", "kinds"),
    [
        (("customer_key", "amount"), set()),
        (("customer_alias",), {"customer"}),
        (("customer_alias", "sales_manager_alias", "customer_key"), {"customer", "person"}),
    ],
)
def test_alias_kinds_are_the_kinds_of_the_alias_columns_asked_for(columns, kinds: set[str]) -> None:
    assert alias_kinds(columns) == kinds


@pytest.mark.parametrize("length", [2, 8, 13, 26, 40])
def test_an_alias_is_the_head_of_the_full_encoding_at_every_allowed_length(length: int) -> None:
    import hmac

    digest = hmac.digest(b"salt", b"acme\0acme corp", "sha256")
    alias = derive_alias(b"salt", "acme", "acme corp", length, "customer")
    assert alias == "CUST-" + encode_crockford(digest)[:length]
