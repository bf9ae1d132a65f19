"""Daily ARPS tiles of the sample: which days exist, which PlanetScope scenes built them, pixels.

An ARPS tile of one day is a composite of PlanetScope ortho scenes: consecutive frames of one or
two satellite strips (passes), each frame a scene with its own id, acquisition time and sun angles.
``plan_month`` draws that history (missing days, sky, coverage, tide, turbidity after a storm,
greening after the first rains); ``render_day`` turns one day into the SR and QA rasters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import numpy as np
from rasterio.features import rasterize
from shapely import box, unary_union
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from eoaccess.sample._arps_world import Landscape, Window, fbm, solar_angles, to_lonlat
from eoaccess.sample._common import rng_for

Sky = Literal["clear", "partial", "overcast"]

# PlanetScope satellites: SuperDove (PSB.SD, ids YYYYMMDD_HHMMSS_FF_SSSS) and Dove-R (PS2.SD,
# ids YYYYMMDD_HHMMSS_SSSS), with their swath in metres.
_SUPERDOVES = ("2402", "2407", "240c", "241d", "2423", "2427", "242d", "2439", "2442", "2449",
               "2463", "247d", "2480", "2495", "24a3", "24a7", "24b5", "24c3", "24cf", "24e1",
               "24f3", "2505", "2507", "2514", "251c", "2527")  # fmt: skip
_DOVE_RS = ("1003", "1009", "100a", "1014", "101e", "1025", "1040", "1048", "105c", "1062")
_GROUND_SPEED = 7100.0  # m/s of the sub-satellite point: frame pitch = speed × frame interval
_SWATH = {"superdove": 32_500.0, "dove_r": 24_600.0}
# Seconds of day (UTC) of the first frame of a pass: San Francisco sees 18:00-19:30 overpasses.
_FIRST_OVERPASS = (18 * 3600, 19 * 3600 + 29 * 60)
_MAX_SCENE_VALUE = 599  # seed 004 histograms the traceability band over range(600)
NONE_VALUE = 0  # scene_mask value of pixels no scene covers, listed as None[0]

# Reflectance (×1, blue green red nir) of the surfaces and of clouds.
_VEG_GREEN = np.array([0.030, 0.066, 0.040, 0.345], dtype=np.float32)
_VEG_DRY = np.array([0.060, 0.086, 0.112, 0.232], dtype=np.float32)
_ROOF = np.array([0.088, 0.102, 0.116, 0.178], dtype=np.float32)
_ROOF_TINT = np.array([-0.010, -0.006, 0.030, 0.012], dtype=np.float32)  # red clay tiles
_ASPHALT = np.array([0.068, 0.076, 0.082, 0.104], dtype=np.float32)
_MUD = np.array([0.052, 0.062, 0.068, 0.086], dtype=np.float32)
_BAY = np.array([0.048, 0.062, 0.046, 0.020], dtype=np.float32)
_SEDIMENT = np.array([0.012, 0.030, 0.048, 0.030], dtype=np.float32)  # added by full turbidity
_OCEAN = np.array([0.042, 0.049, 0.024, 0.011], dtype=np.float32)
_CLOUD = np.array([0.470, 0.452, 0.440, 0.462], dtype=np.float32)
_NOISE = np.array([0.0010, 0.0009, 0.0010, 0.0014], dtype=np.float32)  # sensor noise, 1 sigma
_CLOUD_MASK_ALPHA = 0.3  # cloud opacity from which ARPS flags a pixel as not clear
_SHADOW_MASK = 0.35  # shadow strength from which ARPS flags a pixel as not clear
_CHUNK_ROWS = 256  # rows composited at a time: big windows stay cache-friendly


@dataclass(frozen=True)
class Scene:
    """One PlanetScope ortho scene contributing pixels to a tile."""

    scene_id: str
    """PSScene id, e.g. ``20231102_190003_53_2495``."""
    value: int
    """Its value in the ``scene_mask`` layer."""
    acquired: datetime
    """Acquisition time (UTC) encoded in the id."""
    footprint: Polygon
    """Frame footprint in EPSG:32610."""
    gain: float
    """Residual radiometric difference to its neighbours (seams stay faintly visible)."""
    sun_azimuth: float
    sun_elevation: float


@dataclass(frozen=True)
class DayPlan:
    """Everything that decides the pixels of one daily tile."""

    day: date
    sky: Sky
    cloud_fraction: float
    """Fraction of the window flagged as cloud (0 on clear days)."""
    strips: tuple[tuple[Scene, ...], ...]
    """Scenes by satellite pass, in painting order (the first strip lies underneath)."""
    coverage: BaseGeometry
    """Part of the window with data: union of the frames clipped to the window (EPSG:32610)."""
    tide: float
    """Water level at the overpass, -1 (low) to 1 (high)."""
    turbidity: float
    """Suspended sediment of the Bay, 0 (clear) to 1 (after a storm)."""
    greenness: float
    """Vegetation state, 0 (dry summer grass) to 1 (green after the rains)."""
    created: datetime
    """When ARPS processed the tile (the QA ``CREATED`` tag)."""

    @property
    def scenes(self) -> tuple[Scene, ...]:
        return tuple(s for strip in self.strips for s in strip)


def _sky_schedule(rng: np.random.Generator, n_days: int) -> list[Sky | None]:
    """Sky of each day (None: no tile). The first six days always hold every case."""
    first: list[Sky | None] = ["clear", "clear", "partial", "overcast", None, None]
    order = rng.permutation(len(first))
    days = [first[i] for i in order]
    kinds: list[Sky | None] = [None, "clear", "partial", "overcast"]
    for _ in range(6, n_days):
        days.append(kinds[rng.choice(4, p=[0.35, 0.35, 0.2, 0.1])])
    return days[:n_days]


def _scene_id(when: datetime, satellite: str, superdove: bool) -> str:
    stamp = when.strftime("%Y%m%d_%H%M%S")
    return (
        f"{stamp}_{when.microsecond // 10_000:02d}_{satellite}"
        if superdove
        else f"{stamp}_{satellite}"
    )


@dataclass(frozen=True)
class _Pass:
    """One satellite pass over the window."""

    satellite: str
    superdove: bool
    start: float
    """Acquisition time of its northernmost frame, seconds after midnight UTC."""
    first_value: int
    """``scene_mask`` value of its first frame; later frames count up."""


def _passes(rng: np.random.Generator, count: int) -> list[_Pass]:
    """``count`` passes by different satellites, at least 15 minutes apart, in the overpass hours."""
    passes: list[_Pass] = []
    bases = rng.permutation(np.arange(1, _MAX_SCENE_VALUE - 40, 40))
    start = float(rng.uniform(*_FIRST_OVERPASS))
    for i in range(count):
        superdove = rng.random() < 0.85
        names = [
            n
            for n in (_SUPERDOVES if superdove else _DOVE_RS)
            if n not in {p.satellite for p in passes}
        ]
        while i and abs(start - passes[0].start) < 900:  # another pass, at least 15 min apart
            start = float(rng.uniform(*_FIRST_OVERPASS))
        if not superdove:
            start = float(round(start))  # Dove-R ids have whole seconds: frames 1 s apart
        value = int(bases[i] + rng.integers(0, 20))
        passes.append(_Pass(str(rng.choice(names)), superdove, start, value))
    return passes


def _strip(
    rng: np.random.Generator,
    window: Window,
    day: date,
    sat: _Pass,
    across: tuple[float, float] | None,
    axes: tuple[np.ndarray, np.ndarray],
) -> tuple[Scene, ...]:
    """The frames of one satellite pass that touch the window, northernmost (earliest) first.

    ``across`` is the strip's extent across track relative to the window centre (None: centred
    on a random offset wide enough to cover it); ``axes`` are the along- and across-track unit
    vectors. One frame boundary always crosses the window, so a strip brings at least two scenes.
    """
    superdove, satellite, start, first_value = (
        sat.superdove,
        sat.satellite,
        sat.start,
        sat.first_value,
    )
    interval = round(float(rng.uniform(1.9, 2.6)), 2) if superdove else 1.0
    pitch = _GROUND_SPEED * interval
    swath = _SWATH["superdove" if superdove else "dove_r"]
    along, normal = axes
    w, h = window.width * window.res, window.height * window.res
    if across is None:
        half_window = (w * abs(normal[0]) + h * abs(normal[1])) / 2
        centre = float(rng.uniform(-1, 1)) * max(0.0, swath / 2 - half_window) * 0.8
        across = (centre - swath / 2, centre + swath / 2)
    lo, hi = across
    if hi - lo > swath:  # the swath limits a strip; keep the edge facing the window's middle
        lo, hi = (hi - swath, hi) if abs(hi) < abs(lo) else (lo, lo + swath)
    west, south, east, north = window.bounds
    centre = np.array([(west + east) / 2, (south + north) / 2])
    span = (h * abs(along[1]) + w * abs(along[0])) / 2 + pitch
    seam = float(rng.uniform(-0.3, 0.3)) * h
    # Per-frame draws come from their own stream, so the number of frames (which depends on the
    # window) does not shift what the caller draws next.
    frame_rng = np.random.default_rng(int(rng.integers(2**62)))
    first = math.floor((-span - seam) / pitch)
    last = math.ceil((span - seam) / pitch)
    frame_box = box(west, south, east, north)
    frames = []
    for k in range(last, first - 1, -1):  # north to south: a descending pass images north first
        s0, s1 = seam + k * pitch, seam + (k + 1) * pitch
        corners = [
            centre + s * along + a * normal for s, a in ((s0, lo), (s0, hi), (s1, hi), (s1, lo))
        ]
        footprint = Polygon(corners)
        if footprint.intersects(frame_box):
            frames.append(footprint)
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    lon, lat = to_lonlat(*centre)
    scenes = []
    for i, footprint in enumerate(frames):
        when = base + timedelta(seconds=round(start + i * interval, 2))
        azimuth, elevation = solar_angles(when, lon, lat)
        scenes.append(
            Scene(
                scene_id=_scene_id(when, satellite, superdove),
                value=first_value + i,
                acquired=when,
                footprint=footprint,
                gain=float(1 + np.clip(frame_rng.normal(0, 0.012), -0.03, 0.03)),
                sun_azimuth=azimuth,
                sun_elevation=elevation,
            )
        )
    return tuple(scenes)


def _day_strips(
    rng: np.random.Generator, window: Window, day: date, partial: bool
) -> tuple[tuple[Scene, ...], ...]:
    """One or two passes over the window; with ``partial`` one pass leaves part of it empty."""
    heading = math.radians(rng.normal(9.5, 1.2))  # ground track of a sun-synchronous orbit
    along = np.array([math.sin(heading), math.cos(heading)])
    normal = np.array([math.cos(heading), -math.sin(heading)])
    w = window.width * window.res
    edge = float(rng.uniform(-0.25, 0.25)) * w
    far = 1e6  # "to the far side of the window"; the swath clips it
    layout = "partial" if partial else ("one" if rng.random() < 0.55 else "two")
    first, second = _passes(rng, 2)
    axes = (along, normal)
    if layout == "partial":
        across = (edge - far, edge) if rng.random() < 0.5 else (edge, edge + far)
        return (_strip(rng, window, day, first, across, axes),)
    if layout == "one":
        return (_strip(rng, window, day, first, None, axes),)
    # Two passes overlapping in the middle of the window; either may lie on top.
    overlap = 0.05 * w
    west = _strip(rng, window, day, first, (edge - far, edge + overlap), axes)
    east = _strip(rng, window, day, second, (edge - overlap, edge + far), axes)
    return (west, east) if rng.random() < 0.5 else (east, west)


def plan_month(seed: int, window: Window, days: list[date]) -> list[DayPlan | None]:
    """Draw the history of the month: one plan per day, None for days without a tile."""
    rng = rng_for(seed, "arps", "month")
    skies = _sky_schedule(rng, len(days))
    present = [i for i, s in enumerate(skies) if s is not None]
    # Some days a pass covers only part of the tile; one of the first days always does.
    partial = {i for i in present if rng.random() < 0.2}
    partial.add(int(rng.choice([i for i in present if i < 6 and skies[i] != "overcast"])))
    rain_day = int(rng.integers(9, 19))  # the first winter storm of the month
    tide_phase = float(rng.uniform(0, 12.42))
    created = datetime(2024, 11, 8, 15, 30, tzinfo=UTC)  # the backfill run
    plans: list[DayPlan | None] = []
    for i, (day, sky) in enumerate(zip(days, skies, strict=True)):
        created += timedelta(seconds=int(rng.integers(90, 400)))
        if sky is None:
            plans.append(None)
            continue
        day_rng = rng_for(seed, "arps", "plan", day.isoformat())
        strips = _day_strips(day_rng, window, day, i in partial)
        footprints = unary_union([s.footprint for strip in strips for s in strip])
        coverage = footprints.intersection(box(*window.bounds))
        if sky == "clear":
            cloud = float(day_rng.choice([0.0, day_rng.uniform(0.003, 0.03)]))
        elif sky == "partial":
            cloud = float(day_rng.uniform(0.25, 0.6))
        else:
            cloud = float(day_rng.uniform(0.86, 0.97))
        hours = (day - days[0]).days * 24 + strips[0][0].acquired.hour
        tide = math.cos(2 * math.pi * (hours - tide_phase) / 12.42) * (
            0.75 + 0.25 * math.cos(2 * math.pi * hours / (14.77 * 24))
        )
        since_rain = (day - days[0]).days + 1 - rain_day
        turbidity = 0.15 + (0.8 * math.exp(-since_rain / 3.5) if since_rain >= 0 else 0.0)
        greenness = 0.3 + 0.55 / (1 + math.exp(-(since_rain - 5) / 2.5))
        plans.append(
            DayPlan(day, sky, cloud, strips, coverage, tide, turbidity, greenness, created)
        )
    return plans


@dataclass(frozen=True)
class Rendered:
    """The rasters of one daily tile."""

    sr: np.ndarray
    """Surface reflectance ×10000, (4, h, w) int16, 0 where no scene covers."""
    qa: np.ndarray
    """(2, h, w) uint16: cloud mask (1 = clear) and scene mask (scene value, 0 = none)."""

    @property
    def percentage_clear(self) -> float:
        return float(100.0 * np.count_nonzero(self.qa[0] == 1) / self.qa[0].size)


def _cloud_field(window: Window, key: int, offset: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Cloud density of one day; ``offset`` (metres) samples the same clouds elsewhere.

    Cloud sizes scale with the window so that every window size shows whole clouds and edges.
    """
    extent = max(window.width, window.height) * window.res
    octaves = tuple(
        (max(f * extent, 3 * window.res), a)
        for f, a in ((0.45, 1.0), (0.18, 0.5), (0.07, 0.25), (0.025, 0.12))
    )
    return fbm(window.x - offset[0], window.y - offset[1], octaves, key)


def _clouds(plan: DayPlan, window: Window, key: int) -> tuple[np.ndarray, np.ndarray]:
    """Cloud opacity and cloud-shadow strength (0-1), ``plan.cloud_fraction`` of them flagged."""
    field = _cloud_field(window, key)
    sample = field[:: max(1, window.height // 256), :: max(1, window.width // 256)]
    threshold = float(np.quantile(sample, 1 - plan.cloud_fraction))
    soft = 0.2 * float(sample.std()) + 1e-6

    def opacity(density: np.ndarray) -> np.ndarray:
        # Opaque cores, thin (unflagged) haze just below the threshold.
        return np.clip((density - threshold) / soft + _CLOUD_MASK_ALPHA, 0, 1)

    cloud = opacity(field)
    # Shadows fall away from the sun: the shadow at p comes from the cloud at p - d.
    sun = math.radians(plan.scenes[0].sun_azimuth)
    length = 0.06 * max(window.width, window.height) * window.res
    d = (-length * math.sin(sun), -length * math.cos(sun))
    shadow = opacity(_cloud_field(window, key, offset=d)) * (1 - cloud)
    return cloud, shadow


def render_day(plan: DayPlan, window: Window, land: Landscape, seed: int) -> Rendered:
    """Compose the SR and QA rasters of one day from the landscape, the scenes and the sky."""
    rng = rng_for(seed, "arps", "pixels", plan.day.isoformat())
    key = int(rng.integers(1, 2**62))
    shape = (window.height, window.width)
    scene_mask = rasterize(
        [(s.footprint, s.value) for s in plan.scenes],
        out_shape=shape,
        transform=window.transform,
        fill=NONE_VALUE,
        dtype="uint16",
    )
    valid = scene_mask != NONE_VALUE
    gains = np.ones(_MAX_SCENE_VALUE + 1, dtype=np.float32)
    for s in plan.scenes:
        gains[s.value] = s.gain
    gain = gains[scene_mask]

    water = land.waterness > 0.5 - 0.3 * plan.tide  # high tide floods the intertidal ramp
    mud = (land.waterness > 0.15) & ~water
    plume = 1 + 0.35 * fbm(window.x, window.y, ((900.0, 1.0), (220.0, 0.4)), key + 11)
    if plan.cloud_fraction > 0:
        cloud, shadow = _clouds(plan, window, key + 12)
        puff = 1 + 0.12 * fbm(window.x, window.y, ((60.0, 1.0),), key + 13)
    else:
        cloud = shadow = np.zeros(shape, dtype=np.float32)
        puff = np.ones(shape, dtype=np.float32)

    sr = np.zeros((4, *shape), dtype=np.int16)
    veg_end = plan.greenness * _VEG_GREEN + (1 - plan.greenness) * _VEG_DRY
    for top in range(0, window.height, _CHUNK_ROWS):  # row bands small enough to stay in cache
        r = slice(top, top + _CHUNK_ROWS)
        veg, ocean, tint = land.vegetation[r], land.ocean[r], np.maximum(land.tint[r], 0)
        dimmed = (1 - 0.65 * shadow[r]) * (1 - cloud[r]) * gain[r]  # what reaches the sensor
        glow = cloud[r] * puff[r]  # light the clouds themselves reflect
        for b in range(4):
            roof = _ROOF[b] * land.brightness[r] + _ROOF_TINT[b] * tint
            built = np.where(land.street[r], _ASPHALT[b], roof)
            ground = veg * veg_end[b] + (1 - veg) * built
            bay = _BAY[b] + plan.turbidity * _SEDIMENT[b] * plume[r]
            sea = ocean * _OCEAN[b] + (1 - ocean) * bay
            seen = np.where(water[r], sea, np.where(mud[r], _MUD[b], ground))
            seen *= dimmed
            seen += glow * _CLOUD[b]
            seen += _NOISE[b] * rng.standard_normal(seen.shape, dtype=np.float32)
            band = np.clip(np.rint(seen * 10000), 1, 10000).astype(np.int16)
            band[~valid[r]] = 0
            sr[b, r] = band
    clear = valid & (cloud < _CLOUD_MASK_ALPHA) & (shadow < _SHADOW_MASK)
    qa = np.stack([clear.astype(np.uint16), scene_mask])
    return Rendered(sr, qa)
