"""How our Harmony client reports services that fail or answer with something else: a real
HTTP server on loopback that replies with errors, HTML and foreign JSON."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eoaccess.errors import NotFoundError
from eoaccess.services import HarmonyService, ServiceError, ServiceResponseError
from tests.harness.faults import FaultServer, start_fault_server, status


@pytest.fixture
def server() -> Iterator[FaultServer]:
    running = start_fault_server()
    yield running
    running.stop()


def test_5xx_carries_the_service_description(server: FaultServer) -> None:
    server.put("/jobs", b"{}")
    server.add_faults("/jobs", status(503, body=b'{"description": "down for maintenance"}'))
    with HarmonyService(server.url) as service, pytest.raises(ServiceError) as caught:
        service.jobs()
    assert str(caught.value) == "listing jobs failed with HTTP 503: down for maintenance"
    assert len(server.requests_for("/jobs")) == 1  # no blind retries of answered requests


def test_not_json_and_not_a_job(server: FaultServer) -> None:
    server.put("/jobs/abc", b"<html>a login page</html>")
    server.put("/jobs/def", b'{"hello": "world"}')
    server.put("/jobs", b'{"jobs": "nope"}')
    with HarmonyService(server.url + "/") as service:
        with pytest.raises(ServiceResponseError, match="did not answer with JSON"):
            service.job("abc")
        with pytest.raises(ServiceResponseError, match="not a Harmony job"):
            service.job("def")
        with pytest.raises(ServiceResponseError, match="no 'jobs' list"):
            service.jobs()


def test_wait_for_an_unknown_job(server: FaultServer) -> None:
    # No /jobs/status endpoint and no such job: the fallback poll says so.
    with HarmonyService(server.url) as service, pytest.raises(NotFoundError, match="job nope"):
        service.wait("nope", sleep=lambda _: None)
