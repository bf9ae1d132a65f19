"""Bytes for the readers, counted: range reads with a block cache, whole objects, sizes.

Every byte a reader takes from a file goes through a :class:`Resource` (one opened href) so that
``open_dataset`` can say how many requests and bytes an open or a load cost against the size of
the data (``eoaccess open --stats``; the tests bound them with the HTTP server's request log).

Remote bytes come from the transfer engine (retries, S3 signing and region redirects, one
connection pool per configuration). Its engines live on one background event loop owned by this
module, because the readers are called from many threads: xarray's, dask's, GDAL's and zarr's
own event loop. Local files are read directly with ``os.pread`` (no thread hop).
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import concurrent.futures
import contextlib
import gc
import io
import os
import threading
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.transfer import RemoteNotFoundError, TransferConfig, TransferEngine

T = TypeVar("T")

BLOCK_SIZE = 64 * 1024
"""Small reads (file headers, HDF5 object headers and B-trees, TIFF IFDs) fetch whole aligned
blocks of this size, so the many tiny reads of a metadata walk become a few requests."""
CACHE_BLOCKS = 256
"""Blocks kept per resource (16 MiB), least recently used dropped first."""
_WHOLE = 1 << 60  # "to the end" for a whole-object read: servers clamp a range to the object


# --- accounting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IOReport:
    """What reading a dataset has cost so far."""

    requests: int
    """Reads issued: HTTP/S3 requests for remote data, read calls for local files."""
    bytes_read: int
    """Bytes received."""
    total_bytes: int | None
    """Size of the file or of the whole Zarr store, when known."""
    remote: bool
    """True when the data is read over http(s) or s3."""

    @property
    def fraction(self) -> float | None:
        """Share of the total size read so far (None when the size is unknown)."""
        if not self.total_bytes:
            return None
        return self.bytes_read / self.total_bytes

    def describe(self) -> str:
        """One line such as ``4 requests, 12.3 kB of 2.1 MB (0.6 %)``."""
        unit = "request" if self.remote else "read"
        plural = "" if self.requests == 1 else "s"
        text = f"{self.requests} {unit}{plural}, {format_bytes(self.bytes_read)}"
        if self.total_bytes is not None:
            text += f" of {format_bytes(self.total_bytes)}"
            if self.fraction is not None:
                text += f" ({100 * self.fraction:.1f} %)"
        return text


class IOStats:
    """A live, thread-safe counter of requests and bytes for one opened dataset."""

    def __init__(self, remote: bool) -> None:
        self.remote = remote
        self._lock = threading.Lock()
        self._requests = 0
        self._bytes = 0
        self.total_bytes: int | None = None

    def add(self, nbytes: int, requests: int = 1) -> None:
        with self._lock:
            self._requests += requests
            self._bytes += nbytes

    def __getstate__(self) -> dict[str, Any]:  # picklable for dask's distributed workers
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def report(self) -> IOReport:
        """A snapshot of the counters."""
        with self._lock:
            return IOReport(self._requests, self._bytes, self.total_bytes, self.remote)


def format_bytes(n: int) -> str:
    """Bytes in decimal units, as file managers show them."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def coalesce_spans(spans: Sequence[tuple[int, int]], gap: int) -> list[tuple[int, int, list[int]]]:
    """Half-open byte spans ``(start, end)`` merged into ``(start, end, members)`` requests.

    Spans that overlap or lie less than ``gap`` bytes apart become one span; ``members`` are the
    indexes (into ``spans``) each merged span serves. Why: on any network a gap of a few
    kilobytes costs less than a request's round trip.
    """
    order = sorted(range(len(spans)), key=lambda i: spans[i])
    merged: list[tuple[int, int, list[int]]] = []
    for i in order:
        start, end = spans[i]
        if merged and start - merged[-1][1] < gap:
            last_start, last_end, picks = merged[-1]
            picks.append(i)
            merged[-1] = (last_start, max(last_end, end), picks)
        else:
            merged.append((start, end, [i]))
    return merged


# --- locations ---------------------------------------------------------------------------------


def is_remote(href: str) -> bool:
    """True for http(s) and s3 URLs; False for paths and ``file://`` URLs."""
    scheme = urlsplit(href).scheme.lower()
    if scheme in ("http", "https", "s3"):
        return True
    if len(scheme) <= 1 or scheme == "file":  # a path, a Windows drive letter, file://
        return False
    raise InvalidInputError(
        f"unsupported URL scheme {scheme!r} in {href}: use http(s), s3 or a path"
    )


def local_path(href: str) -> Path:
    """The filesystem path of a path or ``file://`` URL."""
    parts = urlsplit(href)
    if parts.scheme.lower() == "file":
        return Path(url2pathname(unquote(parts.path)))
    return Path(href).expanduser()


def join(href: str, key: str) -> str:
    """``key`` (``a/b``) below ``href`` (a directory path, or a URL prefix)."""
    if not key:
        return href
    if is_remote(href):
        parts = urlsplit(href)
        return parts._replace(path=parts.path.rstrip("/") + "/" + key).geturl()
    return os.fspath(local_path(href) / key)


# --- the I/O loop ------------------------------------------------------------------------------


class _CollectorPause:
    """Pauses Python's cyclic garbage collector while a thread waits for the I/O loop.

    h5py reads through our file objects while holding its global lock, and the read waits for
    the I/O loop thread. Were the collector to run on that thread then, finalizing an
    unreachable h5py/h5netcdf object would wait for the same lock: a deadlock. Pausing the
    collector for the duration of each wait (reference counting still frees everything acyclic)
    closes that window; the collector runs again as soon as no thread is waiting.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting = 0
        self._was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if self._waiting == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._waiting += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._waiting -= 1
            if self._waiting == 0 and self._was_enabled:
                gc.enable()


_COLLECTOR_PAUSE = _CollectorPause()


class _IOLoop:
    """One daemon thread running an event loop that owns the TransferEngines of the readers.

    Coroutines from another event loop normally hop to this one (:meth:`arun`): two thread
    wake-ups a request, which on a loaded machine cost more than the request itself. A
    long-lived loop that issues many small reads (zarr's own I/O loop, calling the Zarr store
    for every chunk) can be made *resident* (:meth:`adopt`): it then gets engines of its own
    (own connection pool) and its reads run where they are awaited, with no hop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0
        self._engines: dict[TransferConfig, TransferEngine] = {}
        self._resident: dict[asyncio.AbstractEventLoop, dict[TransferConfig, TransferEngine]] = {}
        self._exit_hook = False

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():  # new, or inherited by a fork
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="eoaccess-readers-io", daemon=True
                )
                thread.start()
                self._loop, self._pid, self._engines = loop, os.getpid(), {}
                self._resident = {}
            return self._loop

    def adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """Let ``loop`` (long-lived, running in its own thread) read with engines of its own.

        Their connections are closed at interpreter exit, on that loop, before libraries that
        registered their exit hooks earlier (zarr) stop it.
        """
        if loop in self._resident:
            return
        self.loop()  # settles the pid (a fork drops what the parent adopted)
        with self._lock:
            self._resident.setdefault(loop, {})
            if not self._exit_hook:
                atexit.register(self._close_resident)  # LIFO: runs before earlier hooks
                self._exit_hook = True

    def is_local(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether reads awaited on ``loop`` run there (this module's loop, or a resident one)."""
        return loop is self._loop or loop in self._resident

    def engine(self, config: TransferConfig) -> TransferEngine:
        """The engine for ``config`` of the running loop (this module's or a resident one)."""
        running = asyncio.get_running_loop()
        engines = self._engines if running is self._loop else self._resident.get(running)
        if engines is None:
            raise RuntimeError("reader engines are used on the readers' I/O loop or an adopted one")
        engine = engines.get(config)
        if engine is None:
            with self._lock:
                engine = engines.setdefault(config, TransferEngine(config))
        return engine

    def engines(self, config: TransferConfig) -> list[TransferEngine]:
        """Every engine made for ``config`` so far, on any loop (for what they learned)."""
        with self._lock:
            tables = [self._engines, *self._resident.values()]
            return [t[config] for t in tables if config in t]

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the I/O loop and wait for it from synchronous code."""
        loop = self.loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise RuntimeError("synchronous read called on the readers' I/O loop")
        with _COLLECTOR_PAUSE:
            return asyncio.run_coroutine_threadsafe(coro, loop).result()

    async def arun(self, coro: Coroutine[Any, Any, T], *, here: bool = True) -> T:
        """Await ``coro`` where it is (this loop, or a resident one when ``here``), or on the I/O
        loop from any other event loop (a notebook's)."""
        loop = self.loop()
        running = asyncio.get_running_loop()
        if running is loop or (here and running in self._resident):
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    def _close_resident(self) -> None:
        with self._lock:
            resident, self._resident = self._resident, {}
        if self._pid != os.getpid():
            return
        for loop, engines in resident.items():
            if not engines or loop.is_closed() or not loop.is_running():
                continue
            future = asyncio.run_coroutine_threadsafe(_close_engines(list(engines.values())), loop)
            with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
                future.result(timeout=5)

    def close(self) -> None:
        """Close the engines' connections (at interpreter exit)."""
        with self._lock:
            loop, engines = self._loop, list(self._engines.values())
            self._engines = {}
        if loop is None or self._pid != os.getpid() or not loop.is_running():
            return
        future = asyncio.run_coroutine_threadsafe(_close_engines(engines), loop)
        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            future.result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)


async def _close_engines(engines: list[TransferEngine]) -> None:
    for engine in engines:
        await engine.aclose()


IO = _IOLoop()
atexit.register(IO.close)


def _here(href: str) -> bool:
    """Whether a read of ``href`` may run on a resident loop's own engine.

    Not for s3: a bucket's region redirect is remembered per engine (its S3 backend), and one
    engine per configuration keeps "one redirect, then the right endpoint" true for every read.
    """
    return not href.startswith("s3://")


# --- fetching ----------------------------------------------------------------------------------


class Fetcher:
    """Counted reads of one location's objects: the only place reader bytes come from."""

    def __init__(self, config: TransferConfig | None, stats: IOStats) -> None:
        self.config = config or TransferConfig()
        self.stats = stats

    async def _remote_range(self, url: str, start: int, length: int) -> bytes:
        engine = IO.engine(self.config)
        data = await engine.read_range(url, start, length)
        self.stats.add(len(data))
        return data

    async def _remote_size(self, url: str) -> int:
        meta = await IO.engine(self.config).stat(url)
        self.stats.add(0)
        if meta.size is None:
            raise InvalidInputError(f"{url}: the server does not tell the size of the file")
        return meta.size

    # remote and local, async (for zarr's event loop) -------------------------------------------

    async def aread(self, href: str, start: int, length: int) -> bytes:
        """Bytes ``start`` .. ``start + length - 1`` of ``href`` (fewer at its end)."""
        if is_remote(href):
            return await IO.arun(self._remote_range(href, start, length), here=_here(href))
        return self.read(href, start, length)

    async def aget(self, href: str) -> bytes | None:
        """The whole object at ``href``, or None if there is none."""
        if is_remote(href):
            try:
                return await IO.arun(self._remote_range(href, 0, _WHOLE), here=_here(href))
            except RemoteNotFoundError:
                self.stats.add(0)
                return None
        return self.get(href)

    # sync ----------------------------------------------------------------------------------------

    def read(self, href: str, start: int, length: int) -> bytes:
        """Synchronous twin of :meth:`aread`."""
        if is_remote(href):
            return IO.run(self._remote_range(href, start, length))
        try:
            with open(local_path(href), "rb", buffering=0) as handle:
                data = os.pread(handle.fileno(), length, start)
        except FileNotFoundError:
            raise NotFoundError(f"{href} does not exist") from None
        self.stats.add(len(data))
        return data

    def get(self, href: str) -> bytes | None:
        """Synchronous twin of :meth:`aget`."""
        if is_remote(href):
            try:
                return IO.run(self._remote_range(href, 0, _WHOLE))
            except RemoteNotFoundError:
                self.stats.add(0)
                return None
        path = local_path(href)
        if not path.is_file():
            return None
        data = path.read_bytes()
        self.stats.add(len(data))
        return data

    def size(self, href: str) -> int:
        """Size of the file at ``href`` (a HEAD request for remote files)."""
        if is_remote(href):
            return IO.run(self._remote_size(href))
        try:
            return local_path(href).stat().st_size
        except FileNotFoundError:
            raise NotFoundError(f"{href} does not exist") from None

    def read_many(self, href: str, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """Several ``(start, length)`` spans at once: concurrent requests for remote files."""
        if not is_remote(href):
            return [self.read(href, start, length) for start, length in ranges]

        async def gather() -> list[bytes]:
            return list(await asyncio.gather(*(self._remote_range(href, s, n) for s, n in ranges)))

        return IO.run(gather())


# --- one opened file ---------------------------------------------------------------------------


class Resource:
    """One href being opened: its fetcher, a block cache for small reads and cached documents.

    Detection reads the first block through it, and the reader that follows reuses that block,
    so sniffing the format costs no extra request.
    """

    def __init__(self, href: str, config: TransferConfig | None = None) -> None:
        self.href = href
        self.remote = is_remote(href)
        self.stats = IOStats(self.remote)
        self.fetcher = Fetcher(config, self.stats)
        self.config = self.fetcher.config
        self._blocks: collections.OrderedDict[int, bytes] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._size: int | None = None
        self.documents: dict[str, bytes | None] = {}
        """Small objects under the href already fetched (Zarr metadata), by relative key."""

    def __getstate__(self) -> dict[str, Any]:
        # Pickled for dask's distributed workers: they count and cache on their own.
        state = self.__dict__.copy()
        del state["_lock"]
        state["_blocks"] = collections.OrderedDict()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # files -------------------------------------------------------------------------------------

    def size(self) -> int:
        """The file's size, asked once."""
        if self._size is None:
            self._size = self.fetcher.size(self.href)
            self.stats.total_bytes = self._size
        return self._size

    def _block(self, index: int) -> bytes:
        with self._lock:
            block = self._blocks.get(index)
            if block is not None:
                self._blocks.move_to_end(index)
                return block
        block = self.fetcher.read(self.href, index * BLOCK_SIZE, BLOCK_SIZE)
        with self._lock:
            self._blocks[index] = block
            while len(self._blocks) > CACHE_BLOCKS:
                self._blocks.popitem(last=False)
        return block

    def read(self, start: int, length: int) -> bytes:
        """Bytes ``start`` .. ``start + length - 1``: small reads through the block cache, large
        ones (data chunks, tiles) exactly as asked so no neighbouring bytes are fetched."""
        if length <= 0:
            return b""
        first, last = start // BLOCK_SIZE, (start + length - 1) // BLOCK_SIZE
        cached = all(i in self._blocks for i in range(first, last + 1))
        if length >= BLOCK_SIZE and not cached:
            return self.fetcher.read(self.href, start, length)
        pieces = []
        for index in range(first, last + 1):
            block = self._block(index)
            pieces.append(block)
            if len(block) < BLOCK_SIZE:  # the end of the file
                break
        data = b"".join(pieces)
        offset = start - first * BLOCK_SIZE
        return data[offset : offset + length]

    def read_many(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """Several spans at once (a COG's tiles): cached ones from the cache, the rest
        fetched concurrently and exactly."""
        out: list[bytes | None] = []
        missing: list[tuple[int, int]] = []
        for start, length in ranges:
            first, last = start // BLOCK_SIZE, (start + length - 1) // BLOCK_SIZE
            if length > 0 and all(i in self._blocks for i in range(first, last + 1)):
                out.append(self.read(start, length))
            else:
                out.append(None)
                missing.append((start, length))
        fetched = iter(self.fetcher.read_many(self.href, missing) if missing else [])
        return [data if data is not None else next(fetched) for data in out]

    def head(self) -> bytes:
        """The first block (for format detection)."""
        return self._block(0)

    def open_file(self) -> RangeFile:
        """A new read-only, seekable file object over the resource (sharing its cache)."""
        return RangeFile(self)

    # directories (Zarr) -----------------------------------------------------------------------

    def is_local_dir(self) -> bool:
        return not self.remote and local_path(self.href).is_dir()

    def url(self, key: str) -> str:
        """The href of ``key`` below this resource."""
        return join(self.href, key)

    def document(self, key: str) -> bytes | None:
        """The object ``key`` below the href, fetched once (None when absent)."""
        if key not in self.documents:
            self.documents[key] = self.fetcher.get(self.url(key))
        return self.documents[key]

    def documents_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        """Several documents fetched concurrently (Zarr metadata probes)."""
        wanted = [k for k in keys if k not in self.documents]
        if wanted:
            if self.remote:

                async def gather() -> list[bytes | None]:
                    return list(
                        await asyncio.gather(*(self.fetcher.aget(self.url(k)) for k in wanted))
                    )

                values = IO.run(gather())
            else:
                values = [self.fetcher.get(self.url(k)) for k in wanted]
            self.documents.update(zip(wanted, values, strict=True))
        return {k: self.documents[k] for k in keys}


class RangeFile(io.RawIOBase):
    """A read-only, seekable binary file over a :class:`Resource` (for h5py and GDAL).

    Thread-safe: a lock keeps each seek-and-read pair together.
    """

    def __init__(self, resource: Resource) -> None:
        super().__init__()
        self.resource = resource
        self.name = resource.href
        self._pos = 0
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.resource,))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            base = 0
        elif whence == io.SEEK_CUR:
            base = self._pos
        elif whence == io.SEEK_END:
            base = self.resource.size()
        else:
            raise ValueError(f"invalid whence {whence}")
        if base + offset < 0:
            raise OSError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        with self._lock:
            data = self.resource.read(self._pos, len(view))
            view[: len(data)] = data
            self._pos += len(data)
        return len(data)

    def read_ranges(self, offsets: Sequence[int], sizes: Sequence[int]) -> list[bytes]:
        """Several spans at once (GDAL's multi-range reads of COG tiles)."""
        return self.resource.read_many(list(zip(offsets, sizes, strict=True)))
