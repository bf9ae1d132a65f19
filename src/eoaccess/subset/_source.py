"""Opening the input of a subset or a time series: the one place that calls the readers.

Gridded data goes through :func:`eoaccess.readers.open_dataset` (format detection, CRS
attached, every byte counted); trajectory granules are read with h5py from the readers'
range-reading file object, so a remote granule is read by hyperslab, never downloaded whole.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import h5py
import xarray as xr

from eoaccess.errors import InvalidInputError
from eoaccess.readers import IOReport, detect_format, open_dataset, open_info
from eoaccess.readers._io import IOStats, Resource


def href_text(href: str | os.PathLike[str]) -> str:
    """An href as text (paths as given, URLs unchanged)."""
    return os.fspath(href) if isinstance(href, os.PathLike) else str(href)


def basename(href: str | os.PathLike[str]) -> str:
    """The file or directory name of an href without its extension (for output names)."""
    text = href_text(href).split("?", 1)[0].rstrip("/")
    name = text.rsplit("/", 1)[-1]
    stem, dot, _ = name.rpartition(".")
    return stem if dot and stem else name


def open_grid_dataset(href: str | os.PathLike[str]) -> xr.Dataset:
    """Open a gridded dataset lazily (Zarr, NetCDF/HDF5, GeoTIFF) over local/http/s3."""
    return open_dataset(href_text(href))


def grid_io(ds: xr.Dataset) -> IOReport | None:
    """Requests and bytes read so far for a dataset from :func:`open_grid_dataset`.

    Without the store's total size: for a Zarr store on S3 that is a listing of every chunk
    object (78 list requests for an ITS_LIVE cube), which a subset has no use for."""
    info = open_info(ds)
    return info.io() if info is not None else None


def is_hdf5(href: str | os.PathLike[str]) -> bool:
    """Whether the data at ``href`` is HDF5 (from its first bytes)."""
    try:
        return detect_format(href_text(href)) == "hdf5"
    except (InvalidInputError, OSError):
        return False


_PREFETCH_GAP = 16 * 1024
"""Spans closer than this are fetched as one request (the gap costs less than a round trip)."""


class _PrefetchedFile(io.RawIOBase):
    """The readers' ranged file object, plus byte spans fetched ahead of time, concurrently.

    h5py reads a dataset's chunks one call at a time; when the caller knows which chunks come
    next (:func:`~eoaccess.subset._h5copy.chunk_spans`), :meth:`prefetch` gets them all in one
    concurrent batch through the same counted :class:`~eoaccess.readers._io.Resource`, and the
    reads that follow are served from memory. Anything else goes to the ranged file as before.
    """

    def __init__(self, resource: Resource) -> None:
        super().__init__()
        self._resource = resource
        self._inner = resource.open_file()
        self.name = resource.href
        self._pos = 0
        self._starts: list[int] = []
        self._spans: list[bytes] = []

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._pos = (
            self._inner.seek(offset, whence)
            if whence == io.SEEK_END
            else (offset if whence == io.SEEK_SET else self._pos + offset)
        )
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        k = bisect.bisect_right(self._starts, self._pos) - 1
        if k >= 0:
            start, data = self._starts[k], self._spans[k]
            if self._pos + len(view) <= start + len(data):
                offset = self._pos - start
                view[:] = data[offset : offset + len(view)]
                self._pos += len(view)
                return len(view)
        self._inner.seek(self._pos)
        n = self._inner.readinto(view)
        self._pos += n
        return n

    def _covered(self, offset: int, size: int) -> bool:
        k = bisect.bisect_right(self._starts, offset) - 1
        return k >= 0 and offset + size <= self._starts[k] + len(self._spans[k])

    def prefetch(self, spans: Iterable[tuple[int, int]]) -> None:
        """Fetch ``(offset, size)`` spans concurrently (merged when close) and keep them."""
        wanted = sorted((o, n) for o, n in spans if n > 0 and not self._covered(o, n))
        merged: list[list[int]] = []
        for offset, size in wanted:
            if merged and offset <= merged[-1][0] + merged[-1][1] + _PREFETCH_GAP:
                merged[-1][1] = max(merged[-1][1], offset + size - merged[-1][0])
            else:
                merged.append([offset, size])
        if not merged:
            return
        data = self._resource.read_many([(o, n) for o, n in merged])
        spans_by_start = dict(zip(self._starts, self._spans, strict=True))
        spans_by_start.update({o: d for (o, _), d in zip(merged, data, strict=True)})
        self._starts = sorted(spans_by_start)
        self._spans = [spans_by_start[o] for o in self._starts]


@dataclass
class H5Source:
    """An HDF5 file opened with h5py over the readers' ranged file object."""

    file: h5py.File
    stats: IOStats
    _handle: _PrefetchedFile

    def io(self) -> IOReport:
        """Requests and bytes read so far."""
        return self.stats.report()

    def prefetch(self, spans: Iterable[Iterable[tuple[int, int]]]) -> None:
        """Fetch these byte spans (lists of them, from ``chunk_spans``) in one concurrent batch."""
        self._handle.prefetch(span for group in spans for span in group)


@contextlib.contextmanager
def open_h5(href: str | os.PathLike[str]) -> Iterator[H5Source]:
    """Open an HDF5 file read-only for h5py hyperslab reads (local, http(s), s3)."""
    text = href_text(href)
    resource = Resource(text)
    try:
        resource.size()
        handle = _PrefetchedFile(resource)
        f = h5py.File(handle, "r")
    except OSError as exc:
        raise InvalidInputError(f"cannot open {text} as HDF5: {exc}") from None
    with f:
        yield H5Source(f, resource.stats, handle)
