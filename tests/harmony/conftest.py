"""Fixtures of the Harmony service tests: the tiny sample archive ingested (a copy), a Dask
cluster per module, and real servers on loopback with the service, stopped with their runner.

``serve_harmony(store, root, settings)`` is the helper other tests can reuse: it starts the app
of ``eoaccess serve`` in a thread and yields a :class:`HarmonyServer` (``url``, ``port``,
``service``); leaving the block stops the server and the job runner (as a crash would: state
stays on disk).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from eoaccess.harmony import HarmonySettings, JobService
from eoaccess.server import RunningServer, ServerSettings, create_app, start_in_thread
from eoaccess.stores import CatalogStore, open_store
from tests.harness.s3 import S3Server

SEED_BBOX = (-105.5, 40.0, -105.0, 41.0)
"""Seed 001's BBox(-105.5, 40, -105, 41.)."""
SEED_GRANULE = "ATL03_20200427193622_04930702_006_02"
"""The tiny sample's ATL03 granule inside seed 001's dates (2020-04-27 .. 2020-05-28)."""
OTHER_GRANULE = "ATL03_20200426074754_04700706_006_01"
"""The other one, a day earlier."""


@dataclass(frozen=True)
class HarmonyServer:
    """A running server with the Harmony service."""

    server: RunningServer
    service: JobService

    @property
    def url(self) -> str:
        """Base URL without the trailing slash (harmony-py's ROOT_URL form)."""
        return self.server.url.rstrip("/")

    @property
    def port(self) -> int:
        return self.server.port


@contextlib.contextmanager
def serve_harmony(
    store: CatalogStore, root: Path | str, harmony: HarmonySettings
) -> Iterator[HarmonyServer]:
    """The app with the Harmony service on a free loopback port, for the block."""
    app = create_app(store, root, ServerSettings(harmony=harmony))
    service = app.state.harmony
    assert isinstance(service, JobService)
    server = start_in_thread(app)
    try:
        yield HarmonyServer(server, service)
    finally:
        server.stop()
        service.close()


@dataclass(frozen=True)
class Ingested:
    """A private, ingested copy of the tiny sample archive."""

    root: Path
    store: CatalogStore


@pytest.fixture(scope="session")
def ingested(tiny_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingested]:
    """The tiny archive copied and ingested (the session's archive stays untouched)."""
    from eoaccess.ingest import ingest

    root = tmp_path_factory.mktemp("harmony") / "tiny"
    shutil.copytree(tiny_archive, root)
    ingest(root)
    store = open_store(None, root)
    yield Ingested(root, store)
    store.close()


@pytest.fixture(scope="session")
def dask_scheduler(s3_server: S3Server) -> Iterator[str]:
    """One small Dask cluster (one worker process) shared by the servers of these tests.

    It starts after the moto server so that its worker processes inherit the test AWS
    credentials from the environment (workers write S3 results with the usual AWS chain)."""
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    )
    yield cluster.scheduler_address
    cluster.close()


def settings(tmp_path: Path, scheduler: str | None, **changes: object) -> HarmonySettings:
    """Settings with results and state in ``tmp_path`` (each test its own jobs)."""
    base = HarmonySettings(
        results=str(tmp_path / "results"),
        state=str(tmp_path / "state.sqlite"),
        dask_scheduler=scheduler,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def wait_for(url: str, job_id: str, statuses: set[str]) -> dict[str, Any]:
    """Poll ``GET /jobs/{id}`` until the job reaches one of ``statuses``; its JSON."""
    deadline = time.monotonic() + 120
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = httpx.get(f"{url}/jobs/{job_id}").json()
        if body["status"] in statuses:
            return body
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} stayed {body.get('status')}")
