"""HTTP plumbing shared by the http(s) backends and the S3 backend, without a network library.

Both clients (our own HTTP/1.1 client in ``_http1`` and aiohttp in ``_http``) hand their
responses' status and headers to these functions, so error classification, ``Retry-After``,
``Content-Range`` checks and S3 region redirects behave the same whichever one is used.
Headers are looked up by lower-case name (aiohttp's headers are case-insensitive; ours are
stored lower-cased).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from eoaccess.transfer._engine import RemoteMeta
from eoaccess.transfer._errors import (
    RangeNotSatisfiableError,
    RemoteError,
    RemoteNotFoundError,
)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
# scheme and authority of an absolute URL: cheaper than urlsplit, which runs per request
ORIGIN = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)")
MAX_REDIRECT_HOPS = 3
"""S3 region redirects (no Location) followed per request."""
ERROR_BODY_LIMIT = 64 * 1024
"""Bytes of an error response's body read for its message."""


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    import email.utils  # error paths only: not imported by every worker process

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


@dataclass(frozen=True)
class ErrorResponse:
    """A non-success response, read (at most 64 KiB of its body) and released."""

    status: int
    reason: str
    headers: Mapping[str, str]
    """Lower-cased header names."""
    text: str

    def s3_fields(self) -> dict[str, str]:
        """``Code``, ``Message``, ``Endpoint``, ``Region``, ``Bucket`` of an S3 XML error body."""
        if "<Error>" not in self.text:
            return {}
        import xml.etree.ElementTree as ET  # error paths only

        try:
            root = ET.fromstring(self.text.strip())
        except ET.ParseError:
            return {}
        return {child.tag: (child.text or "").strip() for child in root}

    def _detail(self, s3: Mapping[str, str]) -> str:
        """The server's own reason: S3 XML Code/Message, a JSON description, or plain text."""
        if s3.get("Code"):
            return f"{s3['Code']}: {s3.get('Message', '')}".rstrip(": ")
        kind = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind.endswith("json"):
            with contextlib.suppress(ValueError, AttributeError):
                data = json.loads(self.text)
                for key in ("description", "message", "detail", "error"):
                    if isinstance(data.get(key), str):
                        return " ".join(data[key].split())[:300]
        if kind == "text/plain":
            return " ".join(self.text.split())[:300]
        return ""

    def to_error(self, url: str, hint: str = "") -> RemoteError:
        """The engine error for this response: retryable for 408/425/429/5xx, with Retry-After."""
        s3 = self.s3_fields()
        detail = self._detail(s3)
        message = f"HTTP {self.status} {self.reason} for {url}" + (f": {detail}" if detail else "")
        if hint and self.status in (401, 403):
            message += f" ({hint})"
        if self.status == 404 or s3.get("Code") in ("NoSuchKey", "NoSuchBucket"):
            return RemoteNotFoundError(message, status=self.status)
        if self.status == 416:
            return RangeNotSatisfiableError(message, status=416)
        retryable = self.status in RETRYABLE_STATUS or self.status >= 500
        retry_after = parse_retry_after(self.headers.get("retry-after")) if retryable else None
        return RemoteError(
            message, status=self.status, retryable=retryable, retry_after=retry_after
        )


def s3_redirect_url(url: str, error: ErrorResponse) -> str | None:
    """The URL an S3 ``PermanentRedirect`` (HTTP 301, no Location) points to, for http(s) URLs.

    S3 names the right endpoint in the XML body (``<Endpoint>bucket.s3-us-west-2.amazonaws.com``);
    seed 000 shows the error users meet when a client does not follow it.
    """
    if error.status not in (301, 307) or error.headers.get("location"):
        return None
    fields = error.s3_fields()
    endpoint = fields.get("Endpoint")
    if not endpoint:
        return None
    parts = urlsplit(url)
    path = parts.path
    bucket = fields.get("Bucket", "")
    if bucket and endpoint.startswith(f"{bucket}.") and path.startswith(f"/{bucket}/"):
        path = path[len(bucket) + 1 :]  # path-style URL redirected to a virtual-hosted endpoint
    target = urlunsplit((parts.scheme, endpoint, path, parts.query, ""))
    return None if target == url else target


def content_range(value: str | None) -> tuple[int, int | None] | None:
    """``(first byte, total or None)`` of a ``Content-Range: bytes a-b/total`` value."""
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        return None
    total = match.group(3)
    return int(match.group(1)), None if total == "*" else int(total)


def encoded(value: str | None) -> bool:
    """True for a ``Content-Encoding`` other than identity: sizes are then not the file's."""
    return bool(value) and value.lower() not in ("identity", "none")  # type: ignore[union-attr]


def range_header(start: int, end: int | None) -> dict[str, str]:
    """The Range header for bytes ``start``..``end`` (to the end when None); none for all."""
    if start == 0 and end is None:
        return {}
    return {"Range": f"bytes={start}-{'' if end is None else end}"}


def body_position(
    url: str, status: int, headers: Mapping[str, str], content_length: int | None, start: int
) -> tuple[int, int | None, RemoteMeta]:
    """``(offset, length, meta)`` of a 200/206 body asked for from byte ``start``.

    A 206 must start where asked (else RemoteError); a 200 starts at 0 (a server that ignored
    Range). ``length`` is None when a content coding we did not ask for makes it meaningless.
    """
    length = content_length
    if encoded(headers.get("content-encoding")):
        length = None  # a transfer encoding we did not ask for: sizes are not the file's
    if status == 206:
        parsed = content_range(headers.get("content-range"))
        if parsed is None or parsed[0] != start:
            raise RemoteError(
                f"{url}: server answered a range request with Content-Range "
                f"{headers.get('content-range')!r} (expected start {start})",
                status=206,
            )
        offset, size = parsed
    else:
        offset, size = 0, length
    return offset, length, RemoteMeta(size, headers.get("etag"), headers.get("last-modified"))


def head_meta(status: int, headers: Mapping[str, str], content_length: int | None) -> RemoteMeta:
    """Size and validators of a HEAD (or ``Range: bytes=0-0``) response."""
    size: int | None = None
    parsed = content_range(headers.get("content-range"))
    if status == 206 and parsed:
        size = parsed[1]
    elif not encoded(headers.get("content-encoding")):
        size = content_length
    return RemoteMeta(size, headers.get("etag"), headers.get("last-modified"))


class HeadResponse(Protocol):
    """What :func:`stat_with_fallback` needs of a response (aiohttp's or ours)."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Any: ...

    @property
    def content_length(self) -> int | None: ...

    def close(self) -> None: ...


async def stat_with_fallback(
    send: Callable[[str, str, dict[str, str]], Awaitable[tuple[Any, Any]]],
    url: str,
    fallback: frozenset[int],
) -> RemoteMeta:
    """HEAD ``url`` through ``send``; when it fails with a status in ``fallback``, GET one byte
    instead. Either way the response's headers give the metadata."""
    try:
        _, response = await send("HEAD", url, {})
    except RemoteError as exc:
        if exc.status not in fallback:
            raise
        _, response = await send("GET", url, range_header(0, 0))
    head: HeadResponse = response
    try:
        return head_meta(head.status, head.headers, head.content_length)
    finally:
        head.close()


def describe(exc: BaseException) -> str:
    """An exception's message on one line (its class name when it has none)."""
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())
