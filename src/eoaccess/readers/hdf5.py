"""NetCDF-4/HDF5 files (groups included) and NetCDF classic files.

HDF5 is read by h5netcdf/h5py from a :class:`~eoaccess.readers._io.RangeFile`, so a remote file
is never downloaded: h5py asks for the superblock, object headers, B-trees and the chunks it
needs, small reads come from 64 KiB blocks fetched once, chunk reads are fetched exactly.
``group`` is a path such as ``gt1l/heights`` (ICESat-2 ATL03); CF decoding turns ATL03's
``delta_time`` (``seconds since 2018-01-01``) into datetimes and its ``coordinates`` attribute
makes ``lat_ph``/``lon_ph`` coordinates.

NetCDF classic (``CDF\\x01``/``\\x02``/``\\x05``) is not HDF5: netCDF4-python reads it, from the
path for local files and from memory for remote ones (the format has no chunking, so a remote
reader would fetch most of it anyway).
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import weakref
from typing import Any

import xarray as xr

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.readers._h5netcdf import File, NeedsAncestors
from eoaccess.readers._io import Resource, local_path
from eoaccess.readers._lazy import open_lazily


def _group_error(resource: Resource, group: str | None, exc: Exception) -> Exception:
    groups = list_groups(resource) if group else []
    if group and group not in groups:
        shown = ", ".join(groups[:20]) + (" …" if len(groups) > 20 else "")
        return NotFoundError(f"{resource.href} has no group {group!r} (groups: {shown or 'none'})")
    where = f"group {group!r} of " if group else ""
    return InvalidInputError(f"cannot read {where}{resource.href}: {' '.join(str(exc).split())}")


def list_groups(resource: Resource) -> list[str]:
    """Paths of the groups in the file, those holding variables first (``gt1l/heights`` before
    ATL03's attribute-only ``METADATA/…``), for messages and summaries."""
    import h5py

    with_data: list[str] = []
    others: list[str] = []

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Group):
            has_data = any(
                isinstance(obj.get(k, getclass=True), type(h5py.Dataset))
                and obj.get(k, getclass=True) is h5py.Dataset
                for k in obj
            )
            (with_data if has_data else others).append(name)

    with h5py.File(resource.open_file(), "r") as handle:
        handle.visititems(visit)
    return with_data + others


# h5py calls back into Python to read a file object; if such a file is still open when the
# interpreter tears modules down, closing it then can crash the process. Close them at exit.
_OPEN_FILES: list[weakref.ref[Any]] = []  # h5netcdf files are unhashable: no WeakSet
_OPEN_LOCK = threading.Lock()


def _track(handle: Any) -> None:
    with _OPEN_LOCK:
        _OPEN_FILES[:] = [ref for ref in _OPEN_FILES if ref() is not None]
        _OPEN_FILES.append(weakref.ref(handle))


@atexit.register
def _close_open_files() -> None:
    with _OPEN_LOCK:
        files = [ref() for ref in _OPEN_FILES]
        _OPEN_FILES.clear()
    for handle in files:
        if handle is None:
            continue
        with contextlib.suppress(Exception):  # already closed or broken: nothing to release
            handle.close()


_MAX_SCALE_ROUNDS = 8
"""Opens on a restricted path before giving up and opening every group (each round adds the
ancestor scales one more variable names; the blocks already read stay cached)."""


def open_resource(resource: Resource, group: str | None, options: dict[str, Any]) -> xr.Dataset:
    """Open the HDF5 file at ``resource`` (``group`` inside it) as a lazy Dataset."""
    group = group.strip("/") if group else None
    options = dict(options)
    file_options = {
        # Plain HDF5 (no dimension scales) gets phony dimension names instead of an error.
        "phony_dims": options.pop("phony_dims", "access"),
        "decode_vlen_strings": options.pop("decode_vlen_strings", True),
    }
    if group:
        # Only the groups on the way to ``group`` (not every beam of an ATL03 granule), plus
        # the scales above it that its variables name; anything unusual (a missing group, a
        # malformed file) opens again the whole way, which gives h5netcdf's answer or error.
        extra: dict[str, frozenset[str]] = {}
        for _ in range(_MAX_SCALE_ROUNDS):
            try:
                return _open(resource, group, file_options, options, extra=extra)
            except NeedsAncestors as need:
                extra[need.path] = extra.get(need.path, frozenset()) | {need.name}
            except Exception:
                break
    return _open(resource, group, file_options, options, full=True)


def _open(
    resource: Resource,
    group: str | None,
    file_options: dict[str, Any],
    options: dict[str, Any],
    *,
    extra: dict[str, frozenset[str]] | None = None,
    full: bool = False,
) -> xr.Dataset:
    only = None if full else group
    try:
        handle = File(resource.open_file(), "r", only=only, extra=extra, **file_options)
    except (OSError, ValueError) as exc:
        if not full:
            raise
        raise InvalidInputError(f"cannot read {resource.href} as HDF5: {exc}") from None
    _track(handle)
    try:
        # The group object, not its path: xarray accepts a path only with h5netcdf's own File.
        store = xr.backends.H5NetCDFStore(handle[group] if group else handle)
        return open_lazily(store, options)
    except BaseException as exc:
        handle.close()
        if full and isinstance(exc, OSError | KeyError | ValueError):
            raise _group_error(resource, group, exc) from None
        raise


def open_netcdf3(resource: Resource, group: str | None, options: dict[str, Any]) -> xr.Dataset:
    """Open a NetCDF classic file (no groups in that format)."""
    import netCDF4

    if group:
        raise InvalidInputError(f"{resource.href} is NetCDF classic, which has no groups")
    if resource.remote:
        size = resource.size()
        data = resource.read(0, size)
        handle = netCDF4.Dataset("inmemory.nc", mode="r", memory=data)
    else:
        resource.stats.add(resource.size())  # netCDF4 reads the file itself
        handle = netCDF4.Dataset(local_path(resource.href), mode="r")
    store = xr.backends.NetCDF4DataStore(handle)
    return xr.open_dataset(store, **options)
