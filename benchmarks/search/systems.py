"""The systems the search benchmark measures, behind one small interface.

A :class:`Searcher` answers a :class:`~eoaccess.query.Query` with its first page and pages
through a large result. Two kinds exist:

- :class:`HttpSearcher`: a STAC API server in its own process on a loopback port, asked with
  ``POST /search`` (the body is :meth:`Query.to_stac_json`, the same bytes for every server) by
  one keep-alive httpx client; further pages follow the server's ``next`` link as pystac-client
  does. Servers run as subprocesses so that the benchmark's client never shares a GIL with them.
- :class:`DirectSearcher`: a :class:`~eoaccess.stores.CatalogStore` called in this process (no
  HTTP), to show what the HTTP layer adds.

The servers are the real entry points: ``eoaccess serve`` (over the embedded catalog or over
``--catalog postgresql://…``) and stac-fastapi-pgstac's app factory run by uvicorn's command line,
each with its default logging (an access log line per request, written to a file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx
import orjson

from eoaccess.query import Query
from eoaccess.stores import CatalogStore

STARTUP_TIMEOUT = 120.0
# Neither side should spend the measurement compressing: stac-fastapi-pgstac brotli- or
# gzip-compresses whatever the client accepts, eoaccess never compresses.
CLIENT_HEADERS = {"Accept-Encoding": "identity"}


@dataclass(frozen=True)
class Page:
    """What a first page is checked by: the item ids in order and ``numberMatched``."""

    ids: tuple[str, ...]
    """Ids of the page's items, in the order returned."""
    matched: int | None
    """``numberMatched``, None when the system does not count."""


@dataclass(frozen=True)
class Paged:
    """How far paging through a result got within its time budget."""

    items: int
    """Items received."""
    pages: int
    """Pages (requests or store calls)."""
    seconds: float
    """Wall time, including the client's parsing of every page."""
    complete: bool
    """True when the last page was reached before the budget ran out."""

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0


class Searcher(Protocol):
    """One system under test."""

    def first_page(self, query: Query) -> Page:
        """The first page of ``query``."""
        ...

    def page_through(self, query: Query, budget_s: float) -> Paged:
        """Follow pages of ``query`` until the last one or until ``budget_s`` has passed."""
        ...

    def close(self) -> None:
        """Release connections and stop what was started."""
        ...


class BenchmarkError(RuntimeError):
    """A system failed or answered differently from the others: the numbers would mean nothing."""


# --- in-process stores ---------------------------------------------------------------------------


@dataclass
class DirectSearcher:
    """A catalog store called directly; the caller owns (and closes) the store."""

    store: CatalogStore

    def first_page(self, query: Query) -> Page:
        page = self.store.search(query)
        return Page(tuple(item["id"] for item in page.items), page.number_matched)

    def page_through(self, query: Query, budget_s: float) -> Paged:
        started = time.perf_counter()
        token: str | None = None
        items = pages = 0
        while True:
            page = self.store.search(query, token)
            items += len(page.items)
            pages += 1
            token = page.next_token
            elapsed = time.perf_counter() - started
            if token is None or elapsed > budget_s:
                return Paged(items, pages, elapsed, token is None)

    def close(self) -> None:
        pass


# --- STAC API servers over HTTP ------------------------------------------------------------------


@dataclass
class ServerProcess:
    """A server started as a subprocess, listening at ``url``; its output goes to ``log``."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 10 s) and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def wait_ready(self, path: str = "/") -> None:
        """Return once ``GET path`` answers 200; raise with the log's tail if it never does."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        with httpx.Client(base_url=self.url, trust_env=False, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    if client.get(path).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        self.stop()
        tail = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
        raise BenchmarkError(f"server {self.url} did not start; its log ends with:\n{tail}")


def start_process(
    argv: list[str], port: int, log: Path, env: Mapping[str, str] | None = None
) -> ServerProcess:
    """Start ``argv`` (a server that will listen on 127.0.0.1:``port``) without waiting."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        # cwd is the log folder: neither server may pick up a stray .env of the caller's folder.
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=log.parent,
            env={**os.environ, **(env or {})},
        )
    return ServerProcess(f"http://127.0.0.1:{port}", process, log)


def eoaccess_serve_command(port: int, archive: Path | None, catalog: str | None) -> list[str]:
    """``eoaccess serve`` over an archive's embedded catalog, or over ``--catalog URI``."""
    script = Path(sys.executable).with_name("eoaccess")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "eoaccess"]
    argv = [*base, "serve", "--host", "127.0.0.1", "--port", str(port)]
    if archive is not None:
        argv.append(str(archive))
    if catalog is not None:
        argv += ["--catalog", catalog]
    return argv


def peer_command(port: int) -> list[str]:
    """stac-fastapi-pgstac as its documentation runs it: uvicorn with the app factory."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "stac_fastapi.pgstac.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def peer_environment(dsn: str, pgstac_settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables stac-fastapi-pgstac reads to reach the database at ``dsn``.

    ``pgstac_settings`` become session settings of its connections (``pgstac.context=on`` makes
    pgstac count ``numberMatched`` exactly, as eoaccess does); pgstac reads its settings from the
    request's ``conf``, then the session, then the ``pgstac_settings`` table.
    """
    parts = urlsplit(dsn)
    env = {
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": unquote(parts.username or "postgres"),
        "PGPASSWORD": unquote(parts.password or ""),
        "PGDATABASE": parts.path.lstrip("/") or "postgres",
        # Set explicitly so the app does not warn about defaults in its log.
        "STAC_FASTAPI_TITLE": "stac-fastapi-pgstac",
        "STAC_FASTAPI_DESCRIPTION": "peer of the eoaccess search benchmark",
        "STAC_FASTAPI_LANDING_ID": "peer",
        "STAC_FASTAPI_VERSION": "benchmark",
    }
    if pgstac_settings:
        server_settings = {"search_path": "pgstac,public", "application_name": "pgstac"}
        server_settings.update({f"pgstac.{k}": v for k, v in pgstac_settings.items()})
        env["SERVER_SETTINGS"] = json.dumps(server_settings)
    return env


@dataclass
class HttpSearcher:
    """A STAC API server asked over one keep-alive connection; stops the server on close."""

    server: ServerProcess
    client: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(
            base_url=self.server.url,
            headers=CLIENT_HEADERS,
            timeout=httpx.Timeout(600.0),
            trust_env=False,
        )

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(
            url, content=orjson.dumps(body), headers={"Content-Type": "application/json"}
        )
        if response.status_code != 200:
            raise BenchmarkError(
                f"{self.server.url} answered {response.status_code} to {body}: "
                f"{response.text[:500]}"
            )
        return orjson.loads(response.content)  # type: ignore[no-any-return]

    def first_page(self, query: Query) -> Page:
        answer = self._post("/search", query.to_stac_json())
        return Page(tuple(f["id"] for f in answer["features"]), answer.get("numberMatched"))

    def page_through(self, query: Query, budget_s: float) -> Paged:
        started = time.perf_counter()
        request: tuple[str, dict[str, Any]] | None = ("/search", query.to_stac_json())
        items = pages = 0
        while request is not None:
            answer = self._post(*request)
            items += len(answer["features"])
            pages += 1
            request = next_request(answer, request[1])
            if time.perf_counter() - started > budget_s:
                break
        return Paged(items, pages, time.perf_counter() - started, request is None)

    def close(self) -> None:
        self.client.close()
        self.server.stop()


def next_request(
    answer: Mapping[str, Any], body: dict[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """The ``POST`` that fetches the page after ``answer``, from its ``next`` link; None at the
    end. Both servers answer a POST search with a POST link carrying the body (STAC API paging)."""
    for link in answer.get("links", []):
        if link.get("rel") != "next":
            continue
        if link.get("method", "GET") != "POST" or "body" not in link:
            raise BenchmarkError(f"expected a POST next link with a body, got {link}")
        following = {**body, **link["body"]} if link.get("merge") else dict(link["body"])
        return link["href"], following
    return None
