"""The recogniser interface and registry: how a product kind turns archive files into items.

Ingest runs in two stages. *Recognising* looks only at the listing and at small metadata files
(JSON catalogs, Zarr metadata) and yields :class:`Candidate` items: their collection, id, the
files they are built from and a ``build`` function. *Building* opens the data and hashes files,
and runs only for candidates whose fingerprint (a digest of their files' path, size and mtime)
differs from the catalog's. Recognisers run in registry order and each claims the files it
uses, so a COG listed by a static STAC item is not catalogued again as a bare COG.
"""

from __future__ import annotations

import bisect
import contextlib
import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import orjson

from eoaccess.ingest._collections import CollectionInfo
from eoaccess.ingest._report import SkippedFile
from eoaccess.ingest._sources import ArchiveSource, FileEntry
from eoaccess.ingest._stac import multihash_sha256


class ArchiveView:
    """The archive listing as recognisers see it: files not claimed yet, plus small reads."""

    def __init__(
        self,
        source: ArchiveSource,
        entries: Mapping[str, FileEntry],
        stored: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        self.source = source
        self.all = dict(entries)
        self._paths = sorted(self.all)
        self._claimed: set[str] = set()
        self._stored = dict(stored or {})
        self._by_digest: dict[str, tuple[str, str]] | None = None

    def previous_key(self, recogniser: str, path: str) -> tuple[str, str] | None:
        """``(collection, id)`` of the stored item ``recogniser`` built from this very file
        (same path, size and mtime) in an earlier run, so it need not be opened to name it."""
        if self._by_digest is None:
            self._by_digest = {}
            for key, fp in self._stored.items():
                name, _, body = fp.partition(":")
                for digest in body.split("."):
                    self._by_digest[f"{name.split('/')[0]}:{digest}"] = key
        entry = self.all.get(path)
        if entry is None:
            return None
        return self._by_digest.get(f"{recogniser}:{entry.digest}")

    @property
    def unclaimed(self) -> list[FileEntry]:
        """Entries no earlier recogniser claimed, sorted by path."""
        return [self.all[p] for p in self._paths if p not in self._claimed]

    def is_claimed(self, path: str) -> bool:
        return path in self._claimed

    def claim(self, paths: Iterable[str]) -> None:
        self._claimed.update(paths)

    def under(self, directory: str) -> list[FileEntry]:
        """Entries below ``directory`` (claimed or not), sorted by path."""
        prefix = directory.rstrip("/") + "/"
        start = bisect.bisect_left(self._paths, prefix)
        stop = bisect.bisect_left(self._paths, prefix + "\U0010ffff")
        return [self.all[p] for p in self._paths[start:stop]]

    def exists(self, path: str) -> bool:
        return path in self.all

    def read_bytes(self, path: str) -> bytes:
        return self.source.read_bytes(path)

    def read_json(self, path: str) -> Any:
        """Parse a JSON file (raises ValueError/OSError for corrupt or unreadable files)."""
        return orjson.loads(self.source.read_bytes(path))

    def open(self, path: str) -> BinaryIO:
        """A seekable file object (remote files are read by ranges, on demand)."""
        return self.source.open(path)


class BuildContext:
    """What a candidate's ``build`` may use: file reads, local copies, checksums and sizes.

    Checksums of files unchanged since the last run are taken from the catalog (``reuse``), so
    only changed files are hashed again.
    """

    def __init__(self, view: ArchiveView, reuse: Mapping[str, str] | None = None) -> None:
        self.source = view.source
        self._view = view
        self._reuse = dict(reuse or {})
        self.hashed_bytes = 0
        """Bytes hashed by this context (for the report)."""
        self.current: str | None = None
        """The archive file read last: the one to blame when a build fails."""
        self.local_names: dict[str, str] = {}
        """Local file name -> archive path, to word errors with archive paths."""

    def entry(self, path: str) -> FileEntry:
        """The listing entry of an archive file (KeyError if it is not in the archive)."""
        return self._view.all[path]

    def exists(self, path: str) -> bool:
        return path in self._view.all

    def read_bytes(self, path: str) -> bytes:
        self.current = path
        return self.source.read_bytes(path)

    def read_json(self, path: str) -> Any:
        return orjson.loads(self.read_bytes(path))

    def open(self, path: str) -> BinaryIO:
        self.current = path
        return self.source.open(path)

    @contextlib.contextmanager
    def local_file(self, path: str) -> Iterator[Path]:
        self.current = path
        with self.source.local_file(path) as local:
            self.local_names[str(local)] = path
            yield local

    def zarr_store(self, path: str) -> Any:
        self.current = path.rstrip("/")
        return self.source.zarr_store(path.rstrip("/"))

    def checksum(self, path: str) -> str:
        """The file's SHA2-256 multihash (``1220…``), reused when the file did not change."""
        if path in self._reuse:
            return self._reuse[path]
        self.current = path
        value = multihash_sha256(self.source.sha256(path))
        self.hashed_bytes += self.entry(path).size
        self._reuse[path] = value
        return value

    def file_fields(self, path: str) -> dict[str, Any]:
        """File extension fields of one file: ``file:size`` and ``file:checksum``."""
        return {"file:size": self.entry(path).size, "file:checksum": self.checksum(path)}

    def dir_size(self, path: str) -> int:
        """Total bytes of the files under directory ``path``."""
        return sum(e.size for e in self._view.under(path))


Build = Callable[[BuildContext], dict[str, Any]]


@dataclass(frozen=True)
class Candidate:
    """One item the archive holds, known before its data is opened."""

    collection: CollectionInfo
    """The collection the item belongs to."""
    id: str
    """Item id, unique within the collection."""
    files: tuple[str, ...]
    """Archive files the item is built from, the main one first (blamed when the item cannot
    be built); a directory (a Zarr store) ends with ``/``."""
    build: Build
    """Opens the files and returns the STAC item dict (collection and fingerprint set later)."""
    content: tuple[str, ...] = ()
    """Digests of inputs that are not whole files (one feature of a larger catalog)."""


@dataclass(frozen=True)
class Claim:
    """Files a recogniser takes from the archive and what it makes of them."""

    paths: frozenset[str]
    """Files no later recogniser may use."""
    candidates: tuple[Candidate, ...] = ()
    """Items built from them."""
    skipped: tuple[SkippedFile, ...] = ()
    """Files among them that cannot be catalogued, with the reason."""


class Recogniser(Protocol):
    """Finds the items of one product kind in the archive."""

    name: str
    """Short name, part of every fingerprint it produces."""
    version: int
    """Bumped when the items it builds change shape, so the next ingest rebuilds them."""

    def recognise(self, view: ArchiveView) -> Iterator[Claim]:
        """Claim files among ``view.unclaimed`` and describe the items made from them."""


# Registry, in claim order: catalogs that name their own files come before the file kinds, so a
# file listed by a catalog is catalogued once, as that catalog says. Adding a kind is adding a
# module with a ``RECOGNISER`` here.
_RECOGNISER_MODULES: tuple[str, ...] = (
    "eoaccess.ingest.stac_items",
    "eoaccess.ingest.footprints",
    "eoaccess.ingest.zarr",
    "eoaccess.ingest.hdf5",
    "eoaccess.ingest.cog",
)


def recognisers() -> list[Recogniser]:
    """The registered recognisers, in claim order."""
    return [importlib.import_module(m).RECOGNISER for m in _RECOGNISER_MODULES]
