"""The synthetic San Francisco Bay of the ARPS sample: coastline, land cover, noise and sun.

Everything is defined in world coordinates (UTM zone 10N metres, EPSG:32610), so the tiny, small,
default and large windows are consistent views of one landscape, and a pixel keeps its surface
whatever window it is seen through. The coastline is a coarse hand-drawn outline of the real Bay
(Ocean Beach, the Golden Gate, the Embarcadero piers, Mission Creek, Hunters Point, Marin, Angel
and Treasure Islands, Alameda) roughened by a small domain warp; land cover comes from a few real
parks and districts plus noise, with the street grids of the city.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import numpy as np
from affine import Affine
from pyproj import Transformer
from rasterio.features import rasterize
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

EPSG = 32610
RESOLUTION = 3.0
LonLat = tuple[tuple[float, float], ...]

# --- Coastline (lon, lat), traced coarsely from the real shore; rings extend past the 24 km tile.
_SAN_FRANCISCO: LonLat = (
    (-122.4985, 37.6300), (-122.4990, 37.6600), (-122.5020, 37.6900), (-122.5055, 37.7080),
    (-122.5095, 37.7350), (-122.5110, 37.7600), (-122.5130, 37.7750), (-122.5105, 37.7805),
    (-122.5050, 37.7880), (-122.4925, 37.7880), (-122.4840, 37.7930), (-122.4790, 37.8065),
    (-122.4770, 37.8110), (-122.4660, 37.8060), (-122.4530, 37.8055), (-122.4420, 37.8075),
    (-122.4320, 37.8080), (-122.4280, 37.8095), (-122.4230, 37.8080), (-122.4170, 37.8090),
    (-122.4100, 37.8085), (-122.4040, 37.8060), (-122.3990, 37.8025), (-122.3935, 37.7960),
    (-122.3890, 37.7910), (-122.3872, 37.7885), (-122.3868, 37.7830), (-122.3870, 37.7790),
    (-122.3875, 37.7775), (-122.3870, 37.7740), (-122.3855, 37.7700), (-122.3830, 37.7650),
    (-122.3805, 37.7600), (-122.3820, 37.7520), (-122.3840, 37.7440), (-122.3790, 37.7380),
    (-122.3710, 37.7330), (-122.3600, 37.7300), (-122.3560, 37.7270), (-122.3650, 37.7200),
    (-122.3760, 37.7150), (-122.3780, 37.7090), (-122.3850, 37.7060), (-122.3880, 37.7000),
    (-122.3850, 37.6920), (-122.3780, 37.6800), (-122.3830, 37.6700), (-122.3800, 37.6620),
    (-122.3880, 37.6500), (-122.3800, 37.6300),
)  # fmt: skip
_MARIN: LonLat = (
    (-122.6300, 37.9100), (-122.6300, 37.9000), (-122.5900, 37.8650), (-122.5750, 37.8590),
    (-122.5500, 37.8400), (-122.5380, 37.8320), (-122.5295, 37.8160), (-122.5150, 37.8220),
    (-122.5000, 37.8250), (-122.4830, 37.8265), (-122.4780, 37.8320), (-122.4790, 37.8480),
    (-122.4800, 37.8580), (-122.4900, 37.8700), (-122.5000, 37.8800), (-122.5050, 37.9100),
)  # fmt: skip
_TIBURON: LonLat = (
    (-122.4750, 37.9100), (-122.4750, 37.9000), (-122.4600, 37.8800), (-122.4540, 37.8710),
    (-122.4470, 37.8700), (-122.4400, 37.8750), (-122.4300, 37.8900), (-122.4200, 37.9100),
)  # fmt: skip
_ANGEL_ISLAND: LonLat = (
    (-122.4450, 37.8650), (-122.4400, 37.8580), (-122.4300, 37.8530), (-122.4200, 37.8570),
    (-122.4180, 37.8640), (-122.4250, 37.8700), (-122.4380, 37.8700),
)  # fmt: skip
_ALCATRAZ: LonLat = ((-122.4255, 37.8255), (-122.4215, 37.8262), (-122.4220, 37.8284), (-122.4250, 37.8275))  # fmt: skip
_TREASURE_ISLAND: LonLat = (
    (-122.3780, 37.8170), (-122.3640, 37.8190), (-122.3620, 37.8310), (-122.3700, 37.8330),
    (-122.3790, 37.8240),
)  # fmt: skip
_YERBA_BUENA: LonLat = (
    (-122.3720, 37.8070), (-122.3620, 37.8060), (-122.3580, 37.8110), (-122.3650, 37.8150),
    (-122.3720, 37.8130),
)  # fmt: skip
_EAST_BAY: LonLat = (
    (-122.2500, 37.9100), (-122.3100, 37.9000), (-122.3120, 37.8700), (-122.3060, 37.8400),
    (-122.3100, 37.8250), (-122.3250, 37.8120), (-122.3300, 37.8000), (-122.3240, 37.7900),
    (-122.3300, 37.7800), (-122.3150, 37.7700), (-122.2900, 37.7650), (-122.2600, 37.7500),
    (-122.2500, 37.7300), (-122.2000, 37.7000), (-122.2000, 37.9100),
)  # fmt: skip
_LAKE_MERCED: LonLat = (
    (-122.4960, 37.7320), (-122.4880, 37.7340), (-122.4840, 37.7270), (-122.4870, 37.7180),
    (-122.4950, 37.7150), (-122.4990, 37.7220),
)  # fmt: skip
# Channels (centre lines, half width in metres): Mission Creek crosses the seed 004 AOI.
_CHANNELS: tuple[tuple[LonLat, float], ...] = (
    (((-122.3985, 37.7705), (-122.3935, 37.7740), (-122.3905, 37.7762), (-122.3860, 37.7782)), 24.0),
    (((-122.3920, 37.7428), (-122.3870, 37.7436), (-122.3820, 37.7440)), 30.0),
)  # fmt: skip
# Piers: (shore from, shore to, number, length m, width m), built out from the seawall.
_PIER_ROWS: tuple[tuple[tuple[float, float], tuple[float, float], int, float, float], ...] = (
    ((-122.3935, 37.7960), (-122.3990, 37.8025), 4, 230.0, 45.0),
    ((-122.3990, 37.8025), (-122.4100, 37.8085), 5, 260.0, 50.0),
    ((-122.3872, 37.7885), (-122.3868, 37.7800), 4, 200.0, 55.0),
    ((-122.3830, 37.7650), (-122.3840, 37.7445), 3, 300.0, 70.0),
)

# --- Land cover zones: id -> (vegetation fraction, its variability, street grid angle or None).
URBAN, DOWNTOWN, PARK, NATURAL = 1, 2, 3, 4
_ZONES: dict[int, tuple[float, float, float | None]] = {
    URBAN: (0.17, 0.12, 0.0),
    DOWNTOWN: (0.04, 0.04, 45.0),  # SoMa's grid runs parallel to Market Street
    PARK: (0.82, 0.15, None),
    NATURAL: (0.55, 0.25, None),  # coastal scrub and grass of the Headlands and islands
}
_ZONE_POLYGONS: tuple[tuple[int, LonLat], ...] = (
    (NATURAL, _MARIN),
    (NATURAL, _TIBURON),
    (NATURAL, _ANGEL_ISLAND),
    (DOWNTOWN, ((-122.4100, 37.7980), (-122.3930, 37.7960), (-122.3860, 37.7880),
                (-122.3860, 37.7720), (-122.4060, 37.7700), (-122.4180, 37.7780),
                (-122.4150, 37.7900))),
    (PARK, ((-122.5110, 37.7655), (-122.4540, 37.7660), (-122.4540, 37.7745), (-122.5110, 37.7740))),
    (PARK, ((-122.4850, 37.7860), (-122.4470, 37.7880), (-122.4470, 37.8050), (-122.4850, 37.8090))),
    (PARK, ((-122.5050, 37.7810), (-122.4920, 37.7810), (-122.4920, 37.7880), (-122.5050, 37.7880))),
    (PARK, ((-122.5020, 37.7000), (-122.4850, 37.7000), (-122.4850, 37.7140), (-122.5020, 37.7140))),
    (PARK, ((-122.4600, 37.7500), (-122.4440, 37.7490), (-122.4430, 37.7620), (-122.4590, 37.7630))),
    (PARK, ((-122.4320, 37.7130), (-122.4170, 37.7120), (-122.4160, 37.7240), (-122.4310, 37.7250))),
    (PARK, ((-122.4180, 37.7410), (-122.4110, 37.7410), (-122.4110, 37.7450), (-122.4180, 37.7450))),
    # Small city parks of the seed 004 AOI: Dolores, Buena Vista, Alamo Square, Duboce,
    # Jefferson Square, Franklin Square, Potrero Hill, Corona Heights.
    (PARK, ((-122.4283, 37.7580), (-122.4255, 37.7582), (-122.4258, 37.7612), (-122.4286, 37.7610))),
    (PARK, ((-122.4425, 37.7670), (-122.4390, 37.7672), (-122.4392, 37.7702), (-122.4427, 37.7700))),
    (PARK, ((-122.4365, 37.7752), (-122.4337, 37.7755), (-122.4340, 37.7772), (-122.4368, 37.7769))),
    (PARK, ((-122.4340, 37.7687), (-122.4290, 37.7692), (-122.4291, 37.7697), (-122.4341, 37.7692))),
    (PARK, ((-122.4268, 37.7813), (-122.4240, 37.7816), (-122.4243, 37.7836), (-122.4271, 37.7833))),
    (PARK, ((-122.4098, 37.7640), (-122.4070, 37.7641), (-122.4071, 37.7660), (-122.4099, 37.7659))),
    (PARK, ((-122.3990, 37.7578), (-122.3955, 37.7580), (-122.3956, 37.7602), (-122.3991, 37.7600))),
    (PARK, ((-122.4395, 37.7640), (-122.4365, 37.7642), (-122.4367, 37.7662), (-122.4397, 37.7660))),
)  # fmt: skip
_LAND: tuple[LonLat, ...] = (
    _SAN_FRANCISCO, _MARIN, _TIBURON, _ANGEL_ISLAND, _ALCATRAZ, _TREASURE_ISLAND, _YERBA_BUENA,
    _EAST_BAY,
)  # fmt: skip
_GOLDEN_GATE_EASTING = 544_300.0  # Pacific (clear) water west of it, Bay (turbid) water east


@dataclass(frozen=True)
class Window:
    """A north-up grid of square pixels in EPSG:32610."""

    west: float
    north: float
    width: int
    height: int
    res: float = RESOLUTION

    @property
    def transform(self) -> Affine:
        return Affine(self.res, 0.0, self.west, 0.0, -self.res, self.north)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in metres."""
        return (
            self.west,
            self.north - self.height * self.res,
            self.west + self.width * self.res,
            self.north,
        )

    @property
    def x(self) -> np.ndarray:
        """Eastings of the pixel centres, one per column."""
        return self.west + (np.arange(self.width) + 0.5) * self.res

    @property
    def y(self) -> np.ndarray:
        """Northings of the pixel centres, one per row."""
        return self.north - (np.arange(self.height) + 0.5) * self.res

    def padded(self, pad: int) -> Window:
        """The same grid grown by ``pad`` pixels on every side."""
        return Window(
            self.west - pad * self.res,
            self.north + pad * self.res,
            self.width + 2 * pad,
            self.height + 2 * pad,
            self.res,
        )


@cache
def _to_utm() -> Transformer:
    return Transformer.from_crs(4326, EPSG, always_xy=True)


@cache
def _to_lonlat() -> Transformer:
    return Transformer.from_crs(EPSG, 4326, always_xy=True)


def to_utm(lon: float, lat: float) -> tuple[float, float]:
    """Project a WGS84 point to EPSG:32610."""
    x, y = _to_utm().transform(lon, lat)
    return float(x), float(y)


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    """Unproject an EPSG:32610 point to WGS84 (lon, lat)."""
    lon, lat = _to_lonlat().transform(x, y)
    return float(lon), float(lat)


def _polygon(ring: LonLat) -> Polygon:
    lon, lat = np.array(ring, dtype=float).T
    x, y = _to_utm().transform(lon, lat)
    return Polygon(np.column_stack([x, y]))


def _piers(land: BaseGeometry) -> list[Polygon]:
    """Rectangles built out from the seawall into the water (which side is water is found)."""
    piers = []
    for start, end, count, length, width in _PIER_ROWS:
        a, b = np.array(to_utm(*start)), np.array(to_utm(*end))
        along = (b - a) / np.linalg.norm(b - a)
        for i in range(count):
            root = a + (b - a) * (i + 0.5) / count
            for normal in (np.array([along[1], -along[0]]), np.array([-along[1], along[0]])):
                if not land.contains(LineString([root + 30 * normal, root + 40 * normal])):
                    break
            half = along * width / 2
            base = root - 15 * normal  # anchored a little inland so the pier joins the shore
            tip = root + length * normal
            piers.append(Polygon([base - half, base + half, tip + half, tip - half]))
    return piers


@dataclass(frozen=True)
class WorldShapes:
    """The world's vector layers in EPSG:32610."""

    land: tuple[BaseGeometry, ...]
    inland_water: tuple[BaseGeometry, ...]
    piers: tuple[BaseGeometry, ...]
    zones: tuple[tuple[int, BaseGeometry], ...]


@cache
def world_shapes() -> WorldShapes:
    """Project the coastline, channels, piers and land-cover zones once per process."""
    land = tuple(_polygon(ring) for ring in _LAND)
    water: list[BaseGeometry] = [_polygon(_LAKE_MERCED)]
    for line, half_width in _CHANNELS:
        lon, lat = np.array(line, dtype=float).T
        x, y = _to_utm().transform(lon, lat)
        water.append(LineString(np.column_stack([x, y])).buffer(half_width, cap_style="flat"))
    zones = tuple((zone, _polygon(ring)) for zone, ring in _ZONE_POLYGONS)
    return WorldShapes(land, tuple(water), tuple(_piers(land[0])), zones)


# --- Deterministic noise on a world lattice (same value at the same place in every window).


def _hash_unit(ix: np.ndarray, iy: np.ndarray, key: int) -> np.ndarray:
    """Uniform values in [-1, 1) for integer lattice points (splitmix64 of the coordinates)."""
    h = ix.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    h = h ^ (iy.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)) ^ np.uint64(key)
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    h = h ^ (h >> np.uint64(31))
    return ((h >> np.uint64(40)).astype(np.float32) * np.float32(2.0**-23) - 1).astype(np.float32)


def _lerp(values: np.ndarray, u: np.ndarray, v: np.ndarray, smooth: bool) -> np.ndarray:
    """Interpolate ``values[row, col]`` at fractional columns ``u`` and rows ``v`` (separably)."""
    i0, j0 = np.floor(u).astype(np.intp), np.floor(v).astype(np.intp)
    fu, fv = (u - i0).astype(np.float32), (v - j0).astype(np.float32)
    if smooth:  # smoothstep hides the lattice
        fu, fv = fu * fu * (3 - 2 * fu), fv * fv * (3 - 2 * fv)
    rows = values[:, i0] * (1 - fu) + values[:, i0 + 1] * fu  # along x first: small
    out = rows[j0]  # then along y, in place: these arrays are the size of the window
    out *= (1 - fv)[:, None]
    below = rows[j0 + 1]
    below *= fv[:, None]
    out += below
    return out


def value_noise(x: np.ndarray, y: np.ndarray, scale: float, key: int) -> np.ndarray:
    """Smooth noise in [-1, 1] with features of ``scale`` metres, on the grid ``y`` × ``x``."""
    u, v = x / scale, y / scale
    ii = np.arange(np.floor(u.min()), np.floor(u.max()) + 2).astype(np.int64)
    jj = np.arange(np.floor(v.min()), np.floor(v.max()) + 2).astype(np.int64)
    lattice = _hash_unit(ii[None, :], jj[:, None], key)
    return _lerp(lattice, u - ii[0], v - jj[0], smooth=True)


def fbm(
    x: np.ndarray, y: np.ndarray, octaves: tuple[tuple[float, float], ...], key: int
) -> np.ndarray:
    """Sum of value noise octaves given as (scale in metres, amplitude).

    When even the finest octave is many pixels wide, the sum is evaluated on a coarser world
    lattice and interpolated once: same picture, a fraction of the work on big windows.
    """
    step = min(scale for scale, _ in octaves) / 6
    pixel = float(abs(x[1] - x[0])) if x.size > 1 else step
    if step >= 2 * pixel:
        xs = np.arange(np.floor(x.min() / step) - 1, np.floor(x.max() / step) + 3) * step
        ys = np.arange(np.floor(y.min() / step) - 1, np.floor(y.max() / step) + 3) * step
        coarse = fbm(xs, ys, octaves, key)  # the lattice step is 1/6 of the finest scale
        return _lerp(coarse, (x - xs[0]) / step, (y - ys[0]) / step, smooth=False)
    out = np.zeros((y.size, x.size), dtype=np.float32)
    for k, (scale, amplitude) in enumerate(octaves):
        out += np.float32(amplitude) * value_noise(x, y, scale, key + 7919 * k)
    return out


def box_blur(a: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)² square, valid part only (output is ``2r`` smaller on each axis)."""
    k = 2 * radius + 1
    c = np.cumsum(np.cumsum(a, axis=0, dtype=np.float64), axis=1)
    c = np.pad(c, ((1, 0), (1, 0)))
    s = c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]
    return (s / (k * k)).astype(np.float32)


# --- The static surface of a window.


@dataclass(frozen=True)
class Landscape:
    """What the ground of one window is made of (arrays of the window's shape)."""

    waterness: np.ndarray
    """0 on land, 1 in open water, a ramp across the intertidal shore (float32)."""
    ocean: np.ndarray
    """1 for clear Pacific water, 0 for turbid Bay water (float32)."""
    vegetation: np.ndarray
    """Vegetation fraction of the land surface, 0–1 (float32)."""
    street: np.ndarray
    """Asphalt of the street grid (bool)."""
    brightness: np.ndarray
    """Roof and ground brightness texture around 1 (float32)."""
    tint: np.ndarray
    """Red-tile (positive) versus grey (negative) roofs, -1–1 (float32)."""


SHORE_BLUR = 6  # pixels: width of the intertidal ramp on each side of the shoreline
_WARP_OCTAVES = ((320.0, 11.0), (70.0, 4.0))  # metres: the shore wiggles by up to ~15 m


def build_landscape(window: Window, key: int) -> Landscape:
    """Rasterize the world into ``window``: warped coastline, land-cover zones, streets, textures."""
    shapes = world_shapes()
    pad = SHORE_BLUR + 6
    outer = window.padded(pad)
    shape = (outer.height, outer.width)
    land = rasterize(
        [(g, 1) for g in shapes.land], out_shape=shape, transform=outer.transform, dtype="uint8"
    )
    if shapes.inland_water:
        wet = rasterize(
            [(g, 1) for g in shapes.inland_water],
            out_shape=shape,
            transform=outer.transform,
            dtype="uint8",
        )
        land[wet == 1] = 0
    if shapes.piers:
        built = rasterize(
            [(g, 1) for g in shapes.piers],
            out_shape=shape,
            transform=outer.transform,
            dtype="uint8",
        )
        land[built == 1] = 1
    # Domain warp: sample the rasterized coastline a few metres off, so straight segments wiggle.
    dx = fbm(outer.x, outer.y, _WARP_OCTAVES, key + 1) / window.res
    dy = fbm(outer.x, outer.y, _WARP_OCTAVES, key + 2) / window.res
    rows = np.clip(np.rint(np.arange(shape[0])[:, None] + dy), 0, shape[0] - 1).astype(np.intp)
    cols = np.clip(np.rint(np.arange(shape[1])[None, :] + dx), 0, shape[1] - 1).astype(np.intp)
    water = 1.0 - land[rows, cols].astype(np.float32)
    del rows, cols, dx, dy
    inner = pad - SHORE_BLUR
    waterness = box_blur(water[inner:-inner, inner:-inner], SHORE_BLUR)

    zone = rasterize(
        [(g, URBAN) for g in shapes.land] + [(g, z) for z, g in shapes.zones],
        out_shape=(window.height, window.width),
        transform=window.transform,
        dtype="uint8",
        fill=URBAN,
    )
    x, y = window.x, window.y
    base = np.array([0.0] + [_ZONES[z][0] for z in sorted(_ZONES)], dtype=np.float32)[zone]
    spread = np.array([0.0] + [_ZONES[z][1] for z in sorted(_ZONES)], dtype=np.float32)[zone]
    texture = fbm(x, y, ((400.0, 0.6), (90.0, 0.3), (24.0, 0.2)), key + 3)
    vegetation = np.clip(base + spread * texture + 0.05 * value_noise(x, y, 6.0, key + 4), 0, 1)

    street = np.zeros(zone.shape, dtype=bool)
    for z, (_, _, angle) in _ZONES.items():
        if angle is None:
            continue
        a = math.radians(angle)
        u = x[None, :] * math.cos(a) - y[:, None] * math.sin(a)
        v = x[None, :] * math.sin(a) + y[:, None] * math.cos(a)
        grid = (np.mod(u, 118.0) < 15.0) | (np.mod(v, 86.0) < 13.0)  # SF blocks, ~14 m streets
        street |= grid & (zone == z)
    vegetation[street] *= 0.3  # street trees only

    # Roofs and yards vary over a few pixels (buildings), not pixel by pixel: the imagery is
    # resampled from ~3.7 m ground sampling, so neighbouring pixels are correlated.
    brightness = (
        1 + 0.18 * value_noise(x, y, 14.0, key + 5) + 0.06 * value_noise(x, y, 5.0, key + 6)
    )
    tint = value_noise(x, y, 18.0, key + 7)
    # Clear ocean water mixes with the Bay's through the Golden Gate along a ragged front.
    front = _GOLDEN_GATE_EASTING + fbm(x, y, ((4000.0, 900.0), (1200.0, 300.0)), key + 8)
    ocean = np.clip((front - x[None, :]) / 1500.0 + 0.5, 0, 1).astype(np.float32)
    return Landscape(waterness, ocean, vegetation.astype(np.float32), street, brightness, tint)


# --- Sun position (NOAA's approximation; good to a few tenths of a degree).


def solar_angles(when: datetime, lon: float, lat: float) -> tuple[float, float]:
    """Solar azimuth (degrees from north, clockwise) and elevation at a UTC time and place."""
    hours = when.hour + when.minute / 60 + (when.second + when.microsecond / 1e6) / 3600
    g = 2 * math.pi / 365 * (when.timetuple().tm_yday - 1 + (hours - 12) / 24)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(g)
        - 0.032077 * math.sin(g)
        - 0.014615 * math.cos(2 * g)
        - 0.040849 * math.sin(2 * g)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(g)
        + 0.070257 * math.sin(g)
        - 0.006758 * math.cos(2 * g)
        + 0.000907 * math.sin(2 * g)
        - 0.002697 * math.cos(3 * g)
        + 0.00148 * math.sin(3 * g)
    )
    hour_angle = math.radians((hours * 60 + eqtime + 4 * lon) / 4 - 180)
    phi = math.radians(lat)
    cos_zenith = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(
        hour_angle
    )
    elevation = 90 - math.degrees(math.acos(max(-1.0, min(1.0, cos_zenith))))
    azimuth = math.degrees(
        math.atan2(
            math.sin(hour_angle),
            math.cos(hour_angle) * math.sin(phi) - math.tan(decl) * math.cos(phi),
        )
    )
    return (azimuth + 180) % 360, elevation
