"""A moto S3 server in its own process on loopback, with an access log like the nginx one.

    python -m benchmarks.subset._moto --port P --log FILE --bucket B --root DIR --tree SUB …

The benchmark's S3 case needs what its HTTP case gets from nginx: a server that is not the
measured process (so its Python work does not compete for the benchmark's GIL) and a log of
requests and bytes sent. moto has no access log, so the WSGI app is wrapped by a counter that
writes ``METHOD URI STATUS BYTES`` lines, the format ``_AccessLog`` parses. The trees are put
into the bucket inside the server process before it listens: 77,000 chunk objects through
HTTP PUTs would take minutes, through moto's backend they take seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCESS_KEY = "eoaccess-bench"
SECRET_KEY = "eoaccess-bench-secret"
REGION = "us-west-2"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    "AWS_DEFAULT_REGION": REGION,
}
"""moto accepts any credentials; both sides sign with these."""

_Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _CountingApp:
    """WSGI wrapper logging each request's method, path, status and body bytes sent."""

    def __init__(self, app: _Wsgi, log: Path) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._log = log.open("a", buffering=1)  # line-buffered: the reader sees whole lines

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        status: list[str] = []

        def recording_start(code: str, headers: list[Any], exc_info: Any = None) -> Any:
            status.append(code.split()[0])
            return start_response(code, headers, exc_info)

        body = self._app(environ, recording_start)
        try:
            # moto builds every response in memory, so materialising it costs nothing extra
            chunks = list(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        method = environ["REQUEST_METHOD"]
        uri = urllib.parse.quote(environ.get("PATH_INFO", ""))
        if environ.get("QUERY_STRING"):  # keeps listings (``?list-type=2…``) recognisable
            uri += "?" + urllib.parse.quote(environ["QUERY_STRING"], safe="=&")
        # werkzeug sends no body for HEAD, though moto builds one (the whole object)
        sent = 0 if method == "HEAD" else sum(map(len, chunks))
        line = f"{method} {uri} {status[0]} {sent}\n"
        with self._lock:
            self._log.write(line)
        return chunks


def _preload(bucket: str, root: Path, trees: list[str]) -> int:
    """Create ``bucket`` and put every file of ``root/tree`` at key ``tree/…``; return count."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(bucket, REGION)
    count = 0
    for tree in trees:
        for path in sorted((root / tree).rglob("*")):
            if path.is_file():
                backend.put_object(bucket, path.relative_to(root).as_posix(), path.read_bytes())
                count += 1
    return count


def serve(port: int, log: Path, bucket: str, root: Path, trees: list[str]) -> None:
    """Preload the bucket, then serve S3 on 127.0.0.1:``port`` until killed."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """Our access log counts requests; werkzeug's stderr line per request would not."""

    count = _preload(bucket, root, trees)
    app = _CountingApp(DomainDispatcherApplication(create_backend_app), log)
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=QuietHandler)
    print(f"ready {count}", flush=True)
    server.serve_forever()


@dataclass
class MotoS3:
    """A moto server process; ``endpoint`` is its base URL."""

    endpoint: str
    objects: int
    process: subprocess.Popen[str]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def start_moto(
    root: Path, trees: list[str], bucket: str, access_log: Path, timeout: float = 600
) -> MotoS3:
    """Start the server process and wait until it has loaded the trees and answers."""
    from tests.harness.ports import free_port

    port = free_port()
    command = [sys.executable, "-m", "benchmarks.subset._moto", "--port", str(port)]
    command += ["--log", os.fspath(access_log), "--bucket", bucket, "--root", os.fspath(root)]
    for tree in trees:
        command += ["--tree", tree]
    env = {**os.environ, **CREDENTIALS, "PYTHONPATH": os.fspath(Path(__file__).parents[2])}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks while the trees load; "" if the process died
    if not line.startswith("ready "):
        process.kill()
        raise RuntimeError(f"moto server did not start (exit {process.wait()})")
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:  # the socket is bound before "ready", but wait for a real answer anyway
        try:
            urllib.request.urlopen(endpoint, timeout=5).close()
            break
        except urllib.error.HTTPError:  # any S3 answer, even an error, means it is serving
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.1)
    access_log.write_bytes(b"")  # the probe above is not part of any measurement
    return MotoS3(endpoint, int(line.split()[1]), process)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.subset._moto")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--tree", action="append", default=[])
    args = parser.parse_args(argv)
    serve(args.port, args.log, args.bucket, args.root, args.tree)


if __name__ == "__main__":
    main()
