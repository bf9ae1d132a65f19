"""Output formats of gridded subsets: NetCDF (h5netcdf), Zarr and GeoTIFF/COG, in a registry.

Each writer gets an in-memory (or lazily indexed) ``xarray.Dataset`` already cut to the request
and writes it atomically: a temporary sibling renamed into place, so a crash never leaves a
half-written file under the final name. Encodings are rebuilt for the target format: the
source's Zarr compressors mean nothing to HDF5, and its chunk shapes may exceed the subset.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from eoaccess._atomic import atomic_directory, atomic_path
from eoaccess.errors import InvalidInputError
from eoaccess.subset._grid import Grid

_KEEP_ENCODING = (
    "dtype",
    "_FillValue",
    "missing_value",
    "scale_factor",
    "add_offset",
    "units",
    "calendar",
    "grid_mapping",
    "coordinates",
)


@dataclass(frozen=True)
class OutputFormat:
    """One registered output format."""

    name: str
    """Name users pass (``netcdf``)."""
    suffixes: tuple[str, ...]
    """File suffixes that select it; the first is used for generated names."""
    write: Callable[[xr.Dataset, Path, Grid], None]
    """Write the dataset to the final path (atomically)."""
    directory: bool = False
    """Whether the output is a directory (Zarr)."""


_FORMATS: dict[str, OutputFormat] = {}


def register_format(fmt: OutputFormat) -> None:
    """Register an output format (a later registration under the same name replaces it)."""
    _FORMATS[fmt.name] = fmt


def formats() -> tuple[str, ...]:
    """Names of the registered output formats."""
    return tuple(_FORMATS)


def get_format(name: str) -> OutputFormat:
    """The format called ``name`` (also accepts a suffix such as ``nc`` or ``tif``)."""
    key = name.lower().lstrip(".")
    if key in _FORMATS:
        return _FORMATS[key]
    for fmt in _FORMATS.values():
        if f".{key}" in fmt.suffixes:
            return fmt
    raise InvalidInputError(f"unknown output format {name!r}; choose from {', '.join(_FORMATS)}")


def format_for_suffix(path: Path) -> OutputFormat | None:
    """The format a file name's suffix selects, if any."""
    suffix = path.suffix.lower()
    for fmt in _FORMATS.values():
        if suffix in fmt.suffixes:
            return fmt
    return None


def _clean_encoding(var: xr.Variable, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The source encoding keys that describe values (dtype, fill, scaling, time units)."""
    enc = {k: var.encoding[k] for k in _KEEP_ENCODING if k in var.encoding}
    if enc.get("dtype") is not None and np.dtype(enc["dtype"]).kind in "OUS":
        enc.pop("dtype")  # strings: let the backend choose its string type
    elif (
        enc.get("dtype") is not None
        and np.dtype(enc["dtype"]).kind in "iu"
        and var.dtype.kind == "f"
        and "_FillValue" not in enc
        and "missing_value" not in enc
        and bool(np.isnan(var.values).any())
    ):
        enc.pop("dtype")  # masked cells of an integer band without a fill value: keep floats
    if extra:
        enc.update(extra)
    return enc


def _prepare(ds: xr.Dataset) -> xr.Dataset:
    """Drop every source encoding (then re-added per format) so nothing stale leaks through."""
    out = ds.copy()
    for name in out.variables:
        out[name].encoding = {}
    return out


def _netcdf(ds: xr.Dataset, path: Path, grid: Grid) -> None:
    encoding: dict[str, dict[str, Any]] = {}
    for name, var in ds.variables.items():
        extra: dict[str, Any] = {}
        if var.dtype.kind in "iufb" and var.ndim > 0 and var.size > 0:
            extra = {"zlib": True, "complevel": 4, "shuffle": True}
        encoding[str(name)] = _clean_encoding(var, extra)
    out = _prepare(ds)
    with atomic_path(path) as tmp:
        out.to_netcdf(tmp, engine="h5netcdf", encoding=encoding, invalid_netcdf=False)


def _zarr_chunks(var: xr.Variable) -> tuple[int, ...] | None:
    chunks = var.encoding.get("chunks") or var.encoding.get("preferred_chunks")
    if isinstance(chunks, Mapping):
        chunks = tuple(chunks.get(d, n) for d, n in zip(var.dims, var.shape, strict=True))
    if not chunks or len(chunks) != var.ndim:
        return None
    return tuple(max(1, min(int(c), int(n))) for c, n in zip(chunks, var.shape, strict=True))


def _zarr(ds: xr.Dataset, path: Path, grid: Grid) -> None:
    encoding: dict[str, dict[str, Any]] = {}
    for name, var in ds.variables.items():
        extra: dict[str, Any] = {}
        chunks = _zarr_chunks(var)
        if chunks is not None and var.size > 0:
            extra["chunks"] = chunks
        encoding[str(name)] = _clean_encoding(var, extra)
    out = _prepare(ds)
    if path.exists() and not path.is_dir():
        raise InvalidInputError(f"{path} exists and is not a Zarr directory")
    with atomic_directory(path) as tmp:
        shutil.rmtree(tmp)  # to_zarr creates the store directory itself
        out.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True, encoding=encoding)


def _geotiff(ds: xr.Dataset, path: Path, grid: Grid) -> None:
    import rasterio
    from rasterio.transform import from_origin

    spatial = [
        str(n) for n, v in ds.data_vars.items() if grid.x_dim in v.dims and grid.y_dim in v.dims
    ]
    if len(spatial) != 1:
        raise InvalidInputError(
            "GeoTIFF holds one variable per file: choose one with variables= "
            f"(on the grid: {', '.join(spatial) or 'none'})"
        )
    name = spatial[0]
    da = ds[name]
    band_dims = [d for d in da.dims if d not in (grid.x_dim, grid.y_dim)]
    if len(band_dims) > 1:
        raise InvalidInputError(
            f"GeoTIFF holds 2-D or 3-D variables; {name!r} has dimensions {', '.join(map(str, da.dims))}"
        )
    da = da.transpose(*band_dims, grid.y_dim, grid.x_dim)
    values = np.asarray(da.values)
    if values.ndim == 2:
        values = values[np.newaxis]
    x = np.asarray(ds[grid.x_dim].values, dtype=np.float64)
    y = np.asarray(ds[grid.y_dim].values, dtype=np.float64)
    if x.size > 1 and x[1] < x[0]:
        values, x = values[:, :, ::-1], x[::-1]
    if y.size > 1 and y[1] > y[0]:  # GeoTIFF rows run north to south
        values, y = values[:, ::-1, :], y[::-1]
    res_x = float(abs(x[1] - x[0])) if x.size > 1 else grid.res_x
    res_y = float(abs(y[1] - y[0])) if y.size > 1 else grid.res_y

    fill = da.encoding.get("_FillValue", da.encoding.get("missing_value"))
    dtype = np.dtype(da.encoding.get("dtype", values.dtype))
    if dtype.kind in "iu" and fill is not None and values.dtype.kind == "f":
        scale = float(da.encoding.get("scale_factor", 1.0))
        offset = float(da.encoding.get("add_offset", 0.0))
        raw = np.where(np.isnan(values), fill, np.rint((values - offset) / scale))
        values, nodata = raw.astype(dtype), float(fill)
    elif values.dtype.kind == "f" and dtype.kind in "iu" and not np.isnan(values).any():
        values, nodata = values.astype(dtype), None  # an integer band read as float: as stored
    elif values.dtype.kind == "f":
        values, nodata = values.astype(np.float32), float("nan")
    else:
        nodata = float(fill) if fill is not None else None
    labels = (
        [str(v) for v in np.asarray(ds[band_dims[0]].values)]
        if band_dims and band_dims[0] in ds.coords
        else [name] * values.shape[0]
    )
    profile = {
        "driver": "COG",
        "width": values.shape[2],
        "height": values.shape[1],
        "count": values.shape[0],
        "dtype": values.dtype.name,
        "crs": grid.crs.to_wkt(),
        "transform": from_origin(x[0] - res_x / 2, y[0] + res_y / 2, res_x, res_y),
        "nodata": nodata,
        "compress": "DEFLATE",
        "BLOCKSIZE": 256,
    }
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(values)
        dst.update_tags(variable=name, units=str(da.attrs.get("units", "")))
        for band, label in enumerate(labels, start=1):
            dst.set_band_description(band, label)
            if band_dims:
                dst.update_tags(band, **{str(band_dims[0]): label})


register_format(OutputFormat("netcdf", (".nc", ".nc4"), _netcdf))
register_format(OutputFormat("zarr", (".zarr",), _zarr, directory=True))
register_format(OutputFormat("geotiff", (".tif", ".tiff"), _geotiff))
