"""Every way a model can fail, over real HTTP, streamed and not: each ends in the offline answer with a note.

The local OpenAI-compatible server fails on cue (HTTP 429 and 500 after the retries, a hang, a reply that is not
valid JSON, an empty answer, a connection cut mid-answer, a stream that trickles past the deadline). Each case
must give the labelled offline answer led by one line saying what happened, within the answer's deadline, and an
audit row whose verdict is ``error`` with the same line.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.environment import TEST_SALT
from helpers.llm_server import Behaviour, LLMServer
from sqlalchemy import select

from finlib import cli, db
from finlib.chat.offline import OFFLINE_LABEL
from finlib.chat.pipeline import ChatSession, answer_question, build_chat_session
from finlib.config import Settings
from finlib.projects import Services, load_project, upload_project

DEADLINE_S = 4.0
# Thread start, LiteLLM's first import and a loaded 2-core machine: the answer may end a little after the deadline.
SLACK_S = 4.0
QUESTION = "When will Globex Trading pay next?"
LONG_ANSWER = "The next payment is expected soon, going by the facts given. " * 4

# (case, server behaviour, streamed?, what the note must say)
FAULTS: list[tuple[str, dict[str, Any], bool, str]] = [
    (case, behaviour, stream, note)
    for case, behaviour, note in [
        ("HTTP 429", {"fail_first": 99, "fail_status": 429}, r"could not answer \(HTTP 429\)\. The provider is rate"),
        ("HTTP 500", {"fail_first": 99, "fail_status": 500}, r"could not answer \(HTTP 500\)"),
        ("hang", {"delay_s": 30.0}, rf"did not finish its answer within {DEADLINE_S:g} s"),
        ("broken JSON", {"broken_json": True}, r"reply that is not valid JSON"),
        ("empty answer", {"empty": True}, r"returned an empty answer"),
        ("cut mid-answer", {"cut_after_chunks": 3}, r"was cut before its answer was complete"),
    ]
    for stream in (True, False)
] + [("trickle", {"chunk_delay_s": 0.5, "chunk_chars": 2}, True, rf"did not finish its answer within {DEADLINE_S:g}")]


@pytest.fixture
def fault_settings(make_settings: Callable[..., Settings], llm_server: LLMServer) -> Settings:
    return make_settings(
        LITE_LLM_MODEL="openai/test-model",
        LITE_LLM_API_BASE=llm_server.url,
        LITE_LLM_API_KEY="test-key",
        LITE_LLM_TIMEOUT="10",
        LITE_LLM_MAX_RETRIES="1",
        LITE_LLM_DEADLINE=f"{DEADLINE_S:g}",
    )


def _ledger() -> bytes:
    lines = ["Customer,Invoice Date,Amount,Payment Date"]
    for name in ("Globex Trading", "Initech Ltd"):
        lines += [f"{name},2026-0{m}-01,{1000 + 10 * m}.00,2026-0{m + 1}-12" for m in (1, 2, 3, 4)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def services(fault_settings: Settings) -> Services:
    services = Services(fault_settings)
    upload_project(services, "faults", "faults.csv", _ledger())
    return services


@pytest.fixture
def session(services: Services, llm_server: LLMServer) -> ChatSession:
    """The project's chat session, after one good answer (LiteLLM's lazy imports are not the model's time)."""
    loaded = load_project(services, "faults")
    session = build_chat_session("faults", loaded.ledger, loaded.aliases, services.settings)
    patient = dataclasses.replace(services.settings, llm_deadline_s=300.0)
    assert not answer_question(session, QUESTION, settings=patient, engine=None).finish().offline
    llm_server.requests.clear()
    return session


@pytest.mark.parametrize(
    ("case", "behaviour", "stream", "note"), FAULTS, ids=[f"{c[0]}-{'stream' if c[2] else 'whole'}" for c in FAULTS]
)
def test_every_model_failure_ends_in_the_offline_answer_with_a_note_and_an_error_verdict(
    case: str,
    behaviour: dict[str, Any],
    stream: bool,
    note: str,
    services: Services,
    session: ChatSession,
    llm_server: LLMServer,
) -> None:
    llm_server.behaviour = Behaviour(answer=LONG_ANSWER, **behaviour)
    started = time.monotonic()
    reply = answer_question(session, QUESTION, settings=services.settings, engine=services.engine, stream=stream)
    shown = "".join(reply)
    elapsed = time.monotonic() - started
    answer = reply.result

    assert llm_server.requests, "the model was asked"
    assert answer.offline and not answer.blocked
    assert answer.error is not None and re.search(note, answer.error), answer.error
    assert answer.error in shown and OFFLINE_LABEL in shown and "Globex Trading" in shown
    assert shown == answer.answer
    assert shown.index(answer.error) < shown.index(OFFLINE_LABEL)
    assert elapsed < DEADLINE_S + SLACK_S, elapsed
    with db.session_scope(services.engine) as s:
        row = s.scalars(select(db.AuditEntry).where(db.AuditEntry.id == answer.audit_id)).one()
        assert row.verdict == "error"
        assert answer.error in (row.detail or "") and "computed without the model" in (row.detail or "")
        assert OFFLINE_LABEL in (row.answer_aliased or "") and "Globex" not in (row.answer_aliased or "")


def test_a_stream_cut_mid_answer_keeps_what_arrived_before_the_note(
    services: Services, session: ChatSession, llm_server: LLMServer
) -> None:
    llm_server.behaviour = Behaviour(answer=LONG_ANSWER, cut_after_chunks=5, chunk_chars=4)
    answer = answer_question(session, QUESTION, settings=services.settings, engine=services.engine).finish()
    assert answer.answer.startswith(LONG_ANSWER[:12])
    assert answer.error and answer.answer.index(answer.error) > 0
    assert answer.sent, "the request reached the model: the audit shows the messages as sent"


def test_a_model_that_cannot_be_reached_is_audited_as_not_sent(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(
        LITE_LLM_MODEL="openai/test-model", LITE_LLM_API_BASE="http://127.0.0.1:9/v1", LITE_LLM_API_KEY="k",
        LITE_LLM_MAX_RETRIES="0",
    )  # fmt: skip
    services = Services(settings)
    upload_project(services, "faults", "faults.csv", _ledger())
    loaded = load_project(services, "faults")
    session = build_chat_session("faults", loaded.ledger, loaded.aliases, settings)
    answer = answer_question(session, QUESTION, settings=settings, engine=services.engine).finish()
    assert answer.offline and "cannot reach the model server" in (answer.error or "")
    assert answer.sent == [] and all(m.get("not_sent") for m in answer.messages)


def test_the_default_deadline_bounds_a_hanging_model_and_is_a_setting(make_settings: Callable[..., Settings]) -> None:
    assert make_settings().llm_deadline_s == 30.0
    assert make_settings(LITE_LLM_DEADLINE="12.5").llm_deadline_s == 12.5
    with pytest.raises(Exception, match="LITE_LLM_DEADLINE"):
        make_settings(LITE_LLM_DEADLINE="0")


@pytest.mark.parametrize("behaviour", [{"broken_json": True}, {"empty": True}], ids=["broken JSON", "empty stream"])
def test_the_cli_streams_the_note_and_the_offline_answer_instead_of_a_blank(
    behaviour: dict[str, Any],
    services: Services,
    llm_server: LLMServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    llm_server.behaviour = Behaviour(answer=LONG_ANSWER, **behaviour)
    settings = services.settings
    environ = {
        "FINLIB_HOME": str(settings.home), "ALIAS_SALT": TEST_SALT, "LITE_LLM_MODEL": settings.llm_model,
        "LITE_LLM_API_BASE": str(settings.llm_api_base), "LITE_LLM_API_KEY": "test-key",
        "LITE_LLM_MAX_RETRIES": "0", "LITE_LLM_DEADLINE": f"{DEADLINE_S:g}",
    }  # fmt: skip
    capsys.readouterr()
    assert cli.main(["ask", "faults", QUESTION], environ=environ) == 0
    out = capsys.readouterr().out
    assert "The model openai/test-model" in out and "without a language model" in out and "Globex Trading" in out
