"""The query model: every accepted input shape converts to the same canonical value, and every
bad input raises InvalidInputError with a message naming the problem."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import shapely

from eoaccess.errors import InvalidInputError
from eoaccess.matching import ItemMatcher, apply_fields, sort_items
from eoaccess.query import (
    Fields,
    Interval,
    SortField,
    make_query,
    parse_bbox,
    parse_datetime,
    parse_filter,
    parse_sortby,
)


def item(id: str, lon: float, lat: float, when: str, **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": id,
        "collection": str(props.pop("collection", "c1")),
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "bbox": [lon, lat, lon, lat],
        "properties": {"datetime": when, **props},
        "links": [],
        "assets": {},
    }


@pytest.mark.parametrize(
    "value",
    [
        "1,2,3,4",
        " 1, 2 ,3,4 ",
        [1, 2, 3, 4],
        (1.0, 2.0, 3.0, 4.0),
        "[1,2,3,4]",
        [1, 2, 0, 3, 4, 10],
    ],
)
def test_bbox_shapes_agree(value: object) -> None:
    assert parse_bbox(value) == (1.0, 2.0, 3.0, 4.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1,2,3", r"4 \(or 6\) numbers"),
        ("a,2,3,4", "must be a number"),
        ("1,2,3,nan", "finite"),
        ("0,-91,1,0", "latitude -91"),
        ("0,10,1,5", "south 10 is greater than north 5"),
        ("-181,0,1,1", "longitude -181"),
    ],
)
def test_bad_bbox(value: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_bbox(value)


def test_datetime_forms() -> None:
    jan = parse_datetime("2020-01")
    assert jan.start == datetime(2020, 1, 1, tzinfo=UTC)
    assert jan.end == datetime(2020, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_datetime("2020-01-01/2020-01-31").end == jan.end
    assert parse_datetime("2020-01-01T00:00:00+02:00").start == datetime(
        2019, 12, 31, 22, tzinfo=UTC
    )
    assert parse_datetime("../2020-01-01T00:00:00Z") == Interval(
        None, datetime(2020, 1, 1, tzinfo=UTC)
    )
    assert parse_datetime("2020-01-01T00:00:00Z/").end is None
    assert parse_datetime((date(2020, 1, 1), None)).end is None
    assert parse_datetime(date(2020, 2, 29)).end == datetime(
        2020, 2, 29, 23, 59, 59, 999999, tzinfo=UTC
    )
    assert (
        parse_datetime("2019-12-31T22:00:00Z/2020-01-01").to_text()
        == "2019-12-31T22:00:00Z/2020-01-01T23:59:59.999999Z"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2020-13-01", "invalid date"),
        ("yesterday", "invalid datetime"),
        ("../..", "open at both ends"),
        ("2020-02-01/2020-01-01", "starts after it ends"),
        ("2020/2021/2022", "more than one"),
    ],
)
def test_bad_datetime(value: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_datetime(value)


def test_geometry_shapes_agree(tmp_path: Path) -> None:
    geojson = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 1], [0, 1], [0, 0]]]}
    path = tmp_path / "aoi.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {}, "geometry": geojson}],
            }
        )
    )
    expected = make_query(intersects=geojson).intersects
    assert expected is not None and expected["type"] == "Polygon"
    for shape in (
        json.dumps(geojson),
        str(path),
        path,
        "POLYGON ((0 0, 2 0, 2 1, 0 1, 0 0))",
        shapely.box(0, 0, 2, 1),
    ):
        got = make_query(intersects=shape).intersects
        assert got is not None
        assert shapely.geometry.shape(got).equals(shapely.geometry.shape(expected))


def test_projected_geometry_is_reprojected_and_densified() -> None:
    # A 100 km box in EPSG:3413 around the seed-000 Alaska tile lands in lon/lat near 60N 139W.
    query = make_query(bbox=[-3300000, 200000, -3200000, 300000], crs="EPSG:3413")
    assert query.bbox is None and query.intersects is not None
    ring = query.intersects["coordinates"][0]
    assert len(ring) > 5  # densified edges
    polygon = shapely.geometry.shape(query.intersects)
    assert -141 < polygon.centroid.x < -137 and 60 < polygon.centroid.y < 62


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"bbox": "0,0,1,1", "intersects": "POINT (0 0)"},
            "only one of bbox, point and intersects",
        ),
        ({"intersects": '{"type": "Polygon"}'}, "'coordinates' must be an array"),
        ({"intersects": '{"type": "Blob", "coordinates": []}'}, "geometry type 'Blob'"),
        ({"intersects": "{not json"}, "invalid GeoJSON"),
        ({"intersects": "POLYGON ((0 0, 1 1"}, "invalid WKT"),
        ({"intersects": "/nonexistent/aoi.geojson"}, "cannot read geometry file"),
        ({"point": "200,10"}, "outside lon"),
        ({"filter": "gsd <"}, "invalid CQL2 filter"),
        ({"limit": 0}, "outside 1..10000"),
        ({"limit": "ten"}, "must be an integer"),
        ({"sortby": [{"field": "gsd", "direction": "up"}]}, "asc or desc"),
        ({"collections": ""}, "collections is empty"),
        ({"bbox": "0,0,1,1", "crs": "EPSG:999999"}, "unknown CRS"),
    ],
)
def test_bad_query_input(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        make_query(**kwargs)  # type: ignore[arg-type]


def test_filter_text_and_json_agree() -> None:
    text = parse_filter("gsd < 10 AND platform = 'kaguya'")
    assert parse_filter(json.dumps(text)) == text
    assert parse_filter(text) == text
    assert text["op"] == "and"


def test_sortby_forms() -> None:
    assert parse_sortby("-datetime,+id,gsd") == (
        SortField("datetime", True),
        SortField("id"),
        SortField("gsd"),
    )
    assert parse_sortby([{"field": "gsd", "direction": "desc"}]) == (SortField("gsd", True),)


def test_to_stac_json_round_trips_through_the_parsers() -> None:
    query = make_query(
        collections="a,b",
        bbox="170,-10,-170,10",
        datetime="2020-01-01/..",
        filter="gsd < 10",
        sortby="-datetime",
        fields="id,-assets",
        limit=50,
    )
    body = query.to_stac_json()
    again = make_query(
        collections=body["collections"],
        bbox=body["bbox"],
        datetime=body["datetime"],
        filter=body["filter"],
        sortby=body["sortby"],
        fields=body["fields"],
        limit=body["limit"],
    )
    assert again == query


def test_matcher_semantics() -> None:
    items = [
        item("east", 179.5, 0, "2020-06-01T00:00:00Z", gsd=5),
        item("west", -179.5, 0, "2020-06-01T00:00:00Z", gsd=20),
        item("middle", 0, 0, "2020-06-01T00:00:00Z", gsd=5),
        item("old", 179.9, 1, "2019-06-01T00:00:00Z", gsd=5),
        item("range", 179.1, 1, "2019-06-01T00:00:00Z", gsd=1, collection="c2"),
    ]
    items[4]["properties"] = {
        "datetime": None,
        "start_datetime": "2019-12-01T00:00:00Z",
        "end_datetime": "2020-02-01T00:00:00Z",
        "gsd": 1,
    }
    across = make_query(bbox="170,-10,-170,10")
    assert [i["id"] for i in ItemMatcher(across).filter(items)] == ["east", "west", "old", "range"]
    recent = make_query(bbox="170,-10,-170,10", datetime="2020-01-01/..")
    assert [i["id"] for i in ItemMatcher(recent).filter(items)] == ["east", "west", "range"]
    fine = make_query(filter="gsd < 10", collections="c1")
    assert [i["id"] for i in ItemMatcher(fine).filter(items)] == ["east", "middle", "old"]
    ordered = sort_items(items, parse_sortby("-gsd,id"))
    assert [i["id"] for i in ordered] == ["west", "east", "middle", "old", "range"]


def test_fields_include_and_exclude() -> None:
    one = item("a", 0, 0, "2020-01-01T00:00:00Z", gsd=5, platform="x")
    kept = apply_fields(one, Fields(include=("properties.gsd",)))
    assert kept["properties"] == {"gsd": 5}
    assert kept["id"] == "a" and "geometry" not in kept
    dropped = apply_fields(one, Fields(exclude=("properties.platform", "assets")))
    assert "assets" not in dropped and dropped["properties"] == {
        "datetime": "2020-01-01T00:00:00Z",
        "gsd": 5,
    }
    assert one["properties"]["platform"] == "x"  # type: ignore[index]
