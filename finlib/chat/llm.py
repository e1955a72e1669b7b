"""The one place finlib calls a language model: guard, lazy LiteLLM import, retries, deadline, usage and cost.

``send_to_llm`` is the only function in the code base that calls ``litellm.completion``. It scans the whole
payload for the project's real names first and refuses to send (``PrivacyBlockedError``) when it finds one.
LiteLLM is imported on the first call, not at start-up (its import takes seconds).

One answer gets ``LITE_LLM_DEADLINE`` seconds in total, retries and streaming included: the call runs in a
worker thread and the caller waits for each chunk only as long as the deadline leaves, so a model that hangs or
trickles cannot hold a user longer. Every failure reaches the caller as one ``LLMUnavailableError`` that says what
happened: an HTTP error after the retries, no answer in time, a reply that is not valid JSON, an empty answer, or a
connection cut mid-answer.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
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
CONNECTION_ERRORS = frozenset({"ConnectError", "ConnectionError", "ConnectionRefusedError"})
# ... that mean the connection was made and then broke before the whole reply arrived.
CUT_ERRORS = frozenset({"RemoteProtocolError", "IncompleteRead", "ReadError", "ChunkedEncodingError"})
MIN_ATTEMPT_TIMEOUT_S = 0.1
_DONE = object()
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
    delivered: bool = False  # the request reached the model server (False when no connection could be made)


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
    """Guard the payload, then ask the model (with retries, within the deadline); iterate the result for text.

    Raises:
        PrivacyBlockedError: a real name is in the payload; nothing was sent.

    Iterating the returned stream raises ``LLMUnavailableError`` when the model fails in any way (see the module
    docstring); the text that arrived before stays in ``result.text``.
    """
    check_payload(messages, names_guard)
    call = completion or load_litellm().completion
    arguments: dict[str, Any] = {
        "model": settings.llm_model,
        "messages": [dict(m) for m in messages],
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
    deadline = time.monotonic() + settings.llm_deadline_s
    arrived: queue.Queue[object] = queue.Queue()
    stop = threading.Event()
    attempt = _Attempt(call, arguments, settings, result, retry_backoff_s, deadline)
    threading.Thread(target=attempt.run, args=(arrived, stop), name="llm-answer", daemon=True).start()
    return TextStream(result, _wait_for_chunks(arrived, stop, settings, result, deadline))


@dataclass
class _Attempt:
    """One answer being fetched in a worker thread: the call with its retries, then its chunks, into a queue."""

    call: Callable[..., Any]
    arguments: dict[str, Any]
    settings: Settings
    result: LLMResult
    backoff_s: float
    deadline: float

    def run(self, arrived: queue.Queue[object], stop: threading.Event) -> None:
        """Put every text chunk, then ``_DONE`` or the ``LLMUnavailableError`` that ended the answer."""
        started = time.monotonic()
        try:
            response = self._call_with_retries()
        except LLMUnavailableError as error:
            arrived.put(error)
            return
        try:
            stream = self.arguments["stream"]
            chunks = _stream_chunks(response, self.result) if stream else _whole_answer(response, self.result)
            for text in chunks:
                if stop.is_set():
                    return  # the caller gave up (deadline) or stopped reading
                arrived.put(text)
            arrived.put(_DONE)
        except Exception as exc:  # noqa: BLE001 - whatever breaks an answer mid-way is one failure for the user
            # LiteLLM reports a stream that closed cleanly without a single chunk as one that ended too early.
            ended_early = any("finish_reason" in str(cause) for cause in _causes(exc))
            empty = ended_early and not self.result.text.strip()
            arrived.put(_empty_answer(self.settings) if empty else _unavailable(exc, self.settings, mid_answer=True))
        finally:
            self.result.latency_s = time.monotonic() - started
            _cost(self.result)

    def _call_with_retries(self) -> Any:
        settings, result = self.settings, self.result
        for attempt in range(settings.llm_max_retries + 1):
            result.attempts = attempt + 1
            remaining = self.deadline - time.monotonic()
            # No attempt may outlive the answer's deadline.
            self.arguments["timeout"] = max(MIN_ATTEMPT_TIMEOUT_S, min(settings.llm_timeout_s, remaining))
            try:
                response = self.call(**self.arguments)
            except Exception as exc:  # noqa: BLE001 - every provider failure becomes one documented error
                result.delivered = result.delivered or not _cannot_connect(exc)
                wait = min(MAX_BACKOFF_S, self.backoff_s * 2**attempt)
                last = attempt >= settings.llm_max_retries or time.monotonic() + wait >= self.deadline
                if last or not _is_retryable(exc):
                    raise _unavailable(exc, settings) from exc
                time.sleep(wait)
            else:
                result.delivered = True
                return response
        raise AssertionError("unreachable")  # pragma: no cover


def _wait_for_chunks(
    arrived: queue.Queue[object], stop: threading.Event, settings: Settings, result: LLMResult, deadline: float
) -> Iterator[str]:
    """The chunks as they arrive, each waited for no longer than the deadline leaves; an empty answer is a failure."""
    try:
        while True:
            try:
                item = arrived.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise LLMUnavailableError(
                    f"The model {settings.llm_model} did not finish its answer within {settings.llm_deadline_s:g} s. "
                    "Ask again later, or raise LITE_LLM_DEADLINE; the offline answer below is computed without it."
                ) from None
            if item is _DONE:
                break
            if isinstance(item, LLMUnavailableError):
                raise item
            assert isinstance(item, str)
            yield item
    finally:
        stop.set()
    if not result.text.strip():
        raise _empty_answer(settings)


def _empty_answer(settings: Settings) -> LLMUnavailableError:
    return LLMUnavailableError(
        f"The model {settings.llm_model} returned an empty answer. Ask again; the offline answer below is computed "
        "without it."
    )


def _is_retryable(exc: Exception) -> bool:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status in RETRYABLE_STATUS or status >= 500
    return type(exc).__name__ in {"Timeout", "APITimeoutError", "APIConnectionError", "ServiceUnavailableError"}


def _unavailable(exc: BaseException, settings: Settings, *, mid_answer: bool = False) -> LLMUnavailableError:
    status = getattr(exc, "status_code", None)
    model = settings.llm_model
    names = {type(e).__name__ for e in _causes(exc)}
    timed_out = status == 408 or any("timeout" in name.lower() for name in names)
    if not timed_out and _cannot_connect(exc):
        where = f"at {settings.llm_api_base}" if settings.llm_api_base else f"of {model}"
        return LLMUnavailableError(
            f"The model {model} could not answer: cannot reach the model server {where}; check LITE_LLM_API_BASE "
            "(and that the server is running)."
        )
    if "JSONDecodeError" in names:
        return LLMUnavailableError(
            f"The model {model} sent a reply that is not valid JSON, so it cannot be read. Ask again later; the "
            "offline answer below is computed without it."
        )
    if names & CUT_ERRORS or mid_answer:
        return LLMUnavailableError(
            f"The connection to the model {model} was cut before its answer was complete. Ask again; the offline "
            "answer below is computed without it."
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


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it was raised from, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _cannot_connect(exc: BaseException) -> bool:
    """True when no connection to the server was made (refused, unknown host), whatever LiteLLM wrapped it in."""
    for current in _causes(exc):
        if "timeout" in type(current).__name__.lower() or type(current).__name__ in CUT_ERRORS:
            return False
        if type(current).__name__ in CONNECTION_ERRORS or isinstance(current, ConnectionError):
            return True
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


def _whole_answer(response: Any, result: LLMResult) -> Iterator[str]:
    result.text = _content(_first_choice(response), "message")
    _usage(result, _get(response, "usage"))
    if result.text:
        yield result.text


def _stream_chunks(response: Any, result: LLMResult) -> Iterator[str]:
    pieces: list[str] = []
    try:
        for chunk in response:
            _usage(result, _get(chunk, "usage"))
            choice = _first_choice(chunk)
            text = _content(choice, "delta") if choice is not None else ""
            if text:
                pieces.append(text)
                yield text
    finally:
        result.text = "".join(pieces)


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def _first_choice(obj: Any) -> Any:
    choices = _get(obj, "choices") or []
    return choices[0] if choices else None


def _content(choice: Any, part: str) -> str:
    message = _get(choice, part) if choice is not None else None
    content = _get(message, "content") if message is not None else None
    return content or ""
