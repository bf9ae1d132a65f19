"""The pure parts: Harmony parameter parsing, status rules, auth checks, concept ids."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest
import shapely
import shapely.geometry

from eoaccess.errors import InvalidInputError
from eoaccess.harmony import (
    Auth,
    AuthenticationError,
    JobRecord,
    JobRequest,
    concept_id,
    parse_job_request,
    parse_subset,
)
from eoaccess.harmony._auth import harmony_settings
from eoaccess.harmony._model import job_progress
from eoaccess.harmony._params import parse_shape
from eoaccess.query import Interval

UTC = dt.UTC


def test_parse_subset_forms() -> None:
    assert parse_subset("lat(40:41.0)") == ("lat", 40.0, 41.0)
    assert parse_subset("lon(-105.5:-105)") == ("lon", -105.5, -105.0)
    assert parse_subset("lon(170:-170)") == ("lon", 170.0, -170.0)  # crosses the antimeridian
    assert parse_subset('time("2020-04-27T00:00:00":*)') == (
        "time",
        dt.datetime(2020, 4, 27, tzinfo=UTC),
        None,
    )
    assert parse_subset("latitude(*:10)") == ("lat", None, 10.0)


def test_parse_job_request_as_harmony_py_sends_it() -> None:
    fields = [
        ("forceAsync", "true"),
        ("subset", "lat(40:41.0)"),
        ("subset", "lon(-105.5:-105)"),
        ("subset", 'time("2020-04-27T00:00:00":"2020-05-28T00:00:00")'),
        ("variable", "all"),
        ("label", "harmony-py"),
        ("granuleId", "G1,G2"),
        ("granuleId", "G3"),
        ("maxResults", "5"),
    ]
    request = parse_job_request("parameter_vars", fields)
    assert request == JobRequest(
        variables=None,
        bbox=(-105.5, 40.0, -105.0, 41.0),
        time=Interval(dt.datetime(2020, 4, 27, tzinfo=UTC), dt.datetime(2020, 5, 28, tzinfo=UTC)),
        granule_ids=("G1", "G2", "G3"),
        max_results=5,
        labels=("harmony-py",),
    )
    assert JobRequest.from_json(json.loads(json.dumps(request.to_json()))) == request
    assert request.query_items()[:3] == [
        ("subset", "lat(40:41)"),
        ("subset", "lon(-105.5:-105)"),
        ("subset", 'time("2020-04-27T00:00:00Z":"2020-05-28T00:00:00Z")'),
    ]
    assert parse_job_request("a,b", []).variables == ("a", "b")
    assert parse_job_request("lat_only", [("subset", "lat(1:2)")]).bbox == (-180.0, 1.0, 180.0, 2.0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([("subset", "lat(1:2)"), ("subset", "lat(3:4)")], "lat is given twice"),
        ([("subset", "lon(-181:0)")], "lon must be within ±180, not -181"),
        ([("subset", "lat(a:2)")], "'a' is not a number"),
        ([("subset", 'time("yesterday":*)')], "subset=time"),
        ([("variable", "all,x")], "'all' cannot be combined"),
        ([("destinationUrl", "s3://b/p")], "destinationUrl is not supported"),
    ],
)
def test_parse_job_request_rejects(fields: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_job_request("parameter_vars", fields)


def _zipped_box(folder: Path) -> bytes:
    """A zipped ESRI shapefile of one box, in EPSG:3857 (the reader must bring it to lon/lat)."""
    import geopandas

    frame = geopandas.GeoDataFrame(
        {"a": [1]}, geometry=[shapely.box(-105.5, 39.95, -105.0, 40.1)], crs="EPSG:4326"
    ).to_crs("EPSG:3857")
    frame.to_file(folder / "area.shp")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in sorted(folder.glob("area.*")):
            archive.write(part, part.name)
    return buffer.getvalue()


def test_parse_shape_geojson_and_zipped_shapefiles(tmp_path: Path) -> None:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    features = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": square}],
    }
    shape = parse_shape(json.dumps(features).encode(), "application/geo+json")
    assert shape["type"] == "Polygon"
    with pytest.raises(InvalidInputError, match="Polygon or MultiPolygon"):
        parse_shape(b'{"type": "Point", "coordinates": [0, 0]}', "application/geo+json")
    zipped = _zipped_box(tmp_path)
    shape = parse_shape(zipped, "application/shapefile+zip")
    assert shapely.geometry.shape(shape).bounds == pytest.approx((-105.5, 39.95, -105.0, 40.1))
    assert parse_shape(zipped, "application/octet-stream") == shape
    with pytest.raises(InvalidInputError, match="not a readable zipped ESRI shapefile"):
        parse_shape(b"PK-not-a-zip", "application/shapefile+zip")
    with pytest.raises(InvalidInputError, match="not supported; send GeoJSON"):
        parse_shape(b"PK..", "application/vnd.google-earth.kml+xml")


def _job(status: str, total: int = 4, preview: int = 0) -> JobRecord:
    now = dt.datetime(2024, 1, 1, tzinfo=UTC)
    return JobRecord("j", "o", "c", status, "", 0, now, now, now, total, preview, (), {}, "f")


@pytest.mark.parametrize(
    ("status", "counts", "ignore", "preview", "expected"),
    [
        ("accepted", {"queued": 4}, True, 0, ("accepted", 0)),
        ("accepted", {"running": 1, "queued": 3}, True, 0, ("running", 0)),
        (
            "running",
            {"successful": 1, "failed": 1, "queued": 2},
            True,
            0,
            ("running_with_errors", 50),
        ),
        ("running", {"successful": 3, "failed": 1}, True, 0, ("complete_with_errors", 100)),
        ("running", {"failed": 4}, True, 0, ("failed", 100)),
        ("running", {"successful": 1, "failed": 1, "queued": 2}, False, 0, ("failed", 50)),
        ("running", {"successful": 4}, True, 0, ("successful", 100)),
        ("previewing", {"successful": 1, "queued": 3}, True, 2, ("previewing", 25)),
        ("previewing", {"successful": 2, "queued": 2}, True, 2, ("paused", 50)),
        ("paused", {"successful": 3, "queued": 1}, True, 2, ("paused", 75)),
        ("canceled", {"successful": 1, "canceled": 3}, True, 0, ("canceled", 0)),
    ],
)
def test_job_progress_rules(
    status: str, counts: dict[str, int], ignore: bool, preview: int, expected: tuple[str, int]
) -> None:
    progress = job_progress(_job(status, preview=preview), counts, ignore)
    assert (progress.status, progress.progress) == expected


def test_auth_checks_basic_and_bearer() -> None:
    auth = Auth(users={"alice": "pw:with:colons"}, tokens={"t0k": "alice"})
    basic = "Basic " + base64.b64encode(b"alice:pw:with:colons").decode()
    assert auth.owner(basic) == "alice"
    assert auth.owner("Bearer t0k") == "alice"
    for header, message in [
        (None, "authentication required"),
        ("Bearer nope", "Bearer credentials were not accepted"),
        ("Basic " + base64.b64encode(b"alice:no").decode(), "Basic credentials were not"),
        ("Basic ***", "Basic credentials were not accepted"),
        ("Digest x", "unsupported authorization scheme 'Digest'"),
    ]:
        with pytest.raises(AuthenticationError, match=message) as caught:
            auth.owner(header)
        assert "pw:with" not in str(caught.value) and "t0k" not in str(caught.value)
    assert Auth().owner(None) == "anonymous"


def test_serve_options_make_settings(tmp_path: Path) -> None:
    file = tmp_path / "creds.json"
    file.write_text(json.dumps({"users": {"bob": "b"}, "tokens": {"tk": "bob"}}))
    settings = harmony_settings(
        results="s3://bucket/p",
        users=["alice:a:b"],
        tokens=["abc:def:carol"],
        credentials=file,
        preview_threshold=5,
        expiration_days=7,
    )
    assert settings.expiration_days == 7
    assert dict(settings.users) == {"bob": "b", "alice": "a:b"}
    assert dict(settings.tokens) == {"tk": "bob", "abc:def": "carol"}
    assert (settings.results, settings.preview_threshold) == ("s3://bucket/p", 5)
    with pytest.raises(InvalidInputError, match="NAME:PASSWORD"):
        harmony_settings(users=["alice"])
    file.write_text('{"users": ["x"]}')
    with pytest.raises(InvalidInputError, match='"users" must map'):
        harmony_settings(credentials=file)


def test_concept_ids_are_stable_and_distinct() -> None:
    assert concept_id("ATL03") == concept_id("ATL03")
    assert concept_id("ATL03") != concept_id("ATL06")
    assert concept_id("ATL03").startswith("C") and concept_id("ATL03").endswith("-EOACCESS")
    assert len(concept_id("ATL03")) == len("C0123456789-EOACCESS")


def test_job_pages_and_label_filter_in_the_state(tmp_path: Path) -> None:
    """Paging comes from the database; labels match exactly, LIKE wildcards and JSON escapes
    in them included."""
    from eoaccess.harmony._model import JobRecord
    from eoaccess.harmony._state import JobState, _sqlite_dialect

    state = JobState(_sqlite_dialect(tmp_path / "state.sqlite"))
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    labelled = [("a%b",), ("a_b", 'q"t'), ("axb",), (), ("a%b", "z")]
    for n, labels in enumerate(labelled):
        created = base + dt.timedelta(minutes=n)
        record = JobRecord(
            f"job-{n}", "alice", "ATL03", "accepted", "", 0, created, created, created, 0, 0,
            labels, {}, f"fp-{n}",
        )  # fmt: skip
        state.create(record, [])
    other = JobRecord(
        "job-bob", "bob", "ATL03", "accepted", "", 0, base, base, base, 0, 0, ("a%b",), {}, "fp"
    )
    state.create(other, [])
    page, total = state.jobs("alice", None, 1, 2)
    assert ([j.job_id for j in page], total) == (["job-3", "job-2"], 5)
    found, total = state.jobs("alice", "a%b", 0, 10)
    assert ([j.job_id for j in found], total) == (["job-4", "job-0"], 2)
    assert [j.job_id for j in state.jobs("alice", "a_b", 0, 10)[0]] == ["job-1"]
    assert [j.job_id for j in state.jobs("alice", 'q"t', 0, 10)[0]] == ["job-1"]
    assert state.jobs("alice", "a", 0, 10) == ([], 0)
    state.close()
