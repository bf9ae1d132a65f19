"""OAuth2 client credentials for the Sentinel Hub dialect: ``POST /oauth/token`` and Bearer checks.

sentinelhub-py fetches a token (form-encoded ``grant_type=client_credentials`` with
``client_id``/``client_secret`` in the body, or HTTP Basic) and sends ``Authorization: Bearer``
on every call. Tokens are HS256 JWTs signed with a key that lives as long as the app, so
sentinelhub-py's ``session.info()`` can decode them. With no clients configured
(``ServerSettings.oauth_clients`` None: local use) any client gets a token and no endpoint asks
for one; with clients configured only they get tokens and the Sentinel Hub endpoints answer 401
without a valid one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

TOKEN_ROUTE = "/oauth/token"
TOKEN_LIFETIME = 3600
ISSUER = "eoaccess"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class TokenAuthority:
    """Issues and checks the server's access tokens."""

    clients: Mapping[str, str] | None = None
    """client id -> secret; None accepts every client and requires no token."""
    lifetime: int = TOKEN_LIFETIME
    """Seconds a token is valid."""
    key: bytes = field(default_factory=lambda: os.urandom(32), repr=False)

    @property
    def required(self) -> bool:
        return self.clients is not None

    def accepts(self, client_id: str, secret: str) -> bool:
        if self.clients is None:
            return bool(client_id)
        expected = self.clients.get(client_id)
        return expected is not None and secrets.compare_digest(expected, secret)

    def issue(self, client_id: str) -> dict[str, Any]:
        now = int(time.time())
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {"iss": ISSUER, "sub": client_id, "iat": now, "exp": now + self.lifetime,
                  "jti": uuid.uuid4().hex}  # fmt: skip
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self.key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return {
            "access_token": f"{header}.{payload}.{_b64(signature)}",
            "token_type": "Bearer",
            "expires_in": self.lifetime,
        }

    def verify(self, token: str) -> dict[str, Any] | None:
        """The token's claims if it is ours and unexpired, else None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        header, payload, signature = parts
        expected = hmac.new(self.key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(_unb64(signature), expected):
                return None
            claims = json.loads(_unb64(payload))
        except (binascii.Error, ValueError):
            return None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
            return None
        return claims if claims["exp"] > time.time() else None

    def check(self, request: Request) -> None:
        """Raise 401 unless the request may use the Sentinel Hub endpoints."""
        if not self.required:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(
                401,
                f"{request.url.path} needs an access token: get one from {TOKEN_ROUTE} and send "
                "Authorization: Bearer <token>",
                headers={"WWW-Authenticate": 'Bearer realm="eoaccess"'},
            )
        if self.verify(token.strip()) is None:
            raise HTTPException(
                401,
                f"the access token is invalid or expired: get a new one from {TOKEN_ROUTE}",
                headers={"WWW-Authenticate": 'Bearer realm="eoaccess", error="invalid_token"'},
            )


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    # RFC 6749 names the error in "error"; "description" is the shape of every eoaccess error.
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="eoaccess"'
    return JSONResponse(
        {"error": error, "error_description": description, "description": description},
        status_code=status,
        headers=headers,
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def oauth_router(authority: TokenAuthority) -> APIRouter:
    """``POST /oauth/token`` (OAuth2 client credentials grant, form-encoded)."""
    router = APIRouter(tags=["OAuth2"])

    @router.post(TOKEN_ROUTE, summary="An access token for client credentials")
    async def token(request: Request) -> JSONResponse:
        if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
            return _oauth_error(
                400, "invalid_request", "send the token request form-encoded (RFC 6749)"
            )
        form = {
            k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()
        }
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "only grant_type=client_credentials is supported"
            )
        basic = _basic_credentials(request)
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if not authority.accepts(client_id, secret):
            return _oauth_error(401, "invalid_client", "unknown client id or wrong secret")
        return JSONResponse(
            authority.issue(client_id), headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
        )

    return router
