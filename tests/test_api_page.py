"""The API page: a token created in the app is shown once, works for the API's check, and can be revoked."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.app import run_app, services

from finlib import tokens
from finlib.errors import AuthenticationError
from ui import services as ui_services


def test_a_token_created_on_the_api_page_is_shown_once_and_can_be_revoked(app_home: Path) -> None:
    at = run_app("pages/api.py")
    assert not at.exception and "No tokens yet." in [caption.value for caption in at.caption]
    at.text_input(key="api_token_label").set_value("nightly refresh")
    at.button[0].click().run()  # the form's submit button
    shown = [block.value for block in at.code if block.value.startswith("fin_")]
    assert len(shown) == 1
    secret = shown[0]
    assert tokens.verify_token(services(), secret).user == "local"
    assert at.dataframe[0].value["For"].tolist() == ["nightly refresh"]

    at.run()
    assert not [block.value for block in at.code if block.value.startswith("fin_")]  # shown once only

    at.button(key="api_revoke").click().run()
    assert not at.exception
    with pytest.raises(AuthenticationError, match="revoked"):
        tokens.verify_token(services(), secret)
    assert at.dataframe[0].value["State"].str.startswith("revoked").all()


def test_the_api_page_says_when_the_dashboard_runs_without_the_api(
    app_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = run_app("pages/api.py")
    notes = [info.value for info in at.info if "without the API" in info.value]
    assert len(notes) == 1 and "python -m finlib serve" in notes[0]
    assert any("A token acts as you (**local**)" in caption.value for caption in at.caption)

    monkeypatch.setattr(ui_services, "_process", {"api_served": False})
    ui_services.mark_api_served()  # what server.py does
    at = run_app("pages/api.py")
    assert not [info.value for info in at.info if "without the API" in info.value]
