"""The test harness itself: each real server answers as the rest of the suite relies on."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

from tests.conftest import _GUARD
from tests.harness.http import start_http_server
from tests.harness.network import NetworkAccessBlocked, is_loopback
from tests.harness.postgres import PostgresCluster
from tests.harness.s3 import S3Server


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    payload = bytes(range(256)) * 40
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.bin").write_bytes(payload)
    server = start_http_server(tmp_path)
    yield server, payload
    server.stop()


def test_http_range_reads_return_exact_bytes(served) -> None:  # type: ignore[no-untyped-def]
    server, payload = served
    url = f"{server.url}/sub/data.bin"
    status, headers, body = _get(url, {"Range": "bytes=100-199"})
    assert status == 206
    assert body == payload[100:200]
    assert headers["Content-Range"] == f"bytes 100-199/{len(payload)}"
    assert headers["Accept-Ranges"] == "bytes"
    status, _, body = _get(url, {"Range": "bytes=-16"})
    assert (status, body) == (206, payload[-16:])
    status, _, body = _get(url, {"Range": f"bytes={len(payload) - 10}-"})
    assert (status, body) == (206, payload[-10:])
    status, headers, body = _get(url)
    assert (status, body) == (200, payload)
    assert headers["ETag"].startswith('"')
    status, headers, _ = _get(url, {"Range": f"bytes={len(payload)}-"})
    assert status == 416
    assert headers["Content-Range"] == f"bytes */{len(payload)}"
    ranges = [r.range for r in server.requests_for("/sub/data.bin")]
    assert ranges == [
        "bytes=100-199",
        "bytes=-16",
        f"bytes={len(payload) - 10}-",
        None,
        f"bytes={len(payload)}-",
    ]
    assert [r.status for r in server.requests_for("/sub/data.bin")] == [206, 206, 206, 200, 416]


def test_http_lists_directories_as_html(served) -> None:  # type: ignore[no-untyped-def]
    server, _ = served
    status, headers, body = _get(f"{server.url}/sub/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b'href="data.bin"' in body
    status, _, _ = _get(f"{server.url}/missing.bin")
    assert status == 404


def test_network_guard_blocks_and_records_outside_hosts() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("192.0.2.1") and not is_loopback("example.com")
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(NetworkAccessBlocked),
    ):
        sock.connect(("192.0.2.1", 80))
    with pytest.raises(NetworkAccessBlocked):
        socket.getaddrinfo("example.com", 443)
    assert _GUARD.take() == ["192.0.2.1", "example.com"]


@pytest.mark.s3
def test_s3_server_round_trip(s3_server: S3Server, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_bytes(b"0123456789")
    (tmp_path / "y.txt").write_bytes(b"hello")
    assert s3_server.upload_tree(tmp_path, "harness-test", "pre") == 2
    client = s3_server.client()
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket="harness-test")["Contents"])
    assert keys == ["pre/a/x.txt", "pre/y.txt"]
    part = client.get_object(Bucket="harness-test", Key="pre/a/x.txt", Range="bytes=2-4")
    assert part["Body"].read() == b"234"
    assert part["ContentRange"] == "bytes 2-4/10"


@pytest.mark.postgres
def test_postgres_cluster_has_postgis(postgres: PostgresCluster) -> None:
    import psycopg

    with psycopg.connect(postgres.dsn, connect_timeout=10) as conn:
        version = conn.execute("SELECT postgis_lib_version()").fetchone()
        assert version is not None and version[0].startswith("3.")
        hit = conn.execute(
            "SELECT ST_Intersects(ST_MakeEnvelope(0, 0, 10, 10, 4326), ST_SetSRID(ST_Point(5, 5), 4326))"
        ).fetchone()
        assert hit == (True,)
        server = conn.execute("SELECT inet_server_addr()::text").fetchone()
        assert server is not None and server[0].startswith("127.0.0.1")
