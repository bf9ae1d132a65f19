"""Fixtures of the server tests: a small archive with real files, its catalog in the real
embedded store (loaded with ``store.transaction()``), and the app served by uvicorn in a thread
on a free loopback port.

The archive holds two collections shaped like the seed products: 36 Kaguya-TC-like lunar scenes
(one GeoTIFF-named file and one PDS label each, a 6 × 6 grid of 1° footprints, one scene a day)
and 4 ITS_LIVE-like velocity cubes (Zarr folders with a time range instead of an instant, the
projection extension, and a ``catalog_v02.json`` footprint catalog with relative ``zarr_url``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from eoaccess.server import RunningServer, create_app, start_in_thread
from eoaccess.stores import CatalogStore, open_store

LUNAR = "lunar-tc"
ICE = "ice-velocity"
LUNAR_COUNT = 36
ICE_COUNT = 4
LUNAR_START = datetime(2009, 1, 1, 3, 0, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [east, south], [east, north], [west, north], [west, south]]
        ],
    }


def lunar_id(n: int) -> str:
    return f"TC1S2B0_01_{n:05d}S050E0100"


def lunar_file_bytes(n: int) -> bytes:
    """Deterministic content of scene ``n``'s image file (sizes differ per scene)."""
    return bytes((n * 31 + i * 7) % 256 for i in range(2000 + 37 * n))


def lunar_item(n: int) -> dict[str, Any]:
    """Scene ``n``: footprint cell (n % 6, n // 6) of a 1° grid at 10–16°E, 5°S–1°N."""
    west, south = 10.0 + n % 6, -5.0 + n // 6
    stem = f"lunar/tc/{lunar_id(n)}"
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": lunar_id(n),
        "collection": LUNAR,
        "geometry": _box(west, south, west + 1, south + 1),
        "bbox": [west, south, west + 1, south + 1],
        "properties": {
            "datetime": _iso(LUNAR_START + timedelta(days=n)),
            "platform": "kaguya",
            "instruments": ["tc"],
            "gsd": 10.0,
            "view:incidence_angle": round(20 + 1.5 * n, 1),
            "processing:level": "L2B" if n % 2 else "L2C",
        },
        "assets": {
            "image": {
                "href": f"{stem}.tif",
                "type": "image/tiff; application=geotiff",
                "roles": ["data"],
            },
            "label": {"href": f"{stem}.lbl", "type": "text/plain", "roles": ["metadata"]},
        },
        "links": [],
    }


def cube_name(n: int) -> str:
    return f"ITS_LIVE_vel_EPSG3413_G0120_X{-150000 + 100000 * n}_Y-2250000.zarr"


def ice_item(n: int) -> dict[str, Any]:
    """Cube ``n``: a 1° × 1° Greenland cell with a 2018–2020+n time range, no instant."""
    west, south = -50.0 + n, 68.0
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": ["https://stac-extensions.github.io/projection/v1.1.0/schema.json"],
        "id": cube_name(n).removesuffix(".zarr"),
        "collection": ICE,
        "geometry": _box(west, south, west + 1, south + 1),
        "bbox": [west, south, west + 1, south + 1],
        "properties": {
            "datetime": None,
            "start_datetime": "2018-01-01T00:00:00Z",
            "end_datetime": f"{2020 + n}-12-31T23:59:59Z",
            "proj:epsg": 3413,
        },
        "assets": {
            "zarr": {
                "href": f"ice/cubes/{cube_name(n)}",
                "type": "application/vnd+zarr",
                "roles": ["data"],
            }
        },
        "links": [],
    }


def _collection(cid: str, title: str, bbox: list[float], interval: list[Any]) -> dict[str, Any]:
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": cid,
        "title": title,
        "description": f"{title} (test archive)",
        "license": "proprietary",
        "extent": {"spatial": {"bbox": [bbox]}, "temporal": {"interval": [interval]}},
        "links": [],
    }


def lunar_collection() -> dict[str, Any]:
    collection = _collection(
        LUNAR,
        "Kaguya TC ortho scenes",
        [10.0, -5.0, 16.0, 1.0],
        [_iso(LUNAR_START), _iso(LUNAR_START + timedelta(days=LUNAR_COUNT - 1))],
    )
    collection["summaries"] = {
        "platform": ["kaguya"],
        "gsd": [10.0],
        "view:incidence_angle": {"minimum": 20.0, "maximum": 72.5},
        "processing:level": ["L2B", "L2C"],
    }
    return collection


def ice_collection() -> dict[str, Any]:
    return _collection(
        ICE,
        "ITS_LIVE velocity cubes",
        [-50.0, 68.0, -46.0, 69.0],
        ["2018-01-01T00:00:00Z", "2023-12-31T23:59:59Z"],
    )


def write_archive(root: Path) -> None:
    """The files the items point at, plus an ITS_LIVE catalog and a name that needs quoting."""
    tc = root / "lunar" / "tc"
    tc.mkdir(parents=True)
    for n in range(LUNAR_COUNT):
        (tc / f"{lunar_id(n)}.tif").write_bytes(lunar_file_bytes(n))
        (tc / f"{lunar_id(n)}.lbl").write_text(
            f'PDS_VERSION_ID = PDS3\nPRODUCT_ID = "{lunar_id(n)}"\nEND\n'
        )
    cubes = root / "ice" / "cubes"
    features = []
    for n in range(ICE_COUNT):
        cube = cubes / cube_name(n)
        (cube / "v").mkdir(parents=True)
        (cube / ".zgroup").write_text('{"zarr_format": 2}')
        (cube / ".zmetadata").write_text(
            json.dumps({"zarr_consolidated_format": 1, "metadata": {}})
        )
        (cube / "v" / ".zarray").write_text('{"zarr_format": 2, "shape": [2]}')
        (cube / "v" / "0").write_bytes(bytes(range(16)))
        item = ice_item(n)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "datacube_exist": 1,
                    "zarr_url": f"cubes/{cube_name(n)}",
                    "epsg": 3413,
                },
                "geometry": item["geometry"],
            }
        )
    catalog = {"type": "FeatureCollection", "name": "catalog_v02", "features": features}
    (root / "ice" / "catalog_v02.json").write_text(json.dumps(catalog, indent=1))
    (root / "docs with space").mkdir()
    (root / "docs with space" / "read me#1.txt").write_text("hello archive\n")


@dataclass(frozen=True)
class ServedArchive:
    """The running test server and what it serves."""

    server: RunningServer
    store: CatalogStore
    root: Path

    @property
    def url(self) -> str:
        return self.server.url


def load_catalog(store: CatalogStore) -> None:
    """Put the two collections and their items into ``store`` in one transaction."""
    with store.transaction() as writer:
        writer.upsert_collection(lunar_collection())
        writer.upsert_collection(ice_collection())
        writer.upsert_items([lunar_item(n) for n in range(LUNAR_COUNT)])
        writer.upsert_items([ice_item(n) for n in range(ICE_COUNT)])


@pytest.fixture(scope="session")
def archive_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("served") / "archive"
    root.mkdir()
    write_archive(root)
    return root


@pytest.fixture(scope="session")
def catalog_store(archive_root: Path) -> Iterator[CatalogStore]:
    """The real embedded store inside the archive, loaded with the test catalog."""
    store = open_store(None, archive_root)
    load_catalog(store)
    yield store
    store.close()


@pytest.fixture(scope="session")
def served(catalog_store: CatalogStore, archive_root: Path) -> Iterator[ServedArchive]:
    """The app over the test archive, on a free loopback port for the whole session."""
    server = start_in_thread(create_app(catalog_store, archive_root))
    yield ServedArchive(server, catalog_store, archive_root)
    server.stop()
