"""The pure parts of ingest: footprints, extents, fingerprints, listing, media types, report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.geometry
from pyproj import CRS, Transformer

from eoaccess.ingest import CollectionCounts, IngestReport, SkippedFile
from eoaccess.ingest._collections import Extent
from eoaccess.ingest._geometry import (
    footprint_from_bounds,
    footprint_from_tracks,
    unwrap_longitudes,
)
from eoaccess.ingest._sources import FileEntry, LocalSource, is_ignored
from eoaccess.ingest._stac import COG, TEXT, ZARR, media_type, multihash_sha256, projection_fields


def test_projected_tile_is_densified_and_exact() -> None:
    crs = CRS.from_epsg(3413)
    bounds = (-3300000.0, 200000.0, -3200000.0, 300000.0)
    footprint = footprint_from_bounds(bounds, crs)
    ring = footprint.geometry["coordinates"][0]
    assert footprint.geometry["type"] == "Polygon" and len(ring) == 4 * 16 + 1
    back = Transformer.from_crs(4326, crs, always_xy=True)
    native = shapely.Polygon([back.transform(x, y) for x, y in ring])
    # Densified: the reprojected ring follows the straight projected edges to a metre.
    assert native.symmetric_difference(shapely.box(*bounds)).area < 100_000 * 1.0
    west, south, east, north = footprint.bbox
    assert west < -140.3 and east > -138.5 and south < 60.1 and north > 61.0


def test_footprint_across_the_antimeridian_is_cut_in_two() -> None:
    footprint = footprint_from_bounds((100000, 7000000, 500000, 7100000), CRS.from_epsg(32601))
    assert footprint.geometry["type"] == "MultiPolygon"
    west, _, east, _ = footprint.bbox
    assert west > 170 and east == pytest.approx(-177.0)  # west > east: crosses ±180°
    for polygon in footprint.geometry["coordinates"]:
        lons = [p[0] for p in polygon[0]]
        assert min(lons) >= -180 and max(lons) <= 180
    parts = shapely.geometry.shape(footprint.geometry)
    assert parts.contains(shapely.Point(179.5, 63.5)) and parts.contains(
        shapely.Point(-179.5, 63.5)
    )


def test_footprint_around_a_pole_is_a_cap() -> None:
    footprint = footprint_from_bounds((-100000, -100000, 100000, 100000), CRS.from_epsg(3413))
    west, south, east, north = footprint.bbox
    assert (west, east, north) == (-180.0, 180.0, 90.0) and 88 < south < 89.5


def test_lunar_footprint_stays_on_the_moon() -> None:
    crs = CRS.from_user_input("IAU_2015:30115")  # Moon, equirectangular, clon = 180
    metres_per_degree = 1737400 * np.pi / 180
    footprint = footprint_from_bounds((0, 0, metres_per_degree, metres_per_degree), crs)
    west, south, east, north = footprint.bbox
    assert (west, south, east, north) == pytest.approx((-180, 0, -179, 1))
    fields = projection_fields(crs)
    assert fields["proj:epsg"] is None and fields["proj:code"] == "IAU_2015:30115"
    assert "Moon" in fields["proj:wkt2"] and fields["proj:projjson"]["type"] == "ProjectedCRS"
    assert projection_fields(CRS.from_epsg(32610)) == {
        "proj:code": "EPSG:32610",
        "proj:epsg": 32610,
    }


def test_track_swath_spans_beams_and_crosses_the_antimeridian() -> None:
    lat = np.linspace(10, 12, 200)
    beams = [
        (np.where(lon > 180, lon - 360, lon), lat)
        for lon in (np.linspace(179.0, 181.0, 200) + d for d in (0, 0.03))
    ]
    footprint = footprint_from_tracks(beams)
    shape = shapely.geometry.shape(footprint.geometry)
    assert footprint.geometry["type"] == "MultiPolygon"
    assert footprint.bbox[0] > footprint.bbox[2]
    # Every point of both beams, and the gap between them, is inside.
    for lon, la in beams:
        assert shapely.contains_xy(shape, lon, la).all()
    assert shape.contains(shapely.Point(179.515, 10.5))
    assert shape.contains(shapely.Point(-179.485, 11.5))
    assert unwrap_longitudes(np.array([179.0, -179.0, -178.0])).tolist() == [179, 181, 182]


def test_extent_unions_boxes_and_times() -> None:
    extent = Extent()
    for west, east, day in ((10, 20, 1), (-30, -20, 5), (15, 25, 3)):
        extent.add_item(
            {
                "bbox": [west, -5, east, 5],
                "properties": {"datetime": f"2020-01-0{day}T00:00:00Z"},
            }
        )
    assert extent.bbox() == [-30, -5, 25, 5]
    assert extent.interval() == ["2020-01-01T00:00:00Z", "2020-01-05T00:00:00Z"]
    # With an item across the antimeridian, the smallest arc wins, not a world-wide box.
    extent.add_item(
        {
            "bbox": [170, 0, -170, 1],
            "properties": {
                "start_datetime": "2019-12-31T00:00:00Z",
                "end_datetime": "2020-02-01T00:00:00Z",
                "datetime": None,
            },
        }
    )
    # Covered: -180..-170, -30..-20, 10..25, 170..180; the largest gap is 25..170.
    assert extent.bbox() == [170, -5, 25, 5]
    assert extent.start == datetime(2019, 12, 31, tzinfo=UTC)


def test_listing_skips_the_catalog_and_temporary_files(tmp_path: Path) -> None:
    (tmp_path / ".eoaccess").mkdir()
    (tmp_path / ".eoaccess" / "catalog.sqlite").write_bytes(b"x")
    (tmp_path / "cube.zarr").mkdir()
    (tmp_path / "cube.zarr" / ".zmetadata").write_text("{}")
    (tmp_path / ".x.tif.tmp-abc").write_bytes(b"x")
    (tmp_path / "a.tif").write_bytes(b"12345")
    listed = {e.path: e.size for e in LocalSource(tmp_path).list_files()}
    assert listed == {"cube.zarr/.zmetadata": 2, "a.tif": 5}
    assert is_ignored(".eoaccess/catalog.sqlite") and not is_ignored("a.zarr/.zattrs")


def test_file_digest_changes_with_size_mtime_and_path() -> None:
    base = FileEntry("a/b.tif", 10, 1_000)
    assert base.digest == FileEntry("a/b.tif", 10, 1_000).digest
    others = {FileEntry("a/c.tif", 10, 1_000), FileEntry("a/b.tif", 11, 1_000)}
    others.add(FileEntry("a/b.tif", 10, 1_001))
    assert base.digest not in {o.digest for o in others} and len(base.digest) == 12


def test_media_types_and_multihash() -> None:
    assert media_type("x/y.zarr") == ZARR and media_type("a.caminfo.pvl") == TEXT
    assert media_type("a.isis.lbl") == TEXT and media_type("t.JPG") == "image/jpeg"
    assert media_type("a.h5") == "application/x-hdf5" and media_type("a.bin") is None
    assert COG == "image/tiff; application=geotiff; profile=cloud-optimized"
    assert multihash_sha256("ab" * 32) == "1220" + "ab" * 32


def test_report_table_and_totals() -> None:
    report = IngestReport(
        source="/data",
        catalog="/data/.eoaccess/catalog.sqlite",
        collections=(CollectionCounts("A", added=2, unchanged=3), CollectionCounts("B", removed=1)),
        skipped=(SkippedFile("x/y.h5", "not a readable HDF5/NetCDF file: boom"),),
        files=9,
        ignored=1,
        hashed_bytes=10,
        seconds=0.25,
    )
    assert (report.added, report.removed, report.unchanged, report.changed) == (2, 1, 3, True)
    assert report.counts("A").items == 5 and report.counts("nope") == CollectionCounts("nope")
    lines = report.table().splitlines()
    assert lines[2].split() == ["A", "5", "2", "0", "0", "3"]
    assert lines[3].split() == ["B", "0", "0", "0", "1", "0"]
    assert lines[4].split() == ["total", "5", "2", "0", "1", "3"]
    assert lines[-1] == "skipped x/y.h5: not a readable HDF5/NetCDF file: boom"
    assert report.to_dict()["skipped"] == [
        {"path": "x/y.h5", "reason": "not a readable HDF5/NetCDF file: boom"}
    ]


def test_public_names() -> None:
    import eoaccess.ingest

    assert set(eoaccess.ingest.__all__) == {
        "FINGERPRINT",
        "CollectionCounts",
        "IngestReport",
        "SkippedFile",
        "ingest",
    }
    assert eoaccess.ingest.FINGERPRINT == "eoaccess:fingerprint"
