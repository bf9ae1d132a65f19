"""The local backend: plain paths and ``file://`` URLs, read with ``os.pread`` in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from eoaccess.transfer._config import TransferConfig
from eoaccess.transfer._engine import RemoteMeta
from eoaccess.transfer._errors import (
    RangeNotSatisfiableError,
    RemoteError,
    RemoteNotFoundError,
)

_THREAD_READ = 64 * 1024


def local_path(url: str) -> Path:
    """The filesystem path of a ``file://`` URL or a plain path."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        return Path(url2pathname(unquote(parts.path)))
    return Path(url).expanduser()


def _meta(stat: os.stat_result) -> RemoteMeta:
    # size and mtime identify a local file version the way ETag does an HTTP one
    return RemoteMeta(stat.st_size, f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"', None)


class LocalBody:
    """Reads an open file from ``offset`` up to ``end``."""

    def __init__(self, fd: int, offset: int, end: int, meta: RemoteMeta) -> None:
        self._fd = fd
        self._pos = offset
        self._end = end
        self.offset = offset
        self.length = end - offset
        self.meta = meta

    async def read(self, max_bytes: int) -> bytes:
        n = min(max_bytes, self._end - self._pos)
        if n <= 0:
            return b""
        if n >= _THREAD_READ:
            data = await asyncio.to_thread(os.pread, self._fd, n, self._pos)
        else:
            data = os.pread(self._fd, n, self._pos)
        self._pos += len(data)
        return data


class LocalBackend:
    """Local files as a backend, so downloads and range reads treat every source alike."""

    def __init__(self, config: TransferConfig) -> None:
        self.config = config

    def host(self, url: str) -> str:
        return "local"

    def _open_fd(self, url: str) -> tuple[int, os.stat_result]:
        path = local_path(url)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise RemoteNotFoundError(f"{path} does not exist", status=404) from None
        except OSError as exc:
            raise RemoteError(f"cannot read {path}: {exc.strerror or exc}") from None
        stat = os.fstat(fd)
        if not os.path.isfile(path):
            os.close(fd)
            raise RemoteError(f"{path} is not a file")
        return fd, stat

    @contextlib.asynccontextmanager
    async def open(
        self, url: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[LocalBody]:
        fd, stat = self._open_fd(url)
        try:
            if start and start >= stat.st_size:
                raise RangeNotSatisfiableError(
                    f"{url}: range starts beyond its {stat.st_size} bytes"
                )
            stop = stat.st_size if end is None else min(end + 1, stat.st_size)
            yield LocalBody(fd, start, stop, _meta(stat))
        finally:
            os.close(fd)

    async def stat(self, url: str) -> RemoteMeta:
        fd, stat = self._open_fd(url)
        os.close(fd)
        return _meta(stat)

    async def aclose(self) -> None:
        pass


def create_backend(config: TransferConfig) -> LocalBackend:
    """Registry entry for ``file`` URLs and plain paths."""
    return LocalBackend(config)
