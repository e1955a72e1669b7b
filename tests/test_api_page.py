"""The API page: a token created in the app is shown once, works for the API's check, and can be revoked."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.app import run_app, services

from finlib import tokens
from finlib.errors import AuthenticationError


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
