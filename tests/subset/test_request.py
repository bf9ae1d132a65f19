"""The subset request model and the public surface of the subset and time series modules."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyproj
import pytest
import shapely

import eoaccess.subset
import eoaccess.timeseries
from eoaccess.errors import InvalidInputError
from eoaccess.subset import SubsetResult, formats, make_request


def test_public_names() -> None:
    assert sorted(eoaccess.subset.__all__) == [
        "OutputFormat",
        "SubsetRequest",
        "SubsetResult",
        "Subsetter",
        "formats",
        "make_request",
        "register_format",
        "register_subsetter",
        "run_subset",
        "subset",
    ]
    assert sorted(eoaccess.timeseries.__all__) == [
        "parse_points",
        "plot_timeseries",
        "register_table_writer",
        "timeseries",
        "to_csv_text",
        "write_timeseries",
    ]
    assert formats() == ("netcdf", "zarr", "geotiff")


def test_parsing() -> None:
    request = make_request(
        bbox="-105.5,40,-105,41",
        datetime="2020-04-27/2020-05-28",
        variables="v, vx,v",
        crs="EPSG:3413",
        resolution="240",
        format="NetCDF",
    )
    assert request.bbox == (-105.5, 40.0, -105.0, 41.0) and request.bbox_crs is None
    assert request.datetime is not None
    assert request.datetime.end == dt.datetime(2020, 5, 28, 23, 59, 59, 999999, tzinfo=dt.UTC)
    assert request.variables == ("v", "vx")
    assert request.crs == pyproj.CRS.from_epsg(3413) and request.resolution == (240.0, 240.0)
    assert request.format == "netcdf"
    assert request.describe() == (
        "bbox=-105.5,40,-105,41 datetime=2020-04-27T00:00:00Z/2020-05-28T23:59:59.999999Z "
        "variables=v,vx crs=EPSG:3413 resolution=240,240"
    )
    native = make_request(bbox=(-3.3e6, 2e5, -3.2e6, 3e5), bbox_crs="EPSG:3413")
    assert native.bbox == (-3.3e6, 2e5, -3.2e6, 3e5)
    area = native.area_lonlat()
    expected = pyproj.Transformer.from_crs(3413, 4326, always_xy=True).transform_bounds(
        -3.3e6, 2e5, -3.2e6, 3e5, densify_pts=200
    )
    assert area.bounds == pytest.approx(expected, abs=1e-4)  # edges densified, not corners only
    crossing = make_request(bbox=(170, -10, -170, 10)).area_lonlat()
    assert crossing.geom_type == "MultiPolygon" and crossing.area == pytest.approx(400)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bbox": "1,2,3"}, "bbox must have 4"),
        ({"bbox": (0, 0, 1, 1), "bbox_crs": "EPSG:999999"}, "unknown bbox CRS"),
        ({"crs": "nonsense"}, "unknown output CRS"),
        ({"resolution": 10}, "resolution needs an output crs"),
        ({"crs": 4326, "resolution": "-1"}, "positive numbers"),
        ({"intersects": "POINT (1 2)"}, "Polygon or MultiPolygon"),
        ({"datetime": "2020-02-01/2020-01-01"}, "starts after it ends"),
        ({"variables": " , "}, "no variable given"),
    ],
)
def test_bad_input(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        make_request(**kwargs)  # type: ignore[arg-type]


def test_result_record_is_json() -> None:
    result = SubsetResult(
        path=Path("/out/x.nc"),
        bytes=10,
        kind="gridded",
        format="netcdf",
        counts={"cells": 4, "time_steps": 2},
        bbox=(1.0, 2.0, 3.0, 4.0),
        start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        end=dt.datetime(2020, 1, 2, 12, tzinfo=dt.UTC),
        variables=("v",),
        source="s3://b/x.zarr",
        requests=3,
        bytes_read=99,
    )
    assert json.loads(json.dumps(result.to_dict())) == {
        "path": "/out/x.nc",
        "bytes": 10,
        "kind": "gridded",
        "format": "netcdf",
        "counts": {"cells": 4, "time_steps": 2},
        "bbox": [1.0, 2.0, 3.0, 4.0],
        "start": "2020-01-01T00:00:00Z",
        "end": "2020-01-02T12:00:00Z",
        "variables": ["v"],
        "source": "s3://b/x.zarr",
        "requests": 3,
        "bytes_read": 99,
    }
    assert result.summary() == (
        "/out/x.nc (netcdf, 10 bytes): 4 cells, 2 time steps 2020-01-01T00:00:00Z..2020-01-02T12:00:00Z"
    )
    assert shapely.box(*result.bbox).area == 4  # type: ignore[misc]


def test_modules_are_callable_as_the_public_api(alaska_cube: Path, tmp_path: Path) -> None:
    """``eoaccess.subset(...)``/``eoaccess.timeseries(...)`` work even though importing the
    subpackage makes ``eoaccess.subset`` the module."""
    import types

    import eoaccess

    assert isinstance(eoaccess.subset, types.ModuleType)  # the subpackage, imported above
    assert isinstance(eoaccess.timeseries, types.ModuleType)
    result = eoaccess.subset(alaska_cube, variables="v", output=tmp_path / "all.nc")
    assert result.counts == {"cells": 40 * 40, "time_steps": 24}
    frame = eoaccess.timeseries(alaska_cube, [(-138.958776, 60.748561)], "v")
    assert len(frame) == 24
