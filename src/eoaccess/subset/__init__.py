"""Subsets of gridded and trajectory data: area, time, variables, optional reprojection.

``subset(href, bbox=…, datetime=…, variables=…, output=…)`` recognises what ``href`` holds and
hands the parsed :class:`SubsetRequest` to the subsetter registered for it: trajectory HDF5
granules (ICESat-2 ATL03 and alike) or gridded data (Zarr cubes, NetCDF/HDF5 grids, GeoTIFFs).
Each is a pure function of (input href, request, output path) returning a small
:class:`SubsetResult`, so the same call runs from the CLI, the Python API and server-side jobs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eoaccess._callable import make_module_callable
from eoaccess.query import BBoxLike, DatetimeLike, GeometryLike
from eoaccess.subset._outputs import OutputFormat, formats, register_format
from eoaccess.subset._request import SubsetRequest, SubsetResult, make_request
from eoaccess.subset.gridded import subset_gridded
from eoaccess.subset.trajectory import is_trajectory, subset_trajectory

Href = str | os.PathLike[str]


@dataclass(frozen=True)
class Subsetter:
    """One kind of data a subset can cut."""

    name: str
    """Kind name (``trajectory``, ``gridded``), reported in results."""
    accepts: Callable[[Href], bool]
    """Whether the data at an href is of this kind (may open it)."""
    run: Callable[[Href, SubsetRequest, Href], SubsetResult]
    """Cut the data at an href to a request and write it under an output path."""


_SUBSETTERS: list[Subsetter] = []


def register_subsetter(subsetter: Subsetter, *, before: str | None = None) -> None:
    """Register a subsetter; the first whose ``accepts`` says yes runs (``before`` puts it
    ahead of the named one)."""
    names = [s.name for s in _SUBSETTERS]
    if subsetter.name in names:
        _SUBSETTERS.pop(names.index(subsetter.name))
        names.remove(subsetter.name)
    where = names.index(before) if before in names else len(_SUBSETTERS)
    _SUBSETTERS.insert(where, subsetter)


register_subsetter(Subsetter("trajectory", is_trajectory, subset_trajectory))
register_subsetter(Subsetter("gridded", lambda href: True, subset_gridded))


def run_subset(href: Href, request: SubsetRequest, output: Href) -> SubsetResult:
    """Run the subsetter for what ``href`` holds (the server's entry point)."""
    for subsetter in _SUBSETTERS:
        if subsetter.accepts(href):
            return subsetter.run(href, request, output)
    raise AssertionError("the gridded subsetter accepts everything")


def subset(
    href: Href,
    *,
    output: Href,
    bbox: BBoxLike | None = None,
    bbox_crs: Any = None,
    intersects: GeometryLike | None = None,
    datetime: DatetimeLike | None = None,
    variables: str | Sequence[str] | None = None,
    crs: Any = None,
    resolution: float | Sequence[float] | str | None = None,
    resampling: str = "nearest",
    format: str | None = None,
) -> SubsetResult:
    """Cut the data at ``href`` to an area, a time range and variables; write it to ``output``.

    ``bbox`` is W,S,E,N in lon/lat (or in ``bbox_crs``); ``intersects`` a polygon in lon/lat
    (cells outside are set to the fill value, photons outside dropped). ``crs`` and
    ``resolution`` reproject gridded output. ``output`` is a file whose suffix picks the format
    (``.nc``, ``.zarr``, ``.tif``, ``.h5``) or a directory receiving
    ``<basename>_subsetted.<ext>``; ``format`` (``netcdf``, ``zarr``, ``geotiff``) overrides.
    Only the chunks under the request are read.
    """
    request = make_request(
        bbox=bbox,
        bbox_crs=bbox_crs,
        intersects=intersects,
        datetime=datetime,
        variables=variables,
        crs=crs,
        resolution=resolution,
        resampling=resampling,
        format=format,
    )
    return run_subset(href, request, output)


make_module_callable(__name__, subset)

__all__ = [
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
