"""API tokens: created once in clear, stored as digests, verified, revoked; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from finlib import tokens
from finlib.cli import main
from finlib.config import Settings
from finlib.errors import AuthenticationError, ProjectError
from finlib.projects import Services


@pytest.fixture
def services(make_settings: Callable[..., Settings], database_url: str) -> Services:
    return Services(make_settings(DATABASE_URL=database_url))


def test_a_created_token_verifies_as_its_user_and_only_its_digest_is_stored(services: Services) -> None:
    created = tokens.create_token(services, "  ana@example.com ", "nightly refresh")
    assert created.secret.startswith("fin_") and len(created.secret) > 40
    info = tokens.verify_token(services, created.secret)
    assert (info.user, info.label, info.active) == ("ana@example.com", "nightly refresh", True)
    assert info.last_used_at is not None
    with services.engine.connect() as connection:
        stored = [tuple(map(str, row)) for row in connection.execute(sa.text("SELECT * FROM api_tokens"))]
    assert stored and not any(created.secret in value for row in stored for value in row)
    assert any(tokens.token_digest(created.secret) in row for row in stored)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("fin_unknown", "unknown"),
        ("not-one-of-ours", "not one this server issued"),
        ("", "not one this server issued"),
    ],
)
def test_an_unknown_token_is_refused_with_what_to_do(services: Services, secret: str, message: str) -> None:
    with pytest.raises(AuthenticationError, match=message):
        tokens.verify_token(services, secret)


def test_a_revoked_token_is_refused_and_listed_as_revoked(services: Services) -> None:
    kept = tokens.create_token(services, "ana@example.com")
    gone = tokens.create_token(services, "bo@example.com")
    tokens.revoke_token(services, gone.info.prefix + "…")
    with pytest.raises(AuthenticationError, match="revoked"):
        tokens.verify_token(services, gone.secret)
    assert tokens.verify_token(services, kept.secret).user == "ana@example.com"
    listed = {info.user: info.active for info in tokens.list_tokens(services)}
    assert listed == {"ana@example.com": True, "bo@example.com": False}
    assert [info.user for info in tokens.list_tokens(services, "bo@example.com")] == ["bo@example.com"]


@pytest.mark.parametrize("user", ["", "   ", "a\nb", "x" * 321])
def test_a_token_needs_a_printable_user(services: Services, user: str) -> None:
    with pytest.raises(ProjectError, match="needs a user"):
        tokens.create_token(services, user)


def test_revoking_an_unknown_token_says_how_to_list_them(services: Services) -> None:
    with pytest.raises(ProjectError, match="token list"):
        tokens.revoke_token(services, "fin_nothing")


def test_the_cli_prints_the_secret_once_on_stdout_and_lists_without_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {"FINLIB_HOME": str(tmp_path / "home"), "ALIAS_SALT": "token-test-salt"}
    assert main(["token", "create", "ana@example.com", "--label", "bi tool"], environ=environ) == 0
    created = capsys.readouterr()
    secret = created.out.strip()
    assert secret.startswith("fin_") and "shown once" in created.err
    assert main(["token", "list"], environ=environ) == 0
    listing = capsys.readouterr().out
    assert "ana@example.com" in listing and "bi tool" in listing and secret not in listing
    assert main(["token", "revoke", secret[:12]], environ=environ) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["token", "list"], environ=environ) == 0
    assert "revoked" in capsys.readouterr().out
