"""A minimal OpenID Connect provider on 127.0.0.1 for sign-in tests: discovery, authorize, token, JWKS, userinfo.

The test says who signs in next (``provider.next_email``); ``/authorize`` then answers at once with a code for
that user, as a real provider does after its login form. ID tokens are RS256 JWTs (joserfc, Authlib's own JOSE
library) carrying the nonce, audience and issuer Authlib checks.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "finlib-test"
CLIENT_SECRET = "finlib-test-secret"


@dataclass
class OIDCProvider:
    """The running provider: its issuer URL, who signs in next, and the codes it handed out."""

    issuer: str
    key: RSAKey
    next_email: str = "nobody@example.com"
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def id_token(self, claims: dict[str, Any]) -> str:
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 600, **claims}
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, payload, self.key)


def _handler(provider: OIDCProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                base = provider.issuer
                self._json(
                    {
                        "issuer": base,
                        "authorization_endpoint": f"{base}/authorize",
                        "token_endpoint": f"{base}/token",
                        "jwks_uri": f"{base}/jwks",
                        "userinfo_endpoint": f"{base}/userinfo",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "scopes_supported": ["openid", "email", "profile"],
                        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                    }
                )
            elif url.path == "/jwks":
                self._json({"keys": [provider.key.as_dict(private=False)]})
            elif url.path == "/authorize":
                code = secrets.token_urlsafe(16)
                provider.codes[code] = {"email": provider.next_email, "nonce": query.get("nonce")}
                target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()
            elif url.path == "/userinfo":
                email = self.headers.get("Authorization", "").removeprefix("Bearer ")
                self._json({"sub": email, "email": email, "email_verified": True})
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            grant = provider.codes.pop(form.get("code", ""), None)
            if urlparse(self.path).path != "/token" or grant is None:
                self._json({"error": "invalid_grant"}, 400)
                return
            claims = {"sub": grant["email"], "email": grant["email"], "email_verified": True, "name": "Test User"}
            if grant["nonce"]:
                claims["nonce"] = grant["nonce"]
            self._json(
                {
                    "access_token": grant["email"],
                    "token_type": "Bearer",
                    "expires_in": 600,
                    "id_token": provider.id_token(claims),
                }
            )

    return Handler


def start_oidc_provider() -> OIDCProvider:
    """Start the provider on a free port of 127.0.0.1 (stop it with ``.stop()``)."""
    key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    provider = OIDCProvider(issuer=f"http://127.0.0.1:{server.server_address[1]}", key=key, server=server)
    server.RequestHandlerClass = _handler(provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return provider
