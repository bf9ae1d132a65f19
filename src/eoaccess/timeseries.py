"""Point time series from datacubes, as the ITS_LIVE client's ``get_time_series`` (seed 000).

``timeseries(href, points=[(lon, lat)], variables=["v"])`` finds the nearest cell of each point
in the cube's own CRS (lon/lat transformed with pyproj through the cube's grid mapping) and
returns one tidy row per point and time step: the requested point, the returned cell centre
(``x``, ``y``, ``lon``, ``lat``) and its distance in metres from the request, the time, and one
column per variable with fill values as NaN, sorted by time (ITS_LIVE's ``mid_date`` is stored
unsorted). Only the chunks that hold the points are read: with ITS_LIVE's ``(N, 10, 10)``
chunks, one chunk per variable and point (points sharing a chunk share the read).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from eoaccess._atomic import atomic_path
from eoaccess._callable import make_module_callable
from eoaccess.errors import InvalidInputError
from eoaccess.query import parse_point
from eoaccess.subset._grid import (
    Grid,
    check_variables,
    format_bounds,
    grid_of,
    parse_variables,
    spatial_variables,
)
from eoaccess.subset._source import href_text, open_grid_dataset

PointLike = Sequence[float] | str
POINT_COLUMNS = ("point", "requested_lon", "requested_lat", "lon", "lat", "x", "y", "offset_m")
"""Columns that describe the point of each row, before the time and variable columns."""


def parse_points(points: PointLike | Sequence[PointLike]) -> list[tuple[float, float]]:
    """``(lon, lat)``, ``"LON,LAT"`` or a sequence of either into validated lon/lat pairs."""
    if isinstance(points, str):
        items: list[Any] = [points]
    else:
        items = list(points)
        if len(items) == 2 and all(isinstance(v, int | float | np.number) for v in items):
            items = [items]
    if not items:
        raise InvalidInputError("no point given: pass points=[(lon, lat)]")
    return [tuple(parse_point(p)["coordinates"]) for p in items]  # type: ignore[misc]


def _default_variables(ds: xr.Dataset, grid: Grid) -> tuple[str, ...]:
    names = [
        n
        for n in spatial_variables(ds, grid)
        if grid.time_dim is None or grid.time_dim in ds[n].dims
    ]
    if not names:
        raise InvalidInputError("the data has no variable on its x/y grid")
    return tuple(names)


def _with_errors(ds: xr.Dataset, names: tuple[str, ...]) -> tuple[str, ...]:
    """Add each variable's ``<name>_error`` companion when the dataset has one."""
    extra = [f"{n}_error" for n in names if f"{n}_error" in ds.data_vars]
    return tuple(dict.fromkeys((*names, *extra)))


def timeseries(
    href: str | os.PathLike[str],
    points: PointLike | Sequence[PointLike],
    variables: str | Sequence[str] | None = None,
    *,
    include_errors: bool = False,
) -> pd.DataFrame:
    """The time series of ``variables`` at the nearest cell of each lon/lat point.

    ``variables`` defaults to every variable on the cube's time/y/x grid; per-time (1-D) and
    static (2-D) variables may be named too. ``include_errors`` adds ``<name>_error`` for each
    variable that has one (``v`` → ``v_error``), for plots with error bars. A point outside the
    cube is an error naming the cube's lon/lat extent. ``df.attrs`` holds the href, the CRS and
    the variables' units.
    """
    pairs = parse_points(points)
    text = href_text(href)
    ds = open_grid_dataset(href)
    grid = grid_of(ds, what=text)
    names = parse_variables(variables) or _default_variables(ds, grid)
    check_variables(ds, names, what=text)
    if include_errors:
        names = _with_errors(ds, names)

    lon = np.array([p[0] for p in pairs], dtype=np.float64)
    lat = np.array([p[1] for p in pairs], dtype=np.float64)
    px, py = grid.from_lonlat.transform(lon, lat)
    ix, iy, inside = grid.nearest(np.asarray(px), np.asarray(py))
    if not inside.all():
        k = int(np.flatnonzero(~inside)[0])
        raise InvalidInputError(
            f"the point {lon[k]:g},{lat[k]:g} is outside the data "
            f"(extent {format_bounds(grid.extent_lonlat())})"
        )
    cx, cy = grid.x[ix], grid.y[iy]
    clon, clat = grid.to_lonlat.transform(cx, cy)
    _, _, offset = grid.geod.inv(lon, lat, clon, clat)

    # Vectorised (pointwise) indexing of the lazy arrays reads only the chunks holding the
    # points; non-index coordinates (the grid mapping) are dropped so they are not read.
    point_index = {
        grid.x_dim: xr.DataArray(ix, dims="point"),
        grid.y_dim: xr.DataArray(iy, dims="point"),
    }
    selected = ds[list(names)].reset_coords(drop=True)
    picked = selected.isel({k: v for k, v in point_index.items() if k in selected.dims}).load()

    n_points = len(pairs)
    time_dim = grid.time_dim if grid.time_dim in picked.dims else None
    times = picked[time_dim].values if time_dim else np.array([np.datetime64("NaT")])
    n_times = times.size
    shape_dims = ("point", time_dim) if time_dim else ("point",)
    template = xr.DataArray(
        np.zeros((n_points, n_times) if time_dim else (n_points,)), dims=shape_dims
    )

    def per_row(values: np.ndarray) -> np.ndarray:
        return np.repeat(values, n_times) if time_dim else values

    columns: dict[str, Any] = {
        "point": per_row(np.arange(n_points)),
        "requested_lon": per_row(lon),
        "requested_lat": per_row(lat),
        "lon": per_row(np.asarray(clon, dtype=np.float64)),
        "lat": per_row(np.asarray(clat, dtype=np.float64)),
        "x": per_row(cx),
        "y": per_row(cy),
        "offset_m": per_row(np.asarray(offset, dtype=np.float64)),
    }
    if time_dim:
        columns[time_dim] = np.tile(times, n_points)
    for name in names:
        da = picked[name]
        extra = [d for d in da.dims if d not in shape_dims]
        if extra:
            raise InvalidInputError(
                f"variable {name!r} has dimensions {', '.join(map(str, extra))} besides "
                f"time and x/y: a time series holds one value per time step"
            )
        da, _ = xr.broadcast(da, template)
        columns[name] = da.transpose(*shape_dims).values.reshape(-1)
    frame = pd.DataFrame(columns)
    if time_dim:
        frame = frame.sort_values(["point", time_dim], kind="stable").reset_index(drop=True)
    frame.attrs = {
        "href": text,
        "crs": grid.crs.to_string(),
        "time": time_dim,
        "variables": list(names),
        "units": {n: str(ds[n].attrs.get("units", "")) for n in names},
    }
    return frame


# --------------------------------------------------------------------------------------------
# Output: one writer per file suffix


TableWriter = Callable[[pd.DataFrame, Path], None]
_WRITERS: dict[str, TableWriter] = {}


def register_table_writer(suffix: str, writer: TableWriter) -> None:
    """Register the writer of time series files ending in ``suffix`` (``".csv"``)."""
    _WRITERS[suffix.lower()] = writer


def to_csv_text(frame: pd.DataFrame) -> str:
    """The table as CSV text, times in RFC 3339 UTC."""
    return frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.write_text(to_csv_text(frame), encoding="utf-8")


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    # pyarrow stores df.attrs as JSON metadata; keep only plain values.
    out = frame.copy()
    out.attrs = {k: v for k, v in frame.attrs.items() if k != "units"}
    out.to_parquet(path, index=False)


register_table_writer(".csv", _write_csv)
register_table_writer(".parquet", _write_parquet)


def write_timeseries(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a time series table atomically; the format follows the suffix (.csv, .parquet)."""
    target = Path(path)
    writer = _WRITERS.get(target.suffix.lower())
    if writer is None:
        raise InvalidInputError(
            f"cannot write {target.name}: use one of {', '.join(sorted(_WRITERS))}"
        )
    with atomic_path(target) as tmp:
        writer(frame, tmp)
    return target


def plot_timeseries(
    frame: pd.DataFrame, path: str | os.PathLike[str], variable: str | None = None
) -> Path:
    """Plot ``variable`` (default: the first) over time with ``<variable>_error`` bars, per point.

    Written as PNG atomically, with matplotlib's Agg backend (no display needed).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    time = frame.attrs.get("time")
    names = [c for c in frame.columns if c not in POINT_COLUMNS and c != time]
    if not time or time not in frame.columns:
        raise InvalidInputError("the time series has no time column to plot against")
    variable = variable or (names[0] if names else None)
    if variable is None or variable not in frame.columns:
        raise InvalidInputError(f"no column {variable!r} to plot; columns: {', '.join(names)}")
    error = f"{variable}_error"
    units = frame.attrs.get("units", {}).get(variable, "")
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for point, rows in frame.groupby("point", sort=True):
        rows = rows.dropna(subset=[variable])
        label = f"{rows['requested_lon'].iloc[0]:.4f}, {rows['requested_lat'].iloc[0]:.4f}"
        if rows.empty:
            continue
        ax.errorbar(
            rows[time],
            rows[variable],
            yerr=rows[error] if error in rows.columns else None,
            fmt="o",
            markersize=3,
            elinewidth=0.8,
            capsize=2,
            alpha=0.8,
            label=f"point {point}: {label}",
        )
    ax.set_xlabel(str(time))
    ax.set_ylabel(f"{variable} [{units}]" if units else variable)
    ax.set_title(f"{variable} at the nearest cell" + (f" (± {error})" if error in frame else ""))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    target = Path(path)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return target


make_module_callable(__name__, timeseries)

__all__ = [
    "parse_points",
    "plot_timeseries",
    "register_table_writer",
    "timeseries",
    "to_csv_text",
    "write_timeseries",
]
