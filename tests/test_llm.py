"""The one LiteLLM call, over real HTTP to the OpenAI-compatible test server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.llm_server import LLMServer

from finlib.chat.llm import send_to_llm
from finlib.config import Settings
from finlib.errors import LLMUnavailableError, PrivacyBlockedError
from finlib.privacy.scanner import NameEntry, NameScanner

ROOT = Path(__file__).resolve().parents[1]
GUARD = NameScanner([NameEntry("customer", "Müller & Söhne GmbH", "müller & söhne gmbh", "CUST-7K3M9Q2X")])
MESSAGES = [
    {"role": "system", "content": "Answer from the facts only."},
    {"role": "user", "content": "When will CUST-7K3M9Q2X pay?"},
]


def ask(settings: Settings, *, stream: bool) -> tuple[list[str], object]:
    call = send_to_llm(MESSAGES, settings=settings, names_guard=GUARD, stream=stream, retry_backoff_s=0.01)
    return list(call), call.result


@pytest.mark.parametrize("stream", [False, True])
def test_the_answer_arrives_as_text_chunks_with_usage(
    llm_server: LLMServer, llm_settings: Settings, stream: bool
) -> None:
    llm_server.behaviour.answer = "CUST-7K3M9Q2X pays on 2026-03-05."
    chunks, result = ask(llm_settings, stream=stream)
    assert all(isinstance(c, str) for c in chunks)
    assert "".join(chunks) == result.text == "CUST-7K3M9Q2X pays on 2026-03-05."  # type: ignore[attr-defined]
    assert len(chunks) == (len(result.text) + 2) // 3 if stream else len(chunks) == 1  # type: ignore[attr-defined]
    assert (result.prompt_tokens, result.completion_tokens) == (11, 7)  # type: ignore[attr-defined]
    assert result.latency_s is not None and result.attempts == 1  # type: ignore[attr-defined]
    (request,) = llm_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers.get("authorization") == "Bearer test-key"
    body = request.json
    assert (body["model"], body["messages"], body.get("stream", False)) == ("test-model", MESSAGES, stream)


def test_the_server_can_echo_what_it_received(llm_server: LLMServer, llm_settings: Settings) -> None:
    llm_server.behaviour.echo = True
    chunks, _ = ask(llm_settings, stream=True)
    assert "".join(chunks) == "When will CUST-7K3M9Q2X pay?"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retried_until_an_answer_comes(
    llm_server: LLMServer, llm_settings: Settings, status: int
) -> None:
    llm_server.behaviour.fail_first, llm_server.behaviour.fail_status = 2, status
    chunks, result = ask(llm_settings, stream=True)
    assert "".join(chunks) == "Hello from the test model."
    assert result.attempts == 3 and len(llm_server.requests) == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(("status", "advice"), [(500, "Ask again later"), (429, "rate limiting")])
def test_errors_that_outlast_the_retries_become_llm_unavailable(
    llm_server: LLMServer, llm_settings: Settings, status: int, advice: str
) -> None:
    llm_server.behaviour.fail_first, llm_server.behaviour.fail_status = 99, status
    with pytest.raises(LLMUnavailableError, match=advice) as caught:
        ask(llm_settings, stream=False)
    assert f"HTTP {status}" in str(caught.value)
    assert len(llm_server.requests) == llm_settings.llm_max_retries + 1


def test_an_unreachable_api_base_says_so_instead_of_http_500(make_settings: Callable[..., Settings]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    api_base = f"http://127.0.0.1:{closed_port}/v1"
    settings = make_settings(
        LITE_LLM_MODEL="openai/test-model", LITE_LLM_API_BASE=api_base, LITE_LLM_API_KEY="k", LITE_LLM_MAX_RETRIES="0"
    )
    with pytest.raises(LLMUnavailableError) as caught:
        ask(settings, stream=False)
    message = str(caught.value)
    assert f"cannot reach the model server at {api_base}" in message and "LITE_LLM_API_BASE" in message
    assert "HTTP 500" not in message


def test_a_client_error_is_not_retried(llm_server: LLMServer, llm_settings: Settings) -> None:
    llm_server.behaviour.fail_first, llm_server.behaviour.fail_status = 99, 401
    with pytest.raises(LLMUnavailableError, match="LITE_LLM_API_KEY"):
        ask(llm_settings, stream=False)
    assert len(llm_server.requests) == 1


@pytest.mark.parametrize("stream", [False, True])
def test_a_server_that_hangs_beyond_the_timeout_becomes_llm_unavailable(
    llm_server: LLMServer, make_settings: Callable[..., Settings], stream: bool
) -> None:
    settings = make_settings(
        LITE_LLM_MODEL="openai/test-model",
        LITE_LLM_API_BASE=llm_server.url,
        LITE_LLM_API_KEY="test-key",
        LITE_LLM_TIMEOUT="0.5",
        LITE_LLM_MAX_RETRIES="1",
    )
    llm_server.behaviour.delay_s = 30
    with pytest.raises(LLMUnavailableError, match="No answer within 0.5 s"):
        ask(settings, stream=stream)
    assert len(llm_server.requests) == 2


def test_a_payload_with_a_real_name_is_refused_and_nothing_is_sent(
    llm_server: LLMServer, llm_settings: Settings
) -> None:
    messages = [*MESSAGES, {"role": "user", "content": "and müller & söhne?"}]
    with pytest.raises(PrivacyBlockedError):
        send_to_llm(messages, settings=llm_settings, names_guard=GUARD, stream=False)
    assert llm_server.requests == []


def test_an_injected_completion_callable_receives_the_explicit_arguments(llm_settings: Settings) -> None:
    seen: dict[str, object] = {}

    def completion(**arguments: object) -> dict[str, object]:
        seen.update(arguments)
        return {"choices": [{"message": {"content": "ok"}}], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}

    call = send_to_llm(MESSAGES, settings=llm_settings, names_guard=GUARD, stream=False, completion=completion)
    assert call.finish().text == "ok"
    assert seen["timeout"] == 5.0 and seen["max_retries"] == 0 and seen["api_base"] == llm_settings.llm_api_base


NO_NETWORK_SCRIPT = r"""
import json, socket, sys
attempts = []
real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo
def connect(self, address):
    attempts.append(["connect", str(address[0]), address[1] if len(address) > 1 else None])
    return real_connect(self, address)
def getaddrinfo(host, port, *args, **kwargs):
    attempts.append(["resolve", str(host), port])
    return real_getaddrinfo(host, port, *args, **kwargs)
socket.socket.connect, socket.getaddrinfo = connect, getaddrinfo
from finlib.config import load_settings
from finlib.chat.llm import send_to_llm
from finlib.privacy.scanner import NameScanner
settings = load_settings({"LITE_LLM_MODEL": "openai/test-model", "LITE_LLM_API_BASE": sys.argv[1],
    "LITE_LLM_API_KEY": "k", "ALIAS_SALT": "s", "FINLIB_HOME": sys.argv[2]}, dotenv_path=None)
for stream in (False, True):
    call = send_to_llm([{"role": "user", "content": "hi"}], settings=settings, names_guard=NameScanner([]),
                       stream=stream)
    assert "".join(call) == "Hello from the test model."
print(json.dumps(attempts))
"""


def test_litellm_makes_no_network_connection_other_than_to_the_model(llm_server: LLMServer, tmp_path: Path) -> None:
    # A fresh interpreter, without the offline switches conftest sets, so send_to_llm must set them itself.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_")}
    env["PYTHONPATH"] = str(ROOT)
    completed = subprocess.run(
        [sys.executable, "-c", NO_NETWORK_SCRIPT, llm_server.url, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    attempts = json.loads(completed.stdout.strip().splitlines()[-1])
    assert attempts, "the guard saw no connection at all"
    assert {(host, port) for _, host, port in attempts} <= {("127.0.0.1", llm_server.port)}
    assert len(llm_server.requests) == 2


QUIET_SCRIPT = r"""
import logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr)  # as the CLI and the app configure logging
from finlib.config import load_settings
from finlib.chat.llm import send_to_llm
from finlib.privacy.scanner import NameScanner
settings = load_settings({"LITE_LLM_MODEL": "openai/test-model", "LITE_LLM_API_BASE": sys.argv[1],
    "LITE_LLM_API_KEY": "k", "ALIAS_SALT": "s", "FINLIB_HOME": sys.argv[2]}, dotenv_path=None)
call = send_to_llm([{"role": "user", "content": "hi"}], settings=settings, names_guard=NameScanner([]), stream=False)
print(call.finish().text)
"""


def test_litellm_prints_no_info_lines_of_its_own(llm_server: LLMServer, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, "-c", QUIET_SCRIPT, llm_server.url, str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip() == "Hello from the test model."
    assert "LiteLLM" not in completed.stderr, completed.stderr[-2000:]
