"""An HTTP object server on loopback that injects faults on request, for transfer-engine tests.

Objects live in memory (``put``). Each path has a queue of faults; every request to that path
takes the next one, or is served normally (single Range, ETag, Last-Modified, keep-alive) when the
queue is empty. The log records what each request asked for and how many body bytes it got, so
tests can count exactly what a resumed download fetched again.

Faults: an error status (with Retry-After or an S3 XML body and headers), a connection dropped
mid-body, a body truncated before its declared end, wrong bytes, a server that ignores Range, and
a stall (send some bytes, then nothing until released).
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.harness.ports import free_port

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass(frozen=True)
class Fault:
    """What to do with one request; build with the functions below."""

    kind: str
    status: int = 200
    after: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


def status(code: int, retry_after: str | None = None, body: bytes = b"") -> Fault:
    """Answer with ``code`` (e.g. 503) and an optional Retry-After header."""
    headers = (("Retry-After", retry_after),) if retry_after is not None else ()
    return Fault("status", status=code, headers=headers, body=body)


def drop(after: int) -> Fault:
    """Send the normal headers, ``after`` body bytes, then close the connection."""
    return Fault("drop", after=after)


def truncate(after: int) -> Fault:
    """Send a close-delimited body (no Content-Length) that ends after ``after`` bytes."""
    return Fault("truncate", after=after)


def wrong_bytes() -> Fault:
    """Serve the right length with corrupted content."""
    return Fault("wrong")


def ignore_range() -> Fault:
    """Answer 200 with the whole object even when a Range was asked for."""
    return Fault("ignore_range")


def stall(after: int) -> Fault:
    """Send ``after`` body bytes, then nothing until the server is released or stopped."""
    return Fault("stall", after=after)


def s3_redirect(bucket: str, endpoint: str, region: str) -> Fault:
    """S3's region redirect: 301 PermanentRedirect naming the endpoint, with x-amz-bucket-region."""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PermanentRedirect</Code>'
        "<Message>The bucket you are attempting to access must be addressed using the specified "
        "endpoint. Please send all future requests to this endpoint.</Message>"
        f"<Endpoint>{endpoint}</Endpoint><Bucket>{bucket}</Bucket>"
        "<RequestId>N4K18PDJ5AXTVHG0</RequestId><HostId>T09JW3wysyNegZJIgK2n0ol=</HostId></Error>"
    ).encode()
    return Fault(
        "status",
        status=301,
        headers=(("x-amz-bucket-region", region), ("Content-Type", "application/xml")),
        body=xml,
    )


@dataclass
class FaultRecord:
    """One request as the fault server saw it."""

    method: str
    path: str
    range: str | None
    headers: dict[str, str]
    client: tuple[str, int] = ("", 0)
    """Client address: one per TCP connection, so tests can count connections."""
    fault: str = "none"
    status: int = 0
    sent: int = 0
    """Body bytes written to the socket."""


@dataclass
class _Object:
    data: bytes
    etag: str
    last_modified: str


@dataclass
class FaultServer:
    """A running fault server; ``url`` has no trailing slash."""

    url: str
    objects: dict[str, _Object] = field(default_factory=dict)
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    log: list[FaultRecord] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _version: int = 0

    def put(self, path: str, data: bytes) -> str:
        """Store (or replace, with a new ETag) the object at ``path``; return its URL."""
        with self.lock:
            self._version += 1
            etag = '"' + hashlib.md5(data + str(self._version).encode()).hexdigest() + '"'
            modified = email.utils.formatdate(1_700_000_000 + self._version, usegmt=True)
            self.objects[path] = _Object(data, etag, modified)
        return self.url + path

    def add_faults(self, path: str, *faults: Fault) -> None:
        """Queue faults for the next requests to ``path``, in order."""
        with self.lock:
            self.faults.setdefault(path, deque()).extend(faults)

    def requests_for(self, path: str, method: str | None = None) -> list[FaultRecord]:
        """Requests made so far for ``path`` (all methods unless one is given)."""
        return [r for r in self.log if r.path == path and (method is None or r.method == method)]

    def sent_for(self, path: str) -> int:
        """Body bytes sent so far for ``path``."""
        return sum(r.sent for r in self.requests_for(path))

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: FaultServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        state = self.state
        path = self.path.split("?")[0]
        record = FaultRecord(
            self.command,
            path,
            self.headers.get("Range"),
            {k.lower(): v for k, v in self.headers.items()},
            client=self.client_address[:2],
        )
        with state.lock:
            state.log.append(record)
            queue = state.faults.get(path)
            fault = queue.popleft() if queue else None
            obj = state.objects.get(path)
        record.fault = fault.kind if fault else "none"
        if fault is not None and fault.kind == "status":
            self._reply(record, fault.status, fault.body, dict(fault.headers), head)
            return
        if obj is None:
            self._reply(record, 404, b"no such object", {"Content-Type": "text/plain"}, head)
            return
        data = obj.data
        start, end = 0, len(data) - 1
        code = 200
        wanted = self.headers.get("Range")
        if wanted and (fault is None or fault.kind != "ignore_range"):
            match = _RANGE.match(wanted.strip())
            if match:
                start = int(match.group(1))
                end = min(int(match.group(2)), len(data) - 1) if match.group(2) else len(data) - 1
                if start >= len(data):
                    headers = {"Content-Range": f"bytes */{len(data)}"}
                    self._reply(record, 416, b"", headers, head)
                    return
                code = 206
        body = data[start : end + 1]
        if fault is not None and fault.kind == "wrong":
            body = bytes(b ^ 0xFF for b in body[:16]) + body[16:]
        headers = {
            "ETag": obj.etag,
            "Last-Modified": obj.last_modified,
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if code == 206:
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        kind = fault.kind if fault else "none"
        if kind in ("drop", "stall", "truncate"):
            self._partial(record, code, body, headers, fault)  # type: ignore[arg-type]
            return
        self._reply(record, code, body, headers, head)

    def _reply(
        self, record: FaultRecord, code: int, body: bytes, headers: dict[str, str], head: bool
    ) -> None:
        record.status = code
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)
            record.sent += len(body)

    def _partial(
        self, record: FaultRecord, code: int, body: bytes, headers: dict[str, str], fault: Fault
    ) -> None:
        record.status = code
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        if fault.kind == "truncate":
            self.send_header("Connection", "close")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        part = body[: fault.after]
        self.wfile.write(part)
        self.wfile.flush()
        record.sent += len(part)
        if fault.kind == "stall":
            self.state.release.wait(timeout=60)
        self.close_connection = True  # the body ends short of its Content-Length


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hang up on purpose in these tests (stalls, kills); only other errors are news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def start_fault_server() -> FaultServer:
    """Start a fault server on a free loopback port in a background thread."""
    port = free_port()
    state = FaultServer(url=f"http://127.0.0.1:{port}")
    handler = type("FaultHandler", (_Handler,), {"state": state})
    server = _QuietServer(("127.0.0.1", port), handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-http", daemon=True
    ).start()
    state._server = server
    return state
