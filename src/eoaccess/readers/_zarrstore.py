"""A read-only zarr-python 3 store over a :class:`~eoaccess.readers._io.Resource`.

Why not obstore's HTTPStore/S3Store behind ``zarr.storage.ObjectStore``: obstore fails on S3's
``PermanentRedirect`` ("Received redirect without LOCATION") — exactly seed 000's error — while
the transfer engine follows it, and every byte the readers take must be counted in one place.
Listing (needed only for stores without consolidated metadata) is per scheme: the directory for
local paths, the HTML index page for http(s) (what ``eoaccess serve``, nginx and Apache
publish), and S3's ListObjectsV2 through obstore.

Metadata already known is never fetched again: the objects detection fetched are reused, and a
consolidated ``.zmetadata`` answers every metadata key of the store (present or absent), so
opening a consolidated cube costs one request.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import re
import threading
from collections.abc import AsyncIterator, Iterable
from html import unescape
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from zarr.abc.store import (
    ByteRequest,
    OffsetByteRequest,
    RangeByteRequest,
    Store,
    SuffixByteRequest,
)
from zarr.core import sync as zarr_sync
from zarr.core.buffer import Buffer, BufferPrototype

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.readers._io import IO, Resource, coalesce_spans, local_path
from eoaccess.transfer import RemoteNotFoundError

_V2_METADATA = (".zarray", ".zgroup", ".zattrs", ".zmetadata")
_METADATA_NAMES = frozenset((*_V2_METADATA, "zarr.json"))
_SMALL_CHUNK = 256 * 1024
"""Whole objects up to this size are kept (LRU, :data:`_CHUNK_CACHE` bytes in all): a
coordinate's chunk is read for its values (a window's coordinates) and again when its deferred
index is built (``readers/_lazy.py``); each is fetched once."""
_CHUNK_CACHE = 8 * 1024 * 1024
COALESCE_GAP = 16 * 1024
"""Ranges of one object closer than this are read as one request (``get_partial_values``):
the gap costs less than a round trip."""
_HREF = re.compile(r"""<a\s[^>]*?href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def consolidated_documents(zmetadata: bytes) -> dict[str, bytes]:
    """The metadata objects a v2 ``.zmetadata`` holds, as the bytes each would have."""
    try:
        data = json.loads(zmetadata)
        entries = data["metadata"]
    except (ValueError, KeyError, TypeError):
        raise InvalidInputError("corrupt Zarr .zmetadata: not consolidated metadata JSON") from None
    return {key: json.dumps(value).encode() for key, value in entries.items()}


class ResourceStore(Store):
    """Zarr keys as objects below a resource's href, read (and counted) through its fetcher."""

    supports_writes = False
    supports_deletes = False
    supports_partial_writes = False
    supports_listing = True

    def __init__(self, resource: Resource) -> None:
        super().__init__(read_only=True)
        self.resource = resource
        self._consolidated: dict[str, bytes] | None = None
        self._chunks: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._chunk_bytes = 0
        self._lock = threading.Lock()
        zmetadata = resource.documents.get(".zmetadata")
        if zmetadata is not None:
            self._consolidated = consolidated_documents(zmetadata)

    def __getstate__(self) -> dict[str, Any]:  # picklable for dask's distributed workers
        state = self.__dict__.copy()
        del state["_lock"]
        state["_chunks"], state["_chunk_bytes"] = collections.OrderedDict(), 0
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResourceStore) and other.resource.href == self.resource.href

    def __repr__(self) -> str:
        return f"ResourceStore({self.resource.href!r})"

    # reading -----------------------------------------------------------------------------------

    def _known(self, key: str) -> tuple[bool, bytes | None]:
        """(True, value) when ``key`` can be answered without a request."""
        if key in self.resource.documents:
            return True, self.resource.documents[key]
        if self._consolidated is not None and key.rsplit("/", 1)[-1] in _METADATA_NAMES:
            # Consolidated metadata is the authority on metadata: what it lacks is absent.
            return True, self._consolidated.get(key)
        return False, None

    async def _whole(self, key: str) -> bytes | None:
        known, value = self._known(key)
        if known:
            return value
        with self._lock:
            value = self._chunks.get(key)
            if value is not None:
                self._chunks.move_to_end(key)
                return value
        self._adopt_loop()
        value = await self.resource.fetcher.aget(self.resource.url(key))
        if key.rsplit("/", 1)[-1] in _METADATA_NAMES:
            self.resource.documents[key] = value
        elif value is not None and len(value) <= _SMALL_CHUNK:
            self._remember(key, value)
        return value

    def _adopt_loop(self) -> None:
        """Remote reads awaited on zarr's own I/O loop run there, without a hop to the readers'
        loop (two thread wake-ups a chunk; see ``IO.adopt``)."""
        if self.resource.remote:
            running = asyncio.get_running_loop()
            if running is zarr_sync.loop[0] and not IO.is_local(running):
                IO.adopt(running)

    def _remember(self, key: str, value: bytes) -> None:
        with self._lock:
            if key in self._chunks:
                return
            self._chunks[key] = value
            self._chunk_bytes += len(value)
            while self._chunk_bytes > _CHUNK_CACHE:
                _, dropped = self._chunks.popitem(last=False)
                self._chunk_bytes -= len(dropped)

    async def get(
        self,
        key: str,
        prototype: BufferPrototype,
        byte_range: ByteRequest | None = None,
    ) -> Buffer | None:
        data = await self._read(key, byte_range)
        return None if data is None else prototype.buffer.from_bytes(data)

    async def _read(self, key: str, byte_range: ByteRequest | None) -> bytes | None:
        if byte_range is None:
            return await self._whole(key)
        known, value = self._known(key)
        if known:
            return None if value is None else _slice(value, byte_range)
        if isinstance(byte_range, RangeByteRequest):
            return await self._range(key, byte_range.start, byte_range.end)
        # Offsets from the end need the size; whole shards' indexes are small, fetch and slice.
        self._adopt_loop()
        whole = await self.resource.fetcher.aget(self.resource.url(key))
        return None if whole is None else _slice(whole, byte_range)

    async def _range(self, key: str, start: int, end: int) -> bytes | None:
        """Bytes ``start`` .. ``end - 1`` of ``key``, or None when there is no such object
        (the store protocol's answer for a missing key, whether read whole or in part)."""
        self._adopt_loop()
        try:
            return await self.resource.fetcher.aread(self.resource.url(key), start, end - start)
        except (RemoteNotFoundError, NotFoundError):
            self.resource.stats.add(0)
            return None

    async def get_partial_values(
        self,
        prototype: BufferPrototype,
        key_ranges: Iterable[tuple[str, ByteRequest | None]],
    ) -> list[Buffer | None]:
        data = await self._read_many(list(key_ranges))
        return [None if d is None else prototype.buffer.from_bytes(d) for d in data]

    async def _read_many(
        self, requests: list[tuple[str, ByteRequest | None]]
    ) -> list[bytes | None]:
        """All ``requests`` concurrently; explicit ranges of one object that are close together
        are read as one request and sliced (each byte still counted once, as received)."""
        out: list[bytes | None] = [None] * len(requests)
        ranges: dict[str, list[tuple[int, int]]] = {}
        members: dict[str, list[int]] = {}
        jobs = []

        async def single(i: int, key: str, byte_range: ByteRequest | None) -> None:
            out[i] = await self._read(key, byte_range)

        async def merged(key: str, start: int, end: int, parts: list[tuple[int, int, int]]) -> None:
            data = await self._range(key, start, end)
            for i, lo, hi in parts:
                out[i] = None if data is None else data[lo - start : hi - start]

        for i, (key, byte_range) in enumerate(requests):
            if isinstance(byte_range, RangeByteRequest) and not self._known(key)[0]:
                ranges.setdefault(key, []).append((byte_range.start, byte_range.end))
                members.setdefault(key, []).append(i)
            else:
                jobs.append(single(i, key, byte_range))
        for key, spans in ranges.items():
            for start, end, picks in coalesce_spans(spans, COALESCE_GAP):
                parts = [(members[key][j], *spans[j]) for j in picks]
                jobs.append(merged(key, start, end, parts))
        await asyncio.gather(*jobs)
        return out

    async def exists(self, key: str) -> bool:
        return await self._whole(key) is not None

    # writing (refused) -------------------------------------------------------------------------

    async def set(self, key: str, value: Buffer) -> None:
        raise InvalidInputError(f"{self.resource.href} is opened read-only")

    async def delete(self, key: str) -> None:
        raise InvalidInputError(f"{self.resource.href} is opened read-only")

    # listing -----------------------------------------------------------------------------------

    async def list(self) -> AsyncIterator[str]:
        async for key in self.list_prefix(""):
            yield key

    async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        pending = [prefix.rstrip("/")]
        while pending:
            folder = pending.pop()
            for name, is_dir in await self._entries(folder):
                key = f"{folder}/{name}" if folder else name
                if is_dir:
                    pending.append(key)
                else:
                    yield key

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        for name, _ in await self._entries(prefix.rstrip("/")):
            yield name

    async def _entries(self, folder: str) -> list[tuple[str, bool]]:
        """``(name, is_directory)`` of the entries directly in ``folder``."""
        href = self.resource.url(folder)
        scheme = urlsplit(href).scheme.lower() if self.resource.remote else ""
        if scheme == "s3":
            return await _s3_entries(self.resource, href)
        if scheme in ("http", "https"):
            return await _http_entries(self.resource, href)
        path = local_path(href)
        if not path.is_dir():
            return []
        with os.scandir(path) as entries:
            return sorted((e.name, e.is_dir()) for e in entries)


def _slice(data: bytes, byte_range: ByteRequest) -> bytes:
    if isinstance(byte_range, RangeByteRequest):
        return data[byte_range.start : byte_range.end]
    if isinstance(byte_range, OffsetByteRequest):
        return data[byte_range.offset :]
    if isinstance(byte_range, SuffixByteRequest):
        return data[-byte_range.suffix :] if byte_range.suffix else b""
    raise TypeError(f"unexpected byte range {byte_range!r}")


async def _http_entries(resource: Resource, href: str) -> list[tuple[str, bool]]:
    """Entries of a directory from its HTML index page (links to children only)."""
    base = href.rstrip("/") + "/"
    page = await resource.fetcher.aget(base)
    if page is None:
        return []
    entries: dict[str, bool] = {}
    for link in _HREF.findall(page.decode("utf-8", "replace")):
        target = urljoin(base, unescape(link))
        if not target.startswith(base) or "?" in target or "#" in target:
            continue  # parent links, sort links, other sites
        rest = unquote(target[len(base) :])
        name = rest.rstrip("/")
        if name and "/" not in name:
            entries[name] = rest.endswith("/")
    return sorted(entries.items())


async def _s3_entries(resource: Resource, href: str) -> list[tuple[str, bool]]:
    """Entries under an S3 prefix (ListObjectsV2 with a delimiter, through obstore)."""
    import obstore

    bucket, _, key = href[len("s3://") :].partition("/")
    prefix = key.strip("/")
    store = _s3_store(resource, bucket)
    try:
        result = await obstore.list_with_delimiter_async(store, prefix + "/" if prefix else None)
    except Exception as exc:  # obstore raises its own classes (auth, network, region)
        raise InvalidInputError(
            f"cannot list {href} (needed because the Zarr store has no consolidated "
            f"metadata): {' '.join(str(exc).split())[:300]}"
        ) from None
    resource.stats.add(0)
    cut = len(prefix) + 1 if prefix else 0
    dirs = [(p[cut:].rstrip("/"), True) for p in result["common_prefixes"]]
    files = [(o["path"][cut:], False) for o in result["objects"]]
    return sorted(dirs + files)


def _learned_location(resource: Resource, bucket: str) -> tuple[str | None, str | None]:
    """(region, endpoint) the transfer engine learned for ``bucket`` from a region redirect.

    The Zarr metadata of the store was fetched through the engine before any listing, so a
    redirect has already been followed there; obstore, which lists, cannot follow one itself.
    """
    engines = IO.engines(resource.config) if resource.remote else []
    for engine in engines:  # backends are created on first use
        for candidate in engine._backends.values():
            locations = getattr(candidate, "_locations", None)  # S3Backend's redirect memory
            if isinstance(locations, dict) and bucket in locations:
                location = locations[bucket]
                return location.region, location.endpoint
    return None, None


def _s3_store(resource: Resource, bucket: str) -> Any:
    """An obstore S3Store for ``bucket`` with the transfer configuration's endpoint and region
    (or the ones a region redirect named)."""
    from obstore.store import S3Store

    from eoaccess.transfer._s3 import resolve_endpoint, resolve_region

    options = resource.config.s3
    learned_region, learned_endpoint = _learned_location(resource, bucket)
    config: dict[str, Any] = {"region": learned_region or resolve_region(options)}
    client_options: dict[str, Any] = {}
    endpoint = learned_endpoint or resolve_endpoint(options)
    if endpoint:
        config["endpoint"] = endpoint
        if endpoint.startswith("http://"):
            client_options["allow_http"] = True
    if options.anonymous:
        config["skip_signature"] = True
    credentials = options.credentials
    if credentials is not None and not callable(credentials):
        config["access_key_id"] = credentials.access_key_id
        config["secret_access_key"] = credentials.secret_access_key
        if credentials.session_token:
            config["token"] = credentials.session_token
    if options.requester_pays:
        config["request_payer"] = True
    return S3Store(bucket, config=config, client_options=client_options)


def store_size(resource: Resource) -> int | None:
    """Total bytes of every object of the store (a listing), or None over plain http(s)."""
    if not resource.remote:
        root = local_path(resource.href)
        return sum(
            os.path.getsize(os.path.join(folder, name))
            for folder, _, names in os.walk(root)
            for name in names
        )
    if not resource.href.startswith("s3://"):
        return None  # HTML index pages do not reliably carry sizes
    import obstore

    bucket, _, key = resource.href[len("s3://") :].partition("/")
    prefix = key.strip("/")
    store = _s3_store(resource, bucket)
    total = 0
    try:
        for batch in obstore.list(store, prefix=prefix + "/" if prefix else None):
            total += sum(int(meta["size"]) for meta in batch)
            resource.stats.add(0)
    except Exception:  # listing refused (no s3:ListBucket permission): size unknown
        return None
    return total
