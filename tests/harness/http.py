"""A static file server with HTTP Range support, ETag and a request log, on a loopback port.

The log lets tests assert the exact byte ranges a reader asks for (a header read must fetch only
the header). Directory listings are HTML index pages, like the ones rclone's ``:http:`` reads.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.harness.ports import free_port

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass
class RequestRecord:
    """One request as the server saw it."""

    method: str
    path: str
    range: str | None
    status: int = 0


@dataclass
class RangeHTTPServer:
    """A running server rooted at ``root``; ``url`` is its base URL ending without a slash."""

    root: Path
    url: str
    log: list[RequestRecord] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def requests_for(self, path: str) -> list[RequestRecord]:
        """The requests made so far for one path (leading slash included)."""
        return [r for r in self.log if r.path.split("?")[0] == path]


def etag_of(path: Path) -> str:
    """A strong ETag from size and modification time (changes when the file changes)."""
    st = path.stat()
    return '"' + hashlib.md5(f"{st.st_size}-{st.st_mtime_ns}".encode()).hexdigest() + '"'


class _Handler(SimpleHTTPRequestHandler):
    server_log: list[RequestRecord]

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def _record(self) -> RequestRecord:
        record = RequestRecord(self.command, self.path, self.headers.get("Range"))
        self.server_log.append(record)
        return record

    def send_response(self, code: int, message: str | None = None) -> None:
        if self.server_log and self.server_log[-1].status == 0:
            self.server_log[-1].status = int(code)
        super().send_response(code, message)

    def do_GET(self) -> None:
        self._record()
        super().do_GET()

    def do_HEAD(self) -> None:
        self._record()
        super().do_HEAD()

    def send_head(self):  # type: ignore[no-untyped-def]
        path = Path(self.translate_path(self.path))
        if path.is_dir() or not path.exists():
            return super().send_head()
        size = path.stat().st_size
        etag = etag_of(path)
        header = self.headers.get("Range")
        start, end = 0, size - 1
        status = HTTPStatus.OK
        if header:
            match = _RANGE.match(header.strip())
            if match and (match.group(1) or match.group(2)):
                first, last = match.group(1), match.group(2)
                if first == "":
                    start, end = max(size - int(last), 0), size - 1
                else:
                    start = int(first)
                    end = min(int(last), size - 1) if last else size - 1
                if start >= size or start > end:
                    self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                status = HTTPStatus.PARTIAL_CONTENT
            # Multi-range and malformed headers: serve the whole file (allowed by RFC 9110).
        handle = open(path, "rb")  # noqa: SIM115 - closed by copyfile's caller
        handle.seek(start)
        self.send_response(status)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", email.utils.formatdate(path.stat().st_mtime, usegmt=True))
        self.send_header("Content-Length", str(end - start + 1))
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        return _Limited(handle, end - start + 1)


class _Limited:
    """A file object that yields at most ``remaining`` bytes (for ranged copyfile)."""

    def __init__(self, handle, remaining: int) -> None:  # type: ignore[no-untyped-def]
        self.handle = handle
        self.remaining = remaining

    def read(self, n: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        n = self.remaining if n < 0 else min(n, self.remaining)
        data = self.handle.read(n)
        self.remaining -= len(data)
        return data

    def close(self) -> None:
        self.handle.close()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        """Clients that hang up early (range readers, killed downloads) are not server errors."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def start_http_server(root: Path) -> RangeHTTPServer:
    """Serve ``root`` on a free loopback port in a background thread."""
    log: list[RequestRecord] = []
    handler = type("Handler", (_Handler,), {"server_log": log})
    port = free_port()
    server = _QuietServer(("127.0.0.1", port), partial(handler, directory=os.fspath(root)))
    thread = threading.Thread(target=server.serve_forever, name="range-http", daemon=True)
    thread.start()
    return RangeHTTPServer(
        root=root, url=f"http://127.0.0.1:{port}", log=log, _server=server, _thread=thread
    )
