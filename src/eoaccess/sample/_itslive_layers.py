"""Layers of an ITS_LIVE datacube: one image pair per ``mid_date``, and its velocity fields.

Each layer is an autoRIFT image pair of one mission (Landsat 7/8/9, Sentinel-1A/B, Sentinel-2A/B)
whose acquisition dates follow the satellites' repeat cycles and lifetimes. The pair's time
separation sets the noise (displacement error / dt), the seasonal speed-up is averaged over the
pair, and gaps come from the image footprint, clouds (optical), Landsat 7 scan-line stripes,
radar layover, decorrelation of fast ice over long pairs and outlier filtering. The 3-D fields
are synthesised in blocks of one chunk row (10 grid rows), each with its own random stream, so
memory stays small and the result does not depend on the order blocks are computed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from eoaccess.sample._itslive_geo import BUCKET_HTTP
from eoaccess.sample._itslive_scene import TILE_KM, Scene, StaticFields, interp_matrix

EPOCH = np.datetime64("1970-01-01T00:00:00", "us")
DAY_US = 86_400_000_000
I16_FILL = -32767
"""Missing value of the int16 velocity family (and of the float32 per-layer errors)."""
M_SCALE = 1e-5
"""``scale_factor`` of the int16 ``M11``/``M12`` conversion-matrix elements."""
_CLOUD_NODES = 9


@dataclass(frozen=True)
class Satellite:
    """One satellite as ITS_LIVE labels it, with its life span and orbit cadence."""

    satellite: str
    mission: str
    sensor: str
    family: str
    """Granule directory: ``landsatOLI`` (all Landsat), ``sentinel1`` or ``sentinel2``."""
    start: str
    end: str
    repeat: int
    phase: int
    """Offset (days) of this satellite's acquisitions within the family's repeat cycle."""
    error_m: float
    """Typical displacement error of a pair in metres."""


SATELLITES: dict[str, Satellite] = {
    s.satellite: s
    for s in (
        Satellite("7", "L", "E", "landsatOLI", "1999-05-28", "2022-04-06", 16, 8, 3.0),
        Satellite("8", "L", "C", "landsatOLI", "2013-04-11", "2100-01-01", 16, 0, 2.2),
        Satellite("9", "L", "C", "landsatOLI", "2021-10-31", "2100-01-01", 16, 8, 2.2),
        Satellite("1A", "S", "C", "sentinel1", "2014-10-03", "2100-01-01", 12, 0, 1.0),
        Satellite("1B", "S", "C", "sentinel1", "2016-09-26", "2021-12-23", 12, 6, 1.0),
        Satellite("2A", "S", "MSI", "sentinel2", "2015-07-04", "2100-01-01", 10, 0, 1.6),
        Satellite("2B", "S", "MSI", "sentinel2", "2017-07-06", "2100-01-01", 10, 5, 1.6),
    )
}
# Pair groups and how often they occur in a cube (Landsat 8/9 and Sentinel-2 dominate).
_GROUPS: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("landsat89", ("8", "9"), 0.38),
    ("sentinel2", ("2A", "2B"), 0.30),
    ("sentinel1", ("1A", "1B"), 0.20),
    ("landsat7", ("7",), 0.12),
)
WINDOW = ("2013-05-01", "2024-09-30")
"""Acquisition period of the sample cubes (the real ``v2-updated-october2024`` ends here)."""


def _day(text: str) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


@dataclass
class Layers:
    """Per-layer (``mid_date``) values of one cube, in storage order (not sorted by date)."""

    satellite1: np.ndarray
    satellite2: np.ndarray
    t1: np.ndarray
    """Acquisition of image 1 (datetime64[us])."""
    t2: np.ndarray
    heading: np.ndarray
    """Radar azimuth direction (radians from the projected +y axis); NaN for optical pairs."""
    sigma_x: np.ndarray
    sigma_y: np.ndarray
    """True noise (m/yr) of vx and vy."""
    errors: dict[str, np.ndarray]
    """The 1-D error/shift variables (float32, ``I16_FILL`` where not applicable)."""
    flag: np.ndarray
    count_stationary: np.ndarray
    count_slow: np.ndarray
    dr_to_vr: np.ndarray
    """``M11_dr_to_vr_factor`` (0 for optical pairs, the variable's missing value)."""
    version: np.ndarray
    cover: np.ndarray
    """Footprint half-planes ``(N, 3)``: valid where ``a*u + b*w <= c`` (km)."""
    cloud_fraction: np.ndarray
    clouds: np.ndarray
    """Low-resolution cloud fields ``(N, 9, 9)`` over the tile."""
    cloud_threshold: np.ndarray
    stripe_phase: np.ndarray

    @property
    def n(self) -> int:
        return int(self.t1.size)

    @property
    def is_radar(self) -> np.ndarray:
        return np.array([SATELLITES[s].family == "sentinel1" for s in self.satellite1])

    @property
    def date_dt(self) -> np.ndarray:
        """Time separation in days (float64; stored as float32)."""
        return (self.t2 - self.t1).astype(np.int64) / DAY_US

    @property
    def date_center(self) -> np.ndarray:
        return self.t1 + (self.t2 - self.t1) // 2

    @property
    def mid_date(self) -> np.ndarray:
        """The producer's unique ``mid_date``: centre date plus image 1's ``YYMMDD`` as microseconds."""
        token = np.array(
            [int(str(t.astype("datetime64[D]")).replace("-", "")[2:8]) for t in self.t1]
        )
        return self.date_center + token.astype("timedelta64[us]")


def days_since_epoch(times: np.ndarray) -> np.ndarray:
    """datetime64[us] -> float64 days since 1970-01-01 (the cube's time encoding)."""
    return (times - EPOCH).astype(np.int64) / DAY_US


def _round1(x: np.ndarray) -> np.ndarray:
    """Round to 0.1 like the granule attributes (``int(round(x*10))/10``)."""
    return (np.round(np.asarray(x, dtype=np.float64) * 10.0) / 10.0).astype(np.float32)


def _pick_dt(rng: np.random.Generator, radar: bool) -> float:
    """Target time separation: short pairs dominate, with a tail of about one-year pairs."""
    if radar:
        return (
            float(rng.choice([6, 12, 12, 24, 36])) if rng.random() < 0.75 else rng.uniform(24, 96)
        )
    r = rng.random()
    if r < 0.5:
        return rng.uniform(5, 100)
    if r < 0.8:
        return rng.uniform(100, 330)
    return rng.uniform(330, 545)


def _next_on_orbit(day: int, sat: Satellite, phase0: int, after: bool) -> int:
    """The acquisition day of ``sat`` nearest to ``day`` (at or after it when ``after``)."""
    off = (day - phase0 - sat.phase) % sat.repeat
    if off == 0:
        return day
    return day + (sat.repeat - off) if after else day - off


def _sample_pairs(
    rng: np.random.Generator, n: int, lon: float
) -> list[tuple[str, str, int, int, float, float]]:
    """(sat1, sat2, day1, day2, hour1, hour2) of ``n`` distinct pairs, all groups represented."""
    start, end = _day(WINDOW[0]), _day(WINDOW[1])
    # Orbit phase of the scene's path/row (or relative orbit) within each repeat cycle;
    # Landsat 7 shares the 16-day cycle (and path dates) of Landsat 8/9.
    landsat = int(rng.integers(16))
    phases = {"landsat89": landsat, "landsat7": landsat}
    phases["sentinel2"] = int(rng.integers(10))
    phases["sentinel1"] = int(rng.integers(12))
    # Local solar time of the overpasses: optical ~10:30, Sentinel-1 descending ~06:00.
    optical_utc = (10.5 - lon / 15.0) % 24.0
    radar_utc = (6.0 - lon / 15.0) % 24.0
    weights = np.array([g[2] for g in _GROUPS])
    # Small cubes still get one pair of every group, so every mission shows up.
    forced = list(range(len(_GROUPS))) if n >= len(_GROUPS) else []
    pairs: list[tuple[str, str, int, int, float, float]] = []
    seen: set[tuple[int, int, str]] = set()
    for _attempt in range(200 * n + 100):
        if len(pairs) == n:
            break
        gi = forced[0] if forced else int(rng.choice(len(_GROUPS), p=weights / weights.sum()))
        name, sats, _ = _GROUPS[gi]
        radar = name == "sentinel1"
        s1 = SATELLITES[str(rng.choice(sats))]
        s2 = SATELLITES[str(rng.choice(sats))]
        lo = max(start, _day(s1.start), _day(s2.start))
        hi = min(end, _day(s1.end), _day(s2.end))
        dt = _pick_dt(rng, radar)
        if hi - lo < dt + 20:
            continue
        d1 = _next_on_orbit(int(rng.integers(lo, int(hi - dt))), s1, phases[name], after=True)
        d2 = _next_on_orbit(round(d1 + dt), s2, phases[name], after=False)
        if d2 <= d1:
            d2 = _next_on_orbit(d1 + 1, s2, phases[name], after=True)
        # Landsat 7 and 8/9 share path dates and overpass times: keep their pairs distinct too.
        key = (d1, d2, s1.family)
        if d2 > hi or key in seen:
            continue
        seen.add(key)
        base = radar_utc if radar else optical_utc + (0.4 if name == "sentinel2" else 0.0)
        h1 = base + rng.uniform(-0.05, 0.05)
        h2 = base + rng.uniform(-0.05, 0.05)
        pairs.append((s1.satellite, s2.satellite, d1, d2, h1, h2))
        if forced:
            forced.pop(0)
    if len(pairs) < n:
        raise RuntimeError(f"could not sample {n} distinct image pairs")
    return pairs


def _storage_order(t1: np.ndarray, t2: np.ndarray, family: np.ndarray) -> np.ndarray:
    """Order layers as the producer appended them: one batch per mission, then the last update.

    Within a batch layers follow image 1's date, so ``mid_date`` as a whole is not sorted.
    """
    last_update = np.datetime64("2024-01-01", "us")
    batch_of = {"landsatOLI": 0, "sentinel1": 1, "sentinel2": 2}
    batch = np.array([batch_of[f] for f in family]) + np.where(t2 >= last_update, 10, 0)
    return np.lexsort((t1.astype(np.int64), batch))


def make_layers(rng: np.random.Generator, n: int, lon: float, north_angle: float) -> Layers:
    """Sample ``n`` image pairs for a cube centred at longitude ``lon``.

    ``north_angle`` is the direction of geographic north at the tile centre, in radians from the
    projection's +y axis (counter-clockwise), used for the radar look geometry.
    """
    pairs = _sample_pairs(rng, n, lon)
    sat1 = np.array([p[0] for p in pairs])
    sat2 = np.array([p[1] for p in pairs])
    t1 = np.array([p[2] * DAY_US + round(p[4] * 3600e6) for p in pairs], dtype=np.int64)
    t2 = np.array([p[3] * DAY_US + round(p[5] * 3600e6) for p in pairs], dtype=np.int64)
    # Whole seconds, like the acquisition_date attributes of the granules.
    t1 = (t1 // 1_000_000 * 1_000_000).astype("datetime64[us]")
    t2 = (t2 // 1_000_000 * 1_000_000).astype("datetime64[us]")
    family = np.array([SATELLITES[s].family for s in sat1])
    order = _storage_order(t1, t2, family)
    sat1, sat2, t1, t2, family = sat1[order], sat2[order], t1[order], t2[order], family[order]
    radar = family == "sentinel1"
    dt = (t2 - t1).astype(np.int64) / DAY_US

    err_m = np.array(
        [max(SATELLITES[a].error_m, SATELLITES[b].error_m) for a, b in zip(sat1, sat2, strict=True)]
    )
    modeled = err_m * 365.25 / dt
    sigma_x = np.maximum(modeled * rng.uniform(0.8, 1.25, n), 0.5)
    sigma_y = sigma_x * rng.uniform(0.85, 1.15, n)
    flag = rng.choice(np.array([1, 2, 0], dtype=np.uint8), size=n, p=[0.8, 0.15, 0.05])
    flag[radar] = 1
    count_stationary = (rng.uniform(2_000, 60_000, n)).astype(np.uint16)
    count_slow = (rng.uniform(1_000, 40_000, n)).astype(np.uint16)

    errors: dict[str, np.ndarray] = {}
    # Descending Sentinel-1 passes fly roughly south (heading ~ -170 deg from north).
    heading = np.where(radar, north_angle + np.deg2rad(-170.0 + rng.uniform(-3, 3, n)), np.nan)
    for comp, sigma in (("vx", sigma_x), ("vy", sigma_y), ("va", sigma_x), ("vr", sigma_y)):
        applies = radar if comp in ("va", "vr") else np.ones(n, dtype=bool)
        scale = 0.6 if comp == "vr" else 1.0
        stationary = _round1(sigma * scale * rng.uniform(0.95, 1.1, n))
        slow = _round1(sigma * scale * rng.uniform(1.0, 1.3, n))
        model = _round1(modeled * scale)
        best = np.where(flag == 1, stationary, np.where(flag == 2, slow, model))
        shift_stationary = _round1(rng.normal(0.0, 0.3, n) * sigma * scale)
        shift_slow = _round1(shift_stationary + rng.normal(0.0, 0.1, n) * sigma * scale)
        shift = np.where(flag == 1, shift_stationary, np.where(flag == 2, shift_slow, 0.0))
        for suffix, values in (
            ("error", best),
            ("error_modeled", model),
            ("error_slow", slow),
            ("error_stationary", stationary),
            ("stable_shift", shift),
            ("stable_shift_slow", shift_slow),
            ("stable_shift_stationary", shift_stationary),
        ):
            errors[f"{comp}_{suffix}"] = np.where(applies, values, I16_FILL).astype(np.float32)
    # Ground-range pixel (~3.7 m) converted to m/yr over the pair: vr = dr * factor.
    dr_to_vr = np.where(radar, 3.7 * 365.25 / dt, 0.0).astype(np.float32)
    version = np.where(radar | (rng.random(n) < 0.8), "1.5.0", "1.3.1")

    # Footprint: 45 % of the pairs cover the whole tile, the rest a part cut by a straight edge.
    angle = rng.uniform(0, 2 * np.pi, n)
    a, b = np.cos(angle), np.sin(angle)
    corners = np.array([[0, 0], [TILE_KM, 0], [0, TILE_KM], [TILE_KM, TILE_KM]])
    proj = a[:, None] * corners[None, :, 0] + b[:, None] * corners[None, :, 1]
    frac = np.where(rng.random(n) < 0.45, 1.5, rng.uniform(0.35, 1.0, n))
    c = proj.min(axis=1) + frac * (proj.max(axis=1) - proj.min(axis=1))
    cover = np.stack([a, b, c], axis=1)

    clouds = rng.standard_normal((n, _CLOUD_NODES, _CLOUD_NODES)).astype(np.float32)
    cloud_fraction = np.where(radar | (rng.random(n) < 0.35), 0.0, rng.uniform(0.05, 0.6, n))
    flat = clouds.reshape(n, -1)
    threshold = np.array(
        [
            np.quantile(flat[k], 1.0 - cf) if cf > 0 else np.inf
            for k, cf in enumerate(cloud_fraction)
        ],
        dtype=np.float32,
    )
    stripe_phase = rng.uniform(0.0, 3.0, n)
    return Layers(
        satellite1=sat1,
        satellite2=sat2,
        t1=t1,
        t2=t2,
        heading=heading,
        sigma_x=sigma_x,
        sigma_y=sigma_y,
        errors=errors,
        flag=flag,
        count_stationary=count_stationary,
        count_slow=count_slow,
        dr_to_vr=dr_to_vr,
        version=version,
        cover=cover,
        cloud_fraction=cloud_fraction,
        clouds=clouds,
        cloud_threshold=threshold,
        stripe_phase=stripe_phase,
    )


# --------------------------------------------------------------------------------------------
# Granule names


@dataclass(frozen=True)
class SceneIds:
    """Where the scenes of a tile come from: Landsat path/row, Sentinel-2 tile and orbit."""

    path_row: tuple[int, int]
    s2_tile: str
    s2_orbit: int


def _landsat_id(
    rng: np.random.Generator, sat: str, t: np.datetime64, path_row: tuple[int, int]
) -> str:
    """A Landsat Collection 2 product id, processed shortly after (or reprocessed in 2020)."""
    day = t.astype("datetime64[D]")
    if day < np.datetime64("2020-06-01"):
        processed = np.datetime64("2020-08-20") + int(rng.integers(0, 60))
    else:
        processed = day + int(rng.integers(8, 17))
    level, tier = ("L1TP", "T1") if rng.random() < 0.85 else ("L1GT", "T2")
    prefix = {"7": "LE07", "8": "LC08", "9": "LC09"}[sat]
    stamp = str(day).replace("-", "")
    proc = str(processed).replace("-", "")
    return f"{prefix}_{level}_{path_row[0]:03d}{path_row[1]:03d}_{stamp}_{proc}_02_{tier}"


def _stamp(t: np.datetime64) -> str:
    return str(t.astype("datetime64[s]")).replace("-", "").replace(":", "")


def _sentinel2_id(
    rng: np.random.Generator, sat: str, t: np.datetime64, tile: str, orbit: int
) -> str:
    """A Sentinel-2 L1C product name."""
    baseline = "N0500" if t >= np.datetime64("2022-01-25") else "N0209"
    processed = t + np.timedelta64(int(rng.integers(3600, 4 * 3600)), "s")
    return f"S2{sat[1]}_MSIL1C_{_stamp(t)}_{baseline}_R{orbit:03d}_T{tile}_{_stamp(processed)}"


def _sentinel1_id(rng: np.random.Generator, sat: str, t: np.datetime64) -> str:
    """A Sentinel-1 IW SLC product name with a plausible absolute orbit."""
    start = np.datetime64(SATELLITES[sat].start, "us")
    orbit = (
        1 + int((t - start).astype(np.int64) / DAY_US * 175 / 12) + (60 if sat == "1A" else 2000)
    )
    stop = t + np.timedelta64(27, "s")
    take = int(rng.integers(0x010000, 0x3FFFFF))
    crc = int(rng.integers(0, 0xFFFF))
    return f"S1{sat[1]}_IW_SLC__1SDH_{_stamp(t)}_{_stamp(stop)}_{orbit:06d}_{take:06X}_{crc:04X}"


def granule_urls(
    rng: np.random.Generator,
    layers: Layers,
    directory: str,
    roi_valid: np.ndarray,
    scenes: SceneIds,
) -> np.ndarray:
    """``granule_url`` of every layer, named like the real v02 image-pair granules."""
    urls = []
    for k in range(layers.n):
        names = []
        for sat, t in ((layers.satellite1[k], layers.t1[k]), (layers.satellite2[k], layers.t2[k])):
            family = SATELLITES[sat].family
            if family == "landsatOLI":
                names.append(_landsat_id(rng, sat, t, scenes.path_row))
            elif family == "sentinel2":
                names.append(_sentinel2_id(rng, sat, t, scenes.s2_tile, scenes.s2_orbit))
            else:
                names.append(_sentinel1_id(rng, sat, t))
        family = SATELLITES[layers.satellite1[k]].family
        urls.append(
            f"{BUCKET_HTTP}/velocity_image_pair/{family}/v02/{directory}/"
            f"{names[0]}_X_{names[1]}_G0120V02_P{round(float(roi_valid[k])):03d}.nc"
        )
    return np.array(urls)


# --------------------------------------------------------------------------------------------
# 3-D fields


@dataclass
class FieldSynth:
    """Synthesises the 3-D variables of one cube, one block of rows/columns at a time."""

    layers: Layers
    scene: Scene
    static: StaticFields
    ux: np.ndarray
    """Cell-centre distance (km) from the tile's west edge, per column."""
    wy: np.ndarray
    """Cell-centre distance (km) from the tile's north edge, per row."""

    def __post_init__(self) -> None:
        self._ensure_coverage()
        ly = self.layers
        dt = ly.date_dt
        mid_days = days_since_epoch(ly.date_center)
        doy = (mid_days - 0.0) % 365.2425
        year = 1970.0 + mid_days / 365.2425
        season = 1.0 + self.scene.season_amplitude * np.sinc(dt / 365.25) * np.cos(
            2 * np.pi * (doy - self.scene.season_peak_doy) / 365.2425
        )
        self.factor = _col(season * (1.0 + self.scene.trend_per_year * (year - 2019.0)))
        self.sx = _col(ly.sigma_x)
        self.sy = _col(ly.sigma_y)
        self.ex = _col(
            np.where(ly.errors["vx_error"] == I16_FILL, ly.sigma_x, ly.errors["vx_error"])
        )
        self.ey = _col(
            np.where(ly.errors["vy_error"] == I16_FILL, ly.sigma_y, ly.errors["vy_error"])
        )
        self.dt_years = _col(dt / 365.25)
        radar = ly.is_radar
        self.radar = radar
        self.radar_idx = np.flatnonzero(radar)
        self.cloudy = (ly.cloud_fraction > 0).reshape(-1, 1, 1)
        self.threshold = _col(ly.cloud_threshold)
        self.l7 = np.array(
            [a == "7" or b == "7" for a, b in zip(ly.satellite1, ly.satellite2, strict=True)]
        )
        self.l7 = self.l7.reshape(-1, 1, 1)
        self.stripe = _col(ly.stripe_phase)
        # Fast ice decorrelates over long pairs: larger search limits for optical than radar.
        self.dmax = _col(np.where(radar, 900.0, 2500.0))
        self.cover = [_col(ly.cover[:, i]) for i in range(3)]
        nodes = np.linspace(0.0, TILE_KM, _CLOUD_NODES)
        wx = interp_matrix(self.ux, nodes)
        self.cloud_w = np.ascontiguousarray(ly.clouds @ wx.T)  # (N, nodes, nx)
        self.cloud_wy = interp_matrix(self.wy, nodes)
        h = ly.heading[radar]
        # Unit vectors (projected x, y) of the azimuth (flight) and range (look, to the right).
        self.az = (_col(-np.sin(h)), _col(np.cos(h)))
        self.rg = (_col(np.cos(h)), _col(np.sin(h)))
        self.dr_to_vr = _col(ly.dr_to_vr[radar])
        self.roi_count = int(self.static.roi.sum())

    def _ensure_coverage(self) -> None:
        """Clear the footprint and clouds of layers that would leave the cube (almost) empty.

        The producer skips granules without valid data in the cube, so every stored layer must
        have some; small (windowed) grids would otherwise often fall outside a partial scene.
        """
        ly = self.layers
        cols = np.linspace(0, self.ux.size - 1, min(self.ux.size, 40)).astype(int)
        rows = np.linspace(0, self.wy.size - 1, min(self.wy.size, 40)).astype(int)
        u = self.ux[cols][None, None, :]
        w = self.wy[rows][None, :, None]
        a, b, c = (ly.cover[:, i].reshape(-1, 1, 1) for i in range(3))
        nodes = np.linspace(0.0, TILE_KM, _CLOUD_NODES)
        wy_m = interp_matrix(self.wy[rows], nodes)[None]
        wx_m = interp_matrix(self.ux[cols], nodes).T[None]
        cloud = wy_m @ ly.clouds @ wx_m
        seen = (a * u + b * w <= c) & (cloud <= ly.cloud_threshold.reshape(-1, 1, 1))
        roi = self.static.roi[np.ix_(rows, cols)][None]
        share = (seen & roi).sum(axis=(1, 2)) / max(int(roi.sum()), 1)
        low = share < 0.25
        ly.cover[low, 2] = np.inf
        ly.cloud_fraction[low] = 0.0
        ly.cloud_threshold[low] = np.inf

    def block(
        self, rows: slice, cols: slice, rng: np.random.Generator
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """All 3-D variables over ``rows x cols`` and the number of valid pixels per layer."""
        st = self.static
        n = self.layers.n
        vx0 = st.vx[rows, cols][None]
        vy0 = st.vy[rows, cols][None]
        shape = (n, vx0.shape[1], vx0.shape[2])
        u = self.ux[cols][None, None, :].astype(np.float32)
        w = self.wy[rows][None, :, None].astype(np.float32)

        n1 = rng.standard_normal(shape, dtype=np.float32)
        n2 = rng.standard_normal(shape, dtype=np.float32)
        tx = vx0 * self.factor
        ty = vy0 * self.factor
        vx = tx + self.sx * n1
        vy = ty + self.sy * n2

        valid = np.broadcast_to(st.roi[rows, cols][None], shape).copy()
        valid &= self.cover[0] * u + self.cover[1] * w <= self.cover[2]
        cloud = np.matmul(self.cloud_wy[rows][None], self.cloud_w[:, :, cols])
        valid &= ~(self.cloudy & (cloud > self.threshold))
        valid &= ~(self.l7 & (np.mod(0.97 * u + 0.22 * w + self.stripe, 3.0) < 1.0))
        layover = st.layover[rows, cols][None]
        valid[self.radar_idx] &= ~layover
        valid &= np.hypot(tx, ty) * self.dt_years <= self.dmax
        valid &= (np.abs(n1) < 3.0) & (np.abs(n2) < 3.0)

        v = np.hypot(vx, vy)
        with np.errstate(divide="ignore", invalid="ignore"):
            v_err = np.sqrt((self.ex * vx) ** 2 + (self.ey * vy) ** 2) / v
        v_err = np.where(v < 1.0, np.hypot(self.ex, self.ey) / np.float32(math.sqrt(2.0)), v_err)

        out = {
            "vx": _i16(vx, valid),
            "vy": _i16(vy, valid),
            "v": _i16(v, valid),
            "v_error": _i16(v_err, valid),
        }
        va = np.full(shape, I16_FILL, dtype=np.int16)
        vr = np.full(shape, I16_FILL, dtype=np.int16)
        m11 = np.full(shape, I16_FILL, dtype=np.int16)
        m12 = np.full(shape, I16_FILL, dtype=np.int16)
        if self.radar_idx.size:
            r = self.radar_idx
            rvalid = valid[r]
            va[r] = _i16(vx[r] * self.az[0] + vy[r] * self.az[1], rvalid)
            vr[r] = _i16(vx[r] * self.rg[0] + vy[r] * self.rg[1], rvalid)
            # Range displacement in pixels: dr = M11*vx + M12*vy, and vr = dr * dr_to_vr_factor.
            m11[r] = _i16(self.rg[0] / self.dr_to_vr / M_SCALE, rvalid)
            m12[r] = _i16(self.rg[1] / self.dr_to_vr / M_SCALE, rvalid)
        out.update({"va": va, "vr": vr, "M11": m11, "M12": m12})

        ice = st.ice[rows, cols][None]
        near_cloud = self.cloudy & (cloud > self.threshold - 0.35)
        interp = valid & self.cloudy & (cloud > self.threshold - 0.1)
        chip = np.where(ice, np.uint16(240), np.uint16(480))
        chip = np.where(near_cloud, np.uint16(960), chip)
        chip = np.where(valid, chip, np.uint16(0)).astype(np.uint16)
        out["chip_size_height"] = chip
        out["chip_size_width"] = chip
        out["interp_mask"] = interp.astype(np.uint8)
        return out, valid.sum(axis=(1, 2))


def _col(values: np.ndarray) -> np.ndarray:
    """Per-layer values shaped to broadcast over ``(layer, row, column)``."""
    return np.asarray(values, dtype=np.float32).reshape(-1, 1, 1)


def _i16(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Round to int16 with the -32767 missing value where not valid."""
    out = np.rint(np.clip(np.broadcast_to(values, valid.shape), -32766, 32767)).astype(np.int16)
    out[~valid] = I16_FILL
    return out
