"""Per-project access on the service layer: deny by default, viewer < analyst < admin, the access log, `members`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.ledgers import LEDGER_CSV

from finlib import access, projects
from finlib.access import LOCAL_USER, User
from finlib.cli import main
from finlib.config import Settings
from finlib.errors import AccessDeniedError, ProjectError
from finlib.lifecycle import erase_project, rotate_salt

REAL_NAMES = ["ACME Corp", "Beta LLC", "Jane Doe", "Omar Khan"]
VIEWER = User.signed_in("Ana@Example.com")
ANALYST = User.signed_in("bob@example.com")
ADMIN = User.signed_in("cat@example.com")
FINANCE = User.signed_in("dan@example.com", groups=["Finance"])
STRANGER = User.signed_in("eve@example.com")
BOSS = User.signed_in("boss@example.com")


@pytest.fixture
def services(make_settings: Callable[..., Settings], database_url: str, tmp_path: Path) -> projects.Services:
    services = projects.Services(make_settings(DATABASE_URL=database_url, FINLIB_ADMINS="Boss@example.com"))
    path = tmp_path / "march.csv"
    path.write_text(LEDGER_CSV, encoding="utf-8")
    projects.register_project(services, "acme", str(path), allow_local_paths=True)
    for principal, role in [
        ("ana@example.com", "viewer"),
        ("bob@example.com", "analyst"),
        ("cat@example.com", "admin"),
        ("group:finance", "analyst"),
    ]:
        access.add_member(services.engine, services.settings, LOCAL_USER, "acme", principal, role)
    return services


def act(services: projects.Services, user: User, action: str) -> object:
    actions: dict[str, Callable[[], object]] = {
        "list": lambda: [p.name for p in projects.list_projects(services, user=user)],
        "get": lambda: projects.get_project(services, "acme", user=user),
        "load": lambda: projects.load_project(services, "acme", user=user),
        "refresh": lambda: projects.refresh_project(services, "acme", user=user),
        "members": lambda: access.list_members(services.engine, services.settings, user, "acme"),
        "rotate": lambda: rotate_salt(services, "acme", user=user),
        "delete": lambda: projects.delete_project(services, "acme", user=user),
        "create": lambda: projects.upload_project(services, "new", "a.csv", LEDGER_CSV.encode(), user=user),
    }
    return actions[action]()


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [
        ("viewer", ["get", "load"], ["refresh", "members", "rotate", "delete", "create"]),
        ("analyst", ["get", "load"], ["refresh", "members", "rotate", "delete", "create"]),
        ("admin", ["get", "load", "refresh", "members", "rotate", "delete"], ["create"]),
        ("stranger", [], ["get", "load", "refresh", "members", "rotate", "delete", "create"]),
        ("boss", ["get", "load", "refresh", "members", "rotate", "create", "delete"], []),
    ],
)
def test_each_role_may_do_what_it_allows_and_is_refused_the_rest(services, who, allowed, refused) -> None:
    user = {"viewer": VIEWER, "analyst": ANALYST, "admin": ADMIN, "stranger": STRANGER, "boss": BOSS}[who]
    for action in refused:
        with pytest.raises(AccessDeniedError):
            act(services, user, action)
    for action in allowed:
        act(services, user, action)


def test_a_user_without_membership_sees_no_project_and_cannot_tell_which_exist(services) -> None:
    assert projects.list_projects(services, user=STRANGER) == []
    with pytest.raises(AccessDeniedError) as existing:
        projects.get_project(services, "acme", user=STRANGER)
    with pytest.raises(AccessDeniedError) as missing:
        projects.get_project(services, "nope", user=STRANGER)
    assert str(existing.value).replace("acme", "X") == str(missing.value).replace("nope", "X")


def test_members_see_exactly_their_projects_and_global_admins_all(services) -> None:
    projects.upload_project(services, "other", "b.csv", LEDGER_CSV.encode(), user=BOSS)
    assert [p.name for p in projects.list_projects(services, user=VIEWER)] == ["acme"]
    assert [p.name for p in projects.list_projects(services, user=BOSS)] == ["acme", "other"]
    assert [p.name for p in projects.list_projects(services)] == ["acme", "other"]


def test_a_viewer_loads_aliases_only_and_cannot_de_alias(services) -> None:
    loaded = projects.load_project(services, "acme", user=VIEWER)
    text = loaded.ledger.to_csv() + loaded.aliases.entries.to_csv() + repr(loaded.report) + repr(loaded.info)
    assert [name for name in REAL_NAMES if name.lower() in text.lower()] == []
    alias = loaded.ledger["customer_alias"].iloc[0]
    assert loaded.aliases.real_for(alias) == alias
    assert set(loaded.ledger["customer_name"]) == set(loaded.ledger["customer_alias"])


def test_an_analyst_loads_real_names(services) -> None:
    loaded = projects.load_project(services, "acme", user=ANALYST)
    assert set(loaded.ledger["customer_name"]) == {"ACME Corp", "Beta LLC"}
    assert loaded.aliases.real_for(loaded.ledger["customer_alias"].iloc[0]) in {"ACME Corp", "Beta LLC"}


def test_a_group_membership_counts_and_the_highest_role_wins(services) -> None:
    assert access.role_in(services.engine, services.settings, FINANCE, "acme") == "analyst"
    access.add_member(services.engine, services.settings, ADMIN, "acme", "dan@example.com", "viewer")
    assert access.role_in(services.engine, services.settings, FINANCE, "acme") == "analyst"
    access.add_member(services.engine, services.settings, ADMIN, "acme", "group:finance", "viewer")
    assert access.role_in(services.engine, services.settings, FINANCE, "acme") == "viewer"


def test_the_last_admin_cannot_remove_themselves_but_the_operator_can(services) -> None:
    with pytest.raises(ProjectError, match="last admin"):
        access.remove_member(services.engine, services.settings, ADMIN, "acme", "cat@example.com")
    assert access.remove_member(services.engine, services.settings, LOCAL_USER, "acme", "cat@example.com")
    assert access.role_in(services.engine, services.settings, ADMIN, "acme") is None


@pytest.mark.parametrize(
    ("principal", "role", "message"),
    [
        ("not an email", "viewer", "neither an e-mail address nor group:NAME"),
        ("ana@example.com", "owner", "is not a role"),
        ("group:", "viewer", "neither"),
    ],
)
def test_a_bad_principal_or_role_is_refused_with_what_to_write(services, principal, role, message) -> None:
    with pytest.raises(ProjectError, match=message):
        access.add_member(services.engine, services.settings, LOCAL_USER, "acme", principal, role)


def test_access_events_keep_the_user_and_seal_the_names_for_admins(services) -> None:
    event = access.record_access(
        services.engine, ANALYST, "acme", "export", "customers.csv, 2 rows", {"customers": ["ACME Corp"]}
    )
    assert event is not None
    with pytest.raises(AccessDeniedError):
        access.read_access_log(services.engine, services.settings, ANALYST, "acme")
    (record,) = access.read_access_log(services.engine, services.settings, ADMIN, "acme")
    assert (record.user_email, record.action, record.summary) == ("bob@example.com", "export", "customers.csv, 2 rows")
    assert record.detail == {"customers": ["ACME Corp"]}


def test_after_erase_by_an_admin_the_user_stays_in_the_log_and_nothing_else(services) -> None:
    access.record_access(services.engine, ANALYST, "acme", "view", "Customers page", {"customer": "ACME Corp"})
    with pytest.raises(AccessDeniedError):
        erase_project(services, "acme", user=ANALYST)
    report = erase_project(services, "acme", user=ADMIN)
    assert (report.memberships, report.access_events_shredded) == (4, 1)


def test_cli_members_adds_lists_and_removes(tmp_path: Path, capsys) -> None:
    environ = {"FINLIB_HOME": str(tmp_path / "home"), "ALIAS_SALT": "cli-salt"}
    path = tmp_path / "march.csv"
    path.write_text(LEDGER_CSV, encoding="utf-8")
    assert main(["upload", "acme", str(path)], environ=environ) == 0
    assert main(["members", "acme", "add", "Ana@Example.com", "viewer"], environ=environ) == 0
    assert main(["members", "acme", "add", "group:finance", "analyst"], environ=environ) == 0
    capsys.readouterr()
    assert main(["members", "acme"], environ=environ) == 0
    assert capsys.readouterr().out.splitlines() == ["ana@example.com\tviewer", "group:finance\tanalyst"]
    assert main(["members", "acme", "remove", "ana@example.com"], environ=environ) == 0
    assert "removed" in capsys.readouterr().out
    assert main(["members", "acme", "add", "ana@example.com"], environ=environ) == 1
    assert "Usage: members PROJECT add EMAIL" in capsys.readouterr().err
    assert main(["members", "nope"], environ=environ) == 1
    assert "no project named 'nope'" in capsys.readouterr().err


def test_many_sessions_recording_their_first_view_of_a_new_project_at_once_all_succeed_with_one_key(
    services: projects.Services,
) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from finlib import db
    from finlib.privacy import keys

    with db.session_scope(services.engine) as session:
        assert session.scalar(select(func.count()).select_from(db.ProjectKey)) == 0  # registration made none
    start = threading.Barrier(12)

    def first_view(number: int) -> int | None:
        start.wait()
        return access.record_access(services.engine, ANALYST, "acme", "view", f"page {number}", {"n": number})

    with ThreadPoolExecutor(max_workers=12) as pool:
        ids = list(pool.map(first_view, range(12)))
    assert None not in ids and len(set(ids)) == 12
    with db.session_scope(services.engine) as session:
        (key,) = session.scalars(select(db.ProjectKey)).all()
        sealed = session.scalars(select(db.AccessEvent.sealed)).all()
        assert sorted(keys.unseal(key.data_key, blob)["n"] for blob in sealed) == list(range(12))
    services.engine.dispose()
