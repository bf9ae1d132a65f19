"""Shared fixtures of the ingest tests: one ingest of the tiny archive, and archive copies."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eoaccess.ingest import FINGERPRINT, IngestReport, ingest
from eoaccess.query import Query
from eoaccess.stores import CatalogStore, open_store


@dataclass(frozen=True)
class Ingested:
    """The tiny archive ingested once into an embedded catalog outside the archive."""

    archive: Path
    catalog: Path
    report: IngestReport


@pytest.fixture(scope="session")
def ingested(tiny_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    # The session archive must not change, so the catalog lives outside it.
    catalog = tmp_path_factory.mktemp("ingest") / "catalog"
    return Ingested(tiny_archive, catalog, ingest(tiny_archive, catalog))


@contextlib.contextmanager
def open_catalog(uri: str | Path) -> Iterator[CatalogStore]:
    """A catalog store, closed after the block."""
    store = open_store(uri)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def store(ingested: Ingested) -> Iterator[CatalogStore]:
    with open_catalog(ingested.catalog) as opened:
        yield opened


@pytest.fixture
def archive_copy(tiny_archive: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny archive that a test may change."""
    target = tmp_path / "archive"
    shutil.copytree(tiny_archive, target, ignore=shutil.ignore_patterns(".eoaccess"))
    return target


def all_items(store: CatalogStore) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item of every collection, by (collection, id)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for collection in store.collections():
        token = None
        while True:
            page = store.search(Query(collections=(collection["id"],), limit=500), token)
            for item in page.items:
                out[(collection["id"], item["id"])] = item
            token = page.next_token
            if not token:
                break
    return out


def dump(store: CatalogStore, strip_fingerprint: bool = False) -> dict[str, Any]:
    """Collections and items of a store, for before/after comparisons."""
    items = all_items(store)
    if strip_fingerprint:
        for item in items.values():
            item["properties"].pop(FINGERPRINT, None)
    return {"collections": store.collections(), "items": items}
