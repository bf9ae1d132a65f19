"""Bytes of catalog documents from local paths, http(s) and s3, read through the transfer engine.

Every remote read of the search client goes through :mod:`eoaccess.transfer` (retries, S3
signing and region redirects, per-host limits); only STAC API requests, which are JSON requests
and not object reads, use an HTTP client of their own (:mod:`.stac_api`). Catalog reads retry
less than downloads: a user waiting for a search prefers a quick "cannot reach" to a long
backoff.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import posixpath
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit, uses_relative

import orjson

from eoaccess.catalog._errors import NotACatalogError, SourceUnreachableError
from eoaccess.errors import NotFoundError
from eoaccess.transfer import (
    RemoteNotFoundError,
    RetryPolicy,
    TransferConfig,
    TransferEngine,
    TransferError,
)

WHOLE_OBJECT = 1 << 62
"""A range length past the end of any object: a range read of it returns the whole object."""

CATALOG_CONFIG = TransferConfig(
    concurrency=32, retry=RetryPolicy(attempts=3, backoff=0.25), connect_timeout=10.0
)
"""Transfer settings for catalog documents: many small reads at once, short retries."""


def is_url(text: str) -> bool:
    """True for ``scheme://…`` (a one-letter scheme is a Windows drive, not a URL)."""
    return len(urlsplit(text).scheme) > 1


def absolute_source(source: str | os.PathLike[str]) -> str:
    """URLs as given; local paths absolute with ``~`` expanded."""
    text = os.fspath(source)
    if is_url(text):
        return text
    return os.path.abspath(os.path.expanduser(text))


_NETLOC = r"[A-Za-z0-9.:_~%!$&'()*+,=-]+"
_PLAIN_URL = re.compile(rf"https?://{_NETLOC}/[^?#;\[\]\\\x00-\x20]*")
"""An http(s) URL with a path and nothing urljoin would treat specially (query, fragment,
params, IPv6 brackets, userinfo, whitespace or control characters)."""
_PLAIN_SEGMENT = r"[^:/?#;\[\]\\.\x00-\x20][^:/?#;\[\]\\\x00-\x20]*"
_PLAIN_RELATIVE = re.compile(f"{_PLAIN_SEGMENT}(?:/{_PLAIN_SEGMENT})*/?")
"""A relative path of plain segments: no scheme, no dot segments (nor names starting with a
dot), no empty segments, no query, fragment or params."""
_ABSOLUTE_HTTP = re.compile(rf"https?://{_NETLOC}(?:[/?#][^\[\]\\\x00-\x20]*)?")


@functools.lru_cache(maxsize=256)
def _plain_directory(base: str) -> str | None:
    """``base`` up to its last ``/`` when it is a plain http(s) URL without dot segments (then
    a plain relative path resolves by concatenation), else None."""
    if not _PLAIN_URL.fullmatch(base):
        return None
    path = base[base.index("/", base.index("://") + 3) :]
    if "/." in path or "//" in path:  # urljoin drops empty segments and resolves dot ones
        return None
    return base[: base.rindex("/") + 1]


def join_href(base: str, href: str) -> str:
    """``href`` resolved against the document ``base`` it was found in (path, http(s), s3…).

    Items of a STAC API page (pgstac keeps the hrefs it was loaded with, often relative) pass
    through here by the thousand: the common shapes — an absolute http(s) href, a plain relative
    path under a plain http(s) base — take a fast path that gives exactly what ``urljoin`` gives
    (tested against it), everything else the general one.
    """
    if _ABSOLUTE_HTTP.fullmatch(href):
        return href
    if _PLAIN_RELATIVE.fullmatch(href):
        directory = _plain_directory(base)
        if directory is not None:
            return directory + href
    if is_url(href):
        return href
    if not is_url(base):
        if os.path.isabs(href):
            return href
        return os.path.normpath(os.path.join(os.path.dirname(base), href))
    parts = urlsplit(base)
    if parts.scheme in uses_relative:
        return urljoin(base, href)
    # urljoin does not resolve against schemes it does not know (s3, gs): join the paths.
    if href.startswith("/"):
        path = href
    else:
        path = posixpath.normpath(posixpath.join(posixpath.dirname(parts.path), href))
        if href.endswith("/") and not path.endswith("/"):
            path += "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def display_name(href: str) -> str:
    """The last path component of a path or URL (for messages and default names)."""
    path = urlsplit(href).path if is_url(href) else href
    return posixpath.basename(path.rstrip("/")) or href


async def read_bytes_async(engine: TransferEngine, url: str) -> bytes:
    """The whole object at ``url``; missing objects raise NotFoundError, other failures
    SourceUnreachableError, both naming the URL."""
    try:
        return await engine.read_range(url, 0, WHOLE_OBJECT)
    except RemoteNotFoundError:
        raise NotFoundError(f"{url} does not exist") from None
    except TransferError as exc:
        message = str(exc)
        raise SourceUnreachableError(message if url in message else f"{url}: {message}") from None


def parse_json(data: bytes, url: str) -> Any:
    """JSON of a catalog document; NotACatalogError naming ``url`` when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise NotACatalogError(f"{url} is not JSON ({exc})") from None


def local_path(source: str) -> Path | None:
    """The filesystem path of a local source (plain path or ``file://``), else None."""
    parts = urlsplit(source)
    if parts.scheme.lower() == "file":
        from urllib.request import url2pathname

        return Path(url2pathname(parts.path))
    if is_url(source):
        return None
    return Path(source)


def read_bytes(url: str, config: TransferConfig | None = None) -> bytes:
    """Sync twin of :func:`read_bytes_async` with an engine of its own."""
    from eoaccess.transfer._sync import run_sync

    async def read() -> bytes:
        async with TransferEngine(config or CATALOG_CONFIG) as engine:
            return await read_bytes_async(engine, url)

    return run_sync(read)


_GC_LOCK = threading.Lock()
_GC_PAUSES = 0


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects at once (a page of
    thousands of items, a catalog of thousands of footprints).

    Those objects hold no cycles, yet each allocation burst triggers full collections that walk
    every live object again: decoding a 1,000-item page or converting ITS_LIVE's catalog spent
    a third of its time there. Nested and concurrent pauses are counted; the last one resumes.
    """
    global _GC_PAUSES
    with _GC_LOCK:
        _GC_PAUSES += 1
        if _GC_PAUSES == 1:
            was_enabled = gc.isenabled()
            gc.disable()
            _GC_STATE["enabled"] = was_enabled
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_PAUSES -= 1
            if _GC_PAUSES == 0 and _GC_STATE.get("enabled", True):
                gc.enable()


_GC_STATE: dict[str, bool] = {}
