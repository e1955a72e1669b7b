"""The HTTP API beside the dashboard: the original design's /upload and /query, and read endpoints under /api.

The routes live in ``finlib.api.routes``, the per-process state and request dependencies in ``finlib.api.state``.
``install_api`` adds the routes, the guards and the error translation to a FastAPI app: ``server.py`` installs
them next to the dashboard, tests install them on an app of their own. Errors are ``{"error": ..., "detail":
...}`` with a 4xx or 5xx status, never a traceback and never a path on the server.
"""

from __future__ import annotations

import importlib.resources
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from finlib.api.guards import BodyLimit, Caller
from finlib.api.responses import error_response, translate_error, translate_status, validation_detail
from finlib.api.routes import router
from finlib.api.state import ApiOptions, ApiState
from finlib.errors import FinlibError
from finlib.projects import Services

log = logging.getLogger("finlib.api")

API_PREFIXES = ("/upload", "/query", "/api/")
DOCS_ASSETS = "/docs-assets"
API_METADATA: dict[str, Any] = {
    "title": "Invoice analytics API",
    "version": "1",
    # /docs is added by install_api with Swagger UI served from here, not from a CDN (the app works offline).
    "docs_url": None,
    "redoc_url": None,
    "description": (
        "The dashboard's figures for programs: register a ledger from S3 (`/upload`), ask a question "
        "(`/query`, answered through the same privacy guard as the Chat page), and read projects and "
        "statistics (`/api/...`, the same documents as the CLI's `--json`). Add `?aliases=true` for "
        "aliases instead of names."
    ),
}


def is_api_path(path: str) -> bool:
    """True for the paths the API serves (the rest belongs to the dashboard)."""
    return path in ("/upload", "/query") or path.startswith("/api/")


def create_api(provide_services: Callable[[], Services], options: ApiOptions | None = None) -> FastAPI:
    """A FastAPI app holding the API alone (tests and API-only servers)."""
    app = FastAPI(**API_METADATA)
    install_api(app, provide_services, options or ApiOptions())
    return app


def install_api(app: FastAPI, provide_services: Callable[[], Services], options: ApiOptions) -> None:
    """Add the routes, guards, error translation and request log to ``app``."""
    state = ApiState(provide_services, options)
    app.state.finlib_api = state
    app.include_router(router)
    _install_docs(app)
    app.add_middleware(BodyLimit, max_bytes=options.max_body_bytes, guarded=is_api_path)

    def settings_or_none() -> Any:
        return state._services.settings if state._services is not None else None

    app.add_exception_handler(FinlibError, lambda request, exc: translate_error(exc, settings_or_none()))
    app.add_exception_handler(HTTPException, lambda request, exc: translate_status(exc))
    app.add_exception_handler(RequestValidationError, lambda request, exc: error_response(*validation_detail(exc)))
    app.add_exception_handler(Exception, _unexpected)

    app.add_middleware(RequestLog, logged=is_api_path)


class RequestLog:
    """ASGI middleware: one log line per API request (method, path, status, time, user); the rest passes through.

    Plain ASGI rather than ``@app.middleware("http")``: that wraps every response of the process in a task group
    and a memory stream, the dashboard's scripts and its 4.7 MB chart library included, on the event loop its
    sessions share.
    """

    def __init__(self, app: ASGIApp, logged: Callable[[str], bool]) -> None:
        self.app = app
        self.logged = logged

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.logged(scope["path"]):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            caller: Caller | None = scope.get("state", {}).get("caller")  # request.state.caller, set by the routes
            # The path names projects only; the query string (a customer) and the body (a question) stay out.
            log.info(
                "api %s %s -> %d in %.0f ms (user %s)",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
                (caller.user if caller else None) or "local",
            )


def _install_docs(app: FastAPI) -> None:
    """Swagger UI at /docs with its script and style from the fastapi-offline package, so no CDN is needed."""
    assets = Path(str(importlib.resources.files("fastapi_offline") / "static"))
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - docs",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("api %s %s failed unexpectedly", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error", "The server failed unexpectedly; the details are in its app.log.")
