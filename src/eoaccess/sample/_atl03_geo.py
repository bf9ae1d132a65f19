"""Physical models behind the ATL03 sample: orbit, beams, terrain, sun, geoid and tides.

Everything is vectorised numpy over arrays of times or positions. Times are ATLAS
``delta_time``: seconds since the ATLAS SDP epoch 2018-01-01T00:00:00Z, which is also UTC since
no leap second has been added after 2017 (GPS seconds = delta_time + 1198800018).

The orbit is an ideal 91-day exact-repeat circular orbit (1387 reference ground tracks,
inclination 92°) on a spherical Earth, calibrated on the granule of the Harmony tutorial
(seed 001), ``ATL03_20200427193622_04930702_006_02`` (RGT 493, cycle 7): its ``gt1l`` beam
reaches 40°N at 2020-04-27T19:39:45.85Z, over the northern Colorado Front Range at ~105.3°W.

The terrain is a synthetic but plausible Colorado: Great Plains at 1000-1600 m, a range front
near 105.2°W with canyons and reservoirs, and Front Range and Sawatch summits above 4000 m.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

SDP_EPOCH = dt.datetime(2018, 1, 1, tzinfo=dt.UTC)
"""ATLAS Standard Data Product epoch; ``delta_time`` counts seconds from it."""
ATLAS_SDP_GPS_EPOCH = 1198800018.0
"""GPS seconds (since 1980-01-06) at the SDP epoch, stored in ``/ancillary_data``."""

EARTH_RADIUS = 6371008.8
"""Mean Earth radius (m) of the spherical orbit model."""
SPEED_OF_LIGHT = 299792458.0
INCLINATION = np.radians(92.0)
N_RGT = 1387
"""Reference ground tracks per 91-day repeat cycle."""
NODAL_PERIOD = 91 * 86400 / N_RGT
"""Seconds per orbit (≈ 5668.7 s), so that 1387 orbits take exactly 91 days."""
MEAN_MOTION = 2 * np.pi / NODAL_PERIOD
EARTH_RATE = 2 * np.pi / 86400.0
"""Rotation of the Earth relative to the (slowly precessing) orbit plane: one turn per day."""
NODE_SHIFT = 360.0 * 91 / N_RGT
"""Westward shift (degrees) of the ascending node from one RGT to the next."""
GROUND_SPEED = EARTH_RADIUS * MEAN_MOTION
"""Along-track speed (m/s, ≈ 7060) of the reference point: the ``x`` of ``segment_dist_x``."""
SHOT_RATE = 10000.0
"""ATLAS laser pulse repetition frequency (Hz)."""
SHOTS_PER_MAJOR_FRAME = 200
"""Pulses per 50 Hz major frame (``ph_id_pulse`` runs 1..200)."""
SEGMENT_LENGTH = 20.0
"""Nominal along-track geolocation segment length (m)."""
ORBIT_NUMBER_OFFSET = 201
"""Orbits flown before cycle 1 RGT 1 (real ATL03: cycle 1 RGT 235 is orbit 436)."""
PAIR_SPACING = 3300.0
"""Across-track distance (m) between beam pairs."""
BEAM_SPACING = 90.0
"""Across-track distance (m) between the two beams of a pair."""
LEAD_OFFSET = 1250.0
"""Along-track distance (m) of each beam ahead of (or behind) its pair centre."""
DFC_POR = 22_955_500.0
"""delta_time (2018-09-23T16:31:40Z) of the ATLAS digital flow controller power-on, from which
the major frame counter ``pce_mframe_cnt`` counts (it rolls over after ~2.7 years)."""


def to_datetime(delta_time: float) -> dt.datetime:
    """UTC datetime of a ``delta_time``."""
    return SDP_EPOCH + dt.timedelta(seconds=float(delta_time))


def to_delta_time(when: dt.datetime) -> float:
    """``delta_time`` of an aware UTC datetime."""
    return (when - SDP_EPOCH).total_seconds()


def ccsds(delta_time: float, digits: int = 6) -> str:
    """CCSDS UTC-A text, e.g. ``2020-04-27T19:36:22.000000Z`` (``digits`` decimals)."""
    when = to_datetime(delta_time)
    fraction = f".{when.microsecond:06d}"[: digits + 1] if digits else ""
    return f"{when:%Y-%m-%dT%H:%M:%S}{fraction}Z"


def gps_week_sow(delta_time: float) -> tuple[int, float]:
    """GPS week number and seconds of week of a ``delta_time``."""
    gps = ATLAS_SDP_GPS_EPOCH + float(delta_time)
    week = int(gps // 604800)
    return week, gps - week * 604800


# --- orbit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pass:
    """One orbit of a reference ground track in a cycle."""

    rgt: int
    """Reference ground track 1..1387."""
    cycle: int
    """91-day repeat cycle, from 1."""
    t_node: float
    """delta_time of the ascending equator crossing."""
    lan: float
    """Longitude (degrees east) of the ascending node."""

    @property
    def orbit_number(self) -> int:
        return (self.cycle - 1) * N_RGT + self.rgt + ORBIT_NUMBER_OFFSET


def _argument_of_latitude(lat: float, ascending: bool) -> float:
    u = float(np.arcsin(np.sin(np.radians(lat)) / np.sin(INCLINATION)))
    return u if ascending else np.pi - u


def _raw_track(u: Array, t_since_node: Array) -> tuple[Array, Array]:
    lat = np.degrees(np.arcsin(np.sin(INCLINATION) * np.sin(u)))
    lon = np.degrees(
        np.arctan2(np.cos(INCLINATION) * np.sin(u), np.cos(u)) - EARTH_RATE * t_since_node
    )
    return lat, lon


def orbit_pass(rgt: int, cycle: int) -> Pass:
    """The pass of ``rgt`` in ``cycle`` of the ideal repeat orbit."""
    t_node = _NODE_TIME_RGT1 + ((cycle - 1) * N_RGT + rgt - 1) * NODAL_PERIOD
    lan = (_LAN_RGT1 - (rgt - 1) * NODE_SHIFT + 180.0) % 360.0 - 180.0
    return Pass(rgt, cycle, t_node, lan)


def along_track_at_latitude(lat: float, ascending: bool) -> float:
    """Along-track distance (m) from the ascending node where the RGT reaches ``lat``."""
    return EARTH_RADIUS * _argument_of_latitude(lat, ascending)


@dataclass(frozen=True)
class Track:
    """Points of a ground track: position, heading and ground velocity."""

    lat: Array
    lon: Array
    heading: Array
    """Azimuth of travel (radians from north, positive east)."""
    v_east: Array
    v_north: Array


def ground_track(p: Pass, x: Array) -> Track:
    """Reference ground track at along-track distances ``x`` (m from the ascending node)."""
    u = x / EARTH_RADIUS
    t = x / GROUND_SPEED
    lat, lon = _raw_track(u, t)
    lon = (lon + p.lan + 180.0) % 360.0 - 180.0
    coslat = np.cos(np.radians(lat))
    dlat = np.sin(INCLINATION) * np.cos(u) * MEAN_MOTION / coslat
    dlon = (
        MEAN_MOTION
        * np.cos(INCLINATION)
        / (np.cos(u) ** 2 + (np.cos(INCLINATION) * np.sin(u)) ** 2)
    )
    v_north = EARTH_RADIUS * dlat
    v_east = EARTH_RADIUS * coslat * (dlon - EARTH_RATE)
    return Track(lat, lon, np.arctan2(v_east, v_north), v_east, v_north)


def offset_track(track: Track, left: Array | float) -> tuple[Array, Array]:
    """Latitude and longitude of points ``left`` metres to the left of the track."""
    bearing = track.heading - np.pi / 2
    lat = track.lat + np.degrees(left * np.cos(bearing) / EARTH_RADIUS)
    lon = track.lon + np.degrees(
        left * np.sin(bearing) / (EARTH_RADIUS * np.cos(np.radians(track.lat)))
    )
    return lat, (lon + 180.0) % 360.0 - 180.0


def _calibrate() -> tuple[float, float]:
    """Node time of RGT 1 in cycle 1 and its node longitude, from the tutorial's granule.

    Its first ``gt1l`` photon north of 40°N was transmitted at 2020-04-27T19:39:45.8497Z
    (ICESat-2 flew forward: ``gt1l`` is the leading weak beam of the left pair), and the RGT
    crosses 40.5°N at 105.30°W, inside the tutorial's box.
    """
    anchor = to_delta_time(dt.datetime(2020, 4, 27, 19, 39, 45, 849700, tzinfo=dt.UTC))
    left = PAIR_SPACING + BEAM_SPACING / 2
    probe = Pass(493, 7, 0.0, 0.0)
    x = along_track_at_latitude(40.0, True)
    for _ in range(3):  # Newton steps on the footprint latitude
        track = ground_track(probe, np.array([x]))
        lat, _ = offset_track(track, left)
        dlat_dx = np.degrees(np.cos(track.heading[0])) / EARTH_RADIUS
        x += (40.0 - float(lat[0])) / dlat_dx
    node_493 = anchor - (x - LEAD_OFFSET) / GROUND_SPEED
    rgt_lon = ground_track(probe, np.array([along_track_at_latitude(40.5, True)])).lon[0]
    lan_493 = -105.30 - float(rgt_lon)
    node_1 = node_493 - ((7 - 1) * N_RGT + 492) * NODAL_PERIOD
    return node_1, lan_493 + 492 * NODE_SHIFT


_NODE_TIME_RGT1, _LAN_RGT1 = _calibrate()


def altitude_sc(lat: Array) -> Array:
    """Spacecraft height (m) above the WGS84 ellipsoid: ~486 km at the equator, ~493 km at 87°."""
    return 486000.0 + 7000.0 * np.sin(np.radians(lat)) ** 2


# --- beams -----------------------------------------------------------------------------------

BEAMS = ("gt1l", "gt1r", "gt2l", "gt2r", "gt3l", "gt3r")


@dataclass(frozen=True)
class Beam:
    """Geometry and hardware of one ground track for a spacecraft orientation."""

    name: str
    spot: int
    """ATLAS laser spot 1..6 (1, 3, 5 strong)."""
    strong: bool
    pce: int
    """Photon counting electronics card 1..3."""
    across: float
    """Nominal across-track offset (m) from the RGT, positive to the left."""
    along: float
    """Along-track offset (m) ahead of the RGT reference point at the same transmit time."""

    @property
    def channels(self) -> NDArray[np.uint8]:
        """Falling-edge channel ids of the beam's detector pixels (16 strong, 4 weak)."""
        first = 1 if self.strong else 17
        count = 16 if self.strong else 4
        return np.arange(first, first + count, dtype=np.uint8) + np.uint8(20 * (self.pce - 1))


def beams(forward: bool) -> list[Beam]:
    """The six ground tracks for an orientation: forward = weak beams on the left, leading."""
    out = []
    for i, name in enumerate(BEAMS):
        pair, left = divmod(i, 2)
        spot = 6 - i if forward else i + 1
        strong = spot % 2 == 1
        across = PAIR_SPACING * (1 - pair) + (BEAM_SPACING / 2 if left == 0 else -BEAM_SPACING / 2)
        # Forward flight: weak beams lead the strong ones; backward: strong beams lead.
        along = LEAD_OFFSET if strong != forward else -LEAD_OFFSET
        out.append(Beam(name, spot, strong, (spot + 1) // 2, across, along))
    return out


# Spacecraft orientation changes (yaw flips) of the sample mission: (delta_time, sc_orient).
ORIENTATION_CHANGES: tuple[tuple[float, int], ...] = tuple(
    (to_delta_time(dt.datetime(*when, tzinfo=dt.UTC)), orient)
    for when, orient in (
        ((2018, 9, 15, 0, 0), 1),
        ((2018, 12, 28, 14, 5), 0),
        ((2019, 9, 7, 1, 40), 1),
        ((2020, 5, 14, 15, 12), 0),
        ((2021, 1, 15, 20, 33), 1),
        ((2021, 9, 9, 11, 20), 0),
    )
)


def orientation(delta_time: float) -> tuple[int, float]:
    """``sc_orient`` (0 backward, 1 forward) at a time and the time it was last changed."""
    current = ORIENTATION_CHANGES[0]
    for change in ORIENTATION_CHANGES:
        if change[0] <= delta_time:
            current = change
    return current[1], current[0]


# --- surface ---------------------------------------------------------------------------------

# Named summits (lon, lat, orthometric height m, width deg) shaping the synthetic ranges.
_PEAKS = np.array(
    [
        (-105.615, 40.255, 4346.0, 0.05),  # Longs Peak
        (-105.643, 39.588, 4348.0, 0.05),  # Mount Evans
        (-105.044, 38.841, 4302.0, 0.06),  # Pikes Peak
        (-106.445, 39.118, 4401.0, 0.07),  # Mount Elbert
        (-105.817, 40.442, 3900.0, 0.08),  # Never Summer
        (-105.686, 40.010, 4010.0, 0.05),  # Indian Peaks
        (-105.870, 39.638, 4100.0, 0.06),  # Grays Peak
        (-106.180, 40.770, 3600.0, 0.10),  # Park Range
    ]
)

# Reservoirs and lakes (lon, lat, semi-axis lon deg, semi-axis lat deg, water level m).
WATER_BODIES = np.array(
    [
        (-105.166, 40.555, 0.006, 0.045, 1655.0),  # Horsetooth Reservoir
        (-105.216, 40.335, 0.008, 0.016, 1730.0),  # Carter Lake
        (-105.226, 40.075, 0.010, 0.008, 1590.0),  # Boulder Reservoir
        (-105.118, 39.866, 0.020, 0.012, 1665.0),  # Standley Lake
        (-105.865, 40.180, 0.040, 0.030, 2497.0),  # Lake Granby
        (-104.975, 40.470, 0.030, 0.012, 1495.0),  # Windsor-area reservoirs
    ]
)

# Fixed harmonics (wave numbers per degree, amplitude m, phase) of the terrain roughness.
_ROUGH = np.array(
    [
        (7.1, 3.3, 160.0, 0.3),
        (-4.2, 9.7, 120.0, 1.7),
        (13.5, -6.1, 90.0, 2.9),
        (-17.9, 21.3, 60.0, 4.1),
        (31.0, 11.4, 38.0, 0.9),
        (-43.7, -29.5, 24.0, 5.3),
        (71.0, 57.0, 14.0, 3.7),
        (-113.0, 97.0, 8.0, 2.2),
        (190.0, -151.0, 4.0, 1.1),
    ]
)


def _roughness(lat: Array, lon: Array) -> Array:
    out = np.zeros(np.shape(lat))
    for ku, kv, amp, phase in _ROUGH:
        out += amp * np.sin(2 * np.pi * (ku * lon + kv * lat) / 4.0 + phase)
    return out


def water_mask(lat: Array, lon: Array) -> tuple[NDArray[np.bool_], Array]:
    """Whether points lie on inland water, and the water level (m) there (NaN elsewhere)."""
    level = np.full(np.shape(lat), np.nan)
    for wlon, wlat, alon, alat, height in WATER_BODIES:
        inside = ((lon - wlon) / alon) ** 2 + ((lat - wlat) / alat) ** 2 <= 1.0
        level[inside] = height
    return ~np.isnan(level), level


def terrain(lat: Array, lon: Array) -> Array:
    """Synthetic orthometric terrain height (m) of Colorado and its surroundings.

    Detailed over Colorado; further away (large samples fly 27°N..59.5°N) it keeps the broad
    shape of the continent: plains lowering towards Texas and Alberta east of a Rocky Mountain
    front that turns north-west beyond Wyoming.
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    # Great Plains rising gently westwards to ~1600 m at the mountain front.
    lowering = 1.0 - 0.5 * np.clip((np.abs(lat - 39.0) - 3.0) / 15.0, 0.0, 1.0)
    plains = (1000.0 + 190.0 * np.clip(-102.0 - lon, -4.0, 3.2)) * lowering
    front = -105.22 - 0.06 * (lat - 40.0) - 0.75 * np.clip(lat - 41.0, 0.0, None)
    mountains = 1.0 / (1.0 + np.exp((lon - front) / 0.045))
    # Foothills and high parks behind the front, the range crest, and the named summits.
    upland = 2300.0 + 500.0 * np.clip((front - lon) / 0.5, 0.0, 1.0)
    crest = 900.0 * np.exp(-(((lon - (front - 0.42)) / 0.16) ** 2))
    rough = _roughness(lat, lon)
    high = upland + crest + rough
    # Canyons cut east-west through the foothills (Poudre, Big Thompson, St Vrain, Boulder).
    canyons = np.zeros_like(lat)
    for clat in (40.69, 40.42, 40.22, 40.01, 39.74):
        canyons += 260.0 * np.exp(-(((lat - clat) / 0.012) ** 2))
    high = np.minimum(high - canyons * np.clip((front - lon) / 0.15, 0.0, 1.0), 4400.0)
    height = plains * (1.0 - mountains) + high * mountains + rough * 0.05 * (1.0 - mountains)
    for plon, plat, summit, width in _PEAKS:
        bump = np.exp(-(((lon - plon) ** 2 + (lat - plat) ** 2) / width**2))
        height = np.maximum(height, summit * bump + (1.0 - bump) * height)
    on_water, level = water_mask(lat, lon)
    return np.where(on_water, level, height)


def canopy_height(lat: Array, lon: Array, height: Array) -> Array:
    """Tree height (m): montane and subalpine forest between 1900 and 3400 m, none elsewhere."""
    forest = (height > 1900.0) & (height < 3400.0)
    density = 0.5 + 0.5 * np.sin(2 * np.pi * (23.0 * lon + 17.0 * lat)) * np.cos(
        2 * np.pi * 11.0 * lat
    )
    return np.where(forest & (density > 0.35), 6.0 + 16.0 * density, 0.0)


def geoid(lat: Array, lon: Array) -> Array:
    """EGM2008-like geoid height (m, tide-free): about -14 to -20 m over Colorado."""
    return (
        -16.8
        + 2.2 * np.sin(np.radians((lat - 40.0) * 25.0))
        + 1.4 * np.cos(np.radians((lon + 105.0) * 18.0))
        + 0.15 * (lat - 40.0)
    )


def permanent_tide_factor(lat: Array) -> Array:
    """(3 sin²φ − 1)/2, which scales the tide-free to mean-tide conversions."""
    return (3.0 * np.sin(np.radians(lat)) ** 2 - 1.0) / 2.0


def solid_earth_tide(delta_time: Array, lat: Array, lon: Array) -> Array:
    """Solid Earth tide (m, tide-free): M2, S2, K1 and O1 constituents, up to ~±0.3 m."""
    t = np.asarray(delta_time)
    lam = np.radians(lon)
    phi = np.radians(lat)
    semi = np.cos(phi) ** 2 * (
        0.128 * np.cos(2 * np.pi * t / 44714.16 + 2 * lam + 0.6)
        + 0.060 * np.cos(2 * np.pi * t / 43200.0 + 2 * lam + 1.9)
    )
    diurnal = np.sin(2 * phi) * (
        0.075 * np.cos(2 * np.pi * t / 86164.09 + lam + 0.2)
        + 0.053 * np.cos(2 * np.pi * t / 92949.63 + lam + 2.4)
    )
    return semi + diurnal


def solar_angles(delta_time: Array, lat: Array, lon: Array) -> tuple[Array, Array]:
    """Solar elevation and azimuth (degrees, azimuth from north positive east, 0..360)."""
    n = np.asarray(delta_time) / 86400.0 + 6574.5  # days since J2000.0 (2000-01-01T12:00Z)
    mean_lon = np.radians((280.460 + 0.9856474 * n) % 360.0)
    anomaly = np.radians((357.528 + 0.9856003 * n) % 360.0)
    ecl_lon = mean_lon + np.radians(1.915 * np.sin(anomaly) + 0.020 * np.sin(2 * anomaly))
    obliquity = np.radians(23.439 - 4.0e-7 * n)
    ra = np.arctan2(np.cos(obliquity) * np.sin(ecl_lon), np.cos(ecl_lon))
    dec = np.arcsin(np.sin(obliquity) * np.sin(ecl_lon))
    gmst = np.radians((280.46061837 + 360.98564736629 * n) % 360.0)
    hour = gmst + np.radians(lon) - ra
    phi = np.radians(lat)
    elev = np.arcsin(np.sin(phi) * np.sin(dec) + np.cos(phi) * np.cos(dec) * np.cos(hour))
    azim = np.arctan2(-np.sin(hour), np.tan(dec) * np.cos(phi) - np.sin(phi) * np.cos(hour))
    return np.degrees(elev), np.degrees(azim) % 360.0
