"""Fixtures of the search client tests: the tiny sample archive ingested (an archive with an
embedded catalog), served as a STAC API, and the same items written as a static catalog and as
a stac-geoparquet file inside the archive (so the server's /files serves them over HTTP too)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eoaccess.catalog import open_catalog, write_geoparquet
from eoaccess.ingest import ingest
from eoaccess.query import MAX_LIMIT
from eoaccess.server import RunningServer, create_app, start_in_thread
from eoaccess.stores import CatalogStore, open_store


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Sidecar caches go to a private folder per test, never to ~/.cache."""
    cache = tmp_path / "eoaccess-cache"
    monkeypatch.setenv("EOACCESS_CACHE_DIR", str(cache))
    return cache


def write_static_catalog(
    root: Path, items: list[dict[str, Any]], collections: list[dict[str, Any]]
) -> Path:
    """A static catalog of ``items``: catalog.json -> <collection>/collection.json -> items."""
    root.mkdir(parents=True)
    catalog = {
        "type": "Catalog",
        "stac_version": "1.0.0",
        "id": "test-static",
        "description": "the test items as a static catalog",
        "links": [{"rel": "root", "href": "./catalog.json"}],
    }
    for collection in collections:
        cid = collection["id"]
        folder = root / cid
        (folder / "items").mkdir(parents=True)
        links: list[dict[str, Any]] = [{"rel": "root", "href": "../catalog.json"}]
        for item in items:
            if item.get("collection") != cid:
                continue
            body = {k: v for k, v in item.items() if k not in ("links", "collection")}
            (folder / "items" / f"{item['id']}.json").write_text(json.dumps(body))
            links.append({"rel": "item", "href": f"./items/{item['id']}.json"})
        document = {k: v for k, v in collection.items() if k != "links"} | {"links": links}
        (folder / "collection.json").write_text(json.dumps(document))
        catalog["links"].append({"rel": "child", "href": f"./{cid}/collection.json"})
    path = root / "catalog.json"
    path.write_text(json.dumps(catalog))
    return path


@dataclass(frozen=True)
class Sources:
    """The same items behind every kind of source."""

    archive: Path
    store: CatalogStore
    server: RunningServer
    static: Path
    parquet: Path
    items: list[dict[str, Any]]
    collections: list[dict[str, Any]]

    @property
    def api(self) -> str:
        return self.server.url

    def files_url(self, path: Path) -> str:
        return f"{self.server.url}files/{path.relative_to(self.archive).as_posix()}"

    def all_kinds(self) -> dict[str, str]:
        """Source name -> location, one of each kind and transport."""
        return {
            "archive": str(self.archive),
            "stac_api": self.api,
            "static": str(self.static),
            "static_http": self.files_url(self.static),
            "geoparquet": str(self.parquet),
            "geoparquet_http": self.files_url(self.parquet),
        }


@pytest.fixture(scope="session")
def sources(tiny_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sources]:
    archive = tmp_path_factory.mktemp("catalog") / "archive"
    shutil.copytree(tiny_archive, archive, ignore=shutil.ignore_patterns(".eoaccess"))
    ingest(archive)
    with open_catalog(archive) as catalog:
        items = list(catalog.search(limit=MAX_LIMIT).items())
        collections = catalog.collections()
    static = write_static_catalog(archive / "exports" / "static", items, collections)
    parquet = write_geoparquet(items, archive / "exports" / "items.parquet", collections)
    store = open_store(None, archive)
    server = start_in_thread(create_app(store, archive))
    yield Sources(archive, store, server, static, parquet, items, collections)
    server.stop()
    store.close()
