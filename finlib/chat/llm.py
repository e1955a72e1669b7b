"""The one place finlib calls a language model: guard, lazy LiteLLM import, retries, streaming, usage and cost.

``send_to_llm`` is the only function in the code base that calls ``litellm.completion``. It scans the whole
payload for the project's real names first and refuses to send (``PrivacyBlockedError``) when it finds one.
LiteLLM is imported on the first call, not at start-up (its import takes seconds).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Generic, TypeVar

from finlib.config import Settings
from finlib.errors import LLMUnavailableError
from finlib.privacy.scanner import NameScanner, check_payload

RETRY_BACKOFF_S = 0.5
MAX_BACKOFF_S = 8.0
RETRYABLE_STATUS = frozenset({408, 409, 429})
LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
# Exception types (anywhere in the cause chain) that mean no connection was made; LiteLLM reports them as HTTP 500.
CONNECTION_ERRORS = frozenset({"APIConnectionError", "ConnectError", "ConnectionError", "ConnectionRefusedError"})
_litellm: ModuleType | None = None
ResultT = TypeVar("ResultT")


@dataclass
class LLMResult:
    """What a finished call cost: model, full text, tokens, cost in USD when LiteLLM knows it, latency, attempts."""

    model: str
    text: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    latency_s: float | None = None
    attempts: int = 0


@dataclass
class TextStream(Generic[ResultT]):
    """Text arriving in chunks and what it adds up to: iterate for the chunks; ``result`` is complete afterwards.

    Both a model's raw answer (``TextStream[LLMResult]``) and the chat's shown answer (``TextStream[ChatAnswer]``)
    are one of these.
    """

    result: ResultT
    _chunks: Iterator[str] = field(repr=False)

    def __iter__(self) -> Iterator[str]:
        return self._chunks

    def finish(self) -> ResultT:
        """Consume whatever is left and return the finished result."""
        for _ in self._chunks:
            pass
        return self.result


def load_litellm() -> ModuleType:
    """Import LiteLLM once, offline and deaf to ``.env`` files."""
    global _litellm
    if _litellm is None:
        # The only environment writes in finlib, and they must precede the import: without them LiteLLM fetches
        # its model price list from GitHub on import and reads any .env file it finds on its own.
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        os.environ["LITELLM_MODE"] = "PRODUCTION"
        import litellm

        litellm.suppress_debug_info = True
        # LiteLLM's loggers carry their own stderr handler and inherit the app's INFO level: without this every
        # question prints "LiteLLM:INFO ... completion() model=..." lines on the CLI.
        for name in LITELLM_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        _litellm = litellm
    return _litellm


def send_to_llm(
    messages: Sequence[Mapping[str, Any]],
    *,
    settings: Settings,
    names_guard: NameScanner,
    stream: bool,
    completion: Callable[..., Any] | None = None,
    retry_backoff_s: float = RETRY_BACKOFF_S,
) -> TextStream[LLMResult]:
    """Guard the payload, call the model (with retries) and return the answer as text chunks plus usage.

    Raises:
        PrivacyBlockedError: a real name is in the payload; nothing was sent.
        LLMUnavailableError: the model failed, timed out or stayed rate limited after the retries.
    """
    check_payload(messages, names_guard)
    call = completion or load_litellm().completion
    payload = [dict(m) for m in messages]
    arguments: dict[str, Any] = {
        "model": settings.llm_model,
        "messages": payload,
        "api_key": settings.llm_api_key,
        "api_base": settings.llm_api_base,
        "timeout": settings.llm_timeout_s,
        # Retries are ours (below), the same for every provider; the SDK's own would multiply them.
        "max_retries": 0,
        "stream": stream,
    }
    if stream:
        arguments["stream_options"] = {"include_usage": True}
    result = LLMResult(model=settings.llm_model)
    started = time.monotonic()
    response = _call_with_retries(call, arguments, settings, result, retry_backoff_s)
    chunks = _stream_chunks(response, result, started) if stream else _whole_answer(response, result, started)
    return TextStream(result, chunks)


def _call_with_retries(
    call: Callable[..., Any], arguments: dict[str, Any], settings: Settings, result: LLMResult, backoff_s: float
) -> Any:
    for attempt in range(settings.llm_max_retries + 1):
        result.attempts = attempt + 1
        try:
            return call(**arguments)
        except Exception as exc:  # noqa: BLE001 - every provider failure becomes one documented error
            if attempt >= settings.llm_max_retries or not _is_retryable(exc):
                raise _unavailable(exc, settings) from exc
            time.sleep(min(MAX_BACKOFF_S, backoff_s * 2**attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def _is_retryable(exc: Exception) -> bool:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status in RETRYABLE_STATUS or status >= 500
    return type(exc).__name__ in {"Timeout", "APITimeoutError", "APIConnectionError", "ServiceUnavailableError"}


def _unavailable(exc: Exception, settings: Settings) -> LLMUnavailableError:
    status = getattr(exc, "status_code", None)
    model = settings.llm_model
    timed_out = status == 408 or "timeout" in type(exc).__name__.lower()
    if not timed_out and _cannot_connect(exc):
        where = f"at {settings.llm_api_base}" if settings.llm_api_base else f"of {model}"
        return LLMUnavailableError(
            f"The model {model} could not answer: cannot reach the model server {where}; check LITE_LLM_API_BASE "
            "(and that the server is running)."
        )
    if status in (401, 403):
        advice = "Check LITE_LLM_API_KEY."
    elif status == 404:
        advice = "Check LITE_LLM_MODEL and LITE_LLM_API_BASE."
    elif status == 429:
        advice = "The provider is rate limiting; wait a minute and ask again."
    elif timed_out:
        advice = f"No answer within {settings.llm_timeout_s:g} s; ask again, or raise LITE_LLM_TIMEOUT."
    else:
        advice = "Ask again later; the offline answer below is computed without the model."
    reason = f"HTTP {status}" if status else type(exc).__name__
    return LLMUnavailableError(f"The model {model} could not answer ({reason}). {advice}")


def _cannot_connect(exc: BaseException) -> bool:
    """True when no connection to the server was made (refused, unknown host), whatever LiteLLM wrapped it in."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if "timeout" in type(current).__name__.lower():
            return False
        if type(current).__name__ in CONNECTION_ERRORS or isinstance(current, ConnectionError):
            return True
        current = current.__cause__ or current.__context__
    return False


def _usage(result: LLMResult, usage: Any) -> None:
    if usage is None:
        return
    result.prompt_tokens = _get(usage, "prompt_tokens")
    result.completion_tokens = _get(usage, "completion_tokens")


def _cost(result: LLMResult) -> None:
    if _litellm is None or result.prompt_tokens is None or result.completion_tokens is None:
        return
    try:
        prompt_cost, completion_cost = _litellm.cost_per_token(
            model=result.model, prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens
        )
        result.cost_usd = float(prompt_cost + completion_cost)
    except Exception:  # noqa: BLE001 - unknown models (self-hosted, tests) simply have no price
        result.cost_usd = None


def _whole_answer(response: Any, result: LLMResult, started: float) -> Iterator[str]:
    result.latency_s = time.monotonic() - started
    result.text = _content(_first_choice(response), "message")
    _usage(result, _get(response, "usage"))
    _cost(result)
    if result.text:
        yield result.text


def _stream_chunks(response: Any, result: LLMResult, started: float) -> Iterator[str]:
    pieces: list[str] = []
    try:
        for chunk in response:
            _usage(result, _get(chunk, "usage"))
            choice = _first_choice(chunk)
            text = _content(choice, "delta") if choice is not None else ""
            if text:
                pieces.append(text)
                yield text
    except Exception as exc:  # noqa: BLE001 - a stream cut mid-way is the same failure for the user
        raise LLMUnavailableError(
            f"The model's answer was cut off ({type(exc).__name__}). Ask again; the part shown may be incomplete."
        ) from exc
    finally:
        result.text = "".join(pieces)
        result.latency_s = time.monotonic() - started
        _cost(result)


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def _first_choice(obj: Any) -> Any:
    choices = _get(obj, "choices") or []
    return choices[0] if choices else None


def _content(choice: Any, part: str) -> str:
    message = _get(choice, part) if choice is not None else None
    content = _get(message, "content") if message is not None else None
    return content or ""
