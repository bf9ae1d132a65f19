"""Range reads as plain functions: the bytes of one span of a remote object, in one request.

Readers use them for what they need of a file and no more — seed 004 reads only the header of a
GeoTIFF to get its tags. For many reads of the same host keep one :class:`TransferEngine` open
and call :meth:`TransferEngine.read_range` on it, so connections are reused.
"""

from __future__ import annotations

from eoaccess.transfer._config import TransferConfig
from eoaccess.transfer._engine import TransferEngine
from eoaccess.transfer._sync import run_sync

DEFAULT_HEADER_SIZE = 64 * 1024


async def read_range_async(
    url: str, start: int, length: int, *, config: TransferConfig | None = None
) -> bytes:
    """Async twin of :func:`read_range`."""
    async with TransferEngine(config) as engine:
        return await engine.read_range(url, start, length)


def read_range(url: str, start: int, length: int, *, config: TransferConfig | None = None) -> bytes:
    """Bytes ``start`` to ``start + length - 1`` of ``url`` (http, https, s3, file or path).

    Shorter only when the object ends first; empty when ``start`` is past its end.
    """
    return run_sync(read_range_async, url, start, length, config=config)


async def read_header_async(
    url: str, size: int = DEFAULT_HEADER_SIZE, *, config: TransferConfig | None = None
) -> bytes:
    """Async twin of :func:`read_header`."""
    return await read_range_async(url, 0, size, config=config)


def read_header(
    url: str, size: int = DEFAULT_HEADER_SIZE, *, config: TransferConfig | None = None
) -> bytes:
    """The first ``size`` bytes of ``url`` (a file header: GeoTIFF tags, HDF5 superblock)."""
    return run_sync(read_header_async, url, size, config=config)
