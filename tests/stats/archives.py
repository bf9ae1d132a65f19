"""ARPS sample archives for the statistics and Sentinel Hub tests, built once per session.

Both test folders use the same archives: each size is generated (ARPS only) and ingested into its
embedded catalog the first time a test asks for it, under the session's base temporary folder.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.shared_paths import SEEDS

_LOCK = threading.Lock()
SEED_AOI = (-122.44, 37.75, -122.39, 37.79)  # seed 004's sample_aoi


@dataclass(frozen=True)
class ArpsArchive:
    """An ingested ARPS-only sample archive (do not modify: the session shares it)."""

    root: Path
    collection_id: str
    """The BYOC collection id (also the catalog collection)."""

    @property
    def product(self) -> Path:
        return self.root / "arps"

    @property
    def tiles(self) -> list[dict]:
        return json.loads((self.product / "tiles.json").read_text())["data"]

    def day_folder(self, day: str) -> Path:
        return next(self.product.glob(f"*/{day}"))


def arps_archive(factory: pytest.TempPathFactory, size: str) -> ArpsArchive:
    from eoaccess.ingest import ingest
    from eoaccess.sample import generate_sample

    root = factory.getbasetemp() / f"arps-{size}"
    marker = root / ".ingested"
    with _LOCK:
        if not marker.exists():
            generate_sample(root, size=size, products="arps", seed=0)
            ingest(root)
            marker.write_text("ok")
    collection = json.loads((root / "arps" / "collection.json").read_text())["id"]
    return ArpsArchive(root, collection)


def seed_evalscript() -> str:
    """The NDWI evalscript of seed 004, verbatim."""
    text = (SEEDS / "004_035c6198680205f4.txt").read_text()
    match = re.search(r'ndwi_time_eval = """\n(.*?)"""', text, re.DOTALL)
    assert match, "seed 004 evalscript not found"
    return match.group(1)


@functools.lru_cache(maxsize=8)
def _sampling(src_crs: str, src_transform: tuple[float, ...], src_shape: tuple[int, int], crs: str,
              transform: tuple[float, ...], shape: tuple[int, int]) -> tuple[np.ndarray, ...]:  # fmt: skip
    """Source row and column of every destination pixel centre, and whether it is inside."""
    from rasterio.crs import CRS
    from rasterio.transform import Affine
    from rasterio.warp import transform as transform_points

    height, width = shape
    rows, cols = np.meshgrid(np.arange(height) + 0.5, np.arange(width) + 0.5, indexing="ij")
    xs, ys = Affine(*transform[:6]) * (cols.ravel(), rows.ravel())
    sx, sy = transform_points(CRS.from_string(crs), CRS.from_string(src_crs), xs, ys)
    u, v = ~Affine(*src_transform[:6]) * (np.asarray(sx), np.asarray(sy))
    c, r = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)
    inside = (r >= 0) & (r < src_shape[0]) & (c >= 0) & (c < src_shape[1])
    return r, c, inside


def nearest_on_grid(path: Path, indexes: list[int], crs: str, transform: Any,
                    shape: tuple[int, int]) -> np.ndarray:  # fmt: skip
    """Bands of a raster sampled at the centres of another grid's pixels (exact nearest
    neighbour: GDAL's coordinate transformation, the source's inverse affine, floor), plus a
    last band that is 1 where a centre falls inside the raster.

    ``rasterio.warp.reproject`` is not used on purpose: it interpolates the transformation
    linearly along rows, which moves points by ~1e-5 pixel and flips pixels lying that close to
    a source pixel edge.
    """
    import rasterio

    with rasterio.open(path) as src:
        r, c, inside = _sampling(src.crs.to_string(), tuple(src.transform), (src.height, src.width),
                                 crs, tuple(transform), tuple(shape))  # fmt: skip
        data = src.read(indexes).astype(np.float64)
    out = np.zeros((len(indexes) + 1, r.size), dtype=np.float64)
    out[:-1, inside] = data[:, r[inside], c[inside]]
    out[-1, inside] = 1.0
    return out.reshape(len(indexes) + 1, *shape)
