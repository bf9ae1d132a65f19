"""Our HTTP/1.1 client (``_http1``) against raw servers on loopback whose bytes the tests write.

The fault server covers drops, truncation, stalls, error statuses and Range; these tests cover
what it cannot produce: chunked bodies, a keep-alive connection the server closed while idle,
redirects with Location, HEAD, oversized headers, IPv6, the per-host connection limit.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from eoaccess.errors import InvalidInputError
from eoaccess.transfer import TransferConfig, TransferEngine
from eoaccess.transfer._errors import ConnectionLostError, RemoteError, StallError
from eoaccess.transfer._http1 import Http1Backend, create_backend
from tests.harness.faults import FaultServer
from tests.transfer.conftest import payload

DATA = payload(300_000)


@dataclass(frozen=True)
class Request:
    """One request as the raw server read it."""

    method: str
    target: str
    headers: dict[str, str]
    connection: int
    """Number of the TCP connection it came on (1, 2, …)."""
    index: int
    """Its position on that connection (0 for the first)."""


Answer = Callable[[Request], bytes | None]
"""The raw bytes to send back, or None to close the connection without answering."""


@dataclass
class RawServer:
    """An asyncio HTTP/1.1 server whose answers are raw bytes chosen per request."""

    answer: Answer
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    url: str = ""
    keep_open: bool = False
    """Never close after an answer (a server that stalls)."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            for index in range(1000):
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ")
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                request = Request(method, target, headers, number, index)
                self.requests.append(request)
                reply = self.answer(request)
                if reply is None:
                    return
                writer.write(reply)
                await writer.drain()
                if server_closes(reply) and not self.keep_open:
                    return
        finally:
            self.open_now -= 1
            writer.close()


def server_closes(reply: bytes) -> bool:
    """The reply ends at close (the tests' bodies are random: they never hold these bytes)."""
    return b"Connection: close" in reply or b"HTTP/1.0 " in reply


def response(
    body: bytes, status: str = "200 OK", headers: dict[str, str] | None = None, head: bool = False
) -> bytes:
    """A Content-Length response (its body left out for HEAD)."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", 'ETag: "v1"']
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (b"" if head else body)


def chunked(body: bytes, sizes: list[int]) -> bytes:
    """A chunked response cutting ``body`` at ``sizes``, with a chunk extension and a trailer."""
    out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    position = 0
    for size in sizes:
        piece = body[position : position + size]
        out += f"{len(piece):X};ext=1\r\n".encode() + piece + b"\r\n"
        position += size
    assert position == len(body)
    return out + b"0\r\nX-Checksum: none\r\n\r\n"


def run_with(
    server: RawServer,
    client: Callable[[Http1Backend, str], Awaitable[object]],
    config: TransferConfig | None = None,
    host: str = "127.0.0.1",
) -> object:
    """Start ``server`` on a free loopback port, run ``client(backend, url)``, stop both."""

    async def go() -> object:
        listener = await asyncio.start_server(server.handle, host, 0)
        port = listener.sockets[0].getsockname()[1]
        server.url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
        backend = Http1Backend(config or TransferConfig(stall_timeout=5.0, connect_timeout=5.0))
        try:
            return await client(backend, server.url)
        finally:
            await backend.aclose()
            listener.close()
            await listener.wait_closed()

    return asyncio.run(go())


async def read_all(backend: Http1Backend, url: str, start: int = 0) -> bytes:
    async with backend.open(url, start) as body:
        pieces = []
        while data := await body.read(64 * 1024):
            pieces.append(data)
    return b"".join(pieces)


def test_chunked_bodies_are_decoded_and_the_connection_reused() -> None:
    sizes = [1, 65_535, 100_000, 134_464]  # one-byte chunk, odd sizes, splits inside pieces
    server = RawServer(lambda r: chunked(DATA, sizes))

    async def client(backend: Http1Backend, url: str) -> list[bytes]:
        return [await read_all(backend, url + "/a"), await read_all(backend, url + "/b")]

    assert run_with(server, client) == [DATA, DATA]
    assert [(r.connection, r.index) for r in server.requests] == [(1, 0), (1, 1)]


def test_malformed_chunk_size_is_a_lost_connection_not_a_crash() -> None:
    server = RawServer(
        lambda r: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n"
    )

    async def client(backend: Http1Backend, url: str) -> None:
        await read_all(backend, url + "/x")

    with pytest.raises(ConnectionLostError, match=r"/x: connection lost after 5 bytes \(invalid"):
        run_with(server, client)


def test_idle_connection_closed_by_the_server_is_replaced_transparently() -> None:
    # Like nginx after keepalive_timeout: the server drops an idle connection, here just as
    # the next request arrives on it (no byte of an answer), so the client must retry.
    def answer(request: Request) -> bytes | None:
        return None if request.index == 1 else response(DATA[:1000])

    server = RawServer(answer)

    async def client(backend: Http1Backend, url: str) -> list[bytes]:
        return [await read_all(backend, url + "/one"), await read_all(backend, url + "/two")]

    assert run_with(server, client) == [DATA[:1000], DATA[:1000]]
    assert [(r.target, r.connection, r.index) for r in server.requests] == [
        ("/one", 1, 0),
        ("/two", 1, 1),  # closed unanswered on the reused connection
        ("/two", 2, 0),  # the same request again on a fresh one
    ]


def test_a_fresh_connection_closed_before_answering_is_an_engine_error() -> None:
    server = RawServer(lambda r: None)

    async def client(backend: Http1Backend, url: str) -> None:
        await read_all(backend, url + "/gone")

    with pytest.raises(
        ConnectionLostError, match=r"/gone: server closed the connection before answering$"
    ):
        run_with(server, client)
    assert len(server.requests) == 1  # not retried by the backend (the engine retries)


def test_redirects_with_location_are_followed_and_authorization_stays_home() -> None:
    other = RawServer(lambda r: response(DATA[:5000]))

    def answer(request: Request) -> bytes:
        if request.target == "/old":
            return response(b"moved", "301 Moved Permanently", {"Location": "/new?x=1"})
        return response(b"", "307 Temporary Redirect", {"Location": other.url + "/elsewhere"})

    server = RawServer(answer)
    config = TransferConfig(headers={"Authorization": "Bearer t0k", "X-Trace": "7"})

    async def client(backend: Http1Backend, url: str) -> bytes:
        listener = await asyncio.start_server(other.handle, "127.0.0.1", 0)
        other.url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
        try:
            return await read_all(backend, url + "/old")
        finally:
            listener.close()

    assert run_with(server, client, config) == DATA[:5000]
    assert [r.target for r in server.requests] == ["/old", "/new?x=1"]
    assert server.requests[1].connection == 1  # the redirect's small body was read: reused
    (moved,) = other.requests
    assert moved.target == "/elsewhere"
    assert server.requests[0].headers["authorization"] == "Bearer t0k"
    assert "authorization" not in moved.headers and moved.headers["x-trace"] == "7"


def test_redirect_loops_end_with_a_clear_error() -> None:
    server = RawServer(lambda r: response(b"", "302 Found", {"Location": "/loop"}))

    async def client(backend: Http1Backend, url: str) -> None:
        await read_all(backend, url + "/loop")

    with pytest.raises(RemoteError, match=r"/loop: too many redirects \(more than 10\)$"):
        run_with(server, client)
    assert len(server.requests) == 11


def test_head_has_no_body_and_keeps_the_connection() -> None:
    def answer(request: Request) -> bytes:
        headers = {"Last-Modified": "Tue, 14 Nov 2023 22:13:20 GMT"}
        return response(DATA, headers=headers, head=request.method == "HEAD")

    server = RawServer(answer)

    async def client(backend: Http1Backend, url: str) -> tuple[object, bytes]:
        meta = await backend.stat(url + "/f")
        return meta, await read_all(backend, url + "/f", start=0)

    meta, data = run_with(server, client)  # type: ignore[misc]
    assert (meta.size, meta.etag, meta.last_modified) == (
        len(DATA),
        '"v1"',
        "Tue, 14 Nov 2023 22:13:20 GMT",
    )
    assert data == DATA
    assert [(r.method, r.connection) for r in server.requests] == [("HEAD", 1), ("GET", 1)]
    assert server.requests[0].headers["accept-encoding"] == "identity"


def test_oversized_headers_are_refused_with_a_clear_error() -> None:
    server = RawServer(lambda r: response(b"x", headers={"X-Big": "a" * 70_000}))

    async def client(backend: Http1Backend, url: str) -> None:
        await read_all(backend, url + "/big")

    with pytest.raises(
        RemoteError, match=r"/big: invalid HTTP response: response headers exceed 64 KiB$"
    ) as caught:
        run_with(server, client)
    assert not caught.value.retryable


def test_garbage_instead_of_http_is_refused() -> None:
    server = RawServer(lambda r: b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    async def client(backend: Http1Backend, url: str) -> None:
        await read_all(backend, url + "/x")

    with pytest.raises(RemoteError, match=r"not an HTTP/1.x response: 'SSH-2.0-OpenSSH_9.6'$"):
        run_with(server, client)


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_ipv6_literal_hosts() -> None:
    server = RawServer(lambda r: response(DATA[:777]))

    async def client(backend: Http1Backend, url: str) -> tuple[bytes, str]:
        return await read_all(backend, url + "/v6%20x?q=a%2Fb"), backend.host(url + "/v6")

    data, host = run_with(server, client, host="::1")  # type: ignore[misc]
    assert data == DATA[:777]
    port = server.url.rsplit(":", 1)[1]
    assert host == f"[::1]:{port}"
    (request,) = server.requests
    assert (request.target, request.headers["host"]) == ("/v6%20x?q=a%2Fb", f"[::1]:{port}")


def test_connections_per_host_stay_within_the_limit() -> None:
    server = RawServer(lambda r: response(DATA[:20_000]))
    config = TransferConfig(concurrency=2)

    async def client(backend: Http1Backend, url: str) -> list[bytes]:
        return list(await asyncio.gather(*(read_all(backend, f"{url}/{i}") for i in range(8))))

    assert run_with(server, client, config) == [DATA[:20_000]] * 8
    assert server.most_open <= 2 and server.connections == 2
    assert len(server.requests) == 8


def test_default_port_and_host_header_and_user_headers() -> None:
    backend = Http1Backend(TransferConfig(headers={"accept-encoding": "gzip"}))
    origin, target = backend._origin_of("http://User:p%40ss@Example.COM/a%2Fb?c#frag")
    assert (origin.host, origin.port, origin.key, target) == (
        "example.com",
        80,
        "http://example.com:80",
        "/a%2Fb?c",
    )
    assert origin.lines == (
        "Host: Example.COM\r\nUser-Agent: eoaccess\r\naccept-encoding: gzip\r\n"
        "Authorization: Basic VXNlcjpwQHNz\r\n"
    )
    assert backend._origin_of("https://h:8443?x")[1] == "/?x"
    idn, target = backend._origin_of("http://bücher.example:8080/ä b")
    assert (idn.key, idn.lines.split("\r\n")[0], target) == (
        "http://xn--bcher-kva.example:8080",
        "Host: xn--bcher-kva.example:8080",
        "/%C3%A4%20b",
    )
    with pytest.raises(InvalidInputError, match="invalid HTTP header 'X-Evil'"):
        Http1Backend(TransferConfig(headers={"X-Evil": "a\r\nHost: b"}))


def test_a_configured_proxy_selects_the_aiohttp_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert type(create_backend(TransferConfig())).__name__ == "HttpBackend"
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.delenv("https_proxy", raising=False)
    assert type(create_backend(TransferConfig())).__name__ == "Http1Backend"


def test_http_downloads_do_not_import_aiohttp(fault_server: FaultServer, tmp_path: Path) -> None:
    url = fault_server.put("/small.bin", DATA)
    script = (
        "import sys\n"
        "from eoaccess.transfer import download\n"
        f"result = download([({url!r}, 'small.bin')], {str(tmp_path)!r})\n"
        "assert result.ok, result.summary()\n"
        "print(sorted(m for m in ('aiohttp', 'yarl', 'multidict') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
    assert (tmp_path / "small.bin").read_bytes() == DATA


def test_engine_downloads_through_it_with_a_stale_connection_in_between(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    urls = [fault_server.put(f"/f{i}.bin", DATA[: 1000 * (i + 1)]) for i in range(3)]

    async def go() -> None:
        async with TransferEngine(TransferConfig(concurrency=1)) as engine:
            await engine.fetch(urls[0], tmp_path / "0")
            backend = engine.backend(urls[0])
            assert isinstance(backend, Http1Backend)
            (pool,) = backend._pools.values()
            (idle,) = pool.idle
            assert idle.transport is not None
            idle.transport.abort()  # as if the server had dropped it
            await engine.fetch(urls[1], tmp_path / "1")
            await engine.fetch(urls[2], tmp_path / "2")

    asyncio.run(go())
    assert [(tmp_path / str(i)).read_bytes() for i in range(3)] == [
        DATA[:1000],
        DATA[:2000],
        DATA[:3000],
    ]
    assert len({r.client for r in fault_server.log}) == 2


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl CLI) and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = (
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
        " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
    )
    subprocess.run(
        [*command.split(), "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _https(server: RawServer, certificate: tuple[Path, Path], path: str) -> object:
    import ssl

    async def go() -> object:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*certificate)
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=context)
        url = f"https://127.0.0.1:{listener.sockets[0].getsockname()[1]}{path}"
        backend = Http1Backend(TransferConfig(stall_timeout=5.0, connect_timeout=5.0))
        try:
            return [await read_all(backend, url), await read_all(backend, url)]
        finally:
            await backend.aclose()
            listener.close()

    return asyncio.run(go())


def test_https_trusts_ssl_cert_file_and_reuses_the_connection(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    server = RawServer(lambda r: response(DATA))
    assert _https(server, certificate, "/secure.bin") == [DATA, DATA]
    assert [(r.target, r.connection) for r in server.requests] == [
        ("/secure.bin", 1),
        ("/secure.bin", 1),
    ]


def test_https_with_an_untrusted_certificate_is_a_tls_error(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "none.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    server = RawServer(lambda r: response(DATA))
    with pytest.raises(RemoteError, match=r"/x: TLS error: .*CERTIFICATE_VERIFY_FAILED") as caught:
        _https(server, certificate, "/x")
    assert not caught.value.retryable and server.requests == []


def test_interim_answers_are_skipped_and_close_delimited_bodies_end_at_close() -> None:
    def answer(request: Request) -> bytes:
        interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        return interim + b'HTTP/1.0 200 OK\r\nETag: "e"\r\n\r\n' + DATA[:50_000]

    server = RawServer(answer)

    async def client(backend: Http1Backend, url: str) -> tuple[bytes, bytes, int | None]:
        async with backend.open(url + "/old") as body:
            length = body.length
        return await read_all(backend, url + "/a"), await read_all(backend, url + "/b"), length

    first, second, length = run_with(server, client)  # type: ignore[misc]
    assert (first, second, length) == (DATA[:50_000], DATA[:50_000], None)
    # HTTP/1.0 without keep-alive, a body that ends at close: a connection per request
    assert [r.connection for r in server.requests] == [1, 2, 3]


def test_a_stall_in_a_close_delimited_body_is_not_its_end() -> None:
    server = RawServer(lambda r: b"HTTP/1.0 200 OK\r\nX-Test: 1\r\n\r\n" + DATA[:1000])
    server.keep_open = True
    config = TransferConfig(stall_timeout=0.2)

    async def client(backend: Http1Backend, url: str) -> None:
        await read_all(backend, url + "/slow")

    with pytest.raises(StallError, match=r"/slow: no data for 0.2 s after 1000 bytes$"):
        run_with(server, client, config)


def test_a_stall_on_a_reused_connection_is_still_detected() -> None:
    """The stall watchdog outlives single waits (one per connection): after it fired on an idle
    pooled connection, the next request on that connection must still time out."""

    def answer(request: Request) -> bytes:
        if request.index == 0:
            return response(DATA[:1000])
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n"
        return head + DATA[:500]  # then nothing more, the connection kept open

    server = RawServer(answer)
    config = TransferConfig(stall_timeout=0.2)

    async def client(backend: Http1Backend, url: str) -> bytes:
        first = await read_all(backend, url + "/a")
        await asyncio.sleep(0.3)  # longer than the stall timeout: the watchdog fires while idle
        assert first == DATA[:1000]
        # A watchdog that failed to re-arm would wait forever: fail in 10 s instead.
        return await asyncio.wait_for(read_all(backend, url + "/b"), 10)

    with pytest.raises(StallError, match=r"/b: no data for 0.2 s after 500 bytes$"):
        run_with(server, client, config)
    assert [(r.connection, r.index) for r in server.requests] == [(1, 0), (1, 1)]


_MALLOC_PROBE = """
import ctypes

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
from eoaccess.transfer import TransferConfig
from eoaccess.transfer._http1 import Http1Backend
Http1Backend(TransferConfig())
before = libc.mallinfo2().hblks
buffer = bytearray(2 * 1024 * 1024)
print(libc.mallinfo2().hblks - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc only")
def test_receive_buffers_come_from_the_heap_unless_malloc_is_tuned_by_the_user() -> None:
    def mmapped_blocks(**env: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _MALLOC_PROBE],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            env={**untuned, **env},
        )
        return done.stdout.strip()

    # This session's environment may carry malloc settings of its own (Dask's nanny exports
    # MALLOC_TRIM_THRESHOLD_ for its workers): the probe starts from an untuned one.
    untuned = {
        k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"
    }

    assert mmapped_blocks() == "0"  # a 2 MiB buffer reuses heap pages: no fresh mmap
    assert mmapped_blocks(MALLOC_ARENA_MAX="4") == "1"  # the user's malloc settings win
