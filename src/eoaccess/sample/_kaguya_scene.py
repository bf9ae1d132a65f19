"""Observation geometry of synthetic Kaguya Terrain Camera scenes.

A scene is one JAXA Level-2B0 product: a pushbroom strip segment of ``lines`` x ``samples``
pixels taken by TC1 (looking ~15 deg forward) or TC2 (backward) during one orbit. This module
turns a few planning choices (orbit, track position, local solar time, altitude) into every
number the sidecars and the STAC item carry, consistently: times (UTC, ephemeris time,
spacecraft clock), the ground footprint, Sun and view angles, spacecraft and Sun vectors.
The models are simple (spherical Moon, straight tracks, IAU rotation without nutation) but the
relations between values are the ones ISIS/JAXA use, so the files agree with each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np

Mode = Literal["monoscopic", "stereoscopic", "spsupport"]

MOON_RADIUS_M = 1737400.0
METRES_PER_DEGREE = MOON_RADIUS_M * math.pi / 180.0
GM_MOON_KM3_S2 = 4902.800066
PIXEL_PITCH_MM = 0.007
FOCAL_LENGTH_MM = {1: 72.45, 2: 72.63}
LINE_INTERVAL_S = 0.0065  # commanded line sampling interval; the "corrected" one varies ~1e-7 s
NOMINAL_SCENE_LINES = 4088  # scene-to-scene step, lines
SCENE_LINES = 4656  # lines per full scene (nominal + 568 overlap lines)
SAMPLES = {"monoscopic": 3208, "stereoscopic": 3208, "spsupport": 1744}
J2000 = datetime(2000, 1, 1, 12, tzinfo=UTC)
EXTENDED_MISSION = datetime(2008, 11, 1, tzinfo=UTC)
NOMINAL_PHASE = datetime(2007, 12, 21, tzinfo=UTC)

# (orbit, UTC) anchors from real labels: orbit numbers map to time piecewise-linearly because the
# period shrank when the orbit was lowered for the extended mission.
_ORBIT_ANCHORS = (
    (296, datetime(2007, 11, 2, 21, 29, 27, tzinfo=UTC)),
    (811, datetime(2007, 12, 15, 0, 0, 10, tzinfo=UTC)),
    (5186, datetime(2008, 12, 7, 5, 4, 34, tzinfo=UTC)),
    (7495, datetime(2009, 6, 7, 12, 50, 47, tzinfo=UTC)),
)
FIRST_ORBIT, LAST_ORBIT = 300, 7520
# Spacecraft clock = seconds since 1980-01-06 minus a slowly drifting offset (fitted on labels).
_SCLK_EPOCH = datetime(1980, 1, 6, tzinfo=UTC)
_SCLK_DRIFT = (
    (datetime(2007, 11, 2, tzinfo=UTC), 1.936),
    (datetime(2009, 6, 7, tzinfo=UTC), 14.39),
)
# Solar longitude of the Moon (ISIS SolarLongitude) on 2009-06-07 and its mean daily motion.
_LS_REF = (datetime(2009, 6, 7, 12, 50, 47, tzinfo=UTC), 136.84259)


def _seconds(t: datetime) -> float:
    return (t - J2000).total_seconds()


def orbit_time(orbit: int) -> datetime:
    """Reference UTC of ``orbit`` (equator crossing), interpolated between labelled orbits."""
    orbits = [o for o, _ in _ORBIT_ANCHORS]
    secs = [_seconds(t) for _, t in _ORBIT_ANCHORS]
    if orbit > orbits[-1]:
        slope = (secs[-1] - secs[-2]) / (orbits[-1] - orbits[-2])
        value = secs[-1] + (orbit - orbits[-1]) * slope
    else:
        value = float(np.interp(orbit, orbits, secs))
    return J2000 + timedelta(seconds=value)


def orbit_period_s(orbit: int) -> float:
    """Orbital period around ``orbit`` in seconds."""
    return (orbit_time(orbit + 1) - orbit_time(orbit)).total_seconds()


def ephemeris_time(t: datetime) -> float:
    """SPICE ephemeris time (TDB seconds past J2000) of UTC ``t`` (TT-UTC = leap seconds + 32.184)."""
    leap = 34.0 if t >= datetime(2009, 1, 1, tzinfo=UTC) else 33.0
    return _seconds(t) + leap + 32.184


def spacecraft_clock(t: datetime) -> float:
    """Kaguya spacecraft clock count (s) at UTC ``t``."""
    (t0, d0), (t1, d1) = _SCLK_DRIFT
    drift = d0 + (d1 - d0) * (t - t0).total_seconds() / (t1 - t0).total_seconds()
    return (t - _SCLK_EPOCH).total_seconds() - drift


def solar_longitude(t: datetime) -> float:
    """Heliocentric longitude of the Earth-Moon system as ISIS reports it (deg)."""
    t0, ls0 = _LS_REF
    return (ls0 + 0.98564736 * (t - t0).total_seconds() / 86400.0) % 360.0


def subsolar_latitude(t: datetime) -> float:
    """Sub-solar latitude (deg): the Sun stays within 1.54 deg of the lunar equator."""
    days = (t - _LS_REF[0]).total_seconds() / 86400.0
    return 1.54 * math.sin(2 * math.pi * days / 346.62 + math.asin(1.1261616 / 1.54))


def bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial great-circle azimuth (deg clockwise from north) from point 1 to point 2."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def destination(lat: float, lon: float, azimuth: float, angle: float) -> tuple[float, float]:
    """Point reached from (lat, lon) along ``azimuth`` after central ``angle`` (all deg)."""
    p, a, d = math.radians(lat), math.radians(azimuth), math.radians(angle)
    p2 = math.asin(math.sin(p) * math.cos(d) + math.cos(p) * math.sin(d) * math.cos(a))
    l2 = math.radians(lon) + math.atan2(
        math.sin(a) * math.sin(d) * math.cos(p), math.cos(d) - math.sin(p) * math.sin(p2)
    )
    return math.degrees(p2), math.degrees(l2) % 360.0


def central_angle(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle angle between two points (deg)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(
        math.radians(lon2 - lon1)
    )
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def body_vector(lat: float, lon: float, radius: float) -> np.ndarray:
    """Body-fixed Cartesian vector of a planetocentric point."""
    p, lam = math.radians(lat), math.radians(lon)
    return radius * np.array(
        [math.cos(p) * math.cos(lam), math.cos(p) * math.sin(lam), math.sin(p)]
    )


def moon_rotation(et: float) -> np.ndarray:
    """Rotation matrix J2000 -> Moon body-fixed (IAU 2009 mean pole and prime meridian)."""
    days = et / 86400.0
    centuries = days / 36525.0
    ra = math.radians(269.9949 + 0.0031 * centuries)
    dec = math.radians(66.5392 + 0.0130 * centuries)
    w = math.radians((38.3213 + 13.17635815 * days) % 360.0)

    def rz(a: float) -> np.ndarray:
        c, s = math.cos(a), math.sin(a)
        return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])

    def rx(a: float) -> np.ndarray:
        c, s = math.cos(a), math.sin(a)
        return np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])

    return rz(w) @ rx(math.pi / 2 - dec) @ rz(math.pi / 2 + ra)


def quaternion(matrix: np.ndarray) -> list[float]:
    """SPICE-style unit quaternion (cos, sin*axis) of a rotation matrix, first component >= 0."""
    m = matrix
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * math.sqrt(trace + 1.0)
        q = [0.25 * s, (m[1, 2] - m[2, 1]) / s, (m[2, 0] - m[0, 2]) / s, (m[0, 1] - m[1, 0]) / s]
    else:
        i = int(np.argmax([m[0, 0], m[1, 1], m[2, 2]]))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * math.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = [0.0, 0.0, 0.0, 0.0]
        q[0] = (m[j, k] - m[k, j]) / s
        q[i + 1] = 0.25 * s
        q[j + 1] = (m[i, j] + m[j, i]) / s
        q[k + 1] = (m[i, k] + m[k, i]) / s
    if q[0] < 0:
        q = [-v for v in q]
    return [float(v) for v in q]


@dataclass(frozen=True)
class Footprint:
    """Ground position of image pixels: a slightly sheared rectangle on a spherical Moon.

    Image (sample, line) maps linearly to local east/north metres around the scene centre
    (``sample_m`` across track, ``line_m`` along track, small ``heading`` and ``scan`` tilts),
    then to longitude/latitude with the local parallel's scale, so it inverts exactly.
    """

    lon: float  # centre longitude, 0-360 east
    lat: float
    samples: int
    lines: int
    sample_m: float
    line_m: float
    heading: float  # rad: along-track drift of the track from the meridian
    scan: float  # rad: tilt of a scan line from the parallel
    ascending: bool

    def _axes(self) -> np.ndarray:
        along = 1.0 if self.ascending else -1.0
        cross = np.array([math.cos(self.scan), math.sin(self.scan)]) * self.sample_m
        track = np.array([math.sin(self.heading), along * math.cos(self.heading)]) * self.line_m
        return np.column_stack([cross, track])  # [east, north] = axes @ [ds, dl]

    def ground(self, sample: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lon 0-360, lat) of image positions (pixel-edge coordinates, 0..samples/lines)."""
        axes = self._axes()
        ds = np.asarray(sample, float) - self.samples / 2
        dl = np.asarray(line, float) - self.lines / 2
        east = axes[0, 0] * ds + axes[0, 1] * dl
        north = axes[1, 0] * ds + axes[1, 1] * dl
        lat = self.lat + north / METRES_PER_DEGREE
        lon = self.lon + east / (METRES_PER_DEGREE * np.cos(np.radians(lat)))
        return lon, lat

    def image(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`ground`: (sample, line) of ground points."""
        east = (np.asarray(lon) - self.lon) * METRES_PER_DEGREE * np.cos(np.radians(lat))
        north = (np.asarray(lat) - self.lat) * METRES_PER_DEGREE
        inv = np.linalg.inv(self._axes())
        ds = inv[0, 0] * east + inv[0, 1] * north
        dl = inv[1, 0] * east + inv[1, 1] * north
        return ds + self.samples / 2, dl + self.lines / 2

    def increment(self) -> int:
        """Vertex spacing (pixels) ISIS footprintinit used: about 20 steps per half perimeter."""
        return round((self.lines + self.samples) / 20)

    def ring(self, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Closed footprint ring in image order (top edge, right, bottom, left), densified.

        With ``rng``, vertices move by a few metres as terrain relief moves the real ones.
        """
        inc = self.increment()
        s_steps = np.append(np.arange(0, self.samples, inc), self.samples).astype(float)
        l_steps = np.append(np.arange(0, self.lines, inc), self.lines).astype(float)
        n_s, n_l = len(s_steps), len(l_steps)
        s_all = np.concatenate(
            [s_steps, np.full(n_l - 1, self.samples), s_steps[::-1][1:], np.zeros(n_l - 1)]
        )
        l_all = np.concatenate(
            [np.zeros(n_s), l_steps[1:], np.full(n_s - 1, self.lines), l_steps[::-1][1:]]
        )
        lon, lat = self.ground(s_all, l_all)
        if rng is not None:
            east, north = rng.normal(0.0, 4.0, (2, len(lon)))
            lon = lon + east / (METRES_PER_DEGREE * np.cos(np.radians(lat)))
            lat = lat + north / METRES_PER_DEGREE
            lon[-1], lat[-1] = lon[0], lat[0]  # keep the ring closed
        return lon, lat


@dataclass(frozen=True)
class Scene:
    """Everything that describes one synthetic TC observation (one STAC item)."""

    product_id: str
    mode: Mode
    camera: int  # 1 (forward-looking TC1) or 2 (backward-looking TC2)
    orbit: int
    strip: int  # strip sequence number within the orbit
    scene_number: int  # scene sequence number within the strip
    ascending: bool
    footprint: Footprint
    start: datetime  # first line (caminfo StartTime, STAC start_datetime)
    exposure: str  # LONG | MIDDLE | SHORT
    altitude_km: float
    subsolar: tuple[float, float]  # (lat, lon 0-360)
    subspacecraft: tuple[float, float]
    off_nadir: float  # deg, camera boresight from nadir
    emission: float
    incidence: float
    phase: float
    sun_azimuth: float  # ground azimuth of the sub-solar point (deg from north)
    spacecraft_azimuth: float  # ground azimuth of the sub-spacecraft point
    north_azimuth: float  # ISIS image azimuth of north (270 = up)
    center_radius_m: float
    jaxa_corners: tuple[tuple[float, float], ...]  # JAXA (lat, lon) UL, UR, LL, LR

    @property
    def lines(self) -> int:
        return self.footprint.lines

    @property
    def samples(self) -> int:
        return self.footprint.samples

    @property
    def line_interval(self) -> float:
        """Corrected line sampling interval (s)."""
        return LINE_INTERVAL_S - 5.7e-8

    @property
    def end(self) -> datetime:
        """Time of the last line (caminfo EndTime, STAC end_datetime)."""
        return self.start + timedelta(seconds=self.lines * self.line_interval)

    @property
    def sclk_start_time(self) -> datetime:
        """UTC of the corrected spacecraft-clock start (ISIS StartTime), ~63 ms after ``start``."""
        return self.start + timedelta(microseconds=63438)

    @property
    def sclk_stop_time(self) -> datetime:
        return self.sclk_start_time + timedelta(seconds=(self.lines - 1) * self.line_interval)

    @property
    def local_time(self) -> float:
        """Local solar time (hours) at the scene centre."""
        return (12.0 + (self.footprint.lon - self.subsolar[1]) / 15.0) % 24.0

    @property
    def illumination(self) -> str:
        return "MORNING" if self.local_time < 12.0 else "EVENING"

    @property
    def pixel_resolution(self) -> float:
        """Camera ground sample distance at the scene centre (m), from the slant range."""
        return self.slant_distance_km * 1000.0 * PIXEL_PITCH_MM / FOCAL_LENGTH_MM[self.camera]

    @property
    def spacecraft_vector(self) -> np.ndarray:
        """Spacecraft position (body-fixed, km) at the scene centre time."""
        return body_vector(*self.subspacecraft, MOON_RADIUS_M / 1000.0 + self.altitude_km)

    @property
    def target_vector(self) -> np.ndarray:
        return body_vector(self.footprint.lat, self.footprint.lon, self.center_radius_m / 1000.0)

    @property
    def slant_distance_km(self) -> float:
        return float(np.linalg.norm(self.spacecraft_vector - self.target_vector))

    @property
    def center_time(self) -> datetime:
        return self.start + timedelta(seconds=self.lines / 2 * self.line_interval)


def view_geometry(
    lat: float,
    lon: float,
    subsolar: tuple[float, float],
    subspacecraft: tuple[float, float],
    altitude_km: float,
) -> dict[str, float]:
    """Incidence, emission, phase and ground azimuths at a point (deg), as ISIS caminfo defines."""
    incidence = central_angle(lat, lon, *subsolar)
    sun_az = bearing(lat, lon, *subsolar)
    gamma = math.radians(central_angle(lat, lon, *subspacecraft))
    r = MOON_RADIUS_M / 1000.0
    rsc = r + altitude_km
    emission = math.degrees(math.atan2(rsc * math.sin(gamma), rsc * math.cos(gamma) - r))
    sc_az = bearing(lat, lon, *subspacecraft)

    def enu(zenith: float, azimuth: float) -> np.ndarray:
        z, a = math.radians(zenith), math.radians(azimuth)
        return np.array([math.sin(z) * math.sin(a), math.sin(z) * math.cos(a), math.cos(z)])

    cos_phase = float(np.dot(enu(incidence, sun_az), enu(emission, sc_az)))
    return {
        "incidence": incidence,
        "emission": emission,
        "phase": math.degrees(math.acos(max(-1.0, min(1.0, cos_phase)))),
        "sun_azimuth": sun_az,
        "spacecraft_azimuth": sc_az,
        "off_nadir": emission - math.degrees(gamma),
    }


def ground_speed_m_s(altitude_km: float) -> float:
    """Speed of the sub-spacecraft point on a circular orbit (m/s)."""
    r = MOON_RADIUS_M / 1000.0
    return math.sqrt(GM_MOON_KM3_S2 / (r + altitude_km)) * r / (r + altitude_km) * 1000.0


def product_id(camera: int, mode: Mode, orbit: int, lat: float, lon: float) -> str:
    """JAXA L2B0 product id ``TC{1|2}{S|W}2B0_01_{orbit}{N|S}{lat*10}E{lon*10}`` (scene centre)."""
    kind = "W" if mode == "stereoscopic" else "S"
    hemi = "N" if round(lat * 10) >= 0 else "S"
    lat10 = abs(round(lat * 10))
    lon10 = round((lon % 360.0) * 10) % 3600
    return f"TC{camera}{kind}2B0_01_{orbit:05d}{hemi}{lat10:03d}E{lon10:04d}"
