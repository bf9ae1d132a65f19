"""Sidecar enrichment (seed 002): values from PVL, JSON, XML sidecars and GeoTIFF headers
become columns, fetched concurrently, cached by URL and ETag, usable in ``where``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pvl
import pytest
import rasterio

from eoaccess.catalog import SidecarError, open_catalog, parse_enrich
from eoaccess.errors import InvalidInputError
from tests.catalog.conftest import Sources
from tests.harness.http import RangeHTTPServer

ANGLE = "caminfo_pvl:Caminfo.Geometry.IncidenceAngle=incidence_angle"
ARPS = "c3aea595-b59c-4f11-9ae2-a85b5dc68c9c"


def test_spec_parsing() -> None:
    spec = parse_enrich(ANGLE)
    assert (spec.asset, spec.path, spec.name, spec.format) == (
        "caminfo_pvl",
        "Caminfo.Geometry.IncidenceAngle",
        "incidence_angle",
        None,
    )
    tiff = parse_enrich("analysis_ready_ps_qa:tiff:SCENE_IDS[LAYER_2_VALUE]")
    assert (tiff.format, tiff.path, tiff.name) == (
        "tiff",
        "SCENE_IDS[LAYER_2_VALUE]",
        "SCENE_IDS_LAYER_2_VALUE",
    )
    for bad in ("no-colon", "asset:", "a:b=not a name"):
        with pytest.raises(InvalidInputError, match="enrich spec"):
            parse_enrich(bad)


def test_pvl_incidence_angles_over_http_are_cached_by_etag(
    http_server: RangeHTTPServer, tiny_archive: Path
) -> None:
    url = f"{http_server.url}/kaguya/catalog.json"
    with open_catalog(url) as catalog:
        result = catalog.search(enrich=ANGLE, sortby="id")
        start = len(http_server.log)
        items = list(result.items())
        first_run = http_server.log[start:]
        again = len(http_server.log)
        assert [i["properties"]["incidence_angle"] for i in result.items()] == [
            i["properties"]["incidence_angle"] for i in items
        ]
        second_run = http_server.log[again:]
    for item in items:
        local = tiny_archive / item["assets"]["caminfo_pvl"]["href"].removeprefix(
            http_server.url + "/"
        )
        label = pvl.load(str(local))
        assert (
            item["properties"]["incidence_angle"] == label["Caminfo"]["Geometry"]["IncidenceAngle"]
        )
    sidecars = {i["assets"]["caminfo_pvl"]["href"].removeprefix(http_server.url) for i in items}
    assert sorted((r.method, r.path) for r in first_run) == sorted(
        [("HEAD", p) for p in sidecars] + [("GET", p) for p in sidecars]
    )
    assert sorted((r.method, r.path) for r in second_run) == sorted(("HEAD", p) for p in sidecars)


def test_where_on_an_enriched_column(http_server: RangeHTTPServer) -> None:
    with open_catalog(f"{http_server.url}/kaguya/catalog.json") as catalog:
        every = {
            i["id"]: i["properties"]["incidence_angle"]
            for i in catalog.search(enrich=ANGLE).items()
        }
        kept = catalog.search(enrich=ANGLE, where="incidence_angle < 45", sortby="id")
        assert [i["id"] for i in kept.items()] == sorted(k for k, v in every.items() if v < 45)
        assert kept.matched() == sum(v < 45 for v in every.values())
        assert 0 < kept.matched() < len(every)


def test_geotiff_tags_come_from_the_header_only(
    sources: Sources, http_server: RangeHTTPServer, tmp_path: Path
) -> None:
    # the ARPS items with their assets on the plain HTTP server (which logs ranges)
    arps = [i for i in sources.items if i["collection"] == ARPS]
    features = json.loads(json.dumps(arps).replace(str(sources.archive), http_server.url))
    saved = tmp_path / "arps.geojson"
    saved.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    spec = "analysis_ready_ps_qa:SCENE_IDS[LAYER_2_VALUE]=scene_ids"
    start = len(http_server.log)
    with open_catalog(saved) as catalog:
        items = list(catalog.search(enrich=spec, sortby="id").items())
    gets = [r for r in http_server.log[start:] if r.method == "GET"]
    assert len(gets) == len(arps) and {r.range for r in gets} == {"bytes=0-65535"}
    for item in items:
        path = item["assets"]["analysis_ready_ps_qa"]["href"].replace(
            http_server.url, str(sources.archive)
        )
        with rasterio.open(path) as dataset:
            assert item["properties"]["scene_ids"] == dataset.tags()["SCENE_IDS[LAYER_2_VALUE]"]
        assert item["properties"]["scene_ids"].endswith("None[0]")


def _items_with(tmp_path: Path, sidecars: dict[str, tuple[str, str]]) -> Path:
    """An ItemCollection whose items have one sidecar asset each (name -> (file, text))."""
    features: list[dict[str, Any]] = []
    for n, (item_id, (name, text)) in enumerate(sorted(sidecars.items())):
        (tmp_path / name).write_text(text)
        features.append(
            {
                "type": "Feature",
                "stac_version": "1.0.0",
                "id": item_id,
                "geometry": {"type": "Point", "coordinates": [n, 0]},
                "properties": {"datetime": "2020-01-01T00:00:00Z"},
                "assets": {"meta": {"href": name}},
            }
        )
    features.append({**features[0], "id": "zz-no-sidecar", "assets": {}})
    path = tmp_path / "items.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_json_and_xml_paths(tmp_path: Path) -> None:
    source = _items_with(
        tmp_path,
        {
            "a": ("a.json", json.dumps({"scene": {"sun": [{"elevation": 31.5}]}})),
            "b": ("b.json", json.dumps({"scene": {"sun": [{"elevation": 12}]}})),
        },
    )
    with open_catalog(source) as catalog:
        got = {
            i["id"]: i["properties"]["elev"]
            for i in catalog.search(enrich="meta:scene.sun[0].elevation=elev").items()
        }
        assert got == {"a": 31.5, "b": 12, "zz-no-sidecar": None}
        with pytest.raises(SidecarError, match=r"a\.json \(meta, json\): no 'moon' on the way"):
            list(catalog.search(enrich="meta:scene.moon=m").items())
    folder = tmp_path / "xml"
    folder.mkdir()
    xml = '<root xmlns="urn:x"><sun az="151.7"><el>33.2</el></sun></root>'
    source = _items_with(folder, {"c": ("c.xml", xml)})
    specs = ["meta:root/sun/el=el", "meta:sun/@az=az"]
    with open_catalog(source) as catalog:
        item = next(iter(catalog.search(ids="c", enrich=specs).items()))
    assert (item["properties"]["el"], item["properties"]["az"]) == (33.2, 151.7)


def test_a_changed_sidecar_is_fetched_again(tmp_path: Path) -> None:
    source = _items_with(tmp_path, {"a": ("a.json", '{"v": 1}')})
    with open_catalog(source) as catalog:
        assert next(iter(catalog.search(ids="a", enrich="meta:v").items()))["properties"]["v"] == 1
        (tmp_path / "a.json").write_text('{"v": 22}')
        os.utime(tmp_path / "a.json", ns=(1, 10**18))  # a new mtime: a new local ETag
        assert next(iter(catalog.search(ids="a", enrich="meta:v").items()))["properties"]["v"] == 22


def test_a_missing_sidecar_names_its_url(tmp_path: Path) -> None:
    source = _items_with(tmp_path, {"a": ("a.json", "{}")})
    (tmp_path / "a.json").unlink()
    with (
        open_catalog(source) as catalog,
        pytest.raises(SidecarError, match=r"a\.json does not exist"),
    ):
        list(catalog.search(enrich="meta:v").items())
