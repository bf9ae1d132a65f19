"""The aiohttp client: the S3 backend's transport, and the http(s) backend behind a proxy.

aiohttp rather than obstore because the engine needs what obstore hides: the status and headers
of every response (``Retry-After``, ``x-amz-bucket-region``, 200-instead-of-206), a read timeout
per socket read (the stall timeout), and no retries of its own (docs/design/transfer.md).
Plain http(s) goes through our own client (``_http1``) unless ``*_proxy`` is set; the logic
both share (error responses, Content-Range, redirects by S3) lives in ``_httpbase``.
"""

from __future__ import annotations

import contextlib
import urllib.request
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from eoaccess.transfer._config import TransferConfig
from eoaccess.transfer._engine import RemoteMeta
from eoaccess.transfer._errors import (
    ConnectError,
    ConnectionLostError,
    RemoteError,
    StallError,
)
from eoaccess.transfer._httpbase import (
    ERROR_BODY_LIMIT,
    MAX_REDIRECT_HOPS,
    ORIGIN,
    ErrorResponse,
    body_position,
    describe,
    head_meta,
    range_header,
    s3_redirect_url,
    stat_with_fallback,
)


async def read_error(response: aiohttp.ClientResponse) -> ErrorResponse:
    """Read a failed response's status, headers and the start of its body, then release it."""
    raw = b""
    try:
        raw = await response.content.read(ERROR_BODY_LIMIT)
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


class HttpBody:
    """A 200/206 response body read in pieces; transport failures become engine errors."""

    def __init__(self, response: aiohttp.ClientResponse, url: str, start: int, stall: float):
        self._response = response
        self._url = url
        self._stall = stall
        self.offset, self.length, self.meta = body_position(
            url, response.status, response.headers, response.content_length, start
        )
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
                f"{self._url}: connection lost after {self.received} bytes ({describe(exc)})"
            ) from None
        self.received += len(data)
        if len(data) > max_bytes:
            data, self._rest = data[:max_bytes], data[max_bytes:]
        return data


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
        origin = ORIGIN.match(url)
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
            raise RemoteError(f"{url}: TLS error: {describe(exc)}") from None
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise ConnectError(f"{url}: cannot connect: {describe(exc)}") from None
        except TimeoutError:
            raise StallError(f"{url}: no answer within the timeout") from None
        except aiohttp.TooManyRedirects:
            raise RemoteError(f"{url}: too many redirects") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise ConnectionLostError(f"{url}: {describe(exc)}") from None

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


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


def meta_from_head(response: aiohttp.ClientResponse) -> RemoteMeta:
    """Size and validators of a HEAD (or ``Range: bytes=0-0``) response."""
    return head_meta(response.status, response.headers, response.content_length)


class HttpBackend:
    """GETs with Range for http(s) URLs; follows redirects, including S3's PermanentRedirect."""

    def __init__(self, config: TransferConfig) -> None:
        self.config = config
        self.client = HttpClient(config, dict(config.headers))

    def host(self, url: str) -> str:
        origin = ORIGIN.match(url)
        return (origin.group(2) if origin else urlsplit(url).netloc).lower()

    async def _send(self, method: str, url: str, headers: Mapping[str, str]) -> Any:
        for _ in range(MAX_REDIRECT_HOPS):
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
