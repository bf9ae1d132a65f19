"""The coordinate reference system of an opened dataset, attached so ``ds.rio.crs`` works.

Sources, the file first: a CF grid-mapping variable (ITS_LIVE's ``mapping`` with ``crs_wkt``,
``spatial_ref``, ``spatial_epsg`` or only the CF projection parameters), GeoTIFF keys (rioxarray
puts them in ``spatial_ref``), else the STAC item or asset (``proj:projjson``, ``proj:wkt2``,
``proj:code``, ``proj:epsg``) — the only place Kaguya's IAU lunar CRS is spelled out in full,
so non-Earth CRSs are never reduced to an EPSG code. An attached CRS is written as WKT2 in a
``spatial_ref`` coordinate (rioxarray's convention) so IAU identifiers survive.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

import pyproj
import rioxarray  # noqa: F401 - registers the ``.rio`` accessor the attached CRS is read with
import xarray as xr
from pyproj.exceptions import CRSError

from eoaccess.errors import InvalidInputError

_WKT_ATTRS = ("crs_wkt", "spatial_ref", "esri_pe_string")
_EPSG_ATTRS = ("spatial_epsg", "epsg_code", "epsg")
_GRID_MAPPING_NAMES = ("spatial_ref", "crs", "mapping", "grid_mapping", "transverse_mercator")
_SPATIAL_DIMS = (("x", "y"), ("lon", "lat"), ("longitude", "latitude"))


def crs_from_stac(*layers: Mapping[str, Any] | None) -> pyproj.CRS | None:
    """The CRS given by STAC projection fields; later layers (the asset) override earlier ones
    (the item's properties). Full definitions win over codes."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer:
            merged.update({k: v for k, v in layer.items() if k.startswith("proj:")})
    try:
        if merged.get("proj:projjson"):
            value = merged["proj:projjson"]
            return pyproj.CRS.from_json(value if isinstance(value, str) else json.dumps(value))
        if merged.get("proj:wkt2"):
            return pyproj.CRS.from_wkt(merged["proj:wkt2"])
        if merged.get("proj:code"):
            return pyproj.CRS.from_user_input(merged["proj:code"])
        if merged.get("proj:epsg"):
            return pyproj.CRS.from_epsg(int(merged["proj:epsg"]))
    except (CRSError, ValueError, TypeError) as exc:
        raise InvalidInputError(f"invalid STAC projection fields: {exc}") from None
    return None


def grid_mapping_name(ds: xr.Dataset) -> str | None:
    """The variable holding the CF grid mapping (named by ``grid_mapping`` of a data variable)."""
    for var in ds.data_vars.values():
        name = var.attrs.get("grid_mapping") or var.encoding.get("grid_mapping")
        if isinstance(name, str) and name.split(":")[0].strip() in ds.variables:
            return name.split(":")[0].strip()
    for name in _GRID_MAPPING_NAMES:
        if name in ds.variables and ds[name].ndim == 0:
            attrs = ds[name].attrs
            if "grid_mapping_name" in attrs or any(a in attrs for a in _WKT_ATTRS):
                return name
    return None


def _crs_of_attrs(attrs: Mapping[str, Any]) -> pyproj.CRS | None:
    for key in _WKT_ATTRS:
        text = attrs.get(key)
        if isinstance(text, str) and text.strip():
            try:
                return pyproj.CRS.from_wkt(text)
            except CRSError:
                continue
    for key in _EPSG_ATTRS:
        code = attrs.get(key)
        if code is not None:
            try:
                return pyproj.CRS.from_epsg(int(str(code).removeprefix("EPSG:")))
            except (CRSError, ValueError):
                continue
    if "grid_mapping_name" in attrs:
        try:
            return pyproj.CRS.from_cf(dict(attrs))
        except CRSError:
            return None
    return None


def dataset_crs(ds: xr.Dataset) -> pyproj.CRS | None:
    """The CRS the dataset itself declares (grid mapping, GeoTIFF keys), or None."""
    name = grid_mapping_name(ds)
    if name is not None:
        crs = _crs_of_attrs(ds[name].attrs)
        if crs is not None:
            return crs
    return None


def spatial_dims(ds: xr.Dataset) -> tuple[str, str] | None:
    """Names of the (x, y) dimensions of a gridded dataset, or None."""
    for x, y in _SPATIAL_DIMS:
        if x in ds.dims and y in ds.dims:
            return x, y
    return None


def attach_crs(ds: xr.Dataset, fallback: pyproj.CRS | None = None) -> xr.Dataset:
    """``ds`` with its CRS readable by rioxarray: the file's own, else ``fallback`` (STAC)."""
    name = grid_mapping_name(ds)
    own = dataset_crs(ds)
    if own is not None and name is not None:
        attrs = ds[name].attrs
        if not any(isinstance(attrs.get(a), str) for a in _WKT_ATTRS):
            # CF parameters or an EPSG code only: add the WKT that rioxarray and GDAL read.
            ds[name].attrs = {**attrs, "crs_wkt": own.to_wkt()}
        return ds
    if fallback is None:
        return ds
    return write_crs(ds, fallback)


def write_crs(ds: xr.Dataset, crs: pyproj.CRS, name: str = "spatial_ref") -> xr.Dataset:
    """Attach ``crs`` as a ``spatial_ref`` grid-mapping coordinate in WKT2 (IAU ids kept)."""
    wkt = crs.to_wkt()
    attrs: dict[str, Any] = {}
    # Many planetary CRSs have no CF form: the WKT then says it all.
    with contextlib.suppress(CRSError, ValueError):
        attrs.update(crs.to_cf())
    attrs.update({"crs_wkt": wkt, "spatial_ref": wkt})
    ds = ds.assign_coords({name: xr.Variable((), 0, attrs)})
    dims = spatial_dims(ds)
    for var in ds.data_vars.values():
        if dims is None or set(dims) <= set(var.dims):
            var.encoding["grid_mapping"] = name
    return ds
