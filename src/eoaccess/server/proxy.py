"""Honour reverse-proxy headers so that every href the server writes is the public one.

Behind nginx or a cloud load balancer the server sees ``http://127.0.0.1:8000/`` while users
see ``https://data.example.org/stac/``. The proxy says so in ``Forwarded`` (RFC 7239) or in
``X-Forwarded-Proto/Host/Port/Prefix``; this middleware rewrites the ASGI scope (scheme, Host
header, ``root_path``/``path``) so that ``request.base_url`` — from which all links are built —
is the public address. ``Forwarded`` wins over the ``X-Forwarded-*`` family; of several
comma-separated values the first (the proxy nearest the client) is used. Values that are not a
plain host name or path are ignored rather than echoed into links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")
_PREFIX = re.compile(r"^(/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class ForwardedOrigin:
    """The public origin a proxy reported; None fields were not given (or were unusable)."""

    scheme: str | None = None
    host: str | None = None
    prefix: str | None = None


def _first(value: str | None) -> str | None:
    if value is None:
        return None
    first = value.split(",", 1)[0].strip().strip('"')
    return first or None


def _parse_forwarded(value: str) -> dict[str, str]:
    """The pairs of the first element of an RFC 7239 ``Forwarded`` header, names lower-cased."""
    element = value.split(",", 1)[0]
    pairs = {}
    for pair in element.split(";"):
        name, sep, raw = pair.partition("=")
        if sep:
            pairs[name.strip().lower()] = raw.strip().strip('"')
    return pairs


def forwarded_origin(headers: dict[str, str]) -> ForwardedOrigin:
    """Read the public origin from lower-cased request headers."""
    if "forwarded" in headers:
        pairs = _parse_forwarded(headers["forwarded"])
        scheme, host = pairs.get("proto"), pairs.get("host")
    else:
        scheme = _first(headers.get("x-forwarded-proto"))
        host = _first(headers.get("x-forwarded-host"))
        port = _first(headers.get("x-forwarded-port"))
        if host and port and port.isdigit() and not host.endswith("]") and ":" not in host:
            host = f"{host}:{port}"
    scheme = scheme.lower() if scheme and scheme.lower() in _DEFAULT_PORTS else None
    if host is not None:
        if not _HOST.match(host):
            host = None
        elif scheme is not None and host.endswith(f":{_DEFAULT_PORTS[scheme]}"):
            host = host.rsplit(":", 1)[0]
    prefix = _first(headers.get("x-forwarded-prefix"))
    if prefix is not None:
        prefix = "/" + prefix.strip("/")
        prefix = None if prefix == "/" or not _PREFIX.match(prefix) else prefix
    return ForwardedOrigin(scheme, host, prefix)


def apply_forwarded(scope: dict[str, Any]) -> dict[str, Any]:
    """A copy of the ASGI scope rewritten to the public origin named by the proxy headers."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    origin = forwarded_origin(headers)
    if origin == ForwardedOrigin():
        return scope
    scope = dict(scope)
    if origin.scheme:
        scope["scheme"] = origin.scheme
    if origin.host:
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"host"] + [
            (b"host", origin.host.encode("latin-1"))
        ]
    if origin.prefix:
        # The proxy stripped the prefix; ASGI wants it back in both root_path and path.
        scope["root_path"] = origin.prefix + scope.get("root_path", "")
        scope["path"] = origin.prefix + scope["path"]
        if scope.get("raw_path") is not None:
            scope["raw_path"] = origin.prefix.encode("latin-1") + scope["raw_path"]
    return scope


class ForwardedHeadersMiddleware:
    """ASGI middleware applying :func:`apply_forwarded` to every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = apply_forwarded(scope)  # type: ignore[arg-type,assignment]
        await self.app(scope, receive, send)
