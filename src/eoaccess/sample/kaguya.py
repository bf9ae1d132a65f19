"""Kaguya Terrain Camera ARD sample: a static STAC catalog shaped like USGS Astrogeology's.

Layout under the product root (relative hrefs everywhere)::

    catalog.json
    kaguya_terrain_camera_{monoscopic,stereoscopic,spsupport}_uncontrolled_observations/
        collection.json
    moon/kaguya/terrain_camera/{monoscopic,stereoscopic,spsupport}/uncontrolled/<id>/
        <id>.json  <id>.tif  <id>.jpg  <id>.caminfo.pvl  <id>.isis.lbl  <id>.lbl
        <id>.isd.json  provenance.txt

The item directories mirror the key layout of the real ``astrogeo-ard`` bucket
(``moon/kaguya/terrain_camera/monoscopic/uncontrolled/<id>/<id>.tif``), so served or exported
asset URLs look like the real ones. Items carry the real items' keys and extensions; images are
int16 COGs in the IAU_2015:30115 lunar equirectangular CRS, downsampled from the TC resolution
so that footprints keep their real size (~25 x 47 km) while files stay small.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from eoaccess._progress import Progress
from eoaccess.errors import InvalidInputError
from eoaccess.sample._common import ProductSummary, Size, rng_for, tree_size
from eoaccess.sample._kaguya_labels import (
    Production,
    caminfo_text,
    isd_json,
    isis_label_text,
    pds_label_text,
    provenance_text,
)
from eoaccess.sample._kaguya_plan import FIXED_STRIPS, MODES, build_strip, items_of, random_strips
from eoaccess.sample._kaguya_pvl import isis_double
from eoaccess.sample._kaguya_raster import (
    Grid,
    render_scene,
    statistics,
    write_cog,
    write_thumbnail,
)
from eoaccess.sample._kaguya_scene import METRES_PER_DEGREE, Mode, Scene
from eoaccess.sample._kaguya_stac import (
    COLLECTION_INFO,
    WKT2,
    asset_filename,
    catalog_dict,
    collection_dict,
    collection_id,
    item_dict,
)

PRODUCT = "kaguya"


@dataclass(frozen=True)
class _SizeConfig:
    counts: dict[Mode, int]  # items per collection (fixed strips included)
    gsd_factor: float  # map pixel size / camera pixel size
    blocksize: int  # COG tile size


_CONFIGS: dict[str, _SizeConfig] = {
    "tiny": _SizeConfig({"monoscopic": 5, "stereoscopic": 4, "spsupport": 3}, 50.0, 256),
    "small": _SizeConfig({"monoscopic": 20, "stereoscopic": 16, "spsupport": 12}, 25.0, 256),
    "default": _SizeConfig({"monoscopic": 60, "stereoscopic": 60, "spsupport": 30}, 12.0, 512),
    "large": _SizeConfig({"monoscopic": 800, "stereoscopic": 800, "spsupport": 400}, 8.0, 512),
}


def plan_scenes(size: Size, seed: int) -> list[Scene]:
    """All scenes of the archive: the fixed strips, then random strips up to the size's counts."""
    config = _CONFIGS[size]
    fixed = {m: sum(items_of(s) for s in FIXED_STRIPS if s.mode == m) for m in MODES}
    extra = {m: max(0, config.counts[m] - fixed[m]) for m in MODES}
    strips = [*FIXED_STRIPS, *random_strips(extra, rng_for(seed, PRODUCT, "strips", size))]
    scenes: list[Scene] = []
    seen: set[str] = set()
    for index, strip in enumerate(strips):
        built = build_strip(strip, rng_for(seed, PRODUCT, "strip", index, strip.orbit))
        if any(s.product_id in seen for s in built):
            continue  # a random strip re-used a fixed strip's orbit and place; drop it
        seen.update(s.product_id for s in built)
        scenes.extend(built)
    return scenes


def _grid(scene: Scene, ring: tuple[np.ndarray, np.ndarray], factor: float) -> Grid:
    """Map grid covering the footprint, snapped to whole pixels like the real transforms."""
    gsd = float(isis_double(scene.pixel_resolution * factor))
    lon, lat = ring
    x = (lon - 180.0) * METRES_PER_DEGREE
    y = lat * METRES_PER_DEGREE
    col0, col1 = math.floor(x.min() / gsd), math.ceil(x.max() / gsd)
    row0, row1 = math.floor(y.min() / gsd), math.ceil(y.max() / gsd)
    return Grid(
        x0=float(isis_double(col0 * gsd)),
        y0=float(isis_double(row1 * gsd)),
        gsd=gsd,
        width=col1 - col0,
        height=row1 - row0,
    )


def _production(rng: np.random.Generator) -> Production:
    jaxa = datetime(2013, 6, 1, tzinfo=UTC) + timedelta(seconds=int(rng.integers(0, 60 * 86400)))
    run = datetime(2023, 8, 23, 19, 0, tzinfo=UTC) + timedelta(seconds=int(rng.integers(0, 3600)))
    return Production(
        jaxa_created=jaxa,
        jaxa_started=jaxa - timedelta(seconds=int(rng.integers(15, 300))),
        isis_run=run,
        stac_created=run + timedelta(milliseconds=int(rng.integers(20_000, 65_000))),
        stac_updated=datetime(2023, 11, 3, 5, 49, 27, tzinfo=UTC)
        + timedelta(milliseconds=int(rng.integers(0, 3000))),
        time_digit=int(rng.integers(0, 10)),
        telescope_temperature=float(rng.uniform(16.5, 19.5)),
        dpu_temperature=float(rng.uniform(11.5, 15.0)),
        original_label_bytes=int(rng.integers(7135, 7150)),
    )


def _write_scene(
    scene: Scene, root: Path, config: _SizeConfig, seed: int
) -> tuple[dict[str, Any], str]:
    """Write one item directory; return the item dict and its href relative to the root."""
    rng = rng_for(seed, PRODUCT, "scene", scene.product_id)
    folder_rel = f"{COLLECTION_INFO[scene.mode]['path']}/{scene.product_id}"
    folder = root / folder_rel
    folder.mkdir(parents=True)
    ring = scene.footprint.ring(rng)
    grid = _grid(scene, ring, config.gsd_factor)
    gain = 2000.0 * float(rng.uniform(0.92, 1.08))
    image = render_scene(
        grid, scene.footprint, scene.incidence, scene.sun_azimuth, scene.emission, gain, rng
    )
    stats = statistics(image)
    production = _production(rng)
    pid = scene.product_id
    write_cog(folder / asset_filename("image", pid), image, grid, WKT2, config.blocksize)
    write_thumbnail(folder / asset_filename("thumbnail", pid), image)
    texts = {
        "caminfo_pvl": caminfo_text(scene, stats, grid.gsd, ring, production),
        "isis_label": isis_label_text(scene, stats, production),
        "pds_label": pds_label_text(scene, stats, production),
        "usgscsm_isd": isd_json(scene),
        "provenance": provenance_text(scene, production, grid.gsd),
    }
    for key, text in texts.items():
        (folder / asset_filename(key, pid)).write_text(text, encoding="utf-8", newline="")
    transform = [grid.x0, grid.gsd, 0, grid.y0, 0, -grid.gsd]
    depth = folder_rel.count("/") + 1
    item = item_dict(
        scene,
        ring,
        transform,
        (grid.height, grid.width),
        stats,
        production.stac_created,
        production.stac_updated,
        depth,
    )
    _write_json(folder / f"{pid}.json", item)
    return item, f"{folder_rel}/{pid}.json"


def _write_json(path: Path, document: dict[str, Any]) -> None:
    # 4-space indentation as the USGS API serves items; keys keep their STAC order.
    path.write_text(json.dumps(document, indent=4) + "\n", encoding="utf-8")


def generate(root: Path, size: Size, seed: int, progress: Progress) -> ProductSummary:
    """Write the Kaguya TC sample catalog under ``root`` and describe it."""
    if size not in _CONFIGS:
        raise InvalidInputError(f"unknown size {size!r}; choose from {', '.join(_CONFIGS)}")
    config = _CONFIGS[size]
    scenes = plan_scenes(size, seed)
    items: dict[Mode, list[tuple[dict[str, Any], str]]] = {m: [] for m in MODES}
    with progress.task(f"{PRODUCT}: Terrain Camera scenes", total=len(scenes)) as task:
        for scene in scenes:
            items[scene.mode].append(_write_scene(scene, root, config, seed))
            task.advance()
    collections = []
    for mode in MODES:
        folder = root / collection_id(mode)
        folder.mkdir()
        hrefs = [f"../{href}" for _, href in items[mode]]
        collection = collection_dict(mode, [it for it, _ in items[mode]], hrefs)
        _write_json(folder / "collection.json", collection)
        collections.append(collection)
    _write_json(root / "catalog.json", catalog_dict(collections))

    files, nbytes = tree_size(root)
    all_items = [it for m in MODES for it, _ in items[m]]
    shapes = np.array([it["properties"]["proj:shape"] for it in all_items])
    gsds = [it["properties"]["gsd"] for it in all_items]
    starts = sorted(it["properties"]["start_datetime"] for it in all_items)
    incidences = [s.incidence for s in scenes]
    return ProductSummary(
        product=PRODUCT,
        root=root,
        files=files,
        bytes=nbytes,
        collections=tuple(collection_id(m) for m in MODES),
        items=len(all_items),
        notes=(
            "items: " + ", ".join(f"{m} {len(items[m])}" for m in MODES),
            f"int16 COGs in IAU_2015:30115 (Moon equirectangular, clon=180), "
            f"{shapes[:, 1].min()}-{shapes[:, 1].max()} x {shapes[:, 0].min()}-{shapes[:, 0].max()} px, "
            f"{min(gsds):.0f}-{max(gsds):.0f} m/px",
            f"acquired {starts[0][:10]} .. {starts[-1][:10]}, "
            f"incidence {min(incidences):.0f}-{max(incidences):.0f} deg",
        ),
    )
