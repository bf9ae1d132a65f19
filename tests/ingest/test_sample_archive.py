"""Ingesting the tiny sample archive: collections, counts, footprints, times and STAC fields.

Expected values are read from the archive's files with other libraries (xarray, h5py,
rasterio, hashlib), not from the ingest code.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import rasterio
import shapely
import shapely.geometry
import xarray as xr

from eoaccess.ingest import FINGERPRINT
from eoaccess.query import parse_instant
from eoaccess.stores import CatalogStore
from tests.ingest.conftest import Ingested, all_items

SEED_000_POINT = (-138.958776, 60.748561)
SEED_001_BOX = (-105.5, 40.0, -105.0, 41.0)
KAGUYA = tuple(
    f"kaguya_terrain_camera_{mode}_uncontrolled_observations"
    for mode in ("monoscopic", "stereoscopic", "spsupport")
)


def _byoc_id(archive: Path) -> str:
    return str(json.loads((archive / "arps" / "collection.json").read_text())["id"])


def _kaguya_items(archive: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    out = {}
    for path in sorted((archive / "kaguya").rglob("TC*.json")):
        document = json.loads(path.read_text())
        if document.get("type") == "Feature":
            out[document["id"]] = (path, document)
    return out


def _expected_counts(archive: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    counts["ATL03"] = len(list((archive / "atl03").rglob("*.h5")))
    counts[_byoc_id(archive)] = len(list((archive / "arps").rglob("analysis_ready_ps_sr.tif")))
    catalog = json.loads((archive / "itslive" / "catalog_v02.json").read_text())
    counts["itslive_datacubes"] = sum(
        f["properties"]["datacube_exist"] == 1 for f in catalog["features"]
    )
    for _, item in _kaguya_items(archive).values():
        counts[item["collection"]] += 1
    return counts


def test_collections_and_item_counts(ingested: Ingested, store: CatalogStore) -> None:
    expected = _expected_counts(ingested.archive)
    assert {c["id"] for c in store.collections()} == {
        "ATL03",
        "itslive_datacubes",
        _byoc_id(ingested.archive),
        *KAGUYA,
    }
    items = all_items(store)
    assert Counter(cid for cid, _ in items) == expected
    report = ingested.report
    assert {c.collection: c.added for c in report.collections} == dict(expected)
    assert (report.updated, report.removed, report.unchanged) == (0, 0, 0)
    assert report.skipped == ()
    # The BYOC collection.json and tiles.json of ARPS are metadata, not items.
    assert report.ignored == 2


def test_collections_are_stac_with_extents_of_their_items(store: CatalogStore) -> None:
    items = all_items(store)
    for collection in store.collections():
        assert collection["type"] == "Collection"
        assert collection["stac_version"] == "1.0.0"
        assert collection["title"] and collection["description"] and collection["license"]
        mine = [i for (cid, _), i in items.items() if cid == collection["id"]]
        (west, south, east, north) = collection["extent"]["spatial"]["bbox"][0]
        assert west == min(i["bbox"][0] for i in mine)
        assert east == max(i["bbox"][2] for i in mine)
        assert south == min(i["bbox"][1] for i in mine)
        assert north == max(i["bbox"][3] for i in mine)
        starts = [
            parse_instant(i["properties"].get("start_datetime") or i["properties"]["datetime"])
            for i in mine
        ]
        ends = [
            parse_instant(i["properties"].get("end_datetime") or i["properties"]["datetime"])
            for i in mine
        ]
        (start, end) = collection["extent"]["temporal"]["interval"][0]
        assert parse_instant(start) == min(starts)
        assert parse_instant(end) == max(ends)


def test_every_local_asset_has_size_and_sha256_checksum(
    ingested: Ingested, store: CatalogStore
) -> None:
    hashed = 0
    for item in all_items(store).values():
        assert item["properties"][FINGERPRINT]
        assert (
            "https://stac-extensions.github.io/file/v2.1.0/schema.json" in item["stac_extensions"]
        )
        for asset in item["assets"].values():
            path = ingested.archive / asset["href"]
            assert not asset["href"].startswith("/") and path.exists(), asset["href"]
            if path.is_dir():  # a Zarr store: its total size, no checksum
                sizes = [p.stat().st_size for p in path.rglob("*") if p.is_file()]
                assert asset["file:size"] == sum(sizes)
                assert "file:checksum" not in asset
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            assert asset["file:checksum"] == "1220" + digest
            assert asset["file:size"] == path.stat().st_size
            hashed += path.stat().st_size
    assert ingested.report.hashed_bytes == hashed


def test_itslive_cube_items(ingested: Ingested, store: CatalogStore) -> None:
    items = {iid: i for (cid, iid), i in all_items(store).items() if cid == "itslive_datacubes"}
    alaska = items["ITS_LIVE_vel_EPSG3413_G0120_X-3250000_Y250000"]
    footprint = shapely.geometry.shape(alaska["geometry"])
    assert footprint.contains(shapely.Point(*SEED_000_POINT))
    # The footprint is the catalog's 100 km tile, densified: far more than its 5 corners.
    assert len(footprint.exterior.coords) > 50
    props = alaska["properties"]
    assert (props["proj:code"], props["proj:epsg"]) == ("EPSG:3413", 3413)
    href = alaska["assets"]["data"]["href"]
    assert href == (
        "itslive/datacubes/v2/N60W130/ITS_LIVE_vel_EPSG3413_G0120_X-3250000_Y250000.zarr"
    )
    assert alaska["assets"]["data"]["type"] == "application/vnd+zarr"
    cube = xr.open_dataset(ingested.archive / href, engine="zarr")
    assert props["proj:shape"] == [cube.sizes["y"], cube.sizes["x"]]
    assert props["proj:transform"] == [
        120.0,
        0.0,
        float(cube.x[0]) - 60,
        0.0,
        -120.0,
        float(cube.y[0]) + 60,
    ]
    times = cube.mid_date.values
    for key, value in (("start_datetime", times.min()), ("end_datetime", times.max())):
        expected = datetime.fromtimestamp(value.astype("datetime64[us]").astype(int) / 1e6, UTC)
        assert abs((parse_instant(props[key]) - expected).total_seconds()) < 1e-3
    assert props["datetime"] is None
    assert props["roi_percent_coverage"] > 0  # the catalog feature's own properties are kept
    assert set(props["cube:dimensions"]) == {"x", "y", "mid_date"}
    assert props["cube:variables"]["v"]["dimensions"] == ["mid_date", "y", "x"]
    # UTM cubes: the CRS comes from the catalog's epsg and the cube's grid mapping alike.
    codes = sorted(i["properties"]["proj:code"] for i in items.values())
    assert codes == ["EPSG:32646", "EPSG:32718", "EPSG:3413"]


def test_atl03_granule_items(ingested: Ingested, store: CatalogStore) -> None:
    items = {iid: i for (cid, iid), i in all_items(store).items() if cid == "ATL03"}
    granules = sorted((ingested.archive / "atl03").rglob("*.h5"))
    assert sorted(items) == [g.stem for g in granules]
    for granule in granules:
        item = items[granule.stem]
        footprint = shapely.geometry.shape(item["geometry"])
        with h5py.File(granule) as h5:
            start = h5.attrs["time_coverage_start"].decode()
            end = h5.attrs["time_coverage_end"].decode()
            lon = np.concatenate([h5[f"{b}/heights/lon_ph"][:] for b in h5 if b.startswith("gt")])
            lat = np.concatenate([h5[f"{b}/heights/lat_ph"][:] for b in h5 if b.startswith("gt")])
        # The seed 001 granules cross its Colorado box, and the footprint holds every photon.
        assert footprint.intersects(shapely.box(*SEED_001_BOX))
        assert shapely.contains_xy(footprint, lon, lat).all()
        props = item["properties"]
        assert parse_instant(props["start_datetime"]) == parse_instant(start)
        assert parse_instant(props["end_datetime"]) == parse_instant(end)
        assert props["datetime"] == props["start_datetime"]
        assert props["platform"] == "icesat-2" and props["instruments"] == ["atlas"]
        asset = item["assets"]["data"]
        assert asset["type"] == "application/x-hdf5" and asset["roles"] == ["data"]
        assert asset["href"] == granule.relative_to(ingested.archive).as_posix()


def test_arps_items_have_raster_projection_and_qa(ingested: Ingested, store: CatalogStore) -> None:
    byoc = _byoc_id(ingested.archive)
    items = {iid: i for (cid, iid), i in all_items(store).items() if cid == byoc}
    assert store.get_collection(byoc)["title"].startswith("Analysis-Ready PlanetScope")
    for sr in sorted((ingested.archive / "arps").rglob("analysis_ready_ps_sr.tif")):
        day, grid = sr.parent.name, sr.parent.parent.name
        item = items[f"{grid}_{day}"]
        props = item["properties"]
        assert props["datetime"] == f"{day}T00:00:00Z"
        with rasterio.open(sr) as src:
            assert props["proj:code"] == f"EPSG:{src.crs.to_epsg()}"
            assert props["proj:shape"] == [src.height, src.width]
            assert props["proj:transform"] == list(src.transform)[:6]
            bounds = shapely.box(*src.bounds)
        data = item["assets"]["analysis_ready_ps_sr"]
        assert data["type"] == "image/tiff; application=geotiff; profile=cloud-optimized"
        assert (
            data["raster:bands"]
            == [{"data_type": "int16", "nodata": 0, "spatial_resolution": 3.0}] * 4
        )
        assert [b["common_name"] for b in data["eo:bands"]] == ["blue", "green", "red", "nir"]
        qa = item["assets"]["analysis_ready_ps_qa"]
        assert qa["href"] == posixpath.join(
            posixpath.dirname(data["href"]), "analysis_ready_ps_qa.tif"
        )
        assert [b["name"] for b in qa["eo:bands"]] == ["cloud_mask", "scene_mask"]
        with rasterio.open(sr.with_name("analysis_ready_ps_qa.tif")) as src:
            clear = float(src.tags()["PERCENTAGE_CLEAR"])
        assert props["eo:cloud_cover"] == pytest.approx(100 - clear)
        # The lon/lat footprint is the UTM tile reprojected.
        from pyproj import Transformer

        back = Transformer.from_crs(4326, 32610, always_xy=True)
        ring = shapely.geometry.shape(item["geometry"]).exterior.coords
        native = shapely.Polygon([back.transform(x, y) for x, y in ring])
        assert native.symmetric_difference(bounds).area < 1e-3 * bounds.area


def test_kaguya_items_keep_the_static_catalog(ingested: Ingested, store: CatalogStore) -> None:
    static = _kaguya_items(ingested.archive)
    served = {iid: i for (cid, iid), i in all_items(store).items() if cid in KAGUYA}
    assert sorted(served) == sorted(static)
    for item_id, (path, source) in static.items():
        item = served[item_id]
        props = dict(item["properties"])
        props.pop(FINGERPRINT)
        assert props == source["properties"]
        assert item["collection"] == source["collection"]
        # Lunar lon/lat footprints stay as they are, on the Moon.
        assert item["geometry"] == source["geometry"] and item["bbox"] == source["bbox"]
        assert props["ssys:targets"] == ["Moon"] and props["proj:epsg"] is None
        assert "IAU" in props["proj:wkt2"]
        assert (
            set(item["assets"])
            == set(source["assets"])
            >= {
                "image",
                "thumbnail",
                "caminfo_pvl",
                "isis_label",
                "pds_label",
                "usgscsm_isd",
            }
        )
        folder = path.parent.relative_to(ingested.archive).as_posix()
        for key, asset in source["assets"].items():
            served_asset = item["assets"][key]
            assert served_asset["href"] == posixpath.normpath(posixpath.join(folder, asset["href"]))
            assert {
                k: v for k, v in served_asset.items() if not k.startswith(("href", "file:"))
            } == {k: v for k, v in asset.items() if k != "href"}
        assert "links" not in item or item["links"] == []
    collection = store.get_collection(KAGUYA[0])
    source_collection = json.loads(
        (ingested.archive / "kaguya" / KAGUYA[0] / "collection.json").read_text()
    )
    for key in ("title", "description", "license", "providers", "summaries", "keywords"):
        assert collection[key] == source_collection[key]
