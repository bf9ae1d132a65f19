"""What every kind of catalog source provides, and the registry of kinds.

A *source* is one catalog (a STAC API, a static catalog, a stac-geoparquet file, a GeoJSON
footprint catalog, an archive's embedded catalog). It answers a :class:`~eoaccess.query.Query`
with pages of STAC item dicts that already honour the whole query (filter, order, fields, page
size) — pushed down to the source where it can, evaluated with :mod:`eoaccess.matching` where
it cannot — so that every kind gives the same items for the same query. ``max_items``, merging
several sources, enrichment and ``where`` are applied above sources, in :mod:`._results`.

A *kind* recognises its sources from their content (:class:`Probe`) and opens them. Kinds are
registered by module name in :data:`KINDS`, in the order they are tried; adding a kind is adding
a module with a ``KIND`` attribute.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import orjson

from eoaccess.query import Query
from eoaccess.transfer import TransferConfig


@dataclass(frozen=True)
class Page:
    """One page of a source's answer."""

    items: list[dict[str, Any]]
    """STAC item dicts with absolute asset hrefs and ``collection`` set when known."""
    number_matched: int | None = None
    """Items matching the whole query, when the source says (exactly)."""
    url: str | None = None
    """Where the page came from (for error messages)."""


class Source(Protocol):
    """One opened catalog."""

    kind: str
    """The registry name of its kind (``stac_api``, ``static``, …)."""
    href: str
    """The source as opened (absolute path or URL)."""

    def collections(self) -> list[dict[str, Any]]:
        """Its STAC collections (at least ``id``; ``title`` and ``extent`` when known), by id."""
        ...

    def pages(self, query: Query) -> Iterator[Page]:
        """Pages of items matching ``query`` in its order; ``query.max_items`` is a hint only
        (the caller stops reading), and a page that cannot be read raises, naming its URL."""
        ...

    def count(self, query: Query) -> int:
        """How many items match ``query`` (exact; the source's own count when it has one)."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


@dataclass(frozen=True)
class Probe:
    """A source's location and, unless it is a folder, its content: what kinds recognise."""

    href: str
    """Absolute path or URL."""
    data: bytes | None
    """The whole object; None for a local folder."""
    config: TransferConfig = field(compare=False)
    """Transfer settings for further reads of this source."""

    @property
    def is_dir(self) -> bool:
        """True for a local folder."""
        return self.data is None

    @cached_property
    def json(self) -> Any:
        """The content parsed as JSON, or None when it is not JSON."""
        if self.data is None or self.data[:4] == b"PAR1":
            return None
        from eoaccess.catalog._io import gc_paused

        try:
            with gc_paused():
                return orjson.loads(self.data)
        except orjson.JSONDecodeError:
            return None


class SourceKind(Protocol):
    """A kind of catalog: how to recognise one from a probe and how to open it."""

    name: str
    """Registry name, the value of ``kind=`` / ``--kind``."""
    description: str
    """One line for help texts."""

    def recognise(self, probe: Probe) -> bool:
        """True when the probe's content is a catalog of this kind."""
        ...

    def open(self, probe: Probe) -> Source:
        """Open the source; raise NotACatalogError (naming it) when it is not of this kind."""
        ...


KINDS: dict[str, str] = {
    "archive": "eoaccess.catalog.archive",
    "geoparquet": "eoaccess.catalog.geoparquet",
    "stac_api": "eoaccess.catalog.stac_api",
    "static": "eoaccess.catalog.static",
    "footprints": "eoaccess.catalog.footprints",
}
"""Kind name -> module with a ``KIND`` (:class:`SourceKind`); recognition tries them in order."""


def kind(name: str) -> SourceKind:
    """The registered kind ``name``."""
    found: SourceKind = importlib.import_module(KINDS[name]).KIND
    return found


def register_kind(name: str, module: str) -> None:
    """Register (or replace) a kind implemented by ``module`` (which has a ``KIND``)."""
    KINDS[name] = module
