"""End to end on the real sample archive: ``sample`` → ``ingest`` → served → read by clients."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from pystac_client import Client

from eoaccess.server import create_app, start_in_thread
from eoaccess.stores import CatalogStore, open_store


@dataclass(frozen=True)
class Served:
    url: str
    root: Path
    store: CatalogStore


@pytest.fixture(scope="module")
def sample_served(tiny_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A copy of the tiny sample archive (the session one stays untouched), ingested, served."""
    from eoaccess.ingest import ingest

    root = tmp_path_factory.mktemp("sample") / "tiny"
    shutil.copytree(tiny_archive, root)
    ingest(root)
    store = open_store(None, root)
    with start_in_thread(create_app(store, root)) as server:
        yield Served(server.url, root, store)
    store.close()


def test_every_collection_searchable_and_every_asset_served(sample_served: Served) -> None:
    client = Client.open(sample_served.url)
    collections = [c.id for c in client.get_collections()]
    assert collections == [c["id"] for c in sample_served.store.collections()]
    assert len(collections) >= 4
    for cid in collections:
        search = client.search(collections=[cid], limit=2)
        items = list(search.items())
        assert search.matched() == len(items) > 0
        for asset in items[0].assets.values():
            prefix = f"{sample_served.url}files/"
            assert asset.href.startswith(prefix), asset.href
            path = sample_served.root / asset.href.removeprefix(prefix)
            response = httpx.head(asset.href)
            if path.is_dir():  # a Zarr store: its folder index
                assert response.status_code == 301
            else:
                assert response.status_code == 200, asset.href
                assert int(response.headers["content-length"]) == path.stat().st_size


def test_itslive_cubes_open_in_xarray_through_the_served_catalog(sample_served: Served) -> None:
    import xarray as xr
    import zarr
    from obstore.store import HTTPStore

    catalog = httpx.get(f"{sample_served.url}files/itslive/catalog_v02.json").json()
    with_cube = [f["properties"] for f in catalog["features"] if f["properties"]["datacube_exist"]]
    assert with_cube
    for props in with_cube:
        assert props["zarr_url"].startswith(f"{sample_served.url}files/itslive/datacubes/")
    for props in with_cube[:1]:  # opening one cube over HTTP is the point; each takes seconds
        url = props["zarr_url"]
        store = zarr.storage.ObjectStore(
            HTTPStore.from_url(url, client_options={"allow_http": True}), read_only=True
        )
        remote = xr.open_dataset(store, engine="zarr", zarr_format=2, decode_timedelta=False)
        local_path = sample_served.root / "itslive" / url.split("/files/itslive/", 1)[1]
        local = xr.open_dataset(local_path, engine="zarr", decode_timedelta=False)
        assert dict(remote.sizes) == dict(local.sizes)
        assert np.array_equal(remote["v"].values, local["v"].values, equal_nan=True)
        assert remote.attrs == local.attrs
    raw = json.loads((sample_served.root / "itslive" / "catalog_v02.json").read_text())
    assert len(raw["features"]) == len(catalog["features"])
