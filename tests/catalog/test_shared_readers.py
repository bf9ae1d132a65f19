"""The shared pieces the search client added or reuses: batched footprints (identical to the
one-by-one path), GeoTIFF tags from header bytes, and the garbage-collector pause."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely

from eoaccess._tiff import TiffTruncatedError, header_tags
from eoaccess.catalog._io import gc_paused
from eoaccess.ingest._geometry import _wrap, footprints_from_lonlat_rings, unwrap_longitudes
from eoaccess.ingest.footprints import feature_crs, feature_items
from eoaccess.sample.arps import header_size


def _general_path(lon: np.ndarray, lat: np.ndarray) -> tuple[object, tuple[float, ...]]:
    polygon = shapely.Polygon(np.column_stack([unwrap_longitudes(lon), lat]))
    if not polygon.is_valid:
        polygon = shapely.make_valid(polygon)
    footprint = _wrap(polygon)
    return json.loads(json.dumps(footprint.geometry)), footprint.bbox


def test_vectorised_footprints_equal_the_general_path(realdata: Path) -> None:
    features = json.loads((realdata / "itslive" / "catalog_v02_regions.json").read_text())
    rings = [f["geometry"]["coordinates"][0] for f in features["features"]]
    lons = [np.array([p[0] for p in r]) for r in rings]
    lats = [np.array([p[1] for p in r]) for r in rings]
    batch = footprints_from_lonlat_rings(lons, lats)
    for footprint, lon, lat in zip(batch, lons, lats, strict=True):
        assert (json.loads(json.dumps(footprint.geometry)), footprint.bbox) == _general_path(
            lon, lat
        )


def test_feature_items_match_one_by_one(realdata: Path) -> None:
    from eoaccess.ingest.footprints import feature_item

    features = json.loads((realdata / "itslive" / "catalog_v02_regions.json").read_text())
    sample = features["features"][::97]
    hrefs = [(f["properties"]["zarr_url"], None) for f in sample]
    together = feature_items(sample, hrefs)
    for feature, (href, _), item in zip(sample, hrefs, together, strict=True):
        assert item == feature_item(feature, href, crs=feature_crs(feature["properties"]))


def test_tags_from_a_cut_header_say_how_much_more_is_needed(tiny_archive: Path) -> None:
    path = next(tiny_archive.glob("arps/*/*/analysis_ready_ps_qa.tif"))
    data = path.read_bytes()
    size = header_size(path)
    with rasterio.open(path) as dataset:
        assert header_tags(data[:size]) == dataset.tags()
    with pytest.raises(TiffTruncatedError) as caught:
        header_tags(data[:200])
    assert 200 < caught.value.needed <= size
    assert header_tags(data[: caught.value.needed + 4096])["SCENE_IDS[LAYER_2_VALUE]"]


def test_gc_pauses_nest_and_restore() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
