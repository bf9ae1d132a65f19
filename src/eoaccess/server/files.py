"""The archive's files over HTTP: ``GET``/``HEAD /files/{path}`` with Range, and folder indexes.

Asset hrefs in STAC responses point here, so every client (pystac-client, rclone, GDAL, xarray
on a Zarr store) reads the archive through plain HTTP:

- Single byte ranges (``bytes=a-b``, ``a-``, ``-n``) answer 206 with ``Content-Range``; several
  ranges are coalesced into their bounding range (one part, which RFC 9110 allows); a range
  beyond the end answers 416. ``ETag``, ``Last-Modified``, ``Content-Length``,
  ``Accept-Ranges``, ``If-None-Match`` (304) and ``If-Range`` are honoured.
- A folder answers an HTML index with relative links (``name`` and ``sub/``), the form rclone's
  http remote lists; a folder URL without its trailing slash redirects to it.
- Nothing outside the archive is reachable: ``..`` segments (also percent-encoded), symlinks
  leading out and the catalog folder ``.eoaccess`` are 404, exactly like a missing file.
- Some files are rewritten on the way out (registry :data:`REWRITERS`): the ITS_LIVE catalog's
  relative ``zarr_url`` values become absolute URLs of this server, so that the footprint
  catalog a user downloads opens the cubes served next to it.

The archive is a local folder or an S3 prefix (:func:`open_archive`); both implement the small
:class:`ArchiveFiles` protocol.
"""

from __future__ import annotations

import email.utils
import fnmatch
import hashlib
import html
import json
import mimetypes
import os
import posixpath
import stat as stat_module
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from eoaccess.errors import DependencyError, InvalidInputError, NotFoundError
from eoaccess.server.errors import RangeNotSatisfiableError
from eoaccess.server.hrefs import FILES_ROUTE, Hrefs, archive_relative
from eoaccess.stores._base import EMBEDDED_DIRNAME

CHUNK_SIZE = 256 * 1024
HIDDEN_NAMES = frozenset({EMBEDDED_DIRNAME})
"""Archive entries never served or listed (the catalog database lives there)."""

_MEDIA_TYPES = {
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".h5": "application/x-hdf5",
    ".hdf5": "application/x-hdf5",
    ".nc": "application/netcdf",
    ".json": "application/json",
    ".geojson": "application/geo+json",
    ".parquet": "application/vnd.apache.parquet",
    ".lbl": "text/plain",
    ".pvl": "text/plain",
    ".zarray": "application/json",
    ".zattrs": "application/json",
    ".zgroup": "application/json",
    ".zmetadata": "application/json",
}


def media_type(name: str) -> str:
    """The Content-Type for a file name (octet-stream when unknown)."""
    suffix = posixpath.splitext(name)[1].lower() or (name.lower() if name.startswith(".") else "")
    return (
        _MEDIA_TYPES.get(suffix)
        or mimetypes.guess_type(name, strict=False)[0]
        or "application/octet-stream"
    )


def clean_archive_path(path: str) -> str:
    """Normalise a requested path; any attempt to leave the archive is a plain NotFoundError."""
    parts = []
    for part in path.split("/"):
        if part == "":
            continue
        if part in (".", "..") or part in HIDDEN_NAMES or "\\" in part or "\x00" in part:
            raise NotFoundError(f"no such file: {path}")
        parts.append(part)
    return "/".join(parts)


@dataclass(frozen=True)
class FileInfo:
    """A file or folder of the archive."""

    path: str
    """Archive-relative path; '' for the root."""
    is_dir: bool
    size: int
    """Bytes (0 for folders)."""
    modified: datetime | None
    """Last modification (UTC), if known."""
    etag: str | None
    """Strong validator, quoted as in the ETag header."""

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


class ArchiveFiles(Protocol):
    """Read access to an archive's files, wherever they are stored."""

    location: str
    """The archive root (a folder path or an ``s3://`` URL)."""

    def stat(self, path: str) -> FileInfo:
        """The file or folder at a clean archive path; NotFoundError if absent."""

    def list_dir(self, path: str) -> list[FileInfo]:
        """The entries of a folder, sorted by name, hidden ones left out."""

    def read(self, path: str, start: int, end: int) -> Iterator[bytes]:
        """The bytes ``[start, end)`` of a file, in chunks."""


class LocalArchive:
    """An archive in a local folder."""

    def __init__(self, root: str | Path) -> None:
        try:
            self.root = Path(root).resolve(strict=True)
        except OSError:
            raise NotFoundError(f"archive folder {root} does not exist") from None
        if not self.root.is_dir():
            raise InvalidInputError(f"archive {root} is not a folder")
        self.location = str(self.root)

    def _real(self, path: str) -> Path:
        real = Path(os.path.realpath(self.root / path))
        # A symlink may point anywhere: only what resolves inside the root is served.
        if real != self.root and not real.is_relative_to(self.root):
            raise NotFoundError(f"no such file: {path}")
        return real

    def stat(self, path: str) -> FileInfo:
        try:
            st = self._real(path).stat()
        except OSError:
            raise NotFoundError(f"no such file: {path}") from None
        is_dir = stat_module.S_ISDIR(st.st_mode)
        if not is_dir and not stat_module.S_ISREG(st.st_mode):
            raise NotFoundError(f"no such file: {path}")
        return FileInfo(
            path=path,
            is_dir=is_dir,
            size=0 if is_dir else st.st_size,
            modified=datetime.fromtimestamp(st.st_mtime, UTC),
            etag=None if is_dir else f'"{st.st_mtime_ns:x}-{st.st_size:x}"',
        )

    def list_dir(self, path: str) -> list[FileInfo]:
        entries = []
        try:
            names = sorted(os.listdir(self._real(path)))
        except OSError:
            raise NotFoundError(f"no such folder: {path}") from None
        for name in names:
            if name in HIDDEN_NAMES:
                continue
            try:
                entries.append(self.stat(posixpath.join(path, name) if path else name))
            except NotFoundError:  # broken or escaping symlinks, sockets, …
                continue
        return entries

    def read(self, path: str, start: int, end: int) -> Iterator[bytes]:
        with open(self._real(path), "rb") as f:
            f.seek(start)
            remaining = end - start
            while remaining > 0:
                chunk = f.read(min(CHUNK_SIZE, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk


class S3Archive:
    """An archive under an S3 prefix (``s3://bucket/prefix``), read with obstore.

    Credentials, region and endpoint come from the usual ``AWS_*`` environment variables;
    ``endpoint`` overrides the endpoint (S3-compatible stores, tests). Failures other than a
    missing key (no credentials, unreachable endpoint) are DependencyError (503).
    """

    def __init__(self, url: str, endpoint: str | None = None) -> None:
        from obstore.store import S3Store

        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise InvalidInputError(f"not an S3 URL: {url!r}; use s3://bucket/prefix")
        self.location = url
        self.prefix = parts.path.strip("/")
        endpoint = (
            endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        )
        options: dict[str, Any] = {"endpoint": endpoint} if endpoint else {}
        client_options: dict[str, Any] = {"connect_timeout": timedelta(seconds=5)}
        if endpoint and endpoint.startswith("http:"):
            client_options["allow_http"] = True
        # A client waiting on a request must hear about an unreachable store within seconds,
        # not after obstore's default 3 minutes of retries.
        retry = {"max_retries": 2, "retry_timeout": timedelta(seconds=10)}
        self._store = S3Store(
            parts.netloc,
            client_options=client_options,  # type: ignore[arg-type]
            retry_config=retry,  # type: ignore[arg-type]
            **options,
        )

    def _key(self, path: str) -> str:
        return "/".join(p for p in (self.prefix, path) if p)

    def _call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return function(self._store, *args, **kwargs)
        except FileNotFoundError:
            raise
        except Exception as exc:  # obstore raises its own classes for auth, network, …
            raise DependencyError(
                f"cannot read the archive at {self.location}: {type(exc).__name__}"
            ) from exc

    def _file(self, path: str, meta: Mapping[str, Any]) -> FileInfo:
        return FileInfo(
            path=path,
            is_dir=False,
            size=int(meta["size"]),
            modified=meta["last_modified"],
            etag=_quoted(meta.get("e_tag")),
        )

    def _listing(self, path: str) -> Any:
        import obstore

        return self._call(obstore.list_with_delimiter, self._key(path) or None)

    def stat(self, path: str) -> FileInfo:
        import obstore

        if not path:
            return FileInfo(path="", is_dir=True, size=0, modified=None, etag=None)
        try:
            return self._file(path, self._call(obstore.head, self._key(path)))
        except FileNotFoundError:
            pass
        listing = self._listing(path)  # S3 has no folders: a prefix with keys under it is one
        if not listing["objects"] and not listing["common_prefixes"]:
            raise NotFoundError(f"no such file: {path}")
        return FileInfo(path=path, is_dir=True, size=0, modified=None, etag=None)

    def list_dir(self, path: str) -> list[FileInfo]:
        base = self._key(path)
        skip = len(base) + 1 if base else 0
        listing = self._listing(path)
        entries = []
        for prefix in listing["common_prefixes"]:
            name = prefix.rstrip("/")[skip:]
            if name and name not in HIDDEN_NAMES:
                entries.append(FileInfo(posixpath.join(path, name), True, 0, None, None))
        for meta in listing["objects"]:
            name = meta["path"][skip:]
            if name and "/" not in name and name not in HIDDEN_NAMES:
                entries.append(self._file(posixpath.join(path, name), meta))
        return sorted(entries, key=lambda e: e.name)

    def read(self, path: str, start: int, end: int) -> Iterator[bytes]:
        import obstore

        if end <= start:
            return
        result = self._call(obstore.get, self._key(path), options={"range": (start, end)})
        for chunk in result.stream(min_chunk_size=CHUNK_SIZE):
            yield bytes(chunk)


def _quoted(etag: str | None) -> str | None:
    if not etag:
        return None
    return etag if etag.startswith(('"', "W/")) else f'"{etag}"'


# Registry: URL scheme of the archive root -> how to open it (with the options given).
_ARCHIVE_KINDS: dict[str, Callable[[str, dict[str, Any]], ArchiveFiles]] = {
    "": lambda root, options: LocalArchive(root),
    "file": lambda root, options: LocalArchive(urlsplit(root).path),
    "s3": lambda root, options: S3Archive(root, endpoint=options.get("endpoint")),
}


def open_archive(root: str | Path, **options: Any) -> ArchiveFiles:
    """Open an archive root: a folder, a ``file://`` URL or ``s3://bucket/prefix``.

    ``options``: ``endpoint`` for S3-compatible stores.
    """
    text = str(root)
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if scheme not in _ARCHIVE_KINDS:
        raise InvalidInputError(f"cannot serve files from {text!r}; use a folder or s3://…")
    return _ARCHIVE_KINDS[scheme](text, options)


# --- ranges -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``[start, end)`` of a representation of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end - 1}/{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The byte range a ``Range`` header asks for, or None to send everything.

    Malformed headers and other units are ignored (RFC 9110 §14.2); several ranges are
    coalesced into their bounding range; if none is satisfiable, RangeNotSatisfiableError.
    """
    if not header:
        return None
    unit, sep, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not sep:
        return None
    spans: list[tuple[int, int]] = []
    for spec in specs.split(","):
        first, dash, last = spec.strip().partition("-")
        first, last = first.strip(), last.strip()
        if not dash or (first and not first.isdigit()) or (last and not last.isdigit()):
            return None
        if not first:
            if not last:
                return None
            suffix = int(last)
            if suffix > 0 and size > 0:
                spans.append((max(0, size - suffix), size))
            continue
        start = int(first)
        if last and int(last) < start:
            return None
        if start < size:
            spans.append((start, min(int(last) + 1, size) if last else size))
    if not spans:
        raise RangeNotSatisfiableError(
            f"range {specs.strip()!r} is outside the file ({size} bytes)", size
        )
    return ByteRange(min(s for s, _ in spans), max(e for _, e in spans), size)


# --- rewritten files --------------------------------------------------------------------------

Rewriter = Callable[[bytes, str, Hrefs], bytes]


def rewrite_itslive_catalog(data: bytes, path: str, hrefs: Hrefs) -> bytes:
    """Make the relative ``zarr_url``/``composite_zarr_url`` of an ITS_LIVE footprint catalog
    absolute URLs of this server (resolved against the catalog's folder)."""
    try:
        catalog = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return data
    folder = posixpath.dirname(path)
    changed = False
    features = catalog.get("features") if isinstance(catalog, dict) else None
    for feature in features if isinstance(features, list) else []:
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            continue
        for key in ("zarr_url", "composite_zarr_url"):
            value = props.get(key)
            if not isinstance(value, str) or archive_relative(value) is None:
                continue
            target = archive_relative(posixpath.join(folder, value))
            if target is not None:
                props[key] = hrefs.file(target)
                changed = True
    if not changed:
        return data
    return json.dumps(catalog, ensure_ascii=False).encode("utf-8")


# Registry: file-name pattern -> rewriter of the content served for matching files.
REWRITERS: dict[str, Rewriter] = {"catalog_v02*.json": rewrite_itslive_catalog}


def _rewriter(path: str) -> Rewriter | None:
    name = posixpath.basename(path)
    return next((r for pattern, r in REWRITERS.items() if fnmatch.fnmatch(name, pattern)), None)


# --- responses --------------------------------------------------------------------------------


def _http_date(moment: datetime | None) -> str | None:
    return email.utils.format_datetime(moment.astimezone(UTC), usegmt=True) if moment else None


def _etag_matches(header: str, etag: str | None) -> bool:
    if etag is None:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


def _range_allowed(request: Request, etag: str | None, last_modified: str | None) -> bool:
    """False when ``If-Range`` names another version: then the whole file is sent."""
    condition = request.headers.get("if-range")
    if condition is None:
        return True
    condition = condition.strip()
    if condition.startswith(('"', "W/")):
        return etag is not None and condition == etag
    return last_modified is not None and condition == last_modified


def file_response(
    request: Request,
    size: int,
    etag: str | None,
    modified: datetime | None,
    content_type: str,
    read: Callable[[int, int], Iterator[bytes]],
) -> Response:
    """The (partial) response for a representation of ``size`` bytes read by ``read``."""
    last_modified = _http_date(modified)
    headers = {"Accept-Ranges": "bytes"}
    if etag:
        headers["ETag"] = etag
    if last_modified:
        headers["Last-Modified"] = last_modified
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    byte_range = (
        parse_range(request.headers.get("range"), size)
        if _range_allowed(request, etag, last_modified)
        else None
    )
    status, start, end = (206, byte_range.start, byte_range.end) if byte_range else (200, 0, size)
    if byte_range:
        headers["Content-Range"] = byte_range.content_range
    headers["Content-Length"] = str(end - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=content_type)
    return StreamingResponse(
        read(start, end), status_code=status, headers=headers, media_type=content_type
    )


def index_page(request: Request, path: str, entries: list[FileInfo]) -> Response:
    """An HTML index of a folder, with relative links (``name``, ``sub/``)."""
    title = html.escape(f"Index of /{FILES_ROUTE}/{path + '/' if path else ''}")
    rows = ['<li><a href="../">../</a></li>'] if path else []
    for entry in entries:
        name = entry.name + ("/" if entry.is_dir else "")
        details = "" if entry.is_dir else f" {entry.size} bytes"
        if entry.modified and not entry.is_dir:
            details += f", {entry.modified.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        rows.append(
            f'<li><a href="{html.escape(quote(name), quote=True)}">{html.escape(name)}</a>'
            f"{details}</li>"
        )
    body = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{title}</title></head>\n<body><h1>{title}</h1>\n<ul>\n"
        + "\n".join(rows)
        + "\n</ul>\n</body></html>\n"
    ).encode("utf-8")
    headers = {"Content-Length": str(len(body))}
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers, media_type="text/html")
    return Response(body, status_code=200, media_type="text/html")


def serve_path(request: Request, archive: ArchiveFiles, requested: str) -> Response:
    """Answer ``GET``/``HEAD /files/{requested}``: a file, a folder index or a redirect."""
    path = clean_archive_path(requested)
    info = archive.stat(path)
    if info.is_dir:
        if path and not requested.endswith("/"):
            # Relative links of the index only resolve below a URL ending in '/'.
            return RedirectResponse(str(request.url.replace(path=request.url.path + "/")), 301)
        return index_page(request, path, archive.list_dir(path))
    if requested.endswith("/"):
        raise NotFoundError(f"{path} is a file, not a folder")
    content_type = media_type(info.name)
    rewriter = _rewriter(path)
    if rewriter is not None:
        raw = b"".join(archive.read(path, 0, info.size))
        content = rewriter(raw, path, Hrefs.from_request(request))
        if content is not raw:
            digest = hashlib.sha256(content).hexdigest()[:32]
            return file_response(
                request,
                len(content),
                f'"{digest}"',
                info.modified,
                content_type,
                lambda start, end: iter((content[start:end],)),
            )
    return file_response(
        request,
        info.size,
        info.etag,
        info.modified,
        content_type,
        lambda start, end: archive.read(path, start, end),
    )


def files_router(archive: ArchiveFiles | None) -> APIRouter:
    """The ``/files`` routes over ``archive`` (every path 404s when there is none)."""
    router = APIRouter(tags=["Files"])

    def get_archive() -> ArchiveFiles:
        if archive is None:
            raise NotFoundError("this server publishes no archive folder, only its catalog")
        return archive

    @router.api_route(f"/{FILES_ROUTE}", methods=["GET", "HEAD"], include_in_schema=False)
    def files_root(request: Request) -> Response:
        return RedirectResponse(str(request.url.replace(path=request.url.path + "/")), 301)

    def files(path: str, request: Request) -> Response:
        return serve_path(request, get_archive(), path)

    # One route per method: OpenAPI wants an operation id per method.
    for method in ("GET", "HEAD"):
        router.add_api_route(
            f"/{FILES_ROUTE}/{{path:path}}",
            files,
            methods=[method],
            name=f"files_{method.lower()}",
            operation_id=f"files_{method.lower()}",
            summary="A file of the archive (Range requests supported) or a folder index",
        )
    return router
