"""Fixtures of the Sentinel Hub dialect tests: ARPS sample archives served with OAuth2 clients.

``sh_tiny`` and ``sh_small`` require Bearer tokens (client ``tester``/``s3cret``); ``sh_open``
serves the tiny archive with no client configured (local use: no token needed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from eoaccess.server import ServerSettings, create_app, start_in_thread
from eoaccess.stores import open_store
from tests.stats.archives import ArpsArchive, arps_archive

CLIENT_ID, CLIENT_SECRET = "tester", "s3cret"


@dataclass(frozen=True)
class ShServer:
    """A running server over an ARPS archive."""

    base: str
    """Base URL without a trailing slash (sentinelhub-py's ``sh_base_url``)."""
    archive: ArpsArchive
    token: str | None
    """A valid access token (None for the open server)."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def post(self, path: str, body: object) -> httpx.Response:
        return httpx.post(f"{self.base}{path}", json=body, headers=self.headers, timeout=120)

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return httpx.get(f"{self.base}{path}", headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]


def _serve(archive: ArpsArchive, clients: dict[str, str] | None) -> Iterator[ShServer]:
    store = open_store(None, archive.root)
    app = create_app(store, archive.root, ServerSettings(oauth_clients=clients))
    try:
        with start_in_thread(app) as server:
            base = server.url.rstrip("/")
            token = None
            if clients:
                reply = httpx.post(
                    f"{base}/oauth/token",
                    data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                          "client_secret": CLIENT_SECRET},
                )  # fmt: skip
                reply.raise_for_status()
                token = reply.json()["access_token"]
            yield ShServer(base, archive, token)
    finally:
        store.close()


@pytest.fixture(scope="session")
def arps_tiny(tmp_path_factory: pytest.TempPathFactory) -> ArpsArchive:
    return arps_archive(tmp_path_factory, "tiny")


@pytest.fixture(scope="session")
def arps_small(tmp_path_factory: pytest.TempPathFactory) -> ArpsArchive:
    return arps_archive(tmp_path_factory, "small")


@pytest.fixture(scope="session")
def sh_tiny(arps_tiny: ArpsArchive) -> Iterator[ShServer]:
    yield from _serve(arps_tiny, {CLIENT_ID: CLIENT_SECRET})


@pytest.fixture(scope="session")
def sh_small(arps_small: ArpsArchive) -> Iterator[ShServer]:
    yield from _serve(arps_small, {CLIENT_ID: CLIENT_SECRET})


@pytest.fixture(scope="session")
def sh_open(arps_tiny: ArpsArchive) -> Iterator[ShServer]:
    yield from _serve(arps_tiny, None)
