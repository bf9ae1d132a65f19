"""Session fixtures: a tiny sample archive and real servers on loopback, and a network guard.

Costly things (the archive, the servers, the PostgreSQL cluster) are session-scoped and started
only when a test asks for them. Every test fails if it tried to reach a host outside loopback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness.http import RangeHTTPServer, start_http_server
from tests.harness.network import NetworkGuard
from tests.harness.postgres import PostgresCluster, start_postgres
from tests.harness.s3 import TEST_CREDENTIALS, S3Server, start_s3_server
from tests.shared_paths import REALDATA

_GUARD = NetworkGuard()


def pytest_configure(config: pytest.Config) -> None:
    # Clients must never look for cloud credentials or metadata services outside loopback.
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        os.environ.pop(name, None)
    _GUARD.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    _GUARD.uninstall()


@pytest.fixture(autouse=True)
def _network_guard() -> Iterator[None]:
    """Fail the test if it tried to connect outside loopback, even if the error was swallowed."""
    _GUARD.take()
    yield
    attempts = _GUARD.take()
    if attempts:
        pytest.fail(f"test tried to reach hosts outside loopback: {sorted(set(attempts))}")


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The real product files shipped in ../shared/realdata."""
    if not REALDATA.exists():
        pytest.skip(f"real data not found at {REALDATA}")
    return REALDATA


@pytest.fixture(scope="session")
def tiny_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny sample archive of all four products (seed 0), shared by the session: do not modify."""
    from eoaccess.sample import generate_sample

    root = tmp_path_factory.mktemp("archive") / "tiny"
    generate_sample(root, size="tiny", seed=0)
    return root


@pytest.fixture(scope="session")
def http_server(tiny_archive: Path) -> Iterator[RangeHTTPServer]:
    """The tiny archive over HTTP with Range support on a loopback port."""
    server = start_http_server(tiny_archive)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A moto S3 server on a loopback port, with test credentials in the environment."""
    saved = {k: os.environ.get(k) for k in TEST_CREDENTIALS}
    os.environ.update(TEST_CREDENTIALS)
    server = start_s3_server()
    yield server
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@dataclass(frozen=True)
class S3Archive:
    """The tiny archive copied into a bucket of the moto server."""

    server: S3Server
    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@pytest.fixture(scope="session")
def s3_archive(s3_server: S3Server, tiny_archive: Path) -> S3Archive:
    """The tiny archive uploaded to ``s3://eoaccess-sample/tiny/``."""
    s3_server.upload_tree(tiny_archive, "eoaccess-sample", "tiny")
    return S3Archive(s3_server, "eoaccess-sample", "tiny")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A PostgreSQL+PostGIS cluster for the session, removed afterwards."""
    cluster = start_postgres()
    yield cluster
    cluster.stop()
