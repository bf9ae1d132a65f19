"""Where an archive lives: a local folder or an S3 prefix, behind one small interface.

Recognisers only see archive-relative POSIX paths; a source lists them with size and
modification time and hands out bytes, a seekable file (S3: ranged reads), a local file (S3
objects are downloaded for the block that needs them and hashed on the way), or a read-only
Zarr store.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import posixpath
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from eoaccess.errors import InvalidInputError, NotFoundError

_CHUNK = 1 << 20
# Leftovers of atomic writes (``.name.tmp-XXXX``) are never part of the archive.
_TEMPORARY = re.compile(r"^\..+\.(tmp|old)-[^/]*$")


@dataclass(frozen=True)
class FileEntry:
    """One file of the archive as listed, before anything is read."""

    path: str
    """Archive-relative POSIX path (``kaguya/…/x.tif``)."""
    size: int
    """Size in bytes."""
    mtime_ns: int
    """Modification time in nanoseconds since the epoch (S3: ``LastModified``)."""
    etag: str | None = None
    """S3 ETag when known; also part of the change signature."""

    @functools.cached_property
    def digest(self) -> str:
        """A short digest of path, size and mtime: equal digests mean an unchanged file."""
        text = f"{self.path}\0{self.size}\0{self.mtime_ns}\0{self.etag or ''}"
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def is_ignored(path: str) -> bool:
    """True for paths that are never archive content: the embedded catalog, hidden directories,
    leftovers of atomic writes. Hidden *files* stay (Zarr v2 keeps ``.zarray`` and friends)."""
    parts = path.split("/")
    if any(p.startswith(".") for p in parts[:-1]):
        return True
    return bool(_TEMPORARY.match(parts[-1]))


class ArchiveSource(Protocol):
    """Read access to an archive's files by archive-relative path."""

    root: str
    """The archive as the user named it (a directory path or ``s3://bucket/prefix``)."""

    def list_files(self) -> Iterator[FileEntry]:
        """Every archive file (see :func:`is_ignored`), in no particular order."""

    def read_bytes(self, path: str) -> bytes:
        """The whole content of one (small) file."""

    def open(self, path: str) -> BinaryIO:
        """A seekable binary file object; remote files are read by ranges, on demand."""

    def local_file(self, path: str) -> contextlib.AbstractContextManager[Path]:
        """A local file with the content of ``path`` for libraries that need one."""

    def sha256(self, path: str) -> str:
        """Hex SHA-256 of a file's content, streamed (a remote file copied locally earlier in
        the run is not read again)."""

    def zarr_store(self, path: str) -> Any:
        """A read-only ``zarr`` store rooted at the directory ``path``."""

    def close(self) -> None:
        """Remove temporary downloads."""


class LocalSource:
    """An archive in a local directory."""

    def __init__(self, root: Path) -> None:
        self.path = root
        self.root = str(root)

    def list_files(self) -> Iterator[FileEntry]:
        # scandir gives the type without a stat and one stat per file; hidden directories (the
        # embedded catalog among them) are pruned, symlinked directories not followed (loops).
        stack = [(os.fspath(self.path), "")]
        while stack:
            directory, prefix = stack.pop()
            try:
                with os.scandir(directory) as scan:
                    entries = sorted(scan, key=lambda e: e.name)
            except OSError:
                continue  # unreadable directory: its files are not in the listing
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith("."):
                        stack.append((entry.path, f"{prefix}{entry.name}/"))
                    continue
                if _TEMPORARY.match(entry.name):
                    continue
                try:
                    if not entry.is_file():
                        continue
                    stat = entry.stat()
                except OSError:
                    continue  # vanished or a dangling link: not content
                yield FileEntry(prefix + entry.name, stat.st_size, stat.st_mtime_ns)

    def _full(self, path: str) -> Path:
        return self.path / path

    def read_bytes(self, path: str) -> bytes:
        return self._full(path).read_bytes()

    def open(self, path: str) -> BinaryIO:
        return open(self._full(path), "rb")

    @contextlib.contextmanager
    def local_file(self, path: str) -> Iterator[Path]:
        yield self._full(path)

    def sha256(self, path: str) -> str:
        digest = hashlib.sha256()
        with open(self._full(path), "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def zarr_store(self, path: str) -> Any:
        import zarr.storage

        return zarr.storage.LocalStore(self._full(path), read_only=True)

    def close(self) -> None:
        pass


class S3Source:
    """An archive under an S3 prefix, read with obstore (endpoint from ``AWS_ENDPOINT_URL``)."""

    def __init__(self, url: str, endpoint_url: str | None = None) -> None:
        from obstore.store import S3Store

        bucket, _, prefix = url[len("s3://") :].partition("/")
        if not bucket:
            raise InvalidInputError(f"S3 source {url!r} has no bucket; use s3://bucket/prefix")
        self.root = url
        self.prefix = prefix.strip("/")
        endpoint = (
            endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
        )
        options: dict[str, Any] = {}
        if endpoint:
            options["endpoint"] = endpoint
            if endpoint.startswith("http://"):
                options["client_options"] = {"allow_http": True}
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            options["region"] = region
        self._store = S3Store(bucket, prefix=self.prefix or None, **options)
        self._tmp = Path(tempfile.mkdtemp(prefix="eoaccess-ingest-"))
        self._digests: dict[str, str] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def list_files(self) -> Iterator[FileEntry]:
        import obstore

        try:
            for batch in obstore.list(self._store, chunk_size=1000):
                for meta in batch:
                    rel = meta["path"]
                    if not is_ignored(rel):
                        stamp = meta["last_modified"]
                        yield FileEntry(
                            rel,
                            int(meta["size"]),
                            int(stamp.timestamp() * 1_000_000) * 1000,
                            (meta.get("e_tag") or "").strip('"') or None,
                        )
        except Exception as exc:  # obstore's errors are not OSErrors
            raise NotFoundError(f"cannot list {self.root}: {_one_line(exc)}") from None

    def read_bytes(self, path: str) -> bytes:
        import obstore

        with _as_os_errors(path):
            return bytes(obstore.get(self._store, path).bytes())

    def open(self, path: str) -> BinaryIO:
        import obstore

        with _as_os_errors(path):
            size = int(obstore.head(self._store, path)["size"])
        return io.BufferedReader(_RangeReader(self._store, path, size), buffer_size=256 * 1024)

    def _lock(self, path: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(path, threading.Lock())

    def _stream(self, path: str, handle: BinaryIO | None) -> str:
        """Read the object once, hashing it (and writing it to ``handle`` when given)."""
        import obstore

        digest = hashlib.sha256()
        with _as_os_errors(path):
            for chunk in obstore.get(self._store, path).stream(min_chunk_size=_CHUNK):
                data = bytes(chunk)
                digest.update(data)
                if handle is not None:
                    handle.write(data)
        return digest.hexdigest()

    @contextlib.contextmanager
    def local_file(self, path: str) -> Iterator[Path]:
        """Download the object for the block (hashing it on the way), then remove the copy so
        the disk never holds more than the files being read."""
        target = Path(tempfile.mkdtemp(dir=self._tmp)) / posixpath.basename(path)
        try:
            with self._lock(path), open(target, "wb") as handle:
                self._digests[path] = self._stream(path, handle)
            yield target
        finally:
            shutil.rmtree(target.parent, ignore_errors=True)

    def sha256(self, path: str) -> str:
        with self._lock(path):
            if path not in self._digests:
                self._digests[path] = self._stream(path, None)
            return self._digests[path]

    def zarr_store(self, path: str) -> Any:
        import zarr.storage
        from obstore.store import S3Store

        prefix = "/".join(p for p in (self.prefix, path.strip("/")) if p)
        base = self._store
        store = S3Store(
            base.config["bucket"],
            prefix=prefix,
            config={k: v for k, v in base.config.items() if k != "bucket"},
            client_options=base.client_options,
        )
        return zarr.storage.ObjectStore(store, read_only=True)

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


class _RangeReader(io.RawIOBase):
    """A read-only, seekable file over one object, each read one ranged GET."""

    def __init__(self, store: Any, path: str, size: int) -> None:
        self._store = store
        self._path = path
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        import obstore

        view = memoryview(buffer).cast("B")
        length = min(len(view), self._size - self._pos)
        if length <= 0:
            return 0
        data = obstore.get_range(self._store, self._path, start=self._pos, length=length)
        view[:length] = memoryview(data)[:length]
        self._pos += length
        return length


@contextlib.contextmanager
def _as_os_errors(path: str) -> Iterator[None]:
    """Object store errors as the OSErrors local files raise, so callers handle one kind."""
    from obstore.exceptions import BaseError
    from obstore.exceptions import NotFoundError as MissingObject

    try:
        yield
    except MissingObject:
        raise FileNotFoundError(f"{path}: no such object") from None
    except BaseError as exc:
        raise OSError(f"{path}: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def open_source(source: str | Path, endpoint_url: str | None = None) -> ArchiveSource:
    """A local directory or ``s3://bucket/prefix``; raise NotFoundError for a missing directory."""
    text = os.fspath(source)
    if text.startswith("s3://"):
        return S3Source(text, endpoint_url)
    if "://" in text:
        raise InvalidInputError(
            f"unsupported archive {text!r}; give a directory or s3://bucket/prefix"
        )
    root = Path(text).expanduser()
    if not root.exists():
        raise NotFoundError(f"archive directory {text} does not exist")
    if not root.is_dir():
        raise InvalidInputError(f"archive {text} is not a directory")
    if not os.access(root, os.R_OK | os.X_OK):
        raise InvalidInputError(f"archive directory {text} is not readable")
    return LocalSource(root.resolve())
