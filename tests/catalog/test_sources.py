"""Each source kind on its own: static catalogs (local, http, s3), stac-geoparquet written and
read back, GeoJSON footprint catalogs (the sample's and the real ITS_LIVE one), archives."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas
import pyarrow.parquet as pq
import pytest
import shapely
import shapely.geometry

from eoaccess.catalog import open_catalog, write_geoparquet
from eoaccess.catalog._errors import NotACatalogError
from eoaccess.catalog.geoparquet import TIMESTAMP_PROPERTIES
from eoaccess.errors import NotFoundError
from eoaccess.query import format_datetime, parse_instant
from eoaccess.transfer import RetryPolicy, S3Options, TransferConfig
from tests.catalog.conftest import Sources
from tests.conftest import S3Archive
from tests.harness.http import RangeHTTPServer

KAGUYA = {
    "kaguya_terrain_camera_monoscopic_uncontrolled_observations",
    "kaguya_terrain_camera_stereoscopic_uncontrolled_observations",
    "kaguya_terrain_camera_spsupport_uncontrolled_observations",
}


def test_static_kaguya_catalog_is_walked_concurrently_over_http(
    http_server: RangeHTTPServer, tiny_archive: Path
) -> None:
    start = len(http_server.log)
    with open_catalog(f"{http_server.url}/kaguya/catalog.json") as catalog:
        assert catalog.kind == "static"
        items = list(catalog.search(sortby="id").items())
        assert {c["id"] for c in catalog.collections()} == KAGUYA
    files = sorted(tiny_archive.glob("kaguya/moon/kaguya/terrain_camera/*/*/*/*[0-9].json"))
    assert [i["id"] for i in items] == sorted(f.stem for f in files)
    # one GET per document: the catalog, 3 collections, every item; nothing read twice
    paths = [r.path for r in http_server.log[start:]]
    assert len(paths) == 1 + 3 + len(files) and len(set(paths)) == len(paths)
    for item in items:
        assert item["collection"] in KAGUYA
        href = item["assets"]["image"]["href"]
        assert href.startswith(http_server.url + "/kaguya/moon/") and href.endswith(".tif")
        self_link = item["links"][0]
        assert self_link["rel"] == "self" and self_link["href"] == (
            href.rsplit("/", 1)[0] + f"/{item['id']}.json"
        )


def test_static_catalog_on_s3(s3_archive: S3Archive) -> None:
    config = TransferConfig(s3=S3Options(endpoint_url=s3_archive.server.endpoint))
    with open_catalog(f"{s3_archive.url}/kaguya/catalog.json", config=config) as catalog:
        items = list(catalog.search(bbox=[-180, -90, 180, 90]).items())
    assert len(items) == 12
    for item in items:
        assert item["assets"]["caminfo_pvl"]["href"].startswith(f"{s3_archive.url}/kaguya/moon/")


def test_a_missing_child_fails_the_open_naming_it(tmp_path: Path, sources: Sources) -> None:
    catalog = json.loads(sources.static.read_text())
    catalog["links"].append({"rel": "child", "href": "./gone/collection.json"})
    broken = tmp_path / "catalog.json"
    broken.write_text(json.dumps(catalog).replace('"./', f'"{sources.static.parent}/'))
    with pytest.raises(NotFoundError, match=r"gone/collection\.json does not exist"):
        open_catalog(broken)


def test_an_item_collection_keeps_its_order_and_hrefs(tmp_path: Path) -> None:
    features = [
        {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": name,
            "geometry": {"type": "Point", "coordinates": [n, n]},
            "properties": {"datetime": f"2020-01-0{n + 1}T00:00:00Z"},
            "assets": {"data": {"href": f"data/{name}.tif"}},
        }
        for n, name in enumerate(["c", "a", "b"])
    ]
    path = tmp_path / "saved.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with open_catalog(path) as catalog:
        assert [i["id"] for i in catalog.search().items()] == ["c", "a", "b"]
        assert [i["id"] for i in catalog.search(sortby="-datetime").items()] == ["b", "a", "c"]
        first = next(iter(catalog.search(ids="a").items()))
    assert first["assets"]["data"]["href"] == str(tmp_path / "data" / "a.tif")


def test_geoparquet_round_trip_and_layout(sources: Sources, tmp_path: Path) -> None:
    path = write_geoparquet(sources.items, tmp_path / "out.parquet", sources.collections)
    table = pq.read_table(path)
    schema = table.schema
    assert str(schema.field("datetime").type) == "timestamp[us, tz=UTC]"
    assert str(schema.field("bbox").type) == (
        "struct<xmin: double, ymin: double, xmax: double, ymax: double>"
    )
    geo = json.loads(schema.metadata[b"geo"])
    assert geo["primary_column"] == "geometry" and geo["columns"]["geometry"]["encoding"] == "WKB"
    stac = json.loads(schema.metadata[b"stac-geoparquet"])
    assert sorted(stac["collections"]) == sorted(c["id"] for c in sources.collections)
    # a GeoParquet reader sees the same footprints
    frame = geopandas.read_parquet(path)
    for item, geometry in zip(sources.items, frame.geometry, strict=True):
        assert geometry.equals(shapely.geometry.shape(item["geometry"]))
    with open_catalog(path) as catalog:
        back = {i["id"]: i for i in catalog.search(limit=10_000).items()}
        assert [c["id"] for c in catalog.collections()] == sorted(stac["collections"])
    for item in sources.items:
        again = back[item["id"]]
        # null properties other than datetime are not kept (Parquet cannot tell null from absent)
        wanted = {k: v for k, v in item["properties"].items() if v is not None or k == "datetime"}
        for name in TIMESTAMP_PROPERTIES:  # typed timestamps: the same instants, one spelling
            if wanted.get(name):
                wanted[name] = format_datetime(parse_instant(wanted[name]))
        assert again["properties"] == wanted
        assert again["assets"] == item["assets"] and again["geometry"] == json.loads(
            json.dumps(item["geometry"])
        )
        assert again["bbox"] == item["bbox"] and again["collection"] == item["collection"]


def test_geoparquet_keeps_columns_arrow_cannot_type(tmp_path: Path) -> None:
    items = [
        {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": f"i{n}",
            "geometry": {"type": "Point", "coordinates": [n, 0]},
            "bbox": [n, 0, n, 0],
            "properties": {"datetime": "2020-01-01T00:00:00Z", "mixed": value, "empty": {}},
            "assets": {},
            "links": [],
        }
        for n, value in enumerate([1, "one", [1, "x"]])
    ]
    path = write_geoparquet(items, tmp_path / "mixed.parquet")
    with open_catalog(path) as catalog:
        back = list(catalog.search(sortby="id").items())
    assert [i["properties"]["mixed"] for i in back] == [1, "one", [1, "x"]]
    assert all(i["properties"]["empty"] == {} for i in back)


def test_sample_footprint_catalog_resolves_relative_cube_urls(tiny_archive: Path) -> None:
    path = tiny_archive / "itslive" / "catalog_v02.json"
    features = json.loads(path.read_text())["features"]
    listed = [f for f in features if f["properties"].get("datacube_exist", 1) == 1]
    with open_catalog(path) as catalog:
        assert catalog.kind == "footprints"
        assert [c["id"] for c in catalog.collections()] == ["itslive_datacubes"]
        items = list(catalog.search(sortby="id").items())
    assert len(items) == len(listed)
    for item in items:
        href = item["assets"]["data"]["href"]
        assert Path(href).is_dir() and href.startswith(str(tiny_archive / "itslive" / "datacubes"))
        assert item["properties"]["proj:code"].startswith("EPSG:")
        assert item["properties"]["datetime"] is None


def test_real_itslive_catalog_point_query_matches_the_seed(realdata: Path) -> None:
    path = realdata / "itslive" / "catalog_v02_regions.json"
    with open_catalog(path) as catalog:
        hits = list(catalog.search(point=(-138.958776, 60.748561)).items())
        assert catalog.search().matched() == 2471
    # seed 000: geopandas read_file + sjoin with the point
    frame = geopandas.read_file(path)
    point = geopandas.GeoDataFrame(
        geometry=geopandas.GeoSeries([shapely.Point(-138.958776, 60.748561)], crs="EPSG:4326")
    )
    urls = list(frame.sjoin(point, how="inner")["zarr_url"])
    assert [h["assets"]["data"]["href"] for h in hits] == urls
    assert hits[0]["id"] == "ITS_LIVE_vel_EPSG3413_G0120_X-3250000_Y250000"
    assert hits[0]["properties"]["proj:code"] == "EPSG:3413"


def test_archive_folder_with_embedded_catalog(sources: Sources) -> None:
    with open_catalog(sources.archive / ".eoaccess") as catalog:
        assert catalog.kind == "archive" and catalog.href == str(sources.archive)
        item = next(iter(catalog.search(collections="ATL03").items()))
    href = next(iter(item["assets"].values()))["href"]
    assert Path(href).is_file() and href.startswith(str(sources.archive))


def test_short_retries_for_catalog_documents(tmp_path: Path) -> None:
    config = TransferConfig(retry=RetryPolicy(attempts=1))
    with pytest.raises(NotACatalogError, match=r"plain\.txt is not JSON"):
        open_catalog(_write(tmp_path / "plain.txt", "hello"), config=config)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
