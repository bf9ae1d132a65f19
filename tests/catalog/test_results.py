"""Search results in every shape: dicts, pystac, GeoDataFrame, GeoJSON, stac-geoparquet; and
``where`` filters on result columns."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pystac
import pytest
import shapely.geometry

from eoaccess.catalog import open_catalog
from eoaccess.errors import InvalidInputError
from tests.catalog.conftest import Sources

ARPS = "c3aea595-b59c-4f11-9ae2-a85b5dc68c9c"
KAGUYA_MONO = "kaguya_terrain_camera_monoscopic_uncontrolled_observations"


def test_geodataframe_columns_and_types(sources: Sources) -> None:
    with open_catalog(sources.api) as catalog:
        frame = catalog.search(
            collections=[ARPS, "itslive_datacubes"], sortby="id"
        ).to_geodataframe()
    assert frame.crs.to_epsg() == 4326
    assert list(frame["id"]) == sorted(
        i["id"] for i in sources.items if i["collection"] in (ARPS, "itslive_datacubes")
    )
    for column in ("datetime", "start_datetime", "end_datetime"):
        assert str(frame[column].dtype) == "datetime64[ns, UTC]"
    arps = frame[frame["collection"] == ARPS]
    assert arps["datetime"].min() == pd.Timestamp("2023-11-01T00:00:00Z")
    assert (
        arps["assets.analysis_ready_ps_qa.href"].str.startswith(f"{sources.api}files/arps/").all()
    )
    assert "eo:cloud_cover" in frame.columns and "properties" not in frame.columns
    first = sources.items[[i["id"] for i in sources.items].index(frame["id"].iloc[0])]
    assert frame.geometry.iloc[0].equals(shapely.geometry.shape(first["geometry"]))


def test_geojson_item_collection_and_geoparquet(sources: Sources, tmp_path: Path) -> None:
    with open_catalog(sources.static) as catalog:
        result = catalog.search(collections=KAGUYA_MONO, sortby="id")
        collection = result.to_geojson(tmp_path / "hits.geojson")
        written = json.loads((tmp_path / "hits.geojson").read_text())
        assert written == collection and collection["type"] == "FeatureCollection"
        ids = [f["id"] for f in collection["features"]]
        items = result.item_collection()
        assert isinstance(items, pystac.ItemCollection) and [i.id for i in items] == ids
        path = result.to_geoparquet(tmp_path / "hits.parquet")
    assert sorted(os.listdir(tmp_path)) == ["hits.geojson", "hits.parquet"]  # no temporaries
    with open_catalog(path) as again:
        assert [i["id"] for i in again.search(sortby="id").items()] == ids
        assert [c["id"] for c in again.collections()] == [KAGUYA_MONO]
        assert (
            again.collections()[0]["title"]
            == "Kaguya Terrain Camera Monoscopic Uncontrolled Observations"
        )


def test_where_filters_any_column(sources: Sources) -> None:
    with open_catalog(sources.archive) as catalog:
        result = catalog.search(where="gsd > 100 and collection != 'ATL03'", sortby="id")
        want = sorted(i["id"] for i in sources.items if (i["properties"].get("gsd") or 0) > 100)
        assert [i["id"] for i in result.items()] == want
        assert result.matched() == len(want)
        capped = catalog.search(where="gsd > 100", sortby="id", max_items=2)
        assert [i["id"] for i in capped.items()] == want[:2]
        quoted = catalog.search(where="`eo:cloud_cover` >= 0", sortby="id")
        assert {i["collection"] for i in quoted.items()} == {ARPS}
        with pytest.raises(InvalidInputError, match="uses incidence, which no result has"):
            list(catalog.search(where="incidence < 3").items())
        with pytest.raises(InvalidInputError, match="Attribute is not allowed"):
            catalog.search(where="gsd.__class__")


def test_collections_have_titles_and_extents(sources: Sources) -> None:
    for location in sources.all_kinds().values():
        with open_catalog(location) as catalog:
            collections = {c["id"]: c for c in catalog.collections()}
        assert set(collections) == {c["id"] for c in sources.collections}, location
        mono = collections[KAGUYA_MONO]
        assert mono["title"] == "Kaguya Terrain Camera Monoscopic Uncontrolled Observations"
        assert len(mono["extent"]["spatial"]["bbox"][0]) == 4
