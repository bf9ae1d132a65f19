"""A readable summary of an opened dataset, for ``eoaccess open``.

Dimensions, variables (dtype and shape), CRS, time range, footprint bounds in lon/lat, size of
the data, and optionally what reading it cost. Only values already in memory (index
coordinates) give the time range, so summarising a cube reads no data; the footprint of a
dataset without a grid (photon tracks) reads its lon/lat coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from eoaccess.errors import EOAccessError
from eoaccess.readers import open_info
from eoaccess.readers._io import IOReport, format_bytes
from eoaccess.readers._source import display_name

MAX_VARIABLES = 60
"""Variables listed at most; the rest are counted."""


@dataclass(frozen=True)
class VariableLine:
    """One variable of the summary."""

    name: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    dtype: str
    coordinate: bool


@dataclass(frozen=True)
class DatasetSummary:
    """What ``eoaccess open`` prints."""

    name: str
    href: str | None
    format: str | None
    group: str | None
    dims: dict[str, int]
    variables: tuple[VariableLine, ...]
    crs: str | None
    time_range: tuple[str, str] | None
    bbox: tuple[float, float, float, float] | None
    bbox_crs: str | None
    footprint_error: str | None
    total_bytes: int | None
    opened: IOReport | None
    total_io: IOReport | None

    def text(self, stats: bool = False) -> str:
        """The summary as aligned lines of text."""
        lines = [f"{self.name}"]
        if self.href:
            lines.append(f"  source     {self.href}")
        if self.format:
            what = self.format + (f", group {self.group}" if self.group else "")
            lines.append(f"  format     {what}")
        dims = ", ".join(f"{k}: {v}" for k, v in self.dims.items()) or "none"
        lines.append(f"  dimensions {dims}")
        lines.append(f"  crs        {self.crs or 'none'}")
        if self.time_range:
            lines.append(f"  time       {self.time_range[0]} .. {self.time_range[1]}")
        if self.bbox:
            w, s, e, n = self.bbox
            lines.append(
                f"  footprint  lon {w:.5f} .. {e:.5f}, lat {s:.5f} .. {n:.5f} ({self.bbox_crs})"
            )
        elif self.footprint_error:
            lines.append(f"  footprint  none: {self.footprint_error}")
        if self.total_bytes is not None:
            lines.append(f"  size       {format_bytes(self.total_bytes)}")
        coords = [v for v in self.variables if v.coordinate]
        data = [v for v in self.variables if not v.coordinate]
        for title, group in (("coordinates", coords), ("variables", data)):
            if not group:
                continue
            lines.append(f"  {title}:")
            width = max(len(v.name) for v in group[:MAX_VARIABLES])
            for var in group[:MAX_VARIABLES]:
                shape = " x ".join(str(n) for n in var.shape) or "scalar"
                dims = f"({', '.join(var.dims)})" if var.dims else ""
                lines.append(f"    {var.name:<{width}}  {var.dtype:<16} {shape:<16} {dims}")
            if len(group) > MAX_VARIABLES:
                lines.append(f"    … {len(group) - MAX_VARIABLES} more")
        if stats and self.opened is not None:
            lines.append(f"  opening    {self.opened.describe()}")
            if self.total_io is not None:
                lines.append(f"  in all     {self.total_io.describe()} (summary included)")
        return "\n".join(lines)


def _time_range(ds: xr.Dataset) -> tuple[str, str] | None:
    starts, ends = [], []
    for name in ds.indexes:
        index = ds.indexes[name]
        if isinstance(index, pd.DatetimeIndex) and len(index.dropna()):
            starts.append(index.min())
            ends.append(index.max())
    if not starts:
        return None
    return str(np.datetime64(min(starts), "s")), str(np.datetime64(max(ends), "s"))


def _crs_text(ds: xr.Dataset) -> str | None:
    from eoaccess.footprints import _dataset_crs

    crs = _dataset_crs(ds)
    if crs is None:
        return None
    code = crs.to_authority(min_confidence=70)
    return f"{':'.join(code)} ({crs.name})" if code else crs.name


def summarize(ds: xr.Dataset) -> DatasetSummary:
    """The summary of ``ds`` (any Dataset; richer for ones from ``open_dataset``)."""
    from eoaccess.footprints import LONLAT, footprint

    info = open_info(ds)
    variables = tuple(
        VariableLine(
            str(name),
            tuple(str(d) for d in var.dims),
            tuple(int(n) for n in var.shape),
            str(var.dtype),
            name in ds.coords,
        )
        for name, var in ds.variables.items()
    )
    bbox = bbox_crs = error = None
    try:
        shape = footprint(ds, crs=LONLAT)
        bbox = tuple(float(v) for v in shape.total_bounds)
        bbox_crs = shape.crs.name if shape.crs is not None else None
    except EOAccessError as exc:
        error = str(exc)
    total = info.total_bytes() if info is not None else None
    return DatasetSummary(
        name=display_name(info.href) if info else str(ds.attrs.get("title", "dataset")),
        href=info.href if info else None,
        format=info.format if info else None,
        group=info.group if info else None,
        dims={str(k): int(v) for k, v in ds.sizes.items()},
        variables=variables,
        crs=_crs_text(ds),
        time_range=_time_range(ds),
        bbox=bbox,  # type: ignore[arg-type]
        bbox_crs=bbox_crs,
        footprint_error=error,
        total_bytes=total,
        opened=info.opened if info else None,
        total_io=info.io() if info else None,
    )
