"""Which Kaguya TC scenes the sample archive contains, and their geometry.

Scenes come in strips: consecutive scenes of one orbit pass (like the real
``TC1S2B0_01_07495N079E3030`` ... ``N143`` run), and for the stereoscopic collection the TC1
(forward) and TC2 (backward) scenes of the same ground. A fixed set of strips places items where
the USGS tutorials search (seed 003: ``[0, 0, 2.5, 2.5]`` and ``[-20, -10, 20, 10]``; seed 002:
bbox ``[3, 4, 5, 6]`` in all three collections, with Sun incidences on both sides of typical
thresholds) and some far away; larger sizes add random strips around the whole Moon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from eoaccess.sample._kaguya_scene import (
    EXTENDED_MISSION,
    FIRST_ORBIT,
    FOCAL_LENGTH_MM,
    LAST_ORBIT,
    LINE_INTERVAL_S,
    METRES_PER_DEGREE,
    MOON_RADIUS_M,
    NOMINAL_SCENE_LINES,
    PIXEL_PITCH_MM,
    SAMPLES,
    SCENE_LINES,
    Footprint,
    Mode,
    Scene,
    body_vector,
    ground_speed_m_s,
    orbit_period_s,
    orbit_time,
    product_id,
    subsolar_latitude,
    view_geometry,
)

MODES: tuple[Mode, ...] = ("monoscopic", "stereoscopic", "spsupport")
SYNODIC_DEG_PER_DAY = 360.0 / 29.530589  # westward drift of the sub-solar longitude


@dataclass(frozen=True)
class Strip:
    """One orbit pass imaged by the camera(s): ``scenes`` consecutive scenes along track."""

    mode: Mode
    orbit: int
    lon: float  # track longitude (0-360 east) at the first scene centre
    lat: float  # first scene centre latitude
    scenes: int
    local_time: float  # local solar time (h) at the first scene; sets the Sun geometry
    ascending: bool = False
    cameras: tuple[int, ...] = (1,)
    last_lines: int = SCENE_LINES  # a strip that stops early ends with a shorter scene


# Strips present at every size (positions fixed, details seeded). Local times are chosen so the
# seed-002 bbox holds both high-Sun (incidence ~27 deg) and low-Sun (~75 deg) observations.
FIXED_STRIPS: tuple[Strip, ...] = (
    Strip("monoscopic", 5524, 1.9, 2.5, 2, 9.1),
    Strip("monoscopic", 5525, 0.9, 0.5, 1, 9.3),
    Strip("monoscopic", 5522, 4.2, -8.4, 1, 8.0),
    Strip("monoscopic", 7495, 303.0, 7.48, 1, 7.84, last_lines=2360),
    Strip("stereoscopic", 6210, 4.3, 5.4, 1, 10.2, cameras=(1, 2)),
    Strip("stereoscopic", 1893, 62.3, -35.0, 1, 15.4, ascending=True, cameras=(1, 2)),
    Strip("spsupport", 3377, 3.6, 4.5, 1, 7.0),
    Strip("spsupport", 2741, 4.9, 7.0, 1, 8.6),
    Strip("spsupport", 811, 44.3, 52.6, 1, 6.9, ascending=True),
)


def items_of(strip: Strip) -> int:
    return strip.scenes * len(strip.cameras)


def _seam_safe_lon(lon: float, lat: float, half_width_deg: float) -> float:
    """Move a track longitude so the strip stays clear of 0/360 (the CRS seam) and 180 E."""
    # Scenes widen in longitude towards the poles, and a 4-scene strip drifts ~5 km sideways.
    widest = min(abs(lat) + 6.0, 85.0)
    margin = (half_width_deg + 0.3) / math.cos(math.radians(widest))
    for seam in (0.0, 180.0, 360.0):
        if abs(lon - seam) < margin:
            lon = seam + margin if lon >= seam else seam - margin
    return lon % 360.0


def random_strips(counts: dict[Mode, int], rng: np.random.Generator) -> list[Strip]:
    """Random strips adding up to ``counts`` items per collection (beyond the fixed strips)."""
    strips: list[Strip] = []
    for mode in MODES:
        remaining = counts[mode]
        while remaining > 0:
            cameras = (1, 2) if mode == "stereoscopic" else (int(rng.choice([1, 1, 1, 2])),)
            per_scene = len(cameras)
            scenes = int(min(rng.integers(1, 5), max(1, remaining // per_scene)))
            region = rng.random()
            if region < 0.2:  # around the seed-002 bbox
                lon, lat = rng.uniform(2.6, 5.4), rng.uniform(3.5, 6.5)
            elif region < 0.5:  # the seed-003 area of interest
                lon, lat = rng.uniform(-19.0, 19.0) % 360.0, rng.uniform(-9.5, 9.5)
            else:
                lon, lat = rng.uniform(0.0, 360.0), rng.uniform(-70.0, 70.0)
            half_width = SAMPLES[mode] * 10.5 / 2 / METRES_PER_DEGREE
            morning = rng.random() < 0.75
            local = rng.uniform(6.3, 11.3) if morning else rng.uniform(12.7, 17.7)
            partial = rng.random() < 0.25
            strips.append(
                Strip(
                    mode=mode,
                    orbit=int(rng.integers(FIRST_ORBIT, LAST_ORBIT + 1)),
                    lon=_seam_safe_lon(lon, lat, half_width),
                    lat=lat,
                    scenes=scenes,
                    local_time=local,
                    ascending=bool(rng.random() < 0.3),
                    cameras=cameras,
                    last_lines=int(rng.integers(30, 101)) * 40 if partial else SCENE_LINES,
                )
            )
            remaining -= scenes * per_scene
    return strips


def build_strip(strip: Strip, rng: np.random.Generator) -> list[Scene]:
    """The scenes of one strip, with consistent times, footprints and Sun/view geometry."""
    t_eq = orbit_time(strip.orbit)
    rate = 360.0 / orbit_period_s(strip.orbit)  # degrees of latitude per second
    extended = t_eq >= EXTENDED_MISSION
    altitude = float(rng.uniform(30.0, 85.0) if extended else rng.uniform(88.0, 115.0))
    line_m = ground_speed_m_s(altitude) * LINE_INTERVAL_S
    heading = math.radians(rng.uniform(0.4, 1.5) * rng.choice([-1.0, 1.0]))
    scan = math.radians(rng.uniform(0.3, 1.1) * rng.choice([-1.0, 1.0]))
    off_nadir = 15.0 + rng.uniform(0.4, 2.2)
    gamma = math.degrees(altitude * math.tan(math.radians(off_nadir)) / (MOON_RADIUS_M / 1000.0))
    roll = rng.uniform(-0.2, 0.2)  # cross-track offset of the spacecraft (central angle, deg)
    exposures = {"monoscopic": ["LONG", "MIDDLE"], "stereoscopic": ["SHORT", "MIDDLE"]}
    exposure = str(rng.choice(exposures.get(strip.mode, ["MIDDLE"])))
    along = 1.0 if strip.ascending else -1.0
    subsolar_lon0 = (strip.lon - (strip.local_time - 12.0) * 15.0) % 360.0
    tc2_shift = rng.uniform(0.12, 0.45) * rng.choice([-1.0, 1.0]) * METRES_PER_DEGREE
    strip_number = int(rng.integers(1, 6))
    first_scene = int(rng.integers(1, 60))
    scenes: list[Scene] = []
    for k in range(strip.scenes):
        lines = strip.last_lines if k == strip.scenes - 1 else SCENE_LINES
        offset = (k * NOMINAL_SCENE_LINES + lines / 2 - SCENE_LINES / 2) * line_m
        for camera in strip.cameras:
            dist = offset + (tc2_shift if camera == 2 else 0.0)
            lat = strip.lat + along * dist * math.cos(heading) / METRES_PER_DEGREE
            lon = (
                strip.lon
                + dist * math.sin(heading) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
            ) % 360.0
            # TC1 looks forward, so the spacecraft is behind the imaged ground (TC2: ahead).
            behind = -along if camera == 1 else along
            sc = (lat + behind * gamma, (lon + roll / math.cos(math.radians(lat))) % 360.0)
            seconds = sc[0] / rate * (1.0 if strip.ascending else -1.0)
            center_time = t_eq + timedelta(seconds=seconds)
            start = center_time - timedelta(seconds=lines / 2 * LINE_INTERVAL_S)
            drift = (center_time - t_eq).total_seconds() / 86400.0 * SYNODIC_DEG_PER_DAY
            subsolar = (subsolar_latitude(center_time), (subsolar_lon0 - drift) % 360.0)
            geo = view_geometry(lat, lon, subsolar, sc, altitude)
            radius = MOON_RADIUS_M + float(rng.normal(0.0, 1200.0))
            slant = float(
                np.linalg.norm(
                    body_vector(*sc, MOON_RADIUS_M / 1000.0 + altitude)
                    - body_vector(lat, lon, radius / 1000.0)
                )
            )
            sample_m = slant * 1000.0 * PIXEL_PITCH_MM / FOCAL_LENGTH_MM[camera]
            footprint = Footprint(
                lon,
                lat,
                SAMPLES[strip.mode],
                lines,
                sample_m,
                line_m,
                heading,
                scan,
                strip.ascending,
            )
            corners = []
            for s, ln in ((0, 0), (footprint.samples, 0), (0, lines), (footprint.samples, lines)):
                c_lon, c_lat = footprint.ground(np.array(float(s)), np.array(float(ln)))
                jitter = rng.normal(0.0, 0.004, 2)
                corners.append((float(c_lat) + jitter[0], (float(c_lon) + jitter[1]) % 360.0))
            c_lat = sum(c[0] for c in corners) / 4
            c_lon = sum(c[1] for c in corners) / 4
            scenes.append(
                Scene(
                    product_id=product_id(camera, strip.mode, strip.orbit, c_lat, c_lon),
                    mode=strip.mode,
                    camera=camera,
                    orbit=strip.orbit,
                    strip=strip_number,
                    scene_number=first_scene + k,
                    ascending=strip.ascending,
                    footprint=footprint,
                    start=start,
                    exposure=exposure,
                    altitude_km=altitude,
                    subsolar=subsolar,
                    subspacecraft=sc,
                    off_nadir=geo["off_nadir"],
                    emission=geo["emission"],
                    incidence=geo["incidence"],
                    phase=geo["phase"],
                    sun_azimuth=geo["sun_azimuth"],
                    spacecraft_azimuth=geo["spacecraft_azimuth"],
                    north_azimuth=(90.0 if strip.ascending else 270.0) + math.degrees(heading),
                    center_radius_m=radius,
                    jaxa_corners=tuple(corners),
                )
            )
    return scenes
