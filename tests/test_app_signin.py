"""Sign-in in the dashboard (AppTest): required when configured, deny by default, viewers see aliases only."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers.app import APP, PAGES, TIMEOUT_S, page_strings, services
from streamlit.testing.v1 import AppTest

from finlib import access, db, projects
from finlib.access import LOCAL_USER

OIDC = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret",
    "client_id": "finlib",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration",
}
# Pages a viewer opens; Forecast is left out while its page fails on short ledgers for every user (on main).
VIEWER_PAGES = [page for page in PAGES if "forecast" not in page]


@pytest.fixture
def team(app_home: Path) -> projects.Services:
    """The demo project with a viewer and an analyst."""
    team = services()
    projects.ensure_demo_project(team)
    for principal, role in [("viv@example.com", "viewer"), ("ann@example.com", "analyst")]:
        access.add_member(team.engine, team.settings, LOCAL_USER, "demo", principal, role)
    return team


def signed_in_app(email: str | None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.secrets["auth"] = OIDC
    at.user = {"is_logged_in": False} if email is None else {"is_logged_in": True, "email": email}
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def real_names(team: projects.Services) -> list[str]:
    with db.session_scope(team.engine) as session:
        return list(session.scalars(sa.select(db.Alias.real_name)).all())


def test_without_sign_in_configured_the_sidebar_says_it_is_single_user_local_mode(team) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.run()
    assert any("Single-user local mode" in caption.value for caption in at.sidebar.caption)


def test_with_sign_in_configured_a_visitor_sees_only_the_sign_in_button(team) -> None:
    at = signed_in_app(None)
    assert not at.exception
    assert [button.label for button in at.button] == ["Sign in"]
    assert not at.selectbox and not at.metric
    assert not [name for name in real_names(team) if any(name in text for text in page_strings(at))]


def test_a_signed_in_user_without_membership_sees_nothing_but_a_message(team) -> None:
    at = signed_in_app("eve@example.com")
    assert not at.exception
    assert "no project is shared with you" in at.info[0].value
    assert not at.selectbox and not at.metric and not at.dataframe


@pytest.mark.parametrize("page", VIEWER_PAGES)
def test_a_viewer_never_sees_a_real_name_on_any_page(team, page) -> None:
    at = signed_in_app("viv@example.com", page)
    assert not at.exception, [e.value for e in at.exception]
    shown = "\n".join(page_strings(at)).lower()
    assert [name for name in real_names(team) if name.lower() in shown] == []
    assert at.toggle(key="sidebar_presentation_mode").value is True
    assert at.toggle(key="sidebar_presentation_mode").disabled


def test_an_analyst_sees_real_names_and_the_view_is_logged_with_the_user(team) -> None:
    at = signed_in_app("ann@example.com", "pages/customers.py")
    assert not at.exception, [e.value for e in at.exception]
    shown = "\n".join(page_strings(at))
    assert any(name in shown for name in real_names(team))
    (record, *_) = access.read_access_log(team.engine, team.settings, LOCAL_USER, "demo")
    assert (record.user_email, record.action) == ("ann@example.com", "view")
    assert record.detail == {"page": "Customers"}


def audit_users(team: projects.Services) -> list[str | None]:
    with db.session_scope(team.engine) as session:
        return list(session.scalars(sa.select(db.AuditEntry.user_email).order_by(db.AuditEntry.id)).all())


def test_an_analysts_chat_answer_is_audited_with_their_email(team) -> None:
    at = signed_in_app("ann@example.com", "pages/chat.py")
    at.chat_input(key="chat_input").set_value("What is the expected payment amount and date for ABC Company?").run()
    assert not at.exception, [e.value for e in at.exception]
    assert audit_users(team) == ["ann@example.com"]
    log = access.read_access_log(team.engine, team.settings, LOCAL_USER, "demo")
    assert ("ann@example.com", "chat") in [(record.user_email, record.action) for record in log]


def test_in_local_mode_views_and_chat_answers_with_names_are_audited_as_the_local_user(team) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page("pages/chat.py").run()
    at.chat_input(key="chat_input").set_value("What is the expected payment amount and date for ABC Company?").run()
    assert not at.exception, [e.value for e in at.exception]
    assert audit_users(team) == [LOCAL_USER.email]
    log = access.read_access_log(team.engine, team.settings, LOCAL_USER, "demo")
    assert {(record.user_email, record.action) for record in log} >= {("local", "view"), ("local", "chat")}
