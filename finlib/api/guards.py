"""The API's guards: request size limit, per-client rate limit, bearer tokens and the access policy.

The access policy decides, per caller and project, who acts (the ``access.User`` the services check) and
whether the caller sees aliases only. Without sign-in the server is single-user and local (``LocalPolicy``:
the local user, names included); with sign-in every caller has a token and acts as its user with that user's
memberships (``MembershipPolicy``: viewers get aliases only, names shown to others are logged).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.exceptions import HTTPException

from finlib import access
from finlib.access import LOCAL_USER, User
from finlib.errors import AuthenticationError
from finlib.projects import Services
from finlib.tokens import TokenInfo, verify_token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the token's user when tokens are in use, and the client address."""

    client: str
    token: TokenInfo | None = None

    @property
    def user(self) -> str | None:
        """The token's user, or None on a local server without tokens."""
        return self.token.user if self.token else None

    @property
    def rate_key(self) -> str:
        """What the rate limit counts by: the user when known, else the client address."""
        return f"user:{self.user}" if self.user else f"client:{self.client}"


@dataclass(frozen=True)
class Grant:
    """Who acts for a caller and what they may see of a project."""

    user: User = LOCAL_USER
    aliases_only: bool = False
    log_names_shown: bool = False


class AccessPolicy(Protocol):
    """Decides whether ``caller`` may do ``action`` (read, ask, write) on ``project`` (None: the project list)."""

    def check(self, services: Services, caller: Caller, project: str | None, action: str) -> Grant:
        """The grant, or raise a FinlibError saying what is missing."""
        ...


class LocalPolicy:
    """Single-user local mode: the caller is the person at this machine and sees everything."""

    def check(self, services: Services, caller: Caller, project: str | None, action: str) -> Grant:
        """Everything is allowed, names included; names shown are logged as the local user (``LOCAL_USER``)."""
        return Grant(log_names_shown=True)


class MembershipPolicy:
    """Sign-in mode: a caller acts as its token's user, with that user's role in each project.

    Reading and asking need a membership (viewer or above; a viewer sees aliases only); writing is checked by
    the services themselves (admins, and FINLIB_ADMINS for new projects); the project list shows what the user
    may see. Every answer that shows real names is appended to the project's access log.
    """

    def check(self, services: Services, caller: Caller, project: str | None, action: str) -> Grant:
        """The caller's user and view of ``project``; AccessDeniedError without the role ``action`` needs."""
        if caller.user is None:
            raise AuthenticationError("This server requires an API token: send 'Authorization: Bearer <token>'.")
        user = User.signed_in(caller.user)
        if project is None or action == "write":
            return Grant(user)
        role = access.require_role(services.engine, services.settings, user, project, "viewer")
        viewer = role == "viewer"
        return Grant(user, aliases_only=viewer, log_names_shown=not viewer)


def authenticate(services: Services, authorization: str | None, client: str, *, required: bool) -> Caller:
    """The caller of a request from its ``Authorization`` header; AuthenticationError when a token is required."""
    if not authorization:
        if required:
            raise AuthenticationError(
                "This server requires an API token: send 'Authorization: Bearer <token>'. "
                "Create one with `python -m finlib token create YOUR-EMAIL`."
            )
        return Caller(client)
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationError("Send the token as 'Authorization: Bearer <token>'.")
    return Caller(client, verify_token(services, secret.strip()))


class RateLimiter:
    """A token bucket per client: ``burst`` requests at once, refilled at ``per_minute`` requests a minute."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate_per_s = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """0 when the request may go ahead, else the seconds to wait before the next one will."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate_per_s)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self._rate_per_s if self._rate_per_s > 0 else float("inf")


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` to a guarded path gets 413 before it is read in full."""

    def __init__(self, app: ASGIApp, max_bytes: int, guarded: Callable[[str], bool]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.guarded = guarded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.guarded(scope["path"]):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the app, so its error handlers answer with the usual JSON.
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, counting_receive, send)

    def _message(self) -> str:
        return f"The request body is larger than {self.max_bytes:,} bytes. Send a smaller request."

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "error": "request too large",
                "detail": self._message(),
            }
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
