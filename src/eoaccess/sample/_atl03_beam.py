"""Photon-counting simulation of one ATL03 ground track (``gtx`` group) over a span of segments.

Every 0.1 ms the laser fires; each of the six beams illuminates a ~11 m footprint. A shot
returns a Poisson number of signal photons (ground, canopy or water, 4× more for strong
beams, fewer under clouds) and of solar background photons spread over the telemetry band.
Photons are stored in transmit-time order (photons of one shot share ``delta_time``), and
grouped into the 20 m along-track geolocation segments through ``ph_index_beg`` (1-based,
0 for an empty segment) and ``segment_ph_cnt``: the photons of segment ``k`` are rows
``ph_index_beg[k] - 1 … ph_index_beg[k] + segment_ph_cnt[k] - 2``.

The real photon rates would give tens of millions of photons per granule, so a
:class:`Density` thins signal and background independently; the rates stored in
``bckgrd_atlas`` stay the physical ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from eoaccess.sample import _atl03_geo as geo
from eoaccess.sample._atl03_schema import F4_MAX

Array = NDArray[np.float64]
Columns = dict[str, NDArray[np.generic]]

RECORD_SHOTS = 50
"""Shots per ``bckgrd_atlas`` record (200 Hz)."""
ALTIMETRIC_WINDOW = 5006.534
"""Height (m) of the onboard altimetric histogram window (``bckgrd_int_height``)."""


@dataclass(frozen=True)
class Density:
    """Fractions of the physical photon rates that the sample keeps."""

    signal: float
    """Fraction of signal (surface) photons kept."""
    noise: float
    """Fraction of solar background photons kept."""


@dataclass(frozen=True)
class Segments:
    """The along-track geolocation segments of a granule, shared by the six beams."""

    first_id: int
    """``segment_id`` of the first segment."""
    bounds: Array
    """Along-track distance (m from the ascending node) of the segment edges, n + 1 values."""

    @property
    def count(self) -> int:
        return len(self.bounds) - 1

    @property
    def ids(self) -> NDArray[np.int32]:
        return np.arange(self.first_id, self.first_id + self.count, dtype=np.int32)

    @property
    def lengths(self) -> Array:
        return np.diff(self.bounds)


def make_segments(x_start: float, x_end: float) -> Segments:
    """Segments covering ``[x_start, x_end)``; lengths vary slightly (≈20.000-20.006 m)."""
    first_id = int(x_start // geo.SEGMENT_LENGTH) + 1
    n = int(np.ceil((x_end - x_start) / geo.SEGMENT_LENGTH))
    nominal = (first_id - 1 + np.arange(n)) * geo.SEGMENT_LENGTH
    # The along-track segments follow the ellipsoid, so they stretch towards the poles.
    lat = np.degrees(np.arcsin(np.sin(geo.INCLINATION) * np.sin(nominal / geo.EARTH_RADIUS)))
    lengths = geo.SEGMENT_LENGTH + 0.006 * np.sin(np.radians(lat)) ** 2
    bounds = (first_id - 1) * geo.SEGMENT_LENGTH + np.concatenate([[0.0], np.cumsum(lengths)])
    return Segments(first_id, bounds)


@dataclass(frozen=True)
class Conditions:
    """What the six beams of a granule share: the clouds below and the spacecraft pointing."""

    x0: float
    """Along-track distance (m) of the first 1 km cloud block."""
    transmittance: Array
    """Two-way cloud transmittance of each 1 km along-track block."""
    pointing_phase: float
    """Phase of the slow pointing wander that moves all six footprints together."""

    def clouds_at(self, x: Array) -> Array:
        index = np.clip(((x - self.x0) // 1000.0).astype(np.int64), 0, len(self.transmittance) - 1)
        return self.transmittance[index]


def make_conditions(rng: np.random.Generator, x_start: float, x_end: float) -> Conditions:
    """Mostly clear sky with patches of thin to thick cloud, and a random pointing phase."""
    n = int((x_end - x_start) // 1000.0) + 6
    cloudy = rng.random(n) < 0.18
    # Clouds span several blocks: smear the cloudy flags over neighbours.
    cloudy = np.convolve(cloudy, np.ones(3), mode="same") > 0
    trans = np.where(cloudy, rng.uniform(0.03, 0.7, n), 1.0)
    return Conditions(x_start - 3000.0, trans, float(rng.uniform(0.0, 2 * np.pi)))


@dataclass
class BeamData:
    """The arrays of the four groups of one ``gtx`` beam group."""

    heights: Columns
    geolocation: Columns
    geophys_corr: Columns
    bckgrd_atlas: Columns


def _shot_range(p: geo.Pass, beam: geo.Beam, segments: Segments) -> tuple[int, int]:
    """Global shot numbers [first, last) (counted from the DFC power-on) whose footprints lie
    in the segments of the granule."""

    def shot_at(x: float) -> int:
        t = p.t_node + (x - beam.along) / geo.GROUND_SPEED
        return int(np.ceil((t - geo.DFC_POR) * geo.SHOT_RATE))

    return shot_at(segments.bounds[0]), shot_at(segments.bounds[-1])


def _rolling(values: Array, half: int, reduce: np.ufunc) -> Array:
    """Running max/min over ``2 * half + 1`` neighbours (edges padded with the end values)."""
    padded = np.pad(values, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return reduce.reduce(windows, axis=1)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Footprints:
    """Where a set of shots hit the ground and what they found there."""

    t: Array
    x: Array
    across: Array
    track: geo.Track
    lat: Array
    lon: Array
    height: Array
    """Orthometric terrain height (m)."""
    surface: Array
    """Ellipsoidal height of the ground (m): what ``h_ph`` measures."""
    canopy: Array
    on_water: NDArray[np.bool_]


def _footprints(
    p: geo.Pass, beam: geo.Beam, shot: NDArray[np.int64], jitter: Array, phase: float
) -> _Footprints:
    """Footprints of the given shots; the pointing wanders by ~10 m over tens of seconds."""
    t = geo.DFC_POR + shot / geo.SHOT_RATE
    x = geo.GROUND_SPEED * (t - p.t_node) + beam.along
    across = beam.across + 11.0 * np.sin(2 * np.pi * t / 37.0 + phase) + jitter
    track = geo.ground_track(p, x)
    lat, lon = geo.offset_track(track, across)
    height = geo.terrain(lat, lon)
    on_water, _ = geo.water_mask(lat, lon)
    surface = height + geo.geoid(lat, lon)
    return _Footprints(
        t,
        x,
        across,
        track,
        lat,
        lon,
        height,
        surface,
        geo.canopy_height(lat, lon, height),
        on_water,
    )


def _poisson_shots(
    rng: np.random.Generator, rate: Array, record_of: NDArray[np.int64], n_shots: int
) -> NDArray[np.int64]:
    """Shot indices of photons when shot ``i`` returns Poisson(``rate[record_of(i)]``) photons.

    Drawn by thinning a uniform Poisson process at the peak rate, so that the cost follows
    the number of photons rather than the number of shots (10 000 a second).
    """
    peak = float(rate.max()) if len(rate) else 0.0
    if peak <= 0.0 or n_shots == 0:
        return np.zeros(0, dtype=np.int64)
    candidates = np.sort(rng.integers(0, n_shots, rng.poisson(peak * n_shots)))
    keep = (
        rng.random(len(candidates)) * peak < rate[record_of[candidates]] if len(candidates) else []
    )
    return candidates[keep]


def simulate_beam(
    p: geo.Pass,
    beam: geo.Beam,
    segments: Segments,
    conditions: Conditions,
    density: Density,
    rng: np.random.Generator,
) -> BeamData:
    """Simulate the photons, segments and background records of one beam."""
    first_shot, end_shot = _shot_range(p, beam, segments)
    n_shots = max(end_shot - first_shot, 0)
    phase = conditions.pointing_phase

    # --- segment mid-points (for the sun and empty segments) ---------------------------------
    x_mid = 0.5 * (segments.bounds[:-1] + segments.bounds[1:])
    t_mid = p.t_node + (x_mid - beam.along) / geo.GROUND_SPEED
    lat_mid, lon_mid = geo.offset_track(geo.ground_track(p, x_mid), beam.across)
    sun_elev, sun_az = geo.solar_angles(t_mid, lat_mid, lon_mid)

    # --- 200 Hz background records, the telemetry band and the photon rates ------------------
    first_record = first_shot // RECORD_SHOTS
    records = np.arange(first_record, (end_shot - 1) // RECORD_SHOTS + 1, dtype=np.int64)
    record_shot = np.clip(records * RECORD_SHOTS, first_shot, max(end_shot - 1, first_shot))
    at_record = _footprints(p, beam, record_shot, np.zeros(len(records)), phase)
    record_sun, _ = geo.solar_angles(at_record.t, at_record.lat, at_record.lon)
    bck = _background(records, at_record, record_sun, beam, rng)
    record_of = (first_shot + np.arange(n_shots)) // RECORD_SHOTS - first_record
    signal_rate = _signal_rate(beam, at_record.height, at_record.on_water) * conditions.clouds_at(
        at_record.x
    )
    noise_rate = bck["bckgrd_rate"] * 2.0 * bck["tlm_height_band1"] / geo.SPEED_OF_LIGHT
    # Along-track slope of the ground, which spreads the ground returns of a footprint.
    slope = np.zeros(len(records))
    if len(records) > 1:
        slope = np.abs(np.gradient(at_record.height, at_record.x))

    # --- photons, in transmit-time order -----------------------------------------------------
    signal_shots = _poisson_shots(rng, density.signal * signal_rate, record_of, n_shots)
    noise_shots = _poisson_shots(rng, density.noise * noise_rate, record_of, n_shots)
    all_shots = np.concatenate([signal_shots, noise_shots])
    is_signal = np.r_[np.ones(len(signal_shots), bool), np.zeros(len(noise_shots), bool)]
    order = np.lexsort((~is_signal, all_shots))  # by shot, signal photons first
    ph_index, is_signal = all_shots[order], is_signal[order]
    shots, ph_shot = np.unique(ph_index, return_inverse=True)
    fp = _footprints(p, beam, first_shot + shots, rng.normal(0.0, 0.3, len(shots)), phase)
    ph_record = record_of[ph_index]
    h_ph, quality, conf_land = _photon_heights(
        rng,
        beam,
        is_signal,
        fp.surface[ph_shot],
        fp.canopy[ph_shot],
        slope[ph_record],
        fp.on_water[ph_shot],
        bck["tlm_top_band1"][ph_record],
        bck["tlm_height_band1"][ph_record],
        record_sun[ph_record],
    )

    # Photons above or below the ground move horizontally along the slanted beam.
    lat_fp, lon_fp = fp.lat[ph_shot], fp.lon[ph_shot]
    alt = geo.altitude_sc(lat_fp)
    dh = h_ph - fp.surface[ph_shot]
    d_across = -dh * beam.across / alt
    d_along = -dh * beam.along / alt
    heading = fp.track.heading[ph_shot]
    north = d_along * np.cos(heading) - d_across * np.sin(heading)
    east = d_along * np.sin(heading) + d_across * np.cos(heading)
    lat_ph = lat_fp + np.degrees(north / geo.EARTH_RADIUS)
    lon_ph = lon_fp + np.degrees(east / (geo.EARTH_RADIUS * np.cos(np.radians(lat_fp))))

    x_ph = fp.x[ph_shot]
    seg_ph = np.clip(
        np.searchsorted(segments.bounds, x_ph, side="right") - 1, 0, segments.count - 1
    )
    dist_along = x_ph - segments.bounds[seg_ph]
    signal_conf = np.full((len(ph_index), 5), -1, dtype=np.int8)
    signal_conf[:, 0] = conf_land
    signal_conf[:, 4] = np.where(fp.on_water[ph_shot], conf_land, -1)
    channel = _channels(rng, beam, len(ph_index))
    shot_number = first_shot + ph_index
    heights_cols: Columns = {
        "delta_time": fp.t[ph_shot],
        "dist_ph_across": fp.across[ph_shot] + d_across,
        "dist_ph_along": dist_along,
        "h_ph": h_ph,
        "lat_ph": lat_ph,
        "lon_ph": lon_ph,
        "pce_mframe_cnt": (shot_number // geo.SHOTS_PER_MAJOR_FRAME) % 2**32,
        "ph_id_channel": channel,
        "ph_id_count": _event_counter(ph_index, channel),
        "ph_id_pulse": shot_number % geo.SHOTS_PER_MAJOR_FRAME + 1,
        "quality_ph": quality,
        "signal_conf_ph": signal_conf,
        "weight_ph": _weights(rng, conf_land, is_signal),
    }

    # --- geolocation segments ----------------------------------------------------------------
    count = np.bincount(seg_ph, minlength=segments.count)
    begin = np.where(count > 0, np.cumsum(count) - count + 1, 0)
    ref = _reference_photons(seg_ph, dist_along, conf_land, begin, count, segments)
    has = count > 0
    # Empty segments get the time and place of the segment middle on the beam's track.
    delta_time, ref_lat, ref_lon = t_mid.copy(), lat_mid.copy(), lon_mid.copy()
    delta_time[has] = heights_cols["delta_time"][ref[has]]
    ref_lat[has] = lat_ph[ref[has]]
    ref_lon[has] = lon_ph[ref[has]]
    geoloc, corr = _segment_fields(
        rng, p, beam, segments, delta_time, ref_lat, ref_lon, count, sun_elev, sun_az, x_mid
    )
    geoloc.update(
        {
            "ph_index_beg": begin,
            "reference_photon_index": np.where(has, ref - begin + 2, 0),  # 1-based in the segment
            "reference_photon_lat": ref_lat,
            "reference_photon_lon": ref_lon,
            "segment_ph_cnt": count,
        }
    )
    return BeamData(heights_cols, geoloc, corr, bck)


def _signal_rate(beam: geo.Beam, height: Array, on_water: NDArray[np.bool_]) -> Array:
    """Physical signal photons per shot: bright spring snow above 3300 m, dark forest below."""
    rate = np.where(height > 3300.0, 4.0, np.where(height > 1900.0, 1.1, 1.6))
    rate = np.where(on_water, 0.9, rate)
    return rate if beam.strong else rate / 4.0  # type: ignore[no-any-return]


def _background(
    records: NDArray[np.int64],
    at: _Footprints,
    sun_elev: Array,
    beam: geo.Beam,
    rng: np.random.Generator,
) -> Columns:
    """The 200 Hz ``bckgrd_atlas`` records, including the telemetry band of the records."""
    n = len(records)
    if n == 0:
        return {name: np.zeros(0) for name in _BCKGRD_NAMES}
    # Onboard parameters are computed at 50 Hz and repeated over the four 200 Hz records.
    frame = (records * RECORD_SHOTS) // geo.SHOTS_PER_MAJOR_FRAME
    frame_index = frame - frame[0]
    frame_starts = np.flatnonzero(np.r_[True, frame_index[1:] != frame_index[:-1]])
    top = np.maximum.reduceat(at.surface, frame_starts)
    bottom = np.minimum.reduceat(at.surface, frame_starts)
    mean = np.add.reduceat(at.surface, frame_starts) / np.diff(np.r_[frame_starts, n])
    half = 7  # ±1 km of 50 Hz frames: the band follows the relief ahead and behind
    top = _rolling(top, half, np.maximum) + 45.0 + at.canopy.max(initial=0.0)
    bottom = _rolling(bottom, half, np.minimum) - 35.0
    band_top = top[frame_index]
    band_height = (top - bottom)[frame_index]
    hist_top = (np.round(mean, 1) + ALTIMETRIC_WINDOW / 2.0 - 3.7)[frame_index]

    albedo = np.where(at.height > 3300.0, 0.75, np.where(at.on_water, 0.08, 0.25))
    day = np.clip(np.sin(np.radians(sun_elev)), 0.0, None) ** 1.2
    rate = (2.2e7 * day * albedo + 1.8e4) * (1.0 if beam.strong else 0.25)
    window = ALTIMETRIC_WINDOW - rng.uniform(0.0, 3.0, n) * (rate > 1e5)
    per_count = RECORD_SHOTS * 2.0 * window / geo.SPEED_OF_LIGHT
    reduced = rng.poisson(rate * per_count)
    signal = rng.poisson(RECORD_SHOTS * _signal_rate(beam, at.height, at.on_water))
    return {
        "bckgrd_counts": reduced + signal,
        "bckgrd_counts_reduced": reduced,
        "bckgrd_hist_top": hist_top,
        "bckgrd_int_height": np.full(n, ALTIMETRIC_WINDOW),
        "bckgrd_int_height_reduced": window,
        "bckgrd_rate": reduced / per_count,
        "delta_time": geo.DFC_POR + records * RECORD_SHOTS / geo.SHOT_RATE,
        "pce_mframe_cnt": frame,
        "tlm_height_band1": band_height,
        "tlm_height_band2": np.zeros(n),
        "tlm_top_band1": band_top,
        "tlm_top_band2": np.zeros(n),
    }


_BCKGRD_NAMES = (
    "bckgrd_counts",
    "bckgrd_counts_reduced",
    "bckgrd_hist_top",
    "bckgrd_int_height",
    "bckgrd_int_height_reduced",
    "bckgrd_rate",
    "delta_time",
    "pce_mframe_cnt",
    "tlm_height_band1",
    "tlm_height_band2",
    "tlm_top_band1",
    "tlm_top_band2",
)


def _photon_heights(
    rng: np.random.Generator,
    beam: geo.Beam,
    is_signal: NDArray[np.bool_],
    ground: Array,
    tree: Array,
    slope: Array,
    water: NDArray[np.bool_],
    band_top: Array,
    band_height: Array,
    sun_elev: Array,
) -> tuple[Array, NDArray[np.int8], NDArray[np.int8]]:
    """Heights, ``quality_ph`` and land signal confidence of photons (inputs are per photon)."""
    n = len(is_signal)
    # Ground returns spread with the slope inside the footprint; forests add canopy returns.
    spread = np.where(water, 0.05, np.hypot(0.12, slope * 5.5))
    in_canopy = is_signal & (tree > 0) & (rng.random(n) < 0.45)
    h = np.where(
        is_signal,
        np.where(
            in_canopy,
            ground + rng.uniform(0.5, 1.0, n) * tree,
            ground + rng.normal(0.0, 1.0, n) * spread,
        ),
        band_top - rng.random(n) * band_height,
    )
    quality = np.zeros(n, dtype=np.int8)
    if beam.strong:
        # Strong returns saturate the detectors: afterpulses and impulse-response tails below.
        u = rng.random(n)
        afterpulse = is_signal & ~in_canopy & (u < 0.008)
        tail = is_signal & ~in_canopy & (u >= 0.008) & (u < 0.012)
        h = np.where(
            afterpulse,
            h - rng.uniform(0.6, 4.2, n),
            np.where(tail, h - rng.uniform(0.2, 0.6, n), h),
        )
        quality[afterpulse] = 1
        quality[tail] = 2
    # Signal confidence: high in the dark, lower in daylight and in the canopy; background
    # photons near the surface fall in the buffer or get low confidence.
    u = rng.random(n)
    day = sun_elev > 0
    high_p = np.where(in_canopy, 0.35, np.where(day, 0.65, 0.9))
    med_p = np.where(in_canopy, 0.35, np.where(day, 0.2, 0.07))
    signal_conf = np.where(u < high_p, 4, np.where(u < high_p + med_p, 3, 2))
    near = np.abs(h - ground) < 8.0
    noise_conf = np.where(
        near, np.where(u < 0.15, 2, np.where(u < 0.75, 1, 0)), np.where(u < 0.03, 1, 0)
    )
    conf = np.where(is_signal, signal_conf, noise_conf).astype(np.int8)
    return h, quality, conf


def _channels(rng: np.random.Generator, beam: geo.Beam, n: int) -> NDArray[np.uint8]:
    """Detector channel of each photon: one of the beam's pixels, falling or rising edge."""
    channels = beam.channels
    pick = channels[rng.integers(0, len(channels), n)]
    rising = rng.random(n) < 0.5
    return np.where(rising, pick + np.uint8(60), pick).astype(np.uint8)


def _event_counter(ph_shot: NDArray[np.int64], channel: NDArray[np.uint8]) -> NDArray[np.int64]:
    """``ph_id_count``: 1, 2, … for successive photons of a shot on the same channel."""
    if len(ph_shot) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(len(ph_shot)), channel, ph_shot))
    key_shot, key_chan = ph_shot[order], channel[order]
    new = np.r_[True, (key_shot[1:] != key_shot[:-1]) | (key_chan[1:] != key_chan[:-1])]
    group_start = np.maximum.accumulate(np.where(new, np.arange(len(order)), 0))
    counts = np.empty(len(order), dtype=np.int64)
    counts[order] = np.arange(len(order)) - group_start + 1
    return counts


def _weights(
    rng: np.random.Generator, conf: NDArray[np.int8], is_signal: NDArray[np.bool_]
) -> Array:
    """KNN photon weights: dense surface returns near 255, isolated noise near 0."""
    n = len(conf)
    centre = np.select(
        [conf >= 4, conf == 3, conf == 2, conf == 1], [235.0, 190.0, 120.0, 60.0], 15.0
    )
    spread = np.where(is_signal, 18.0, 12.0)
    return np.clip(np.round(centre + rng.normal(0.0, 1.0, n) * spread), 0, 255)


def _reference_photons(
    seg_ph: NDArray[np.int64],
    dist_along: Array,
    conf: NDArray[np.int8],
    begin: NDArray[np.int64],
    count: NDArray[np.int64],
    segments: Segments,
) -> NDArray[np.int64]:
    """Row of each segment's reference photon: the confident signal photon nearest the middle,
    or the first photon when the segment has no confident signal."""
    ref = np.where(count > 0, begin - 1, -1)
    if len(seg_ph) == 0:
        return ref
    half = 0.5 * segments.lengths[seg_ph]
    score = np.abs(dist_along - half) + np.where(conf >= 3, 0.0, 1.0e3)
    order = np.lexsort((score, seg_ph))
    best = order[np.r_[True, seg_ph[order][1:] != seg_ph[order][:-1]]]
    confident = conf[best] >= 3
    ref[seg_ph[best[confident]]] = best[confident]
    return ref


def _segment_fields(
    rng: np.random.Generator,
    p: geo.Pass,
    beam: geo.Beam,
    segments: Segments,
    delta_time: Array,
    lat: Array,
    lon: Array,
    count: NDArray[np.int64],
    sun_elev: Array,
    sun_az: Array,
    x_mid: Array,
) -> tuple[Columns, Columns]:
    """Segment-rate ``geolocation`` and ``geophys_corr`` values at the reference photons."""
    n = segments.count
    height = geo.terrain(lat, lon)
    on_water, _ = geo.water_mask(lat, lon)
    n_geoid = geo.geoid(lat, lon)
    surface = height + n_geoid
    track = geo.ground_track(p, x_mid)
    alt = geo.altitude_sc(lat) + 35.0 * np.sin(
        2 * np.pi * (delta_time - p.t_node) / geo.NODAL_PERIOD
    )
    # Pointing: from the footprint towards the spacecraft nadir, slightly off vertical.
    east = -beam.along * np.sin(track.heading) + beam.across * np.cos(track.heading)
    north = -beam.along * np.cos(track.heading) - beam.across * np.sin(track.heading)
    off_nadir = np.arctan(np.hypot(beam.along, beam.across) / alt)
    forward, _ = geo.orientation(float(delta_time[0]) if n else p.t_node)
    slow = np.sin(2 * np.pi * (delta_time - p.t_node) / 311.0)
    energy = (1.1e-4 if beam.strong else 2.75e-5) * (1.0 + 0.004 * slow)
    bright = beam.strong & ((height > 3300.0) | on_water)
    has = count > 0
    factor = geo.permanent_tide_factor(lat)
    geoloc: Columns = {
        "altitude_sc": alt,
        "bounce_time_offset": (alt - surface) / geo.SPEED_OF_LIGHT,
        "delta_time": delta_time,
        "full_sat_fract": np.where(bright & has, rng.uniform(0.0, 0.12, n), 0.0),
        "knn": np.where(has, np.clip(np.round(4 + np.sqrt(count)), 4, 40), 0),
        "near_sat_fract": np.where(bright & has, rng.uniform(0.0, 0.3, n), 0.0),
        "neutat_delay_derivative": -3.1e-4 * np.exp(-height / 8000.0),
        "neutat_delay_total": 2.43 * np.exp(-height / 8000.0) * (1.0 + 0.002 * slow),
        "neutat_ht": surface + rng.normal(0.0, 1.2, n),
        "pitch": -0.2373 + 0.0004 * slow,
        "podppd_flag": np.zeros(n),
        "range_bias_corr": np.full(n, 4.0731564 - 0.011 * (beam.spot - 1)),
        "ref_azimuth": np.arctan2(east, north),
        "ref_elev": np.pi / 2 - off_nadir,
        "roll": -0.1009 + 0.01 * slow,
        "segment_dist_x": segments.bounds[:-1],
        "segment_id": segments.ids,
        "segment_length": segments.lengths,
        "sigma_across": np.full(n, 5.0),
        "sigma_along": np.full(n, 5.0),
        "sigma_h": 0.1438 + 0.05 * np.clip(height / 4000.0, 0, 1) + 0.0001 * slow,
        "sigma_lat": np.full(n, 6.3e-5),
        "sigma_lon": 6.3e-5 * np.cos(np.radians(lat)) + 1.6e-7 * slow,
        "solar_azimuth": sun_az,
        "solar_elevation": sun_elev,
        "surf_type": np.column_stack([np.ones(n), np.zeros(n), np.zeros(n), np.zeros(n), on_water]),
        "tx_pulse_energy": energy,
        "tx_pulse_skew_est": rng.normal(-1.0e-10, 6.0e-11, n),
        "tx_pulse_width_lower": rng.normal(1.52e-9, 9.0e-11, n),
        "tx_pulse_width_upper": rng.normal(4.0e-10, 8.0e-11, n),
        "velocity_sc": np.column_stack(
            [
                track.v_east,
                track.v_north,
                1.03 * np.cos(2 * np.pi * (delta_time - p.t_node) / geo.NODAL_PERIOD),
            ]
        ),
        "yaw": (0.2427 if forward else 179.7573) + 0.003 * slow,
    }
    land = np.full(n, F4_MAX)  # ocean-only models (tides, DAC) are invalid over land
    corr: Columns = {
        "dac": land,
        "delta_time": delta_time,
        "dem_flag": np.full(n, 2),  # 2 = global DEM (MERIT)
        "dem_h": surface + np.where(on_water, 0.0, rng.normal(0.0, 2.5, n)),
        "geoid": n_geoid,
        "geoid_free2mean": -0.2563 * factor,
        "tide_earth": geo.solid_earth_tide(delta_time, lat, lon),
        "tide_earth_free2mean": -0.1206 * factor,
        "tide_equilibrium": 0.0087 * factor * np.cos(2 * np.pi * delta_time / (13.66 * 86400.0)),
        "tide_load": -0.0015
        - 0.003 * np.cos(2 * np.pi * delta_time / 44714.16 + np.radians(2 * lon)),
        "tide_oc_pole": land,
        "tide_ocean": land,
        "tide_pole": 0.0004 * np.sin(2 * np.radians(lat)) + 0.00001 * slow,
    }
    return geoloc, corr
