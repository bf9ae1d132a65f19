"""Open any asset lazily as an ``xarray.Dataset``: Zarr, NetCDF/HDF5, GeoTIFF/COG.

``open_dataset(href | asset | item, group=None)`` works the same over local paths, http(s) and
s3. The format is detected from the content (docs/design/readers.md), so a ``.zarr`` URL never
reaches a NetCDF parser (seed 000); S3 region redirects are followed by the transfer engine;
CF decoding is on (timedeltas included); the CRS is attached so ``ds.rio.crs`` works — from the
file, or from the STAC item's ``proj:*`` fields for lunar and other IAU CRSs. Every byte read is
counted: :func:`io_report` tells requests and bytes against the total size.

Readers are registered by format name (:func:`register_reader`); each is a module with an
``open_resource(resource, group, options)`` function.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import xarray as xr

from eoaccess.errors import EOAccessError, InvalidInputError
from eoaccess.readers._crs import attach_crs, crs_from_stac, dataset_crs
from eoaccess.readers._detect import STAC_ITEM, Signature, detect, register_signature
from eoaccess.readers._io import BLOCK_SIZE, IOReport, IOStats, Resource
from eoaccess.readers._source import Target, item_from_json, to_target
from eoaccess.transfer import TransferConfig

__all__ = [
    "DEFAULT_OPTIONS",
    "IOReport",
    "OpenInfo",
    "Signature",
    "Target",
    "crs_from_stac",
    "dataset_crs",
    "detect_format",
    "io_report",
    "open_dataset",
    "open_info",
    "readers",
    "register_reader",
    "register_signature",
]

ReaderFunction = Callable[[Resource, "str | None", dict[str, Any]], xr.Dataset]

# Registry: format name -> (module, function). Modules are imported on first use, so opening a
# Zarr cube never imports GDAL.
_READER_MODULES: dict[str, tuple[str, str]] = {
    "zarr": ("eoaccess.readers.zarr", "open_resource"),
    "hdf5": ("eoaccess.readers.hdf5", "open_resource"),
    "netcdf3": ("eoaccess.readers.hdf5", "open_netcdf3"),
    "geotiff": ("eoaccess.readers.geotiff", "open_resource"),
}
_READER_FUNCTIONS: dict[str, ReaderFunction] = {}
# Names users know from xarray and GDAL, for engine=.
_ALIASES = {
    "netcdf": "hdf5",
    "netcdf4": "hdf5",
    "h5netcdf": "hdf5",
    "h5": "hdf5",
    "rasterio": "geotiff",
    "tiff": "geotiff",
    "cog": "geotiff",
}

DEFAULT_OPTIONS: Mapping[str, Any] = {"decode_timedelta": True, "decode_coords": "all"}
"""xarray options every reader gets unless the caller passes others: timedeltas decoded
(ITS_LIVE ``date_dt``) and grid-mapping/``coordinates`` variables made coordinates."""

INFO_KEY = "eoaccess"
"""Key of :class:`OpenInfo` in ``ds.encoding``."""


def register_reader(name: str, function: ReaderFunction) -> None:
    """Open format ``name`` with ``function(resource, group, options)`` (see the readers)."""
    _READER_FUNCTIONS[name] = function


def readers() -> list[str]:
    """Names of the registered formats."""
    return sorted({*_READER_MODULES, *_READER_FUNCTIONS})


def _reader(name: str) -> ReaderFunction:
    name = _ALIASES.get(name.lower(), name.lower())
    if name in _READER_FUNCTIONS:
        return _READER_FUNCTIONS[name]
    if name in _READER_MODULES:
        module, function = _READER_MODULES[name]
        found: ReaderFunction = getattr(importlib.import_module(module), function)
        return found
    raise InvalidInputError(
        f"unknown engine {name!r}: use one of {', '.join(readers())} (or none to detect)"
    )


@dataclass(frozen=True)
class OpenInfo:
    """How a dataset was opened; ``ds.encoding["eoaccess"]``, also via :func:`open_info`."""

    href: str
    """The file or store that was read."""
    format: str
    """The reader used (``zarr``, ``hdf5``, ``netcdf3``, ``geotiff``)."""
    group: str | None
    """The group opened inside the file, if any."""
    target: Target = field(repr=False)
    """What the caller asked for (asset and item included)."""
    stats: IOStats = field(repr=False, compare=False)
    """The live request and byte counter of the dataset's reads."""
    opened: IOReport = field(compare=False)
    """What opening cost (before any data was loaded)."""
    resource: Resource = field(repr=False, compare=False)

    def io(self) -> IOReport:
        """Requests and bytes read so far, loads included."""
        return self.stats.report()

    def total_bytes(self) -> int | None:
        """Size of the file or Zarr store (asked for on first call; None if unknown)."""
        if self.stats.total_bytes is None:
            self.stats.total_bytes = _total_size(self.resource, self.format)
        return self.stats.total_bytes


def _total_size(resource: Resource, fmt: str) -> int | None:
    if fmt != "zarr":
        return resource.size()
    from eoaccess.readers._zarrstore import store_size

    return store_size(resource)


def open_info(ds: xr.Dataset) -> OpenInfo | None:
    """The :class:`OpenInfo` of a dataset from :func:`open_dataset` (None for others)."""
    info = ds.encoding.get(INFO_KEY)
    return info if isinstance(info, OpenInfo) else None


def io_report(ds: xr.Dataset) -> IOReport | None:
    """Requests and bytes read for ``ds`` so far, with the total size when known."""
    info = open_info(ds)
    if info is None:
        return None
    report = info.io()
    if report.total_bytes is None:
        return IOReport(report.requests, report.bytes_read, info.total_bytes(), report.remote)
    return report


def detect_format(href: str, *, config: TransferConfig | None = None) -> str:
    """The format of the data at ``href`` (``zarr``, ``hdf5``, ``netcdf3``, ``geotiff``,
    ``stac-item``), read from its first bytes or its Zarr metadata."""
    return detect(Resource(href, config))


def _item_target(resource: Resource, asset_key: str | None) -> Target:
    head = resource.head()
    data = head if len(head) < BLOCK_SIZE else resource.fetcher.get(resource.href) or b""
    return item_from_json(data, resource.href, asset_key)


def open_dataset(
    source: Any,
    group: str | None = None,
    *,
    engine: str | None = None,
    asset: str | None = None,
    config: TransferConfig | None = None,
    **kwargs: Any,
) -> xr.Dataset:
    """Open ``source`` lazily as an ``xarray.Dataset``.

    ``source``: a path or http(s)/s3/file URL (of a file, a Zarr store, or a STAC item JSON), a
    STAC asset (dict or ``pystac.Asset``) or item (dict or ``pystac.Item``; ``asset`` picks the
    asset key, default the data asset). ``group``: a group inside a NetCDF/HDF5 file or Zarr
    store (``gt1l/heights``). ``engine`` forces a reader instead of detecting the format.
    ``config``: transfer settings for remote data (S3 endpoint and credentials, headers).
    Other keyword arguments go to xarray (``chunks``, ``decode_times``, ``drop_variables`` …).
    """
    target = to_target(source, asset_key=asset)
    resource = Resource(target.href, config)
    fmt = engine or detect(resource, target.media_type)
    if fmt == STAC_ITEM:
        item_target = _item_target(resource, asset)
        return open_dataset(item_target, group, config=config, **kwargs)
    reader = _reader(fmt)
    options = {**DEFAULT_OPTIONS, **kwargs}
    try:
        ds = reader(resource, group, options)
    except EOAccessError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        where = f"group {group!r} of " if group else ""
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise InvalidInputError(f"cannot open {where}{target.href} as {fmt}: {detail}") from None
    ds = attach_crs(ds, target.crs)
    ds.encoding[INFO_KEY] = OpenInfo(
        href=target.href,
        format=_ALIASES.get(fmt, fmt),
        group=group,
        target=target,
        stats=resource.stats,
        opened=resource.stats.report(),
        resource=resource,
    )
    return ds
