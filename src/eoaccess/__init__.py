"""eoaccess: from "where is the data for my area and time?" to "the numbers are on my disk".

The public Python API; everything exported is listed in ``__all__``. Heavy modules (numpy,
GDAL, aiohttp, FastAPI) are imported on first use of a name, so ``import eoaccess`` and the CLI
start quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from eoaccess.errors import EOAccessError, InvalidInputError, NotFoundError, OutputError

if TYPE_CHECKING:
    from eoaccess.catalog import open_catalog, search_many
    from eoaccess.footprints import footprint, map_items
    from eoaccess.ingest import ingest
    from eoaccess.query import make_query
    from eoaccess.readers import open_dataset
    from eoaccess.sample import generate_sample
    from eoaccess.stats import stats
    from eoaccess.stores import open_store
    from eoaccess.subset import subset
    from eoaccess.timeseries import timeseries
    from eoaccess.transfer import download, read_header, read_range

if TYPE_CHECKING:
    __version__: str

# Public name -> module that defines it (imported lazily by __getattr__).
_LAZY: dict[str, str] = {
    "download": "eoaccess.transfer",
    "footprint": "eoaccess.footprints",
    "map_items": "eoaccess.footprints",
    "open_catalog": "eoaccess.catalog",
    "open_dataset": "eoaccess.readers",
    "search_many": "eoaccess.catalog",
    "stats": "eoaccess.stats",
    "subset": "eoaccess.subset",
    "timeseries": "eoaccess.timeseries",
    "generate_sample": "eoaccess.sample",
    "ingest": "eoaccess.ingest",
    "make_query": "eoaccess.query",
    "open_store": "eoaccess.stores",
    "read_header": "eoaccess.transfer",
    "read_range": "eoaccess.transfer",
}

__all__ = [
    "EOAccessError",
    "InvalidInputError",
    "NotFoundError",
    "OutputError",
    "__version__",
    "download",
    "footprint",
    "generate_sample",
    "ingest",
    "make_query",
    "map_items",
    "open_catalog",
    "open_dataset",
    "open_store",
    "read_header",
    "read_range",
    "search_many",
    "stats",
    "subset",
    "timeseries",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # importlib.metadata costs ~30 ms: paid only when asked
        from importlib.metadata import version

        globals()[name] = value = version("eoaccess")
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'eoaccess' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
