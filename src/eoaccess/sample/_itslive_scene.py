"""Static fields of a synthetic ITS_LIVE tile: glaciers, their mean flow, ice masks and the ROI.

A scene is a few valley glaciers (centre lines in tile fractions, flowing from the first point
to the last), lakes and an optional coast. From it we derive, on any grid of the tile:
the mean velocity field (fast along the centre line, zero at the margins, a speed profile
along the flow), the land-ice and floating-ice masks (ice over water floats), and the region
of interest (ROI) where autoRIFT estimates velocities (land and ice, not open water).
Fields are evaluated on a coarse grid and interpolated bilinearly, which keeps big grids cheap
while mask edges stay sharp (signed distances are interpolated, then thresholded).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from eoaccess.sample._itslive_geo import TILE_M

TILE_KM = TILE_M / 1000.0
_COARSE_MAX = 220
"""Largest coarse-grid side; bigger cube grids are interpolated from it."""


@dataclass(frozen=True)
class Glacier:
    """One glacier: centre line in tile fractions ``(u east, w south)``, flowing first -> last."""

    points: tuple[tuple[float, float], ...]
    half_width_km: tuple[float, float]
    """Half width at the head and at the terminus."""
    vmax: float
    """Peak surface speed in m/yr."""
    peak: float = 0.7
    """Fraction of the length where the speed peaks."""
    terminus: float = 0.2
    """Terminus speed as a fraction of ``vmax`` (high for calving glaciers)."""


@dataclass(frozen=True)
class Scene:
    """Everything static about one tile."""

    glaciers: tuple[Glacier, ...]
    lakes: tuple[tuple[float, float, float, float], ...] = ()
    """Ellipses ``(u, w, radius_u, radius_w)`` in tile fractions."""
    coast: tuple[float, float, float] | None = None
    """Open water where ``a*u + b*w > c`` (tile fractions)."""
    season_amplitude: float = 0.2
    """Relative seasonal speed-up of the ice."""
    season_peak_doy: float = 150.0
    """Day of year of the fastest flow."""
    trend_per_year: float = -0.01
    """Relative change of speed per year (negative: slowing down)."""


@dataclass(frozen=True)
class StaticFields:
    """Static fields of one cube grid, shaped ``(ny, nx)``."""

    vx: np.ndarray
    """Mean x velocity (m/yr, float32)."""
    vy: np.ndarray
    """Mean y velocity (m/yr, float32)."""
    ice: np.ndarray
    """Any ice (grounded or floating)."""
    landice: np.ndarray
    """uint8 grounded-ice mask."""
    floatingice: np.ndarray
    """uint8 floating-ice mask."""
    roi: np.ndarray
    """Where velocities are estimated (bool)."""
    layover: np.ndarray
    """Radar layover/shadow on steep terrain (bool)."""


def interp_matrix(targets: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Linear interpolation weights ``(len(targets), len(nodes))`` for ascending ``nodes``."""
    nodes = np.asarray(nodes, dtype=np.float64)
    targets = np.clip(np.asarray(targets, dtype=np.float64), nodes[0], nodes[-1])
    out = np.zeros((targets.size, nodes.size), dtype=np.float32)
    if nodes.size == 1:
        out[:, 0] = 1.0
        return out
    hi = np.clip(np.searchsorted(nodes, targets, side="right"), 1, nodes.size - 1)
    lo = hi - 1
    frac = (targets - nodes[lo]) / (nodes[hi] - nodes[lo])
    rows = np.arange(targets.size)
    out[rows, lo] = (1.0 - frac).astype(np.float32)
    out[rows, hi] += frac.astype(np.float32)
    return out


def _chaikin(points: np.ndarray, rounds: int = 2) -> np.ndarray:
    """Smooth a polyline (corner cutting), keeping its end points."""
    for _ in range(rounds):
        q = 0.75 * points[:-1] + 0.25 * points[1:]
        r = 0.25 * points[:-1] + 0.75 * points[1:]
        mid = np.empty((2 * len(q), 2))
        mid[0::2], mid[1::2] = q, r
        points = np.vstack([points[:1], mid, points[-1:]])
    return points


def _speed_profile(s: np.ndarray, peak: float, terminus: float) -> np.ndarray:
    """Relative speed along the flow: slow head, peak at ``peak``, ``terminus`` at the end."""
    up = 0.15 + 0.85 * np.sin(0.5 * np.pi * np.clip(s / peak, 0.0, 1.0)) ** 0.7
    down = 1.0 - (1.0 - terminus) * np.clip((s - peak) / max(1.0 - peak, 1e-6), 0.0, 1.0) ** 1.5
    return np.where(s < peak, up, down)


def _glacier(g: Glacier, u: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """(normalised distance, signed distance km, x speed, y speed) of one glacier at points."""
    pts = _chaikin(np.asarray(g.points, dtype=np.float64) * TILE_KM)
    seg = np.diff(pts, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    best = np.full(u.shape, np.inf)
    along = np.zeros(u.shape)
    tx = np.zeros(u.shape)
    tw = np.zeros(u.shape)
    for k in range(len(seg)):
        if seg_len[k] == 0:
            continue
        t = np.clip(
            ((u - pts[k, 0]) * seg[k, 0] + (w - pts[k, 1]) * seg[k, 1]) / seg_len[k] ** 2, 0, 1
        )
        d = np.hypot(u - pts[k, 0] - t * seg[k, 0], w - pts[k, 1] - t * seg[k, 1])
        closer = d < best
        best = np.where(closer, d, best)
        along = np.where(closer, cum[k] + t * seg_len[k], along)
        tx = np.where(closer, seg[k, 0] / seg_len[k], tx)
        tw = np.where(closer, seg[k, 1] / seg_len[k], tw)
    s = along / cum[-1]
    half = g.half_width_km[0] + (g.half_width_km[1] - g.half_width_km[0]) * s
    dn = best / half
    speed = g.vmax * _speed_profile(s, g.peak, g.terminus) * np.clip(1.0 - dn**4, 0.0, None)
    # Tile fraction w grows southward while projected y grows northward.
    return dn, best - half, speed * tx, -speed * tw


def _water(scene: Scene, u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Signed 'wetness' (positive over open water) at points given in km."""
    wet = np.full(u.shape, -1.0)
    for cu, cw, ru, rw in scene.lakes:
        e = 1.0 - np.hypot((u / TILE_KM - cu) / ru, (w / TILE_KM - cw) / rw)
        wet = np.maximum(wet, e)
    if scene.coast is not None:
        a, b, c = scene.coast
        wet = np.maximum(wet, (a * u + b * w) / TILE_KM - c)
    return wet


def _coarse_fields(scene: Scene, u: np.ndarray, w: np.ndarray, texture: np.ndarray) -> dict:
    """Fields on a coarse mesh of points (km)."""
    best = np.full(u.shape, np.inf)
    sd = np.full(u.shape, np.inf)
    vx = np.zeros(u.shape)
    vy = np.zeros(u.shape)
    for g in scene.glaciers:
        dn, gsd, gvx, gvy = _glacier(g, u, w)
        closer = dn < best
        best = np.where(closer, dn, best)
        vx = np.where(closer, gvx, vx)
        vy = np.where(closer, gvy, vy)
        sd = np.minimum(sd, gsd)
    return {"sd": sd, "vx": vx * texture, "vy": vy * texture, "wet": _water(scene, u, w)}


def _smooth_noise(
    rng: np.random.Generator, shape: tuple[int, int], ux: np.ndarray, wy: np.ndarray
) -> np.ndarray:
    """A smooth random field over the whole tile sampled at ``ux x wy`` km (unit-ish variance)."""
    nodes = np.linspace(0.0, TILE_KM, shape[0])
    coarse = rng.standard_normal(shape).astype(np.float32)
    return interp_matrix(wy, nodes) @ coarse @ interp_matrix(ux, nodes).T


def static_fields(
    scene: Scene, ux: np.ndarray, wy: np.ndarray, rng: np.random.Generator
) -> StaticFields:
    """Static fields on the grid ``ux`` (km east of the tile's west edge) x ``wy`` (km south)."""
    texture = 1.0 + 0.08 * _smooth_noise(rng, (12, 12), ux, wy)
    layover_field = _smooth_noise(rng, (25, 25), ux, wy)
    step = max(1, math.ceil(max(ux.size, wy.size) / _COARSE_MAX))
    uc = np.unique(np.concatenate([ux[::step], ux[-1:]]))
    wc = np.unique(np.concatenate([wy[::step], wy[-1:]]))
    tex_c = texture[np.searchsorted(wy, wc)][:, np.searchsorted(ux, uc)]
    mesh_u, mesh_w = np.meshgrid(uc, wc)
    coarse = _coarse_fields(scene, mesh_u, mesh_w, tex_c)
    if step == 1:
        full = {k: v.astype(np.float32) for k, v in coarse.items()}
    else:
        my, mx = interp_matrix(wy, wc), interp_matrix(ux, uc)
        full = {k: my @ v.astype(np.float32) @ mx.T for k, v in coarse.items()}
    ice = full["sd"] < 0
    water = full["wet"] > 0
    floating = ice & water
    return StaticFields(
        vx=np.where(ice, full["vx"], 0.0).astype(np.float32),
        vy=np.where(ice, full["vy"], 0.0).astype(np.float32),
        ice=ice,
        landice=(ice & ~water).astype(np.uint8),
        floatingice=floating.astype(np.uint8),
        roi=ice | ~water,
        layover=(layover_field > 1.6) & ~ice,
    )


def roi_percent(scene: Scene) -> float:
    """Percentage of the tile inside the ROI, on a fixed 1 km grid (independent of sample size)."""
    centres = np.arange(0.5, TILE_KM, 1.0)
    u, w = np.meshgrid(centres, centres)
    fields = _coarse_fields(scene, u, w, np.ones_like(u))
    roi = (fields["sd"] < 0) | (fields["wet"] <= 0)
    return float(100.0 * roi.mean())
