"""What one ingest run did: counts per collection, skipped files with reasons, time taken."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SkippedFile:
    """A file ingest could not turn into an item (corrupt, unreadable, incomplete)."""

    path: str
    """Archive-relative path of the file (or catalog) at fault."""
    reason: str
    """One line saying what is wrong with it."""


@dataclass(frozen=True)
class CollectionCounts:
    """Changes made to one collection."""

    collection: str
    """Collection id."""
    added: int = 0
    """Items new in the catalog."""
    updated: int = 0
    """Items rebuilt because a source file changed."""
    removed: int = 0
    """Items deleted because their files are gone (or now unreadable)."""
    unchanged: int = 0
    """Items left as they were."""

    @property
    def items(self) -> int:
        """Items of the collection after the run."""
        return self.added + self.updated + self.unchanged


@dataclass(frozen=True)
class IngestReport:
    """The outcome of :func:`eoaccess.ingest.ingest`."""

    source: str
    """The archive that was read."""
    catalog: str
    """The catalog store written (path or URI without credentials)."""
    collections: tuple[CollectionCounts, ...]
    """Counts per collection, sorted by id."""
    skipped: tuple[SkippedFile, ...]
    """Files that were not ingested, with the reason."""
    files: int
    """Files listed in the archive."""
    ignored: int
    """Files no recogniser claimed (READMEs, stray files)."""
    hashed_bytes: int
    """Bytes read to compute checksums in this run (0 when nothing changed)."""
    seconds: float
    """Wall time of the run."""

    def _total(self, name: str) -> int:
        return sum(getattr(c, name) for c in self.collections)

    @property
    def added(self) -> int:
        return self._total("added")

    @property
    def updated(self) -> int:
        return self._total("updated")

    @property
    def removed(self) -> int:
        return self._total("removed")

    @property
    def unchanged(self) -> int:
        return self._total("unchanged")

    @property
    def changed(self) -> bool:
        """True if the run wrote anything to the catalog."""
        return bool(self.added or self.updated or self.removed)

    def counts(self, collection: str) -> CollectionCounts:
        """The counts of one collection (all zero if the run did not see it)."""
        for counts in self.collections:
            if counts.collection == collection:
                return counts
        return CollectionCounts(collection)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (for ``--json`` output and logs)."""
        return {
            "source": self.source,
            "catalog": self.catalog,
            "collections": [
                {
                    "collection": c.collection,
                    "added": c.added,
                    "updated": c.updated,
                    "removed": c.removed,
                    "unchanged": c.unchanged,
                    "items": c.items,
                }
                for c in self.collections
            ],
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "files": self.files,
            "ignored": self.ignored,
            "hashed_bytes": self.hashed_bytes,
            "seconds": round(self.seconds, 3),
        }

    def table(self) -> str:
        """A small plain-text table: one row per collection, a total, then skipped files."""
        header = ("collection", "items", "added", "updated", "removed", "unchanged")
        rows = [
            (c.collection, c.items, c.added, c.updated, c.removed, c.unchanged)
            for c in self.collections
        ]
        rows.append(
            (
                "total",
                sum(c.items for c in self.collections),
                self.added,
                self.updated,
                self.removed,
                self.unchanged,
            )
        )
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

        def line(row: tuple[Any, ...]) -> str:
            cells = [str(row[0]).ljust(widths[0])]
            cells += [str(v).rjust(w) for v, w in zip(row[1:], widths[1:], strict=True)]
            return "  ".join(cells).rstrip()

        out = [line(header), "  ".join("-" * w for w in widths)]
        out += [line(r) for r in rows]
        out.append(
            f"{self.files} files read from {self.source} into {self.catalog} in "
            f"{self.seconds:.1f} s ({self.ignored} not catalogued, {len(self.skipped)} skipped)"
        )
        out += [f"skipped {s.path}: {s.reason}" for s in self.skipped]
        return "\n".join(out)
