"""GeoTIFF and Cloud-Optimized GeoTIFF through rioxarray/rasterio (GDAL).

GDAL does not fetch the bytes itself: rasterio's Python opener hands it a
:class:`~eoaccess.readers._io.RangeFile`, so remote files come through the transfer engine (S3
signing and region redirects, retries), every byte is counted, and GDAL's multi-range reads of
COG tiles become concurrent exact range requests — a window read fetches the header blocks and
the tiles under the window, nothing else. GDAL's probes for sidecar files (``.aux.xml``,
``.ovr``, ``.msk``) are answered "absent" without a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import xarray as xr
from rasterio.abc import MultiByteRangeResourceContainer

from eoaccess.errors import InvalidInputError
from eoaccess.readers._io import RangeFile, Resource

VARIABLE = "band_data"
"""Name of the data variable, as xarray's own ``engine="rasterio"`` names it."""


class _TiffFile(RangeFile):
    """A RangeFile that also serves GDAL's multi-range reads (rasterio ``get_byte_ranges``)."""

    def get_byte_ranges(self, offsets: Sequence[int], sizes: Sequence[int]) -> list[bytes]:
        return self.read_ranges(offsets, sizes)


class ResourceOpener(MultiByteRangeResourceContainer):
    """rasterio opener that serves exactly one resource under its href."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource

    def _is_ours(self, path: str) -> bool:
        return path.rstrip("/") == self.resource.href.rstrip("/")

    def open(self, path: str, mode: str = "r", **kwargs: Any) -> _TiffFile:
        if not self._is_ours(path) or "w" in mode or "+" in mode:
            raise FileNotFoundError(path)
        return _TiffFile(self.resource)

    def isfile(self, path: str) -> bool:
        return self._is_ours(path)

    def isdir(self, path: str) -> bool:
        return False

    def ls(self, path: str) -> list[str]:
        return []

    def mtime(self, path: str) -> int:
        return 0

    def size(self, path: str) -> int:
        if not self._is_ours(path):
            raise FileNotFoundError(path)
        return self.resource.size()

    def rm(self, path: str) -> None:
        raise PermissionError(f"{path} is opened read-only")


def open_resource(resource: Resource, group: str | None, options: dict[str, Any]) -> xr.Dataset:
    """Open the GeoTIFF at ``resource`` as a lazy Dataset with one ``band_data`` variable
    (dims ``band``, ``y``, ``x``), GDAL tags as attributes and the CRS in ``spatial_ref``."""
    import rasterio.errors
    import rioxarray

    if group:
        raise InvalidInputError(f"{resource.href} is a GeoTIFF, which has no groups")
    options = dict(options)
    name = options.pop("variable_name", VARIABLE)
    options.setdefault("mask_and_scale", True)  # CF decoding, as for NetCDF and Zarr
    for unsupported in ("decode_coords", "decode_cf", "use_cftime", "concat_characters"):
        options.pop(unsupported, None)  # xarray options that have no meaning for a raster
    try:
        opened = rioxarray.open_rasterio(resource.href, opener=ResourceOpener(resource), **options)
    except rasterio.errors.RasterioIOError as exc:
        raise InvalidInputError(f"cannot read {resource.href} as GeoTIFF: {exc}") from None
    if isinstance(opened, list):  # subdatasets (not produced by GeoTIFFs)
        raise InvalidInputError(f"{resource.href} holds several subdatasets; open one of them")
    if isinstance(opened, xr.Dataset):  # band_as_variable=True
        return opened
    return opened.to_dataset(name=opened.name or name)
