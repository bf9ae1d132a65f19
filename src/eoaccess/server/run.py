"""Run the app with uvicorn: blocking for ``eoaccess serve``, or in a thread for tests and the
quickstart.

The listening socket is bound here, before uvicorn starts, so that a busy port is one clear
error instead of a uvicorn log line, and so that port 0 (the OS picks a free port) has no race
between choosing and binding.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import uvicorn
from starlette.types import ASGIApp

from eoaccess.errors import EOAccessError, InvalidInputError, NotFoundError
from eoaccess.stores._base import EMBEDDED_DIRNAME

if TYPE_CHECKING:
    from eoaccess.server.app import ServerSettings

STARTUP_TIMEOUT = 30.0


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0 = any free port), ready to be handed to uvicorn."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose
    # proto is IPPROTO_TCP, and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise InvalidInputError(
                f"port {port} on {host} is already in use; choose another with --port"
            ) from None
        raise InvalidInputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def url_of(host: str, port: int) -> str:
    """The base URL clients use for a listening address (wildcards become loopback)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def _config(app: ASGIApp, log_level: str, access_log: bool) -> uvicorn.Config:
    # Forwarded headers are handled by the app's own middleware (one place, all headers).
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=access_log,
        proxy_headers=False,
        server_header=False,
        lifespan="off",
    )


@dataclass
class RunningServer:
    """A uvicorn server running in a background thread; stop it (or use ``with``) when done."""

    url: str
    """Base URL, ending in ``/``."""
    host: str
    port: int
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to finish open requests and exit, wait for the thread, then stop the
        app's Harmony job runner (unfinished jobs resume when a server starts again)."""
        self._server.should_exit = True
        self._thread.join(timeout)
        close_services(self._server.config.app)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
) -> RunningServer:
    """Serve ``app`` from a daemon thread and return once it accepts connections."""
    sock = bind_socket(host, port)
    actual_port = int(sock.getsockname()[1])
    server = uvicorn.Server(_config(app, log_level, access_log=False))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="eoaccess-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise EOAccessError(f"the server on {host}:{actual_port} did not start")
        time.sleep(0.01)
    return RunningServer(url_of(host, actual_port), host, actual_port, server, thread)


def close_services(app: ASGIApp) -> None:
    """Stop the background services an app of :func:`~eoaccess.server.create_app` owns."""
    harmony = getattr(getattr(app, "state", None), "harmony", None)
    if harmony is not None:
        harmony.close()


def serve_forever(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 8000, sock: socket.socket | None = None
) -> None:
    """Serve ``app`` in the foreground until interrupted (Ctrl-C), on ``sock`` if given."""
    sock = sock or bind_socket(host, port)
    server = uvicorn.Server(_config(app, "info", access_log=True))
    print(f"eoaccess: serving at {url_of(host, int(sock.getsockname()[1]))} (Ctrl-C stops)")
    server.run(sockets=[sock])


def _require_catalog(archive: str | None, catalog: str | None) -> None:
    """Fail early, without creating anything, when there is no catalog to serve."""
    if archive is None and catalog is None:
        raise InvalidInputError("give the archive folder DIR, or a catalog with --catalog URI")
    if catalog is not None:
        if "://" not in catalog and not Path(catalog).exists():
            raise NotFoundError(f"no catalog at {catalog}: run eoaccess ingest DIR first")
        return
    assert archive is not None
    if "://" in archive:
        raise InvalidInputError(
            f"an archive at {archive} keeps no catalog of its own: give --catalog URI"
        )
    if not Path(archive).is_dir():
        raise NotFoundError(f"archive folder {archive} does not exist")
    if not (Path(archive) / EMBEDDED_DIRNAME).is_dir():
        raise NotFoundError(f"no catalog in {archive}: run eoaccess ingest {archive} first")


def serve_archive(
    archive: str | None,
    catalog: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: ServerSettings | None = None,
) -> None:
    """``eoaccess serve``: the catalog of ``archive`` (or ``catalog``) and its files, until
    interrupted. The port is taken before the catalog is opened, so either failure is quick."""
    from eoaccess.server.app import create_app
    from eoaccess.stores import open_store

    _require_catalog(archive, catalog)
    sock = bind_socket(host, port)
    try:
        store = open_store(catalog, archive)
        try:
            if not store.collections():
                raise NotFoundError(
                    f"the catalog {store.uri} has no collections: "
                    f"run eoaccess ingest {archive or 'DIR'} first"
                )
            app = create_app(store, archive, settings)
            try:
                serve_forever(app, host, port, sock=sock)
            finally:
                # Stops the Harmony job runner (and its local Dask cluster); unfinished jobs
                # resume when the server starts again.
                close_services(app)
        finally:
            store.close()
    finally:
        sock.close()
