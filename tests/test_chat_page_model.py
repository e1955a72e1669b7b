"""The Chat page in AppTest with a model configured: the local OpenAI-compatible server answers over real HTTP.

What the server received is the evidence: no real name of the project in any request body, the alias instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from helpers.app import run_app, services
from helpers.llm_server import LLMServer
from streamlit.testing.v1 import AppTest

from finlib import projects
from finlib.analytics import customer_stats

CHAT = "pages/chat.py"
QUESTION = "What is the expected payment amount and date for ABC Company?"


@pytest.fixture
def model_app(app_home: Path, llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch) -> LLMServer:
    """The app's model is the local test server (LiteLLM's ``openai/`` provider with an api_base)."""
    monkeypatch.setenv("LITE_LLM_API_BASE", llm_server.url)
    monkeypatch.setenv("LITE_LLM_MODEL", "openai/test-model")
    monkeypatch.setenv("LITE_LLM_API_KEY", "test")
    monkeypatch.setenv("LITE_LLM_TIMEOUT", "10")
    monkeypatch.setenv("LITE_LLM_MAX_RETRIES", "1")
    st.cache_data.clear()
    st.cache_resource.clear()
    return llm_server


def ask(question: str) -> AppTest:
    at = run_app(CHAT)
    return at.chat_input(key="chat_input").set_value(question).run()


def answer_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.chat_message[-1].markdown)


def sent_texts(server: LLMServer) -> list[str]:
    """Each request body as text, with JSON escapes undone so that non-ASCII names are searchable."""
    return [json.dumps(json.loads(body), ensure_ascii=False) for body in server.bodies]


def test_a_question_reaches_the_model_as_aliases_and_its_answer_comes_back_with_real_names(
    model_app: LLMServer,
) -> None:
    run_app()
    book = projects.load_project(services(), "demo").aliases
    alias = book.alias_for("ABC Company")
    assert alias
    model_app.behaviour.answer = f"{alias} should pay its next invoice on time, going by the facts."

    at = ask(QUESTION)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    shown = answer_text(at)
    assert "ABC Company should pay its next invoice on time, going by the facts." in shown
    assert alias not in shown

    assert any(expander.label == "What the model saw" for expander in at.expander)
    seen = json.dumps(at.chat_message[-1].json[0].value, ensure_ascii=False)
    assert alias in seen and "ABC Company" not in seen

    bodies = sent_texts(model_app)
    assert len(bodies) == 1
    real_names = book.real_names()
    assert len(real_names) > 10
    leaked = [name for name in real_names for body in bodies if name.casefold() in body.casefold()]
    assert leaked == []
    assert alias in bodies[0]

    at.switch_page("pages/privacy.py").run()
    assert not at.exception and not at.error
    audit = next(frame.value for frame in at.dataframe if "Question (aliased)" in frame.value.columns)
    assert audit["Verdict"].tolist() == ["sent"]
    assert audit["Question (aliased)"].iloc[0] == QUESTION.replace("ABC Company", alias)


def test_a_model_failing_with_http_500_after_retries_falls_back_to_the_offline_answer_with_a_note(
    model_app: LLMServer,
) -> None:
    model_app.behaviour.fail_first = 100
    model_app.behaviour.fail_status = 500
    at = ask(QUESTION)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert len(model_app.bodies) == 2, "one call and one retry (LITE_LLM_MAX_RETRIES=1)"
    shown = answer_text(at)
    assert "could not answer (HTTP 500)" in shown
    assert "without a language model" in shown
    stats = customer_stats.compute_customer_stats(projects.load_project(services(), "demo").ledger)
    expected = stats.set_index("customer").loc["ABC Company"]
    assert f"{expected['predicted_next_amount']:,.2f}" in shown
    next_date = expected["predicted_next_payment_date"]
    assert f"{next_date.day} {next_date:%b %Y}" in shown, "the readable date the pages write"


@pytest.mark.parametrize(
    ("fault", "note"),
    [
        ({"broken_json": True}, "not valid JSON"),
        ({"empty": True}, "returned an empty answer"),
        ({"cut_after_chunks": 4}, "was cut before its answer was complete"),
    ],
    ids=["broken JSON", "empty stream", "stream cut mid-way"],
)
def test_a_streamed_answer_that_breaks_shows_a_note_and_the_offline_answer_not_a_blank(
    model_app: LLMServer, fault: dict[str, object], note: str
) -> None:
    for name, value in fault.items():
        setattr(model_app.behaviour, name, value)
    at = ask(QUESTION)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    shown = answer_text(at)
    assert note in shown and "without a language model" in shown
    assert "ABC Company" in shown
    at.switch_page("pages/privacy.py").run()
    audit = next(frame.value for frame in at.dataframe if "Question (aliased)" in frame.value.columns)
    assert audit["Verdict"].tolist() == ["error"]
