"""An OpenAI-compatible chat-completions server on 127.0.0.1 for tests: records every request, answers on cue.

Besides answering, it can fail the ways real providers do (``Behaviour``): an HTTP error status (429, 500) for the
first requests, a hang before answering, a reply that is not valid JSON, an empty answer (no text, or a stream
with no chunks), a connection cut mid-way, and a stream that trickles one chunk every so often.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COMPLETION_PATHS = ("/v1/chat/completions", "/chat/completions")


@dataclass
class Behaviour:
    """How the server answers; tests change these fields between requests."""

    answer: str = "Hello from the test model."
    echo: bool = False
    delay_s: float = 0.0
    fail_first: int = 0
    fail_status: int = 500
    chunk_chars: int = 3
    prompt_tokens: int = 11
    completion_tokens: int = 7
    broken_json: bool = False  # the reply (or a stream event) is not valid JSON
    empty: bool = False  # no answer text: "" as the message, or a stream without a single chunk
    cut_after_chunks: int | None = None  # close the connection after this many chunks (whole answers: half a body)
    chunk_delay_s: float = 0.0  # a pause before every stream chunk (a model that trickles)


@dataclass
class RecordedRequest:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        """The request body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class LLMServer:
    """A running server: its base URL, what it received, and how it will answer."""

    httpd: ThreadingHTTPServer
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL to pass as ``api_base`` (OpenAI style, ending in /v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def bodies(self) -> list[bytes]:
        """Raw bodies of every completion request received so far."""
        with self.lock:
            return [r.body for r in self.requests]

    def stop(self) -> None:
        """Shut the server down and close its socket."""
        self.stopped.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _answer_for(request: dict[str, Any], behaviour: Behaviour) -> str:
    if not behaviour.echo:
        return behaviour.answer
    messages = request.get("messages") or []
    users = [m for m in messages if m.get("role") == "user"]
    content = users[-1].get("content", "") if users else ""
    return content if isinstance(content, str) else json.dumps(content)


def _make_handler(server: LLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
            return

        def do_POST(self) -> None:  # noqa: N802 - name fixed by http.server
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if self.path.split("?")[0] not in COMPLETION_PATHS:
                self._send_json(404, {"error": {"message": f"no route {self.path}"}})
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            with server.lock:
                server.requests.append(RecordedRequest(self.path, headers, body))
                number = len(server.requests)
                behaviour = server.behaviour
            if behaviour.delay_s and server.stopped.wait(behaviour.delay_s):
                return
            if number <= behaviour.fail_first:
                status = behaviour.fail_status
                error = {"error": {"message": f"test failure {status}", "type": "server_error", "code": status}}
                self._send_json(status, error)
                return
            request = json.loads(body or b"{}")
            answer = "" if behaviour.empty else _answer_for(request, behaviour)
            if request.get("stream"):
                self._send_stream(request, answer, behaviour)
            elif behaviour.broken_json or behaviour.cut_after_chunks is not None:
                self._send_broken(_completion(request, answer, behaviour), behaviour)
            else:
                self._send_json(200, _completion(request, answer, behaviour))

        def _send_broken(self, payload: dict[str, Any], behaviour: Behaviour) -> None:
            data = json.dumps(payload).encode()
            half = data[: len(data) // 2]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            # A cut connection promises the whole body and sends half; broken JSON is a complete but truncated body.
            self.send_header("Content-Length", str(len(data) if behaviour.cut_after_chunks is not None else len(half)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(half)
            self.wfile.flush()
            self.close_connection = True

        def _send_json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 429:
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(data)

        def _send_stream(self, request: dict[str, Any], answer: str, behaviour: Behaviour) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            # Chunked, like real providers: a cut connection is then visibly incomplete, not a clean end.
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            size = max(1, behaviour.chunk_chars)
            pieces = [answer[i : i + size] for i in range(0, len(answer), size)] or [""]
            model = request.get("model", "test-model")
            for index, piece in enumerate([] if behaviour.empty else pieces):
                if behaviour.cut_after_chunks is not None and index >= behaviour.cut_after_chunks:
                    return  # the connection closes mid-body: no more chunks, no stop chunk, no [DONE]
                if behaviour.chunk_delay_s and server.stopped.wait(behaviour.chunk_delay_s):
                    return
                delta: dict[str, Any] = {"content": piece}
                if index == 0:
                    delta["role"] = "assistant"
                if behaviour.broken_json and index == 1:
                    self._write(b'data: {"id": "chatcmpl-test", "choices": [{"delta": {"content": "x\n\n')
                    continue
                self._event(_chunk(model, delta, None))
            if not behaviour.empty:
                self._event(_chunk(model, {}, "stop"))
            if (request.get("stream_options") or {}).get("include_usage"):
                usage_chunk = _chunk(model, {}, None)
                usage_chunk["choices"] = []
                usage_chunk["usage"] = _usage(behaviour)
                self._event(usage_chunk)
            self._write(b"data: [DONE]\n\n")
            self._write(b"")  # the last chunk of a chunked body

        def _event(self, payload: dict[str, Any]) -> None:
            self._write(b"data: " + json.dumps(payload).encode() + b"\n\n")

        def _write(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler


def _usage(behaviour: Behaviour) -> dict[str, int]:
    total = behaviour.prompt_tokens + behaviour.completion_tokens
    return {
        "prompt_tokens": behaviour.prompt_tokens,
        "completion_tokens": behaviour.completion_tokens,
        "total_tokens": total,
    }


def _chunk(model: str, delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def _completion(request: dict[str, Any], answer: str, behaviour: Behaviour) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "test-model"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"},
        ],
        "usage": _usage(behaviour),
    }


def start_llm_server(behaviour: Behaviour | None = None) -> LLMServer:
    """Start a server on a free port of 127.0.0.1 in a daemon thread."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    httpd.daemon_threads = True
    server = LLMServer(httpd=httpd, behaviour=behaviour or Behaviour())
    httpd.RequestHandlerClass = _make_handler(server)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), name="llm-test-server", daemon=True).start()
    return server
