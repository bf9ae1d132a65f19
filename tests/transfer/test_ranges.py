"""Range reads: exactly the bytes asked for, in one request, on http, s3-style servers and disk."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from eoaccess.transfer import (
    TransferEngine,
    read_header,
    read_header_async,
    read_range,
    read_range_async,
)
from tests.harness.faults import FaultServer, ignore_range
from tests.harness.http import RangeHTTPServer, start_http_server
from tests.transfer.conftest import payload

DATA = payload(100_000, seed=9)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> RangeHTTPServer:
    root = tmp_path_factory.mktemp("ranges")
    (root / "qa.tif").write_bytes(DATA)
    started = start_http_server(root)
    yield started  # type: ignore[misc]
    started.stop()


def test_header_read_fetches_only_the_header(server: RangeHTTPServer) -> None:
    start = len(server.log)
    assert read_header(server.url + "/qa.tif", 3521) == DATA[:3521]  # seed 004's headerSize
    assert [(r.method, r.range, r.status) for r in server.log[start:]] == [
        ("GET", "bytes=0-3520", 206)
    ]


def test_range_read_asks_for_exactly_that_span(server: RangeHTTPServer) -> None:
    start = len(server.log)
    assert read_range(server.url + "/qa.tif", 70_000, 12_345) == DATA[70_000:82_345]
    assert asyncio.run(read_range_async(server.url + "/qa.tif", 5, 10)) == DATA[5:15]
    assert asyncio.run(read_header_async(server.url + "/qa.tif", 8)) == DATA[:8]
    assert [r.range for r in server.log[start:]] == ["bytes=70000-82344", "bytes=5-14", "bytes=0-7"]


def test_ranges_at_and_past_the_end(server: RangeHTTPServer) -> None:
    url = server.url + "/qa.tif"
    assert read_range(url, 99_990, 100) == DATA[99_990:]
    assert read_range(url, 200_000, 10) == b""
    assert read_range(url, 10, 0) == b""
    start = len(server.log)
    assert read_header(url, 1_000_000) == DATA
    assert [r.range for r in server.log[start:]] == ["bytes=0-999999"]


def test_server_that_ignores_range_is_read_only_as_far_as_needed(fault_server: FaultServer) -> None:
    url = fault_server.put("/big.bin", DATA)
    fault_server.add_faults("/big.bin", ignore_range())
    assert read_range(url, 1000, 2000) == DATA[1000:3000]
    (request,) = fault_server.requests_for("/big.bin")
    assert (request.range, request.status) == ("bytes=1000-2999", 200)


def test_one_engine_reuses_its_connection_for_many_reads(fault_server: FaultServer) -> None:
    url = fault_server.put("/tile.bin", DATA)

    async def reads() -> list[bytes]:
        async with TransferEngine() as engine:
            return [await engine.read_range(url, i * 1000, 100) for i in range(5)]

    assert asyncio.run(reads()) == [DATA[i * 1000 : i * 1000 + 100] for i in range(5)]
    assert len({r.client for r in fault_server.log}) == 1


def test_local_paths_and_file_urls(tmp_path: Path) -> None:
    path = tmp_path / "local file.bin"
    path.write_bytes(DATA)
    assert read_range(str(path), 10, 20) == DATA[10:30]
    assert read_header(path.as_uri(), 16) == DATA[:16]
    assert read_range(str(path), len(DATA) + 5, 10) == b""
    from eoaccess.transfer import RemoteNotFoundError

    with pytest.raises(RemoteNotFoundError, match="does not exist"):
        read_range(str(tmp_path / "missing"), 0, 1)


def test_negative_ranges_are_refused() -> None:
    from eoaccess.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="must not be negative"):
        read_range("http://127.0.0.1:1/x", -1, 10)
