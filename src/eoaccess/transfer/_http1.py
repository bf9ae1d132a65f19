"""The http(s) backend: our own minimal HTTP/1.1 client on asyncio.

Why not aiohttp here: for many small files its per-request machinery cost ~0.25-0.4 ms of CPU
per file and its import ~0.2 s per worker process (docs/design/transfer.md, "Our own HTTP/1.1
client"). The engine needs only GET (with Range) and HEAD on keep-alive connections, so this
client does just that: one ``asyncio.BufferedProtocol`` per connection parses the status line
and headers itself, frames bodies by Content-Length, chunked encoding or connection close,
receives known-length bodies straight into buffers of their size and hands those to
:meth:`Http1Body.read` without joining or copying them.

Not done here: proxies (a configured ``*_proxy`` selects the aiohttp backend instead), request
bodies, pipelining, HTTP/2, cookies, content decoding (we ask for ``identity``).
This module imports neither aiohttp nor yarl, so processes that only see http(s) URLs skip them.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import ssl
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import quote, unquote, urljoin, urlsplit

from eoaccess.errors import InvalidInputError
from eoaccess.transfer._config import TransferConfig
from eoaccess.transfer._engine import Backend, RemoteMeta
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
    range_header,
    s3_redirect_url,
    stat_with_fallback,
)

HEADER_LIMIT = 64 * 1024
"""Largest response head (status line and headers) accepted."""
# The first receive of a response gets its head and the start of its body in a small buffer
# (body bytes in it are copied out); the rest of a known-length body goes straight into
# buffers of its size. nginx and S3 heads are 0.2-1 KiB.
_HEAD_BUFFER = 4 * 1024
_SCRATCH_BUFFER = 256 * 1024
MAX_REDIRECTS = 10
_REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A request target is sent as given (the URL is already encoded) unless it holds characters
# that cannot appear on the request line; only then is it percent-encoded.
_SENDABLE_TARGET = re.compile(r"[!-~]+")
_TARGET_SAFE = "/?&=%:@!$'()*+,;~[]"
_HEADER_TEXT = re.compile(r"[^\r\n\x00]*")
_HEX = re.compile(rb"[0-9A-Fa-f]+")

# Framing of a response body.
_NONE, _LENGTH, _CHUNKED, _UNTIL_CLOSE = range(4)
# Where a chunked body's parser is.
_CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER = range(4)
# What a connection is doing.
_IDLE, _HEAD, _BODY = range(3)


class _ProtocolError(Exception):
    """The server's bytes are not HTTP/1.1 we understand (the message says what)."""


class _Lost(Exception):
    """The connection closed or failed before the response ended (the message says how)."""


@dataclass(frozen=True)
class _Origin:
    """Where requests to one ``scheme://authority`` go, and the header lines they all carry."""

    scheme: str
    host: str
    """Host name or IP address to connect to (IPv6 without brackets)."""
    port: int
    authority: str
    """``host:port`` as written in messages (IPv6 in brackets)."""
    key: str
    """``scheme://host:port``: connections are pooled per key."""
    lines: str
    """``Host`` and fixed header lines, each ending in CRLF."""


class _Connection(asyncio.BufferedProtocol):
    """One keep-alive connection: parses responses and buffers body pieces for the reader.

    A ``BufferedProtocol``: the socket is read straight into buffers this class owns. A body of
    known length is received into buffers of its exact size (at most ``piece_size`` each), so
    its bytes are copied once, from the kernel, and handed to :meth:`read` as they are; only the
    few body bytes that arrive with the headers are copied out of the small head buffer. The
    reader is woken only when ``want`` bytes are buffered or the body ended, so a small file
    costs one wake-up, not one per received piece. Reading pauses above ``high_water``.
    """

    def __init__(self, high_water: int, piece_size: int) -> None:
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        self.high_water = high_water
        self.piece_size = piece_size
        self.closed = False
        self.phase = _IDLE
        self.pieces: deque[bytes] = deque()
        self.buffered = 0
        self.want = 1
        self.paused = False
        self.error: Exception | None = None
        self.got_bytes = False
        """Any byte of the current response arrived (a stale connection gets none)."""
        self.complete = False
        self.reusable = True
        self._method = "GET"
        self._head = bytearray(_HEAD_BUFFER)
        self._head_fill = 0
        self._body: bytearray | None = None
        """The buffer a known-length body is being received into."""
        self._body_fill = 0
        self._scratch: bytearray | None = None
        """Receive buffer for chunked and close-delimited bodies (parsed, then copied out)."""
        self._mode = _NONE
        self._remaining = 0
        self._chunk_state = _CHUNK_SIZE
        self._line = b""
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._stall = 0.0
        self._last_data = 0.0
        self.status = 0
        self.reason = ""
        self.headers: dict[str, str] = {}
        self.content_length: int | None = None

    # -- asyncio callbacks ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        if self.phase == _BODY:
            if self._mode == _LENGTH:
                body = self._body
                if body is None:
                    body = self._body = bytearray(min(self._remaining, self.piece_size))
                    self._body_fill = 0
                return memoryview(body)[self._body_fill :]
            if self._scratch is None:
                self._scratch = bytearray(_SCRATCH_BUFFER)
            return memoryview(self._scratch)
        head = self._head
        if self._head_fill == len(head):  # a long head: grow (the limit is checked on arrival)
            head.extend(bytes(len(head)))
        return memoryview(head)[self._head_fill :]

    def buffer_updated(self, nbytes: int) -> None:
        self._last_data = self.loop.time()
        self.got_bytes = True
        try:
            if self.phase == _BODY:
                if self._mode == _LENGTH:
                    self._received_body(nbytes)
                else:
                    assert self._scratch is not None
                    self._feed(bytes(memoryview(self._scratch)[:nbytes]))
            elif self.phase == _HEAD:
                self._received_head(nbytes)
            else:  # bytes nobody asked for (we never pipeline): the connection is unusable
                self.reusable = False
                self._close_transport()
        except _ProtocolError as exc:
            self._fail(exc)

    def eof_received(self) -> bool | None:
        self._ended(None)
        return None  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended(exc)

    # -- request side --------------------------------------------------------------------------

    def usable(self) -> bool:
        """Idle, open and not told to close: a next request may go on it."""
        transport = self.transport
        return (
            not self.closed
            and self.reusable
            and self.phase == _IDLE
            and transport is not None
            and not transport.is_closing()
        )

    def send(self, method: str, request: bytes) -> None:
        """Start an exchange: reset the response state and write the request."""
        self._method = method
        self.phase = _HEAD
        self._head_fill = 0
        self._body = None
        self.pieces.clear()
        self.buffered = 0
        self.complete = False
        self.error = None
        self.got_bytes = False
        assert self.transport is not None
        self.transport.write(request)

    async def wait_head(self, stall: float) -> None:
        """Wait until the status line and headers are parsed; raise _Lost, _ProtocolError or
        TimeoutError (no byte for ``stall`` seconds)."""
        while self.phase == _HEAD:
            if self.error is not None:
                raise self.error
            await self._wait(stall)

    async def read(self, max_bytes: int, stall: float) -> bytes:
        """The next buffered piece of the body (at most ``max_bytes``), ``b""`` at its end.

        Pieces are handed over as received, never joined (a piece may be a ``bytearray``).
        """
        pieces = self.pieces
        while not pieces:
            if self.complete:
                return b""
            if self.error is not None:
                raise self.error
            self.want = min(max_bytes, self.high_water)
            await self._wait(stall)
        data = pieces.popleft()
        if len(data) > max_bytes:
            pieces.appendleft(data[max_bytes:])
            data = data[:max_bytes]
        self.buffered -= len(data)
        if self.paused and self.buffered <= self.high_water // 4:
            self.paused = False
            if self.transport is not None and not self.closed:
                self.transport.resume_reading()
        return data

    def finished(self) -> bool:
        """The response was read to its end and the connection may carry another request."""
        return self.complete and self.reusable and not self.pieces and not self.closed

    def close(self) -> None:
        self.reusable = False
        self._close_transport()

    # -- internals -----------------------------------------------------------------------------

    async def _wait(self, stall: float) -> None:
        """Sleep until woken by data, the end or an error (a stall sets ``error``)."""
        waiter = self._waiter = self.loop.create_future()
        self._last_data = self.loop.time()
        if self._timer is None or stall < self._stall:
            # One watchdog per connection, left armed across waits and moved on only when it
            # fires: a timer per wait (armed, then cancelled) cost ~3 % of a small file's CPU.
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_later(stall, self._check_stall)
        self._stall = stall
        try:
            await waiter
        finally:
            self._waiter = None

    def _check_stall(self) -> None:
        # Still "no byte for ``stall`` seconds while waiting": the deadline is moved on by the
        # time since the last byte (or the start of the current wait).
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done() or self.closed:
            return  # nothing waits: disarmed until the next wait
        quiet = self.loop.time() - self._last_data
        if quiet < self._stall:
            self._timer = self.loop.call_later(self._stall - quiet, self._check_stall)
        else:
            self._fail(TimeoutError(f"no data for {self._stall:g} s"))

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, exc: Exception) -> None:
        """Stop this response with ``exc``; bytes received so far still reach the reader."""
        if self.error is None:
            self.error = exc
        self.reusable = False
        body = self._body
        if body is not None and self._body_fill:
            self._body = None
            self._push(body[: self._body_fill])  # a copy: the transport may still view it
        self._close_transport()
        self._wake()

    def _close_transport(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def _ended(self, exc: Exception | None) -> None:
        """The peer closed (``exc`` None) or the connection failed."""
        was_closed, self.closed = self.closed, True
        self.reusable = False
        if self._timer is not None:  # the watchdog would keep this connection alive
            self._timer.cancel()
            self._timer = None
        if was_closed:
            return
        if self.phase == _BODY and self._mode == _UNTIL_CLOSE and exc is None and not self.error:
            self._finish()  # a close-delimited body ends here (unless we closed it: a stall)
        elif self.phase != _IDLE and not self.complete:
            if exc is not None:
                reason = describe(exc)
            elif self.phase == _HEAD:
                reason = "server closed the connection before answering"
            else:
                reason = "server closed the connection before the end of the body"
            self._fail(_Lost(reason))
        self._wake()

    def _received_head(self, nbytes: int) -> None:
        head = self._head
        start = max(self._head_fill - 3, 0)
        self._head_fill += nbytes
        end = head.find(b"\r\n\r\n", start, self._head_fill)
        while end >= 0 and end <= HEADER_LIMIT:
            rest = bytes(memoryview(head)[end + 4 : self._head_fill])
            final = self._parse_head(bytes(memoryview(head)[:end]))
            self._head_fill = 0
            if final:
                self.phase = _BODY
                self._start_body()
                if rest:
                    self._feed(rest)
                self._wake()
                return
            head[: len(rest)] = rest  # an interim 1xx answer: parse what followed it
            self._head_fill = len(rest)
            end = head.find(b"\r\n\r\n", 0, self._head_fill)
        if self._head_fill > HEADER_LIMIT:
            raise _ProtocolError(f"response headers exceed {HEADER_LIMIT // 1024} KiB")

    def _received_body(self, nbytes: int) -> None:
        self._body_fill += nbytes
        self._remaining -= nbytes
        body = self._body
        assert body is not None
        if self._body_fill == len(body):  # full: hand it over as it is, no copy
            self._body = None
            self._push(body)  # type: ignore[arg-type]  # bytes-like; writev and hashes take it
            if not self._remaining:
                self._finish()

    def _parse_head(self, head: bytes) -> bool:
        """Parse a status line and headers; False for an interim 1xx response."""
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise _ProtocolError(f"not an HTTP/1.x response: {lines[0][:80]!r}")
        status = int(code)
        if 100 <= status < 200 and status != 101:
            return False
        headers: dict[str, str] = {}
        name = ""
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and name:  # obsolete line folding: continues a value
                headers[name] += " " + line.strip()
                continue
            name, colon, value = line.partition(":")
            if not colon:
                raise _ProtocolError(f"malformed header line {line[:80]!r}")
            name = name.strip().lower()
            value = value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self.status, self.reason, self.headers = status, reason.strip(), headers
        tokens = headers.get("connection", "").lower()
        if "close" in tokens or (version == "HTTP/1.0" and "keep-alive" not in tokens):
            self.reusable = False
        return True

    def _start_body(self) -> None:
        headers = self.headers
        self.content_length = None
        if "content-length" in headers:
            values = {v.strip() for v in headers["content-length"].split(",")}
            value = values.pop()
            if values or not value.isdigit():
                raise _ProtocolError(f"invalid Content-Length {headers['content-length']!r}")
            self.content_length = int(value)
        status = self.status
        if self._method == "HEAD" or status in (204, 304) or status < 200:
            self._mode = _NONE
            self._finish()
            return
        coding = headers.get("transfer-encoding")
        if coding is not None:
            self.content_length = None  # Transfer-Encoding wins over Content-Length
            if coding.rsplit(",", 1)[-1].strip().lower() == "chunked":
                self._mode, self._chunk_state, self._line = _CHUNKED, _CHUNK_SIZE, b""
            else:
                self._mode, self.reusable = _UNTIL_CLOSE, False
        elif self.content_length is not None:
            self._mode, self._remaining = _LENGTH, self.content_length
            if not self._remaining:
                self._finish()
        else:
            self._mode, self.reusable = _UNTIL_CLOSE, False

    def _finish(self) -> None:
        self.complete = True
        self.phase = _IDLE
        self._wake()

    def _push(self, data: bytes) -> None:
        self.pieces.append(data)
        self.buffered += len(data)
        if self.buffered >= self.want:
            self._wake()
        if self.buffered > self.high_water and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def _feed(self, data: bytes) -> None:
        mode = self._mode
        if mode == _LENGTH:
            size, remaining = len(data), self._remaining
            if size < remaining:  # the common case: a piece of the body
                self._remaining = remaining - size
                self._push(data)
                return
            if size > remaining:  # bytes after the body: never reuse this connection
                self.reusable = False
                data = data[:remaining]
            self._remaining = 0
            if data:
                self._push(data)
            self._finish()
        elif mode == _CHUNKED:
            self._feed_chunked(data)
        elif mode == _UNTIL_CLOSE:
            self._push(data)
        else:
            self.reusable = False

    def _feed_chunked(self, data: bytes) -> None:
        position, size = 0, len(data)
        while position < size and not self.complete:
            if self._chunk_state == _CHUNK_DATA:
                take = min(self._remaining, size - position)
                self._push(data if take == size else data[position : position + take])
                position += take
                self._remaining -= take
                if not self._remaining:
                    self._chunk_state = _CHUNK_END
                continue
            newline = data.find(b"\n", position)
            if newline < 0:
                self._line += data[position:]
                if len(self._line) > HEADER_LIMIT:
                    raise _ProtocolError("chunk header line too long")
                return
            line = (self._line + data[position:newline]).rstrip(b"\r")
            self._line = b""
            position = newline + 1
            self._chunk_line(line)
        if position < size:
            self.reusable = False  # bytes after the body

    def _chunk_line(self, line: bytes) -> None:
        state = self._chunk_state
        if state == _CHUNK_SIZE:
            digits = line.split(b";", 1)[0].strip()
            if not _HEX.fullmatch(digits):
                raise _ProtocolError(f"invalid chunk size {line[:40]!r}")
            self._remaining = int(digits, 16)
            self._chunk_state = _CHUNK_DATA if self._remaining else _TRAILER
        elif state == _CHUNK_END:
            if line:
                raise _ProtocolError("chunk data longer than its declared size")
            self._chunk_state = _CHUNK_SIZE
        elif not line:  # the empty line that ends the trailers
            self._finish()


class _HostPool:
    """Connections to one origin: idle ones (most recent last), how many exist, who waits."""

    def __init__(self) -> None:
        self.idle: list[_Connection] = []
        self.count = 0
        self.waiters: deque[asyncio.Future[_Connection | None]] = deque()
        self.closed = False


class Http1Response:
    """A response whose head was read; its body is read through :class:`Http1Body`."""

    def __init__(self, backend: Http1Backend, pool: _HostPool, connection: _Connection) -> None:
        self._backend = backend
        self._pool = pool
        self.connection = connection
        self.status = connection.status
        self.reason = connection.reason
        self.headers = connection.headers
        self.content_length = connection.content_length
        self._done = False

    def close(self) -> None:
        """Done with it: the connection goes back to the pool only if the body was read whole."""
        if self._done:
            return
        self._done = True
        if self.connection.finished():
            self._backend._release(self._pool, self.connection)
        else:
            self._backend._discard(self._pool, self.connection)

    async def read_error(self, stall: float) -> ErrorResponse:
        """Read up to 64 KiB of an error body for its message, then close."""
        pieces: list[bytes] = []
        size = 0
        try:
            while size < ERROR_BODY_LIMIT:
                data = await self.connection.read(ERROR_BODY_LIMIT - size, stall)
                if not data:
                    break
                pieces.append(data)
                size += len(data)
        except (TimeoutError, _Lost, _ProtocolError):
            pass  # the status says enough
        self.close()
        text = b"".join(pieces).decode("utf-8", "replace")
        return ErrorResponse(self.status, self.reason, self.headers, text)


class Http1Body:
    """A 200/206 response body read in pieces; transport failures become engine errors."""

    def __init__(self, response: Http1Response, url: str, start: int, stall: float) -> None:
        self._connection = response.connection
        self._url = url
        self._stall = stall
        self.offset, self.length, self.meta = body_position(
            url, response.status, response.headers, response.content_length, start
        )
        self.received = 0

    async def read(self, max_bytes: int) -> bytes:
        try:
            data = await self._connection.read(max_bytes, self._stall)
        except TimeoutError:
            raise StallError(
                f"{self._url}: no data for {self._stall:g} s after {self.received} bytes"
            ) from None
        except (_Lost, _ProtocolError) as exc:
            raise ConnectionLostError(
                f"{self._url}: connection lost after {self.received} bytes ({exc})"
            ) from None
        self.received += len(data)
        return data


class _Opened:
    """``async with backend.open(...)``: a class, not a generator, as this runs per file."""

    def __init__(self, backend: Http1Backend, url: str, start: int, end: int | None) -> None:
        self._backend = backend
        self._url = url
        self._start = start
        self._end = end
        self._response: Http1Response | None = None

    async def __aenter__(self) -> Http1Body:
        backend = self._backend
        url, response = await backend._send("GET", self._url, range_header(self._start, self._end))
        self._response = response
        try:
            return Http1Body(response, url, self._start, backend.config.stall_timeout)
        except BaseException:
            response.close()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._response is not None:
            self._response.close()


def _header_lines(headers: Mapping[str, str] | tuple[tuple[str, str], ...]) -> str:
    """``Name: value`` lines; refuses CR/LF in names or values (they would forge headers)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    lines = []
    for name, value in pairs:
        if not (_HEADER_TEXT.fullmatch(name) and _HEADER_TEXT.fullmatch(value)) or ":" in name:
            raise InvalidInputError(f"invalid HTTP header {name!r}: {value!r}")
        line = f"{name}: {value}\r\n"
        try:
            line.encode("latin-1")  # what HTTP/1.1 header bytes are
        except UnicodeEncodeError:
            raise InvalidInputError(f"HTTP header {name!r} is not latin-1 text") from None
        lines.append(line)
    return "".join(lines)


class Http1Backend:
    """GET (with Range) and HEAD for http(s) URLs over pooled keep-alive HTTP/1.1 connections.

    Follows redirects (Location, at most 10) and S3's PermanentRedirect (no Location, the
    endpoint in the XML body), like the aiohttp backend it replaces for these schemes.
    """

    def __init__(self, config: TransferConfig) -> None:
        keep_freed_memory()
        self.config = config
        self._limit = config.host_limit
        # The reader pauses the socket above this: two batches of the engine.
        self._high_water = 2 * config.chunk_size
        # Receive buffers of known-length bodies: whole small files, 1 MiB pieces of large ones.
        self._piece_size = max(64 * 1024, min(config.chunk_size, 1024 * 1024))
        user = dict(config.headers)
        lowered = {name.lower() for name in user}
        defaults = {"User-Agent": "eoaccess", "Accept-Encoding": "identity"}
        fixed = {k: v for k, v in defaults.items() if k.lower() not in lowered}
        # Authorization goes only to the origin of the URL asked for, not across a redirect.
        auth = {k: v for k, v in user.items() if k.lower() == "authorization"}
        fixed.update((k, v) for k, v in user.items() if k.lower() != "authorization")
        self._fixed_lines = _header_lines(fixed)
        self._auth_lines = _header_lines(auth)
        self._origins: dict[str, _Origin] = {}
        self._pools: dict[str, _HostPool] = {}
        self._ssl: ssl.SSLContext | None = None

    # -- Backend protocol ----------------------------------------------------------------------

    def host(self, url: str) -> str:
        origin = ORIGIN.match(url)
        return (origin.group(2) if origin else urlsplit(url).netloc).lower()

    def open(self, url: str, start: int = 0, end: int | None = None) -> _Opened:
        return _Opened(self, url, start, end)

    async def stat(self, url: str) -> RemoteMeta:
        # Some servers (and presigned URLs) refuse HEAD, and S3 explains a region redirect
        # only in a body: those answers are retried as a one-byte GET.
        return await stat_with_fallback(self._send, url, frozenset({301, 403, 405, 501}))

    async def aclose(self) -> None:
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.closed = True
            for connection in pool.idle:
                connection.close()
            pool.idle.clear()

    # -- requests ------------------------------------------------------------------------------

    async def _send(
        self, method: str, url: str, headers: Mapping[str, str]
    ) -> tuple[str, Http1Response]:
        """Send one request, following redirects; return the URL to name and a 2xx response."""
        named, current = url, url
        origin, target = self._origin_of(url)
        first = origin
        redirects = s3_hops = 0
        stall = self.config.stall_timeout
        while True:
            response = await self._request(
                method, current, origin, target, headers, authorized=origin is first
            )
            status = response.status
            if status < 300:
                return named, response
            location = response.headers.get("location") if status in _REDIRECT_STATUS else None
            error = await response.read_error(stall)
            if location:
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise RemoteError(f"{url}: too many redirects (more than {MAX_REDIRECTS})")
                current = urljoin(current, location.strip())
                if not current.lower().startswith(("http://", "https://")):
                    raise RemoteError(f"{url}: redirected to a non-http(s) URL {current}")
                origin, target = self._origin_of(current)
                continue
            target_url = s3_redirect_url(current, error)
            if target_url is None:
                raise error.to_error(named)
            s3_hops += 1
            if s3_hops >= MAX_REDIRECT_HOPS:
                raise RemoteError(f"{named}: too many S3 region redirects")
            named = current = target_url
            origin, target = self._origin_of(current)

    def _origin_of(self, url: str) -> tuple[_Origin, str]:
        """The origin of ``url`` (cached per scheme and authority) and its request target."""
        match = ORIGIN.match(url)
        if match is None:
            raise RemoteError(f"not an absolute http(s) URL: {url}")
        prefix = match.group(0)
        origin = self._origins.get(prefix)
        if origin is None:
            origin = self._origins[prefix] = self._parse_origin(
                match.group(1).lower(), match.group(2), url
            )
        target = url[len(prefix) :].partition("#")[0]
        if not target.startswith("/"):
            target = "/" + target
        if not _SENDABLE_TARGET.fullmatch(target):
            target = quote(target, safe=_TARGET_SAFE)
        return origin, target

    def _parse_origin(self, scheme: str, authority: str, url: str) -> _Origin:
        if scheme not in _DEFAULT_PORTS:
            raise RemoteError(f"not an http(s) URL: {url}")
        userinfo, at, hostport = authority.rpartition("@")
        if hostport.startswith("["):  # IPv6 literal
            host, bracket, port_text = hostport[1:].partition("]")
            if not bracket or (port_text and not port_text.startswith(":")):
                raise RemoteError(f"invalid host in URL {url}")
            port_text = port_text[1:]
            shown = f"[{host}]"
        else:
            host, _, port_text = hostport.partition(":")
            shown = host
        if not host or (port_text and not port_text.isdigit()):
            raise RemoteError(f"invalid host or port in URL {url}")
        if not host.isascii():  # an internationalised name: its ASCII (punycode) form
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise RemoteError(f"invalid host name in URL {url}") from None
            shown = host
        port = int(port_text) if port_text else _DEFAULT_PORTS[scheme]
        default = port == _DEFAULT_PORTS[scheme]
        host_header = shown if default else f"{shown}:{port}"
        lines = f"Host: {host_header}\r\n" + self._fixed_lines
        if at:  # credentials in the URL: HTTP basic authentication, as browsers and curl do
            token = base64.b64encode(unquote(userinfo).encode()).decode("ascii")
            lines += f"Authorization: Basic {token}\r\n"
        authority = f"{shown}:{port}".lower()
        return _Origin(scheme, host.lower(), port, authority, f"{scheme}://{authority}", lines)

    async def _request(
        self,
        method: str,
        url: str,
        origin: _Origin,
        target: str,
        headers: Mapping[str, str],
        authorized: bool,
    ) -> Http1Response:
        """One request/response head on a pooled connection; a stale one is replaced once."""
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items()) if headers else ""
        auth = self._auth_lines if authorized else ""
        request = f"{method} {target} HTTP/1.1\r\n{origin.lines}{auth}{extra}\r\n".encode("latin-1")
        pool = self._pools.get(origin.key)
        if pool is None:
            pool = self._pools[origin.key] = _HostPool()
        stall = self.config.stall_timeout
        for fresh in (False, True):
            connection, reused = await self._acquire(pool, origin, url, fresh)
            try:
                connection.send(method, request)
                await connection.wait_head(stall)
            except _Lost as exc:
                self._discard(pool, connection)
                if reused and not fresh and not connection.got_bytes:
                    continue  # the server closed this idle keep-alive connection: use a new one
                raise ConnectionLostError(f"{url}: {exc}") from None
            except TimeoutError:
                self._discard(pool, connection)
                raise StallError(f"{url}: no answer within {stall:g} s") from None
            except _ProtocolError as exc:
                self._discard(pool, connection)
                raise RemoteError(f"{url}: invalid HTTP response: {exc}") from None
            except BaseException:
                self._discard(pool, connection)
                raise
            return Http1Response(self, pool, connection)
        raise AssertionError("unreachable: the second attempt returns or raises")

    # -- the pool ------------------------------------------------------------------------------

    async def _acquire(
        self, pool: _HostPool, origin: _Origin, url: str, fresh: bool
    ) -> tuple[_Connection, bool]:
        """An idle connection (unless ``fresh``), else a new one within the per-host limit."""
        if not fresh:
            while pool.idle:
                connection = pool.idle.pop()
                if connection.usable():
                    return connection, True
                self._discard(pool, connection)
        if pool.count < self._limit:
            pool.count += 1
        else:
            waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
            pool.waiters.append(waiter)
            try:
                handed = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():  # handed over as we were cancelled
                    handed = waiter.result()
                    if handed is None:
                        self._free_slot(pool)
                    else:
                        self._release(pool, handed)
                raise
            if handed is not None:
                if handed.usable():
                    return handed, True
                handed.close()  # dead: keep its slot for a new connection
        try:
            return await self._connect(origin, url), False
        except BaseException:
            self._free_slot(pool)
            raise

    def _release(self, pool: _HostPool, connection: _Connection) -> None:
        """A connection whose response was read whole: to a waiting request, else idle."""
        while pool.waiters:
            waiter = pool.waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if pool.closed:  # the backend was closed while this response was read
            connection.close()
            pool.count -= 1
            return
        pool.idle.append(connection)

    def _discard(self, pool: _HostPool, connection: _Connection) -> None:
        connection.close()
        self._free_slot(pool)

    def _free_slot(self, pool: _HostPool) -> None:
        while pool.waiters:
            waiter = pool.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the waiter may open a connection in this slot
                return
        pool.count -= 1

    async def _connect(self, origin: _Origin, url: str) -> _Connection:
        loop = asyncio.get_running_loop()
        secure = origin.scheme == "https"
        if secure and self._ssl is None:
            # the system's trust store; SSL_CERT_FILE / SSL_CERT_DIR are honoured by OpenSSL
            self._ssl = ssl.create_default_context()
        timeout = self.config.connect_timeout
        high_water, piece_size = self._high_water, self._piece_size
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(high_water, piece_size),
                    origin.host,
                    origin.port,
                    ssl=self._ssl if secure else None,
                    server_hostname=origin.host if secure else None,
                )
        except TimeoutError:
            raise ConnectError(
                f"{url}: cannot connect to {origin.authority}: no connection within {timeout:g} s"
            ) from None
        except (ssl.SSLError, ssl.CertificateError) as exc:
            raise RemoteError(f"{url}: TLS error: {describe(exc)}") from None
        except OSError as exc:
            raise ConnectError(
                f"{url}: cannot connect to {origin.authority}: {describe(exc)}"
            ) from None
        return connection


_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt() parameters
_allocator_tuned = False


def keep_freed_memory() -> None:
    """Ask glibc's malloc to keep freed memory for reuse (once per process, best effort).

    Every response body is a fresh buffer of up to 1 MiB. By default glibc serves such sizes
    with mmap() or returns the top of the heap to the system as soon as it is freed, so each
    file's buffer starts on new pages: ~64 page faults per 256 KiB file, which measured as the
    largest single CPU cost of downloading many small files. Serving up to 4 MiB from the heap
    and trimming it only above 64 MiB free reuses warm pages instead (RSS then stays near its
    peak). Skipped when the user tunes malloc through the environment, and off glibc.
    """
    global _allocator_tuned
    if _allocator_tuned:
        return
    _allocator_tuned = True
    if any(name.startswith("MALLOC_") for name in os.environ) or "malloc" in os.environ.get(
        "GLIBC_TUNABLES", ""
    ):
        return
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return
        import ctypes  # only here: ~5 ms to import, needed once

        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, 4 * 1024 * 1024)
        libc.mallopt(_M_TRIM_THRESHOLD, 64 * 1024 * 1024)
    except (AttributeError, OSError, ValueError):
        return  # not glibc, or no mallopt: nothing to tune


def proxy_configured() -> bool:
    """True when ``http_proxy``/``https_proxy``/``all_proxy`` (any case) is set.

    Read from ``os.environ`` directly: ``urllib.request`` costs ~7 ms to import per process.
    """
    return any(value and name.lower() in _PROXY_VARIABLES for name, value in os.environ.items())


def create_backend(config: TransferConfig) -> Backend:
    """Registry entry for http and https: this client, or aiohttp's when a proxy is configured."""
    if proxy_configured():
        from eoaccess.transfer import _http  # proxies (CONNECT, no_proxy) are aiohttp's job

        return _http.HttpBackend(config)
    return Http1Backend(config)


__all__ = ["Http1Backend", "Http1Body", "Http1Response", "create_backend", "proxy_configured"]
