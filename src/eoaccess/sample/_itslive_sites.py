"""The sample's ITS_LIVE tiles: real tile names, and a glacier scene for each.

The tiles are real catalog entries: the Alaska EPSG:3413 tile of seed 000 (it contains the
seed's point), a Patagonia UTM 18S tile (region PAT, older ``data_epsg`` catalog style), the
High Mountain Asia UTM 46N tile the seed opens by URL, a Greenland EPSG:3413 tile with a fast
isbrae and a New Zealand UTM 59S tile on the coast. Scenes are synthetic but shaped after the
places (flow directions, speeds, lakes, seasons).
"""

from __future__ import annotations

from dataclasses import dataclass

from eoaccess.sample._itslive_geo import TILE_M, to_lonlat
from eoaccess.sample._itslive_layers import SceneIds
from eoaccess.sample._itslive_scene import Glacier, Scene

SEED_POINT = (-138.958776, 60.748561)
"""The point of interest of seed 000 (lon, lat): inside the Alaska cube."""


@dataclass(frozen=True)
class CubeSpec:
    """One tile of the sample and how its cube looks."""

    key: str
    epsg: int
    mid_x: int
    mid_y: int
    style: str
    """Catalog property style of its region: ``"new"`` (``epsg``) or ``"old"`` (``data_epsg``)."""
    region: str | None
    scene: Scene
    focus: tuple[float, float]
    """Lon/lat that reduced grids are centred on (the seed point, or the main glacier)."""
    scenes: SceneIds
    """Landsat path/row and Sentinel-2 tile of the image pairs (for ``granule_url``)."""


def _focus(epsg: int, mid_x: int, mid_y: int, u: float, w: float) -> tuple[float, float]:
    """Lon/lat of tile fractions (u east, w south), to name focus points on glaciers."""
    h = TILE_M / 2
    lon, lat = to_lonlat(epsg).transform(mid_x - h + u * TILE_M, mid_y + h - w * TILE_M)
    return float(lon), float(lat)


ALASKA = CubeSpec(
    key="alaska",
    epsg=3413,
    mid_x=-3250000,
    mid_y=250000,
    style="new",
    region=None,
    scene=Scene(
        glaciers=(
            # Main trunk passing ~2 km from the seed point and flowing toward the coast.
            Glacier(
                (
                    (0.99, 0.58),
                    (0.88, 0.70),
                    (0.78, 0.77),
                    (0.70, 0.785),
                    (0.58, 0.80),
                    (0.44, 0.77),
                    (0.30, 0.80),
                    (0.14, 0.86),
                    (0.01, 0.92),
                ),
                (2.2, 5.5),
                1100.0,
                peak=0.55,
                terminus=0.15,
            ),
            Glacier(
                ((0.80, 0.33), (0.78, 0.48), (0.72, 0.62), (0.64, 0.76)),
                (1.4, 1.8),
                450.0,
                0.8,
                0.6,
            ),
            Glacier(
                ((0.97, 0.28), (0.91, 0.44), (0.86, 0.62), (0.84, 0.72)),
                (1.6, 2.0),
                380.0,
                0.8,
                0.6,
            ),
            Glacier(
                ((0.36, 0.18), (0.31, 0.34), (0.23, 0.50), (0.16, 0.62)),
                (1.5, 1.8),
                320.0,
                0.6,
                0.1,
            ),
            Glacier(((0.60, 0.05), (0.57, 0.14), (0.52, 0.22)), (0.9, 0.9), 90.0, 0.5, 0.1),
            Glacier(((0.10, 0.10), (0.14, 0.20)), (0.8, 0.7), 40.0, 0.5, 0.1),
        ),
        season_amplitude=0.3,
        season_peak_doy=140.0,
        trend_per_year=-0.015,
    ),
    focus=SEED_POINT,
    scenes=SceneIds((63, 17), "07VEG", 100),
)
PATAGONIA = CubeSpec(
    key="patagonia",
    epsg=32718,
    mid_x=650000,
    mid_y=4550000,
    style="old",
    region="PAT",
    scene=Scene(
        glaciers=(
            # Southern Patagonian Icefield plateau along the west edge.
            Glacier(
                ((0.02, 0.0), (0.08, 0.35), (0.10, 0.65), (0.04, 1.0)),
                (13.0, 13.0),
                120.0,
                0.5,
                0.5,
            ),
            # Calving outlet glacier ending afloat in a lake.
            Glacier(
                ((0.14, 0.36), (0.30, 0.42), (0.45, 0.51), (0.58, 0.60), (0.70, 0.655)),
                (4.5, 2.2),
                2300.0,
                peak=0.85,
                terminus=0.85,
            ),
            Glacier(
                ((0.16, 0.14), (0.32, 0.18), (0.46, 0.25), (0.54, 0.31)),
                (2.5, 2.0),
                700.0,
                0.6,
                0.2,
            ),
            Glacier(((0.14, 0.76), (0.26, 0.81), (0.36, 0.88)), (2.2, 1.6), 500.0, 0.6, 0.2),
        ),
        lakes=((0.84, 0.70, 0.16, 0.11),),
        season_amplitude=0.12,
        season_peak_doy=330.0,
        trend_per_year=-0.02,
    ),
    focus=_focus(32718, 650000, 4550000, 0.70, 0.665),
    scenes=SceneIds((231, 94), "18FXK", 9),
)
HMA = CubeSpec(
    key="hma",
    epsg=32646,
    mid_x=750000,
    mid_y=3350000,
    style="new",
    region="HMA",
    scene=Scene(
        glaciers=(
            Glacier(
                ((0.55, 0.08), (0.58, 0.22), (0.62, 0.38), (0.60, 0.55)),
                (1.8, 1.4),
                220.0,
                0.35,
                0.03,
            ),
            Glacier(
                ((0.82, 0.14), (0.76, 0.28), (0.69, 0.36), (0.62, 0.40)),
                (1.3, 1.1),
                140.0,
                0.6,
                0.4,
            ),
            Glacier(((0.18, 0.20), (0.27, 0.31), (0.33, 0.46)), (1.4, 1.1), 120.0, 0.4, 0.05),
            Glacier(((0.86, 0.58), (0.81, 0.71), (0.78, 0.84)), (1.3, 1.0), 100.0, 0.4, 0.05),
            Glacier(((0.46, 0.70), (0.43, 0.80)), (0.9, 0.7), 50.0, 0.5, 0.1),
            Glacier(((0.08, 0.55), (0.14, 0.63), (0.17, 0.74)), (1.2, 0.9), 90.0, 0.5, 0.1),
        ),
        lakes=((0.30, 0.78, 0.09, 0.08),),
        season_amplitude=0.2,
        season_peak_doy=190.0,
        trend_per_year=-0.005,
    ),
    focus=_focus(32646, 750000, 3350000, 0.59, 0.30),
    scenes=SceneIds((136, 39), "46RFV", 90),
)
GREENLAND = CubeSpec(
    key="greenland",
    epsg=3413,
    mid_x=-150000,
    mid_y=-2250000,
    style="new",
    region="GRE",
    scene=Scene(
        glaciers=(
            Glacier(((1.6, 0.5), (0.9, 0.5)), (60.0, 60.0), 300.0, 0.5, 1.0),
            # Fast isbrae ending in a floating tongue in its fjord.
            Glacier(
                ((1.0, 0.52), (0.80, 0.50), (0.62, 0.46), (0.45, 0.47)),
                (3.5, 3.0),
                16000.0,
                peak=0.95,
                terminus=1.0,
            ),
        ),
        lakes=((0.38, 0.47, 0.12, 0.03),),
        coast=(-1.0, 0.0, -0.3),
        season_amplitude=0.15,
        season_peak_doy=200.0,
        trend_per_year=0.0,
    ),
    focus=_focus(3413, -150000, -2250000, 0.50, 0.47),
    scenes=SceneIds((9, 11), "22WEB", 25),
)
NEW_ZEALAND = CubeSpec(
    key="newzealand",
    epsg=32759,
    mid_x=450000,
    mid_y=5250000,
    style="new",
    region=None,
    scene=Scene(
        glaciers=(
            Glacier(((0.80, 0.70), (0.72, 0.62), (0.66, 0.56)), (1.0, 0.5), 900.0, 0.6, 0.5),
            Glacier(((0.78, 0.80), (0.70, 0.74), (0.64, 0.70)), (1.0, 0.6), 700.0, 0.6, 0.4),
            Glacier(((0.86, 0.62), (0.92, 0.78), (0.96, 0.92)), (1.2, 1.0), 400.0, 0.5, 0.05),
        ),
        lakes=((0.965, 0.95, 0.03, 0.03),),
        coast=(-1.0, -1.0, -0.95),
        season_amplitude=0.25,
        season_peak_doy=20.0,
        trend_per_year=-0.03,
    ),
    focus=_focus(32759, 450000, 5250000, 0.74, 0.65),
    scenes=SceneIds((75, 90), "59GMM", 129),
)
CUBES: dict[str, CubeSpec] = {c.key: c for c in (ALASKA, PATAGONIA, HMA, GREENLAND, NEW_ZEALAND)}
