"""An archive folder with its embedded catalog (``DIR/.eoaccess/``, written by ``eoaccess
ingest``), searched through the catalog store: the whole query is pushed down to SQLite.

The store keeps asset hrefs relative to the archive; results get absolute paths, so downloads
and readers find the files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eoaccess.catalog._base import Page, Probe
from eoaccess.catalog._errors import NotACatalogError
from eoaccess.catalog._items import absolute_item
from eoaccess.query import Query
from eoaccess.stores import CatalogStore, open_store
from eoaccess.stores._base import EMBEDDED_DIRNAME


def _archive_root(probe: Probe) -> Path | None:
    if not probe.is_dir:
        return None
    root = Path(probe.href)
    if root.name == EMBEDDED_DIRNAME:
        root = root.parent
    return root if (root / EMBEDDED_DIRNAME).is_dir() else None


@dataclass
class ArchiveCatalog:
    """An opened archive: its catalog store and root folder."""

    href: str
    root: Path
    store: CatalogStore
    kind: str = "archive"

    def collections(self) -> list[dict[str, Any]]:
        return self.store.collections()

    def _absolute(self, item: dict[str, Any]) -> dict[str, Any]:
        # Store hrefs are archive-relative; resolve them against a path inside the root.
        anchor = os.path.join(self.root, "item.json")
        item = dict(item)
        item["links"] = []
        out = absolute_item(item, anchor)
        out["links"] = [link for link in out["links"] if link.get("rel") != "self"]
        return out

    def pages(self, query: Query) -> Iterator[Page]:
        token: str | None = None
        while True:
            page = self.store.search(query, token)
            yield Page([self._absolute(i) for i in page.items], page.number_matched, self.href)
            token = page.next_token
            if not token:
                return

    def count(self, query: Query) -> int:
        first = self.store.search(query.with_page_size(1))
        if first.number_matched is not None:
            return first.number_matched
        return sum(len(p.items) for p in self.pages(query))

    def close(self) -> None:
        self.store.close()


class ArchiveKind:
    """The ``archive`` kind."""

    name = "archive"
    description = "archive folder with an embedded catalog (DIR/.eoaccess/, from eoaccess ingest)"

    def recognise(self, probe: Probe) -> bool:
        return _archive_root(probe) is not None

    def open(self, probe: Probe) -> ArchiveCatalog:
        root = _archive_root(probe)
        if root is None:
            raise NotACatalogError(
                f"{probe.href} is not an archive folder with a catalog: "
                f"run eoaccess ingest {probe.href} first"
            )
        return ArchiveCatalog(str(root), root, open_store(None, root))


KIND = ArchiveKind()
