"""The API's error documents: every failure as ``{"error": ..., "detail": ...}`` with the status that fits it.

A ``FinlibError`` already says what happened and what to do; here it gets its HTTP status, and any path of
the server (the data home, the installation) is taken out of the message before it leaves.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from finlib import errors
from finlib.config import PROJECT_ROOT, Settings

log = logging.getLogger("finlib.api")

# Most specific first: the first class an error is an instance of decides.
STATUS_OF_ERROR: tuple[tuple[type[errors.FinlibError], int, str], ...] = (
    (errors.AuthenticationError, 401, "unauthorised"),
    (errors.AccessDeniedError, 403, "forbidden"),
    (errors.ProjectNotFoundError, 404, "project not found"),
    (errors.SourceNotAllowedError, 400, "source not allowed"),
    (errors.ObjectNotFoundError, 404, "file not found"),
    (errors.ParseError, 422, "file not readable"),
    (errors.StorageError, 502, "storage failed"),
    (errors.DatabaseError, 503, "database unavailable"),
    (errors.ForecastError, 422, "cannot forecast"),
    (errors.PrivacyBlockedError, 422, "privacy guard refused"),
    (errors.LLMError, 502, "model failed"),
    (errors.ProjectError, 400, "invalid request"),
    (errors.ConfigError, 500, "server misconfigured"),
)
STATUS_WORDS = {
    400: "invalid request",
    401: "unauthorised",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    413: "request too large",
    422: "invalid request",
    429: "too many requests",
}


def error_response(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one shape of every API error."""
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def without_server_paths(message: str, settings: Settings | None) -> str:
    """``message`` with the data home and the installation folder replaced by words."""
    if settings is not None:
        message = message.replace(str(settings.home), "<data home>")
    return message.replace(str(PROJECT_ROOT), "<app>")


def translate_error(exc: errors.FinlibError, settings: Settings | None) -> JSONResponse:
    """A FinlibError as its status and message."""
    status, error = next(((s, e) for kind, s, e in STATUS_OF_ERROR if isinstance(exc, kind)), (500, "failed"))
    log.info("api error %d %s (%s)", status, error, type(exc).__name__)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, error, without_server_paths(str(exc), settings), headers)


def translate_status(exc: HTTPException) -> JSONResponse:
    """Starlette's and FastAPI's own HTTP errors (404, 405, 413, 429) in the API's shape."""
    detail = exc.detail if isinstance(exc.detail, str) else STATUS_WORDS.get(exc.status_code, "failed")
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No such API endpoint; the endpoints are listed at /docs."
    if exc.status_code == 405:
        detail = "This endpoint does not take that method; see /docs."
    error = STATUS_WORDS.get(exc.status_code, "failed")
    return error_response(exc.status_code, error, detail, dict(exc.headers) if exc.headers else None)


def validation_detail(exc: RequestValidationError) -> tuple[int, str, str]:
    """Status, error and one readable line for a request FastAPI could not read (the values are not echoed)."""
    problems: list[str] = []
    for problem in exc.errors():
        if problem.get("type") == "json_invalid":
            return 400, "invalid JSON", "The request body is not valid JSON; send an object like the one in /docs."
        where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body") or "request"
        problems.append(f"{where}: {_reason(problem)}")
    return 422, "invalid request", "; ".join(problems[:5]) + ". See /docs for the expected request."


def _reason(problem: dict[str, Any]) -> str:
    kind = str(problem.get("type", ""))
    context = problem.get("ctx") or {}
    if kind == "missing":
        return "required"
    if kind == "string_too_long":
        return f"at most {context.get('max_length')} characters"
    if kind == "string_too_short":
        return f"at least {context.get('min_length')} character(s)"
    if kind in ("model_attributes_type", "dict_type"):
        return "must be a JSON object"
    return str(problem.get("msg", "invalid")).split(",")[0]
