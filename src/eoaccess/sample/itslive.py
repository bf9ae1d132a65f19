"""Sample ITS_LIVE velocity datacubes and their footprint catalog (FORMATS.md §1, seed 000).

Layout under the product root, as in the ``its-live-data`` bucket::

    catalog_v02.json                                   GeoJSON footprint catalog (GDAL style)
    datacubes/v2/N60W130/ITS_LIVE_vel_EPSG3413_G0120_X-3250000_Y250000.zarr   Zarr v2 cubes
    datacubes/v2/S40W070/ITS_LIVE_vel_EPSG32718_G0120_X650000_Y4550000.zarr
    ...

The catalog lists the cubes on disk (``datacube_exist`` 1) and their neighbouring 100 km tiles
without a cube (``datacube_exist`` 0); ``zarr_url`` is relative to the catalog. Cubes cover an
Alaska tile in polar stereographic EPSG:3413 containing the seed's point
(-138.958776, 60.748561), a Patagonia UTM 18S tile and a High Mountain Asia UTM 46N tile
(plus Greenland and New Zealand tiles from ``default`` up). Reduced grids keep the 120 m cells
but only a window around the cube's focus (the seed point, or the main glacier): 40x40 in
``tiny``, 160x160 for the UTM cubes of ``small``; the Alaska cube of ``small`` and every cube of
``default`` and ``large`` keep the full 833x833 grid, and ``large`` lists every tile of the
ITS_LIVE grids in its catalog.
"""

from __future__ import annotations

import json
import math
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eoaccess._progress import Progress
from eoaccess.sample._common import ProductSummary, Size, rng_for, tree_size
from eoaccess.sample._itslive_geo import (
    BUCKET_HTTP,
    BUCKET_S3,
    CELL_M,
    DATACUBE_PREFIX,
    FULL_GRID,
    TILE_M,
    CatalogTile,
    catalog_text,
    cube_name,
    densified_ring,
    from_lonlat,
    lonlat_ring,
    mapping_attrs,
    tile_center_lonlat,
    tile_ring,
    to_lonlat,
    zarr_url,
)
from eoaccess.sample._itslive_layers import (
    SATELLITES,
    FieldSynth,
    Layers,
    days_since_epoch,
    granule_urls,
    make_layers,
)
from eoaccess.sample._itslive_scene import roi_percent, static_fields
from eoaccess.sample._itslive_sites import CUBES, SEED_POINT, CubeSpec
from eoaccess.sample._itslive_zarr import (
    COMPONENT_SUFFIXES,
    OTHER_3D,
    VELOCITY_3D,
    CubeStore,
    variable_specs,
)

PRODUCT = "itslive"
COLLECTION = "itslive_datacubes"
CATALOG_NAME = "catalog_v02.json"
BLOCK_VALUES = 2_000_000
"""Values per variable in one synthesis block (bounds memory for cubes with many layers)."""


@dataclass(frozen=True)
class Plan:
    """What one sample size writes."""

    cubes: tuple[tuple[str, int, int | None], ...]
    """(cube key, layers, grid side or None for the full 833x833 grid)."""
    ring: int
    """Neighbouring tiles (each side) listed in the catalog around every cube."""
    global_catalog: bool = False
    """List every tile of the ITS_LIVE projections (benchmark-sized catalog)."""


PLANS: dict[str, Plan] = {
    "tiny": Plan((("alaska", 24, 40), ("patagonia", 16, 40), ("hma", 12, 40)), ring=1),
    # The full 833x833 grid of the Alaska cube makes ~77,000 chunk files: its layer count is
    # what keeps ``small`` (the quickstart) within its 12 s on the 2-core reference machine.
    "small": Plan((("alaska", 24, None), ("patagonia", 24, 165), ("hma", 16, 160)), ring=2),
    "default": Plan(
        (
            ("alaska", 60, None),
            ("patagonia", 40, None),
            ("hma", 30, None),
            ("greenland", 40, None),
            ("newzealand", 30, None),
        ),
        ring=4,
    ),
    "large": Plan(
        (
            ("alaska", 600, None),
            ("patagonia", 400, None),
            ("hma", 300, None),
            ("greenland", 400, None),
            ("newzealand", 300, None),
        ),
        ring=4,
        global_catalog=True,
    ),
}


def generate(root: Path, size: Size, seed: int, progress: Progress) -> ProductSummary:
    """Write the ITS_LIVE catalog and datacubes of ``size`` under ``root``."""
    plan = PLANS[size]
    written: list[tuple[CubeSpec, int, int, int, Layers]] = []
    for key, n_layers, grid in plan.cubes:
        cube = CUBES[key]
        ny, nx, layers = _write_cube(root, cube, n_layers, grid, seed, progress)
        written.append((cube, n_layers, ny, nx, layers))

    with progress.task("itslive: catalog", total=1) as task:
        tiles = _catalog_tiles(plan, seed, [(c, n) for c, n, *_ in written])
        (root / CATALOG_NAME).write_text(catalog_text(tiles), encoding="utf-8")
        task.advance()

    files, nbytes = tree_size(root)
    starts = [str(ly.t1.min().astype("datetime64[D]")) for *_, ly in written]
    ends = [str(ly.t2.max().astype("datetime64[D]")) for *_, ly in written]
    notes = [
        f"{len(tiles)} catalog tiles, {len(written)} with a cube on disk",
        *(
            f"{cube_relpath(c).split('/')[2]} EPSG:{c.epsg}: {ny}x{nx} cells x {n} layers"
            for c, n, ny, nx, _ in written
        ),
        f"pairs {min(starts)} .. {max(ends)}; seed point in the N60W130 EPSG:3413 cube",
    ]
    return ProductSummary(
        product=PRODUCT,
        root=root,
        files=files,
        bytes=nbytes,
        collections=(COLLECTION,),
        items=len(tiles),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# Cubes


def cube_relpath(cube: CubeSpec) -> str:
    """Cube directory relative to the product root (= ``zarr_url`` of its catalog feature)."""
    lon, lat = tile_center_lonlat(cube.epsg, cube.mid_x, cube.mid_y)
    return zarr_url(cube.epsg, cube.mid_x, cube.mid_y, lon, lat)


def _grid(cube: CubeSpec, grid: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre x (ascending) and y (descending) of the cube, or of a window around its focus."""
    half = TILE_M // 2
    x = cube.mid_x - half + CELL_M / 2 + CELL_M * np.arange(FULL_GRID, dtype=np.float64)
    y = cube.mid_y + half - CELL_M / 2 - CELL_M * np.arange(FULL_GRID, dtype=np.float64)
    if grid is None or grid >= FULL_GRID:
        return x, y
    fx, fy = from_lonlat(cube.epsg).transform(*cube.focus)
    i0 = int(np.clip(round((fx - x[0]) / CELL_M) - grid // 2, 0, FULL_GRID - grid))
    j0 = int(np.clip(round((y[0] - fy) / CELL_M) - grid // 2, 0, FULL_GRID - grid))
    return x[i0 : i0 + grid], y[j0 : j0 + grid]


def _north_angle(cube: CubeSpec) -> float:
    """Direction of geographic north at the tile centre, radians counter-clockwise from +y."""
    lon, lat = tile_center_lonlat(cube.epsg, cube.mid_x, cube.mid_y)
    fwd = from_lonlat(cube.epsg)
    x0, y0 = fwd.transform(lon, lat)
    x1, y1 = fwd.transform(lon, lat + 0.01)
    return math.atan2(-(x1 - x0), y1 - y0)


def _global_attrs(cube: CubeSpec, directory: str) -> dict[str, object]:
    """The cube's global attributes, in the producer's order (fixed dates: deterministic)."""
    name = cube_name(cube.epsg, cube.mid_x, cube.mid_y)
    poly = densified_ring(cube.mid_x, cube.mid_y)
    lon, lat = tile_center_lonlat(cube.epsg, cube.mid_x, cube.mid_y)
    s3 = f"{BUCKET_S3}/{DATACUBE_PREFIX}/{directory}/{name}"
    geo = lonlat_ring(cube.epsg, poly)
    return {
        "GDAL_AREA_OR_POINT": "Area",
        "author": "ITS_LIVE, a NASA MEaSUREs project (its-live.jpl.nasa.gov)",
        "autoRIFT_parameter_file": "http://its-live-data.s3.amazonaws.com/autorift_parameters/v001/autorift_landice_0120m.shp",
        "Conventions": "CF-1.8",
        "datacube_software_version": "1.0",
        "date_created": "25-Sep-2023 22:00:23",
        "date_updated": "29-Oct-2024 04:06:57",
        "geo_polygon": json.dumps(geo),
        "institution": "NASA Jet Propulsion Laboratory (JPL), California Institute of Technology",
        "latitude": round(lat, 2),
        "longitude": round(lon, 2),
        "proj_polygon": json.dumps(poly),
        "projection": str(cube.epsg),
        "s3": s3,
        "skipped_granules": s3.replace(".zarr", ".json"),
        "time_standard_img1": "UTC",
        "time_standard_img2": "UTC",
        "title": "ITS_LIVE datacube of image pair velocities",
        "url": f"{BUCKET_HTTP}/{DATACUBE_PREFIX}/{directory}/{name}",
    }


def _mask_urls(epsg: int) -> tuple[str, str]:
    """Source rasters of the ice masks, named after the projection's mask set."""
    prefix = {3413: "NPS", 3031: "SPS"}.get(epsg, f"EPSG{epsg}")
    base = f"{BUCKET_HTTP}/autorift_parameters/v001/{prefix}_0120m"
    return f"{base}_landice.tif", f"{base}_floatingice.tif"


def _blocks(n: int, ny: int, nx: int) -> list[tuple[int, slice, slice]]:
    """Work units: one chunk row (10 grid rows) and as many chunk columns as fit ``BLOCK_VALUES``."""
    cols = max(10, min(math.ceil(nx / 10) * 10, (BLOCK_VALUES // (n * 10)) // 10 * 10))
    return [
        (j, slice(j * 10, min(ny, (j + 1) * 10)), slice(c, min(nx, c + cols)))
        for j in range(math.ceil(ny / 10))
        for c in range(0, nx, cols)
    ]


def _write_cube(
    root: Path, cube: CubeSpec, n: int, grid: int | None, seed: int, progress: Progress
) -> tuple[int, int, Layers]:
    """Write one datacube; return its grid size and layers."""
    relpath = cube_relpath(cube)
    directory = relpath.split("/")[-2]
    x, y = _grid(cube, grid)
    half = TILE_M // 2
    ux = (x - (cube.mid_x - half)) / 1000.0
    wy = ((cube.mid_y + half) - y) / 1000.0
    static = static_fields(cube.scene, ux, wy, rng_for(seed, PRODUCT, cube.key, "static"))
    lon, _ = tile_center_lonlat(cube.epsg, cube.mid_x, cube.mid_y)
    layers = make_layers(rng_for(seed, PRODUCT, cube.key, "layers"), n, lon, _north_angle(cube))
    synth = FieldSynth(layers, cube.scene, static, ux, wy)

    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    store = CubeStore(path, n, y.size, x.size, _global_attrs(cube, directory))
    geo_transform = f"{x[0] - CELL_M / 2} {CELL_M} 0 {y[0] + CELL_M / 2} 0 -{CELL_M}"
    for spec in variable_specs(mapping_attrs(cube.epsg, geo_transform), _mask_urls(cube.epsg)):
        store.create(spec)
    store.write("x", x)
    store.write("y", y)
    store.write("mapping", "")
    store.write("landice", static.landice)
    store.write("floatingice", static.floatingice)

    blocks = _blocks(n, y.size, x.size)
    valid = np.zeros(n, dtype=np.int64)

    def produce(block: tuple[int, slice, slice]) -> tuple[list[tuple[str, bytes]], np.ndarray]:
        j, rows, cols = block
        rng = rng_for(seed, PRODUCT, cube.key, "block", j, cols.start)
        fields, counts = synth.block(rows, cols, rng)
        chunks = [
            chunk
            for name in (*VELOCITY_3D, *OTHER_3D)
            for chunk in store.encode_block(name, j, cols.start, fields[name])
        ]
        return chunks, counts

    with (
        progress.task(f"itslive: {cube.key} cube {y.size}x{x.size}x{n}", total=len(blocks)) as task,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        # One worker synthesises and encodes (numpy and Blosc release the GIL) while this thread
        # creates the chunk files: tens of thousands of small files cost as much as the maths,
        # and more threads only contend for the GIL and the directory locks. The short queue
        # bounds the memory held by encoded blocks.
        pending: deque[Future[tuple[list[tuple[str, bytes]], np.ndarray]]] = deque()
        for i, block in enumerate(blocks):
            pending.append(pool.submit(produce, block))
            while pending and (len(pending) > 2 or i == len(blocks) - 1):
                chunks, counts = pending.popleft().result()
                store.put(chunks)
                valid += counts
                task.advance()

    roi_valid = 100.0 * valid / max(synth.roi_count, 1)
    _write_layers(store, layers, roi_valid, cube, directory, seed)
    store.close()
    return y.size, x.size, layers


def _write_layers(
    store: CubeStore,
    layers: Layers,
    roi_valid: np.ndarray,
    cube: CubeSpec,
    directory: str,
    seed: int,
) -> None:
    """Write the 1-D per-layer variables."""
    mid = days_since_epoch(layers.mid_date)
    if np.unique(mid).size != mid.size:
        raise RuntimeError(f"mid_date of the {cube.key} cube is not unique")
    store.write("mid_date", mid)
    store.write("acquisition_date_img1", days_since_epoch(layers.t1))
    store.write("acquisition_date_img2", days_since_epoch(layers.t2))
    store.write("date_center", days_since_epoch(layers.date_center))
    store.write("date_dt", layers.date_dt)
    store.write("roi_valid_percentage", roi_valid)
    for k, sats in ((1, layers.satellite1), (2, layers.satellite2)):
        store.write(f"satellite_img{k}", sats)
        store.write(f"mission_img{k}", [SATELLITES[s].mission for s in sats])
        store.write(f"sensor_img{k}", [SATELLITES[s].sensor for s in sats])
    for comp in ("vx", "vy", "va", "vr"):
        for suffix in COMPONENT_SUFFIXES:
            store.write(f"{comp}_{suffix}", layers.errors[f"{comp}_{suffix}"])
    store.write("M11_dr_to_vr_factor", layers.dr_to_vr)
    store.write("M12_dr_to_vr_factor", layers.dr_to_vr)
    store.write("stable_shift_flag", layers.flag)
    store.write("stable_count_slow", layers.count_slow)
    store.write("stable_count_stationary", layers.count_stationary)
    store.write("autoRIFT_software_version", layers.version)
    rng = rng_for(seed, PRODUCT, cube.key, "granules")
    urls = granule_urls(rng, layers, directory, roi_valid, cube.scenes)
    store.write("granule_url", urls)


# --------------------------------------------------------------------------------------------
# Catalog


def _random_roi(seed: int, epsg: int, mid_x: int, mid_y: int) -> float:
    """ROI coverage of a tile without a cube (many tiles barely touch ice, some are all ice)."""
    rng = rng_for(seed, PRODUCT, "catalog", epsg, mid_x, mid_y)
    return float(100.0 * rng.beta(0.6, 0.9))


def _catalog_tiles(plan: Plan, seed: int, cubes: list[tuple[CubeSpec, int]]) -> list[CatalogTile]:
    """Cubes on disk plus their neighbours (or every tile of the grid for ``large``)."""
    tiles: dict[tuple[int, int, int], CatalogTile] = {}
    rank: dict[tuple[int, int, int], int] = {}
    for order, (cube, n) in enumerate(cubes):
        key = (cube.epsg, cube.mid_x, cube.mid_y)
        tiles[key] = CatalogTile(
            cube.epsg,
            cube.mid_x,
            cube.mid_y,
            roi_percent(cube.scene),
            True,
            cube.style,
            cube.region,
            n,
        )
        rank[key] = order
    for order, (cube, _) in enumerate(cubes):
        for di in range(-plan.ring, plan.ring + 1):
            for dj in range(-plan.ring, plan.ring + 1):
                key = (cube.epsg, cube.mid_x + di * TILE_M, cube.mid_y + dj * TILE_M)
                if key not in tiles:
                    roi = _random_roi(seed, *key)
                    tiles[key] = CatalogTile(*key, roi, False, cube.style, cube.region)
                    rank[key] = order
    if plan.global_catalog:
        # One random stream for the whole grid: per-tile generators would dominate the time.
        rng = rng_for(seed, PRODUCT, "catalog", "global")
        for key, style in _global_grid():
            roi = float(100.0 * rng.beta(0.6, 0.9))
            if key not in tiles:
                tiles[key] = CatalogTile(*key, roi, False, style)
                rank[key] = len(cubes)
    return [tiles[k] for k in sorted(tiles, key=lambda k: (rank[k], k[0], k[1], k[2]))]


def _global_grid() -> list[tuple[tuple[int, int, int], str]]:
    """Every 100 km tile of the polar stereographic and UTM grids ITS_LIVE uses."""
    out: list[tuple[tuple[int, int, int], str]] = []
    centres = range(-3_450_000, 3_450_001, TILE_M)
    for epsg in (3413, 3031):
        out += [((epsg, cx, cy), "new") for cx in centres for cy in centres]
    for zone in range(1, 61):
        for cx in range(150_000, 850_001, TILE_M):
            out += [((32600 + zone, cx, cy), "new") for cy in range(50_000, 9_350_001, TILE_M)]
            out += [((32700 + zone, cx, cy), "old") for cy in range(1_050_000, 9_950_001, TILE_M)]
    simple = []
    by_epsg: dict[int, list[tuple[tuple[int, int, int], str]]] = {}
    for item in out:
        by_epsg.setdefault(item[0][0], []).append(item)
    for epsg, items in by_epsg.items():
        corners = np.array([tile_ring(k[1], k[2]) for k, _ in items], dtype=np.float64)
        lon, _ = to_lonlat(epsg).transform(corners[..., 0], corners[..., 1])
        keep = (lon.max(axis=1) - lon.min(axis=1)) < 90.0
        simple += [item for item, ok in zip(items, keep, strict=True) if ok]
    return simple


__all__ = ["CUBES", "PLANS", "SEED_POINT", "cube_relpath", "generate"]
