"""The API's process-wide state and the dependencies every route takes: options, services, caller."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Header, Query, Request
from starlette.exceptions import HTTPException

from finlib.api.cache import DocumentCache, ProjectCache
from finlib.api.guards import AccessPolicy, Caller, LocalPolicy, RateLimiter, authenticate
from finlib.projects import Services

MAX_BODY_BYTES = 64 * 1024
QUERY_PER_MINUTE = 30
QUERY_BURST = 10


@dataclass
class ApiOptions:
    """How the API guards itself; ``server.py`` sets ``require_token`` when sign-in is configured."""

    require_token: bool = False
    max_body_bytes: int = MAX_BODY_BYTES
    query_per_minute: float = QUERY_PER_MINUTE
    query_burst: int = QUERY_BURST
    policy: AccessPolicy = field(default_factory=LocalPolicy)


class ApiState:
    """The API's process-wide objects: the services (created on first use), the project cache, the limiter."""

    def __init__(self, provide_services: Callable[[], Services], options: ApiOptions) -> None:
        self.options = options
        self.limiter = RateLimiter(options.query_per_minute, options.query_burst)
        self._provide_services = provide_services
        self._services: Services | None = None
        self._cache: ProjectCache | None = None
        self.documents = DocumentCache()
        self._lock = threading.Lock()

    @property
    def services(self) -> Services:
        """The finlib services, built once."""
        with self._lock:
            if self._services is None:
                self._services = self._provide_services()
                self._cache = ProjectCache(self._services)
            return self._services

    @property
    def cache(self) -> ProjectCache:
        """Loaded projects by version."""
        self.services  # noqa: B018 - builds the cache together with the services
        assert self._cache is not None
        return self._cache


def _state(request: Request) -> ApiState:
    state: ApiState = request.app.state.finlib_api
    return state


def _caller(
    request: Request,
    state: Annotated[ApiState, Depends(_state)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Caller:
    origin = request.headers.get("origin")
    if request.method != "GET" and origin and urlsplit(origin).netloc != request.headers.get("host"):
        # A browser on another site can post a form here without asking (CSRF); programs send no Origin.
        raise HTTPException(403, "Requests from another web site are refused; call the API from a program.")
    client = request.client.host if request.client else "unknown"
    caller = authenticate(state.services, authorization, client, required=state.options.require_token)
    request.state.caller = caller
    return caller


StateParam = Annotated[ApiState, Depends(_state)]
CallerParam = Annotated[Caller, Depends(_caller)]
AliasesParam = Annotated[bool, Query(description="aliases instead of customer and people names")]
