"""The http(s) backend on aiohttp, and the HTTP plumbing the S3 backend shares.

aiohttp rather than obstore because the engine needs what obstore hides: the status and headers
of every response (``Retry-After``, ``x-amz-bucket-region``, 200-instead-of-206), a read timeout
per socket read (the stall timeout), and no retries of its own (docs/design/transfer.md).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import re
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from yarl import URL

from eoaccess.transfer._config import TransferConfig
from eoaccess.transfer._engine import RemoteMeta
from eoaccess.transfer._errors import (
    ConnectError,
    ConnectionLostError,
    RangeNotSatisfiableError,
    RemoteError,
    RemoteNotFoundError,
    StallError,
)

_RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
# scheme and authority of an absolute URL: cheaper than urlsplit, which runs per request
_ORIGIN = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)")
_MAX_REDIRECT_HOPS = 3
_ERROR_BODY_LIMIT = 64 * 1024


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
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
        retryable = self.status in _RETRYABLE_STATUS or self.status >= 500
        retry_after = parse_retry_after(self.headers.get("retry-after")) if retryable else None
        return RemoteError(
            message, status=self.status, retryable=retryable, retry_after=retry_after
        )


async def read_error(response: aiohttp.ClientResponse) -> ErrorResponse:
    """Read a failed response's status, headers and the start of its body, then release it."""
    raw = b""
    try:
        raw = await response.content.read(_ERROR_BODY_LIMIT)
        complete = response.content.at_eof()
    except (TimeoutError, aiohttp.ClientError):
        complete = False
    if complete:
        response.release()  # a small error body was read whole: keep the connection
    else:
        response.close()  # do not drain a large or broken error body
    return ErrorResponse(
        status=response.status,
        reason=response.reason or "",
        headers={k.lower(): v for k, v in response.headers.items()},
        text=raw.decode("utf-8", "replace"),
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


def _content_range(value: str | None) -> tuple[int, int | None] | None:
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        return None
    total = match.group(3)
    return int(match.group(1)), None if total == "*" else int(total)


def _encoded(value: str | None) -> bool:
    return bool(value) and value.lower() not in ("identity", "none")  # type: ignore[union-attr]


class HttpBody:
    """A 200/206 response body read in pieces; transport failures become engine errors."""

    def __init__(self, response: aiohttp.ClientResponse, url: str, start: int, stall: float):
        self._response = response
        self._url = url
        self._stall = stall
        headers = response.headers
        length = response.content_length
        if _encoded(headers.get("Content-Encoding")):
            length = None  # a transfer encoding we did not ask for: sizes are not the file's
        if response.status == 206:
            parsed = _content_range(headers.get("Content-Range"))
            if parsed is None or parsed[0] != start:
                raise RemoteError(
                    f"{url}: server answered a range request with Content-Range "
                    f"{headers.get('Content-Range')!r} (expected start {start})",
                    status=206,
                )
            self.offset, size = parsed
        else:
            self.offset, size = 0, length
        self.length = length
        self.meta = RemoteMeta(size, headers.get("ETag"), headers.get("Last-Modified"))
        self.received = 0
        self._rest = b""

    async def read(self, max_bytes: int) -> bytes:
        if self._rest:
            data, self._rest = self._rest[:max_bytes], self._rest[max_bytes:]
            return data
        try:
            # readany() hands over a buffered piece without joining pieces into a new buffer:
            # fresh large allocations (page faults) cost more than the copy itself.
            data = await self._response.content.readany()
        except TimeoutError:
            raise StallError(
                f"{self._url}: no data for {self._stall:g} s after {self.received} bytes"
            ) from None
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, OSError) as exc:
            raise ConnectionLostError(
                f"{self._url}: connection lost after {self.received} bytes ({_describe(exc)})"
            ) from None
        self.received += len(data)
        if len(data) > max_bytes:
            data, self._rest = data[:max_bytes], data[max_bytes:]
        return data


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


class HttpClient:
    """One aiohttp session per engine: pooled keep-alive connections, per-host limits, raw bytes."""

    def __init__(self, config: TransferConfig, headers: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.headers = {"Accept-Encoding": "identity", **(headers or {})}
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            config = self.config
            connector = aiohttp.TCPConnector(
                limit=0, limit_per_host=config.host_limit, ttl_dns_cache=300
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=config.connect_timeout,
                    sock_read=config.stall_timeout,
                ),
                auto_decompress=False,
                read_bufsize=min(max(config.chunk_size, 64 * 1024), 1024 * 1024),
            )
        return self._session

    def proxy_for(self, url: str) -> str | None:
        """The proxy from ``*_proxy``/``no_proxy`` for ``url``'s scheme and host, looked up once.

        aiohttp's ``trust_env`` would look it up (and ~/.netrc) in a thread for every request.
        """
        origin = _ORIGIN.match(url)
        key = origin.groups() if origin else ("", url)
        if key not in self._proxies:
            parts = urlsplit(url)
            proxies = urllib.request.getproxies_environment()
            proxy = proxies.get(parts.scheme) or proxies.get("all")
            if proxy and urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
                proxy = None
            self._proxies[key] = proxy
        return self._proxies[key]

    async def send(
        self, method: str, url: str, headers: Mapping[str, str]
    ) -> aiohttp.ClientResponse:
        """Send one request and return the response with its body unread."""
        try:
            return await self.session().request(
                method,
                URL(url, encoded=True),
                headers={**self.headers, **headers},
                allow_redirects=True,
                max_redirects=10,
                proxy=self.proxy_for(url),
            )
        except aiohttp.ClientSSLError as exc:
            raise RemoteError(f"{url}: TLS error: {_describe(exc)}") from None
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise ConnectError(f"{url}: cannot connect: {_describe(exc)}") from None
        except TimeoutError:
            raise StallError(f"{url}: no answer within the timeout") from None
        except aiohttp.TooManyRedirects:
            raise RemoteError(f"{url}: too many redirects") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise ConnectionLostError(f"{url}: {_describe(exc)}") from None

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def range_header(start: int, end: int | None) -> dict[str, str]:
    """The Range header for bytes ``start``..``end`` (to the end when None); none for all."""
    if start == 0 and end is None:
        return {}
    return {"Range": f"bytes={start}-{'' if end is None else end}"}


@contextlib.asynccontextmanager
async def body_of(
    response: aiohttp.ClientResponse, url: str, start: int, stall: float
) -> AsyncIterator[HttpBody]:
    """Wrap a success response; reuse its connection only if it was read to the end."""
    try:
        body = HttpBody(response, url, start, stall)
        yield body
    except BaseException:
        response.close()
        raise
    else:
        response.release()


async def stat_with_fallback(
    send: Callable[[str, str, dict[str, str]], Awaitable[tuple[Any, aiohttp.ClientResponse]]],
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
    try:
        return meta_from_head(response)
    finally:
        response.close()


def meta_from_head(response: aiohttp.ClientResponse) -> RemoteMeta:
    """Size and validators of a HEAD (or ``Range: bytes=0-0``) response."""
    headers = response.headers
    size: int | None = None
    parsed = _content_range(headers.get("Content-Range"))
    if response.status == 206 and parsed:
        size = parsed[1]
    elif not _encoded(headers.get("Content-Encoding")):
        size = response.content_length
    return RemoteMeta(size, headers.get("ETag"), headers.get("Last-Modified"))


class HttpBackend:
    """GETs with Range for http(s) URLs; follows redirects, including S3's PermanentRedirect."""

    def __init__(self, config: TransferConfig) -> None:
        self.config = config
        self.client = HttpClient(config, dict(config.headers))

    def host(self, url: str) -> str:
        origin = _ORIGIN.match(url)
        return (origin.group(2) if origin else urlsplit(url).netloc).lower()

    async def _send(self, method: str, url: str, headers: Mapping[str, str]) -> Any:
        for _ in range(_MAX_REDIRECT_HOPS):
            response = await self.client.send(method, url, headers)
            if response.status < 300:
                return url, response
            error = await read_error(response)
            target = s3_redirect_url(url, error)
            if target is None:
                raise error.to_error(url)
            url = target
        raise RemoteError(f"{url}: too many S3 region redirects")

    @contextlib.asynccontextmanager
    async def open(
        self, url: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[HttpBody]:
        final_url, response = await self._send("GET", url, range_header(start, end))
        async with body_of(response, final_url, start, self.config.stall_timeout) as body:
            yield body

    async def stat(self, url: str) -> RemoteMeta:
        # Some servers (and presigned URLs) refuse HEAD, and S3 explains a region redirect
        # only in a body: those answers are retried as a one-byte GET.
        return await stat_with_fallback(self._send, url, frozenset({301, 403, 405, 501}))

    async def aclose(self) -> None:
        await self.client.aclose()


def create_backend(config: TransferConfig) -> HttpBackend:
    """Registry entry for http and https."""
    return HttpBackend(config)
