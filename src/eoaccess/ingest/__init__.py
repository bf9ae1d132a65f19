"""Ingest: turn an archive (a folder or an S3 prefix) into a STAC catalog that ``serve`` publishes.

``ingest(source, catalog=None)`` lists the archive, recognises each product kind with one
recogniser module per kind (registered in :mod:`._registry`, in claim order):

- :mod:`.stac_items` — static STAC catalogs already in the archive (ids, collections and
  properties kept; hrefs made archive-relative; file size and checksum added);
- :mod:`.footprints` — GeoJSON footprint catalogs listing Zarr datacubes (ITS_LIVE);
- :mod:`.zarr` — other Zarr v2/v3 cubes (CF grid mapping, x/y extent, time coordinate);
- :mod:`.hdf5` — HDF5/NetCDF granules (ATL03: ground-track footprint, time coverage);
- :mod:`.cog` — GeoTIFFs/COGs (footprint from bounds and CRS, raster bands; ARPS SR + QA).

and writes STAC 1.0 Collections and Items into a catalog store (the embedded one inside the
archive by default, or ``postgresql://…``). Asset hrefs are archive-relative paths.

Collection ids of the sample archive's products:

- ``itslive_datacubes`` — ITS_LIVE velocity cubes listed in ``itslive/catalog_v02.json``;
- ``ATL03`` — ICESat-2 ATL03 granules (their ``short_name``);
- ``kaguya_terrain_camera_{monoscopic,stereoscopic,spsupport}_uncontrolled_observations`` —
  the Kaguya static catalog's own collections;
- the Sentinel Hub BYOC collection id of ``arps/collection.json`` (``planet-arps`` without one)
  — ARPS days: the SR COG (asset ``analysis_ready_ps_sr``) with the QA GeoTIFF
  (``analysis_ready_ps_qa``), so ``byoc-<id>`` requests and STAC name one collection.

Other data gets the collection named after its top-level folder (or its ``short_name``).

Runs are incremental and idempotent: each item carries a fingerprint of the path, size and
mtime of the files it was built from; an unchanged fingerprint means the item is not rebuilt,
a changed one rebuilds it hashing only the files that changed, and items whose files are gone
are deleted. Every change of a run is written in one store transaction. Corrupt files are
skipped and listed in the :class:`IngestReport`, never fatal. See ``docs/design/ingest.md``.
"""

from __future__ import annotations

from pathlib import Path

from eoaccess._progress import NullProgress, Progress
from eoaccess.errors import InvalidInputError
from eoaccess.ingest._engine import FINGERPRINT, run
from eoaccess.ingest._report import CollectionCounts, IngestReport, SkippedFile
from eoaccess.ingest._sources import LocalSource, open_source
from eoaccess.stores._base import opened

__all__ = ["FINGERPRINT", "CollectionCounts", "IngestReport", "SkippedFile", "ingest"]


def ingest(
    source: str | Path,
    catalog: str | Path | None = None,
    progress: Progress | None = None,
    *,
    endpoint_url: str | None = None,
    workers: int | None = None,
) -> IngestReport:
    """Bring the catalog of the archive ``source`` up to date and report what changed.

    ``source`` is a directory or ``s3://bucket/prefix`` (endpoint from ``endpoint_url`` or
    ``AWS_ENDPOINT_URL``). ``catalog`` is a store URI (``postgresql://…``, a directory or
    ``.sqlite`` file); by default the embedded catalog under ``SOURCE/.eoaccess/``, which an S3
    archive cannot hold, so S3 sources need one. ``workers`` threads open and hash files.
    """
    archive = open_source(source, endpoint_url)
    try:
        local = isinstance(archive, LocalSource)
        if catalog is None and not local:
            raise InvalidInputError(
                f"give a catalog for the S3 archive {archive.root} (--catalog DIR or postgresql://…)"
            )
        with opened(catalog, archive=archive.root if local else None) as store:
            return run(archive, store, progress or NullProgress(), workers)
    finally:
        archive.close()
