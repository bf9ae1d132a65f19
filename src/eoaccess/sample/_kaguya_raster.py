"""Synthetic lunar terrain images for the Kaguya TC sample: a global surface, shaded per scene.

Heights and albedo are a deterministic function of map position (fractal value noise plus
craters hashed from a global lattice), so overlapping scenes - consecutive scenes of a strip,
the TC1/TC2 stereo pair, repeat coverage - show the same craters. Each scene shades that surface
with its own Sun (incidence, azimuth) using a Lommel-Seeliger law, which gives the DN range of
real TC radiance products (tens to a few thousand, scale 0.013). Pixels outside the scene's
footprint are nodata (-32768) like the edges of the real map-projected strips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image
from rasterio.crs import CRS
from rasterio.transform import Affine

from eoaccess.sample._kaguya_scene import METRES_PER_DEGREE, Footprint

NODATA = -32768
_U64 = np.uint64
_MIX1, _MIX2 = _U64(0xBF58476D1CE4E5B9), _U64(0x94D049BB133111EB)
_PRIME_X, _PRIME_Y = _U64(0x9E3779B97F4A7C15), _U64(0xC2B2AE3D27D4EB4F)


def _hash01(ix: np.ndarray, iy: np.ndarray, salt: int) -> np.ndarray:
    """Uniform [0, 1) values hashed from integer lattice coordinates (splitmix64 finaliser)."""
    h = (ix.astype(np.int64).view(_U64) * _PRIME_X) ^ (iy.astype(np.int64).view(_U64) * _PRIME_Y)
    h ^= _U64(salt & 0xFFFFFFFFFFFFFFFF)
    h ^= h >> _U64(30)
    h *= _MIX1
    h ^= h >> _U64(27)
    h *= _MIX2
    h ^= h >> _U64(31)
    return (h >> _U64(11)).astype(np.float64) / float(1 << 53)


def _value_noise(x: np.ndarray, y: np.ndarray, cell: float, salt: int) -> np.ndarray:
    """Smooth noise in [-1, 1] on a (len(y), len(x)) grid from lattice values every ``cell`` m."""
    gx, gy = x / cell, y / cell
    ix0, iy0 = np.floor(gx).astype(np.int64), np.floor(gy).astype(np.int64)
    ox, oy = int(ix0.min()), int(iy0.min())
    lx = np.arange(ox, int(ix0.max()) + 2)
    ly = np.arange(oy, int(iy0.max()) + 2)
    lattice = 2.0 * _hash01(lx[None, :], ly[:, None], salt) - 1.0
    fx, fy = gx - ix0, gy - iy0
    wx, wy = fx * fx * (3 - 2 * fx), (fy * fy * (3 - 2 * fy))[:, None]
    cx, cy = ix0 - ox, iy0 - oy
    # Separable smoothstep interpolation: along x on the few lattice rows, then along y.
    rows = lattice[:, cx] * (1 - wx) + lattice[:, cx + 1] * wx
    return rows[cy] * (1 - wy) + rows[cy + 1] * wy


def _craters(x: np.ndarray, y: np.ndarray, cell: float, salt: int, height: np.ndarray) -> None:
    """Add bowl craters (one per lattice cell at most) of sizes ~0.1-0.35 ``cell`` to ``height``."""
    gsd = abs(float(x[1] - x[0])) if len(x) > 1 else cell
    cx0, cx1 = math.floor(x.min() / cell) - 1, math.floor(x.max() / cell) + 1
    cy0, cy1 = math.floor(y.min() / cell) - 1, math.floor(y.max() / cell) + 1
    ix, iy = np.meshgrid(np.arange(cx0, cx1 + 1), np.arange(cy0, cy1 + 1))
    exists = _hash01(ix, iy, salt) < 0.55
    px = (ix + _hash01(ix, iy, salt + 1)) * cell
    py = (iy + _hash01(ix, iy, salt + 2)) * cell
    radius = cell * (0.08 + 0.27 * _hash01(ix, iy, salt + 3) ** 2)
    fresh = 0.35 + 0.65 * _hash01(ix, iy, salt + 4)
    x_desc = x[0] < x[-1]
    y_desc = y[0] > y[-1]
    for cxv, cyv, r, f in zip(px[exists], py[exists], radius[exists], fresh[exists], strict=True):
        reach = 3.0 * r
        # Index window of the grid within reach of this crater (x ascending, y descending).
        c0 = int(np.searchsorted(x, cxv - reach)) if x_desc else 0
        c1 = int(np.searchsorted(x, cxv + reach)) if x_desc else len(x)
        r0 = int(np.searchsorted(-y, -(cyv + reach))) if y_desc else 0
        r1 = int(np.searchsorted(-y, -(cyv - reach))) if y_desc else len(y)
        if c0 >= c1 or r0 >= r1 or r < 1.5 * gsd:
            continue
        rho = np.hypot(x[c0:c1][None, :] - cxv, y[r0:r1][:, None] - cyv) / r
        depth = 0.2 * 2 * r * f
        rim = 0.18 * depth
        profile = np.where(
            rho < 1.0,
            depth * (rho * rho - 1.0) + rim,
            rim * (np.minimum(rho, 3.0) ** -3 - 1.0 / 27.0) / (1.0 - 1.0 / 27.0),
        )
        height[r0:r1, c0:c1] += profile


def surface(x: np.ndarray, y: np.ndarray, gsd: float) -> tuple[np.ndarray, np.ndarray]:
    """Height (m) and normal albedo of the global synthetic Moon on a map grid (x cols, y rows)."""
    height = np.zeros((len(y), len(x)))
    wavelength = 48000.0
    octave = 0
    while wavelength >= 3 * gsd:
        height += 0.025 * wavelength * _value_noise(x, y, wavelength, 1000 + octave)
        wavelength /= 2.1
        octave += 1
    cell = 90000.0
    level = 0
    while cell * 0.08 >= 1.5 * gsd:
        _craters(x, y, cell, 5000 + 10 * level, height)
        cell /= 2.3
        level += 1
    regional = _value_noise(x, y, 150000.0, 7) + 0.5 * _value_noise(x, y, 40000.0, 8)
    albedo = 0.9 + 0.25 * regional + 0.08 * _value_noise(x, y, 6000.0, 9)
    # Dark mare basalt where the regional field is low, with a soft (few km) contact.
    mare = np.clip((-regional - 0.25) / 0.2, 0.0, 1.0)
    albedo *= 1.0 - 0.38 * mare * mare * (3 - 2 * mare)
    return height, np.clip(albedo, 0.3, 1.4)


@dataclass(frozen=True)
class Grid:
    """A north-up map grid in the IAU 30115 equirectangular CRS (metres, clon = 180)."""

    x0: float
    y0: float
    gsd: float
    width: int
    height: int

    @property
    def transform(self) -> Affine:
        return Affine(self.gsd, 0.0, self.x0, 0.0, -self.gsd, self.y0)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        x = self.x0 + (np.arange(self.width) + 0.5) * self.gsd
        y = self.y0 - (np.arange(self.height) + 0.5) * self.gsd
        return x, y


def render_scene(
    grid: Grid,
    footprint: Footprint,
    incidence: float,
    sun_azimuth: float,
    emission: float,
    gain: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Int16 DN image of one scene on ``grid``: shaded terrain inside the footprint, else nodata."""
    x, y = grid.centres()
    height, albedo = surface(x, y, grid.gsd)
    dz_dy, dz_dx = np.gradient(height, grid.gsd)
    dz_dnorth = -dz_dy  # rows run southwards
    i, a = math.radians(incidence), math.radians(sun_azimuth)
    sun = (math.sin(i) * math.sin(a), math.sin(i) * math.cos(a), math.cos(i))
    norm = np.sqrt(dz_dx * dz_dx + dz_dnorth * dz_dnorth + 1.0)
    mu0 = np.clip((-dz_dx * sun[0] - dz_dnorth * sun[1] + sun[2]) / norm, 0.0, None)
    mu = math.cos(math.radians(emission))
    # Lommel-Seeliger reflectance plus a little scattered light, so shadows are not zero.
    radiance = gain * (albedo * mu0 / (mu0 + mu) + 0.012)
    dn = np.rint(radiance + rng.normal(0.0, 2.5, radiance.shape))
    dn = np.clip(dn, 0, 32767).astype(np.int16)
    lon = x / METRES_PER_DEGREE + 180.0
    lat = y / METRES_PER_DEGREE
    sample, line = footprint.image(lon[None, :], lat[:, None])
    inside = (sample >= 0) & (sample <= footprint.samples) & (line >= 0) & (line <= footprint.lines)
    return np.where(inside, dn, np.int16(NODATA))


def write_cog(path: Path, image: np.ndarray, grid: Grid, wkt: str, blocksize: int) -> None:
    """Write a single-band int16 COG with internal overviews (down to ~16 px) and nodata."""
    smallest = min(image.shape)
    overviews = max(1, int(math.log2(max(smallest, 32) / 16)))
    with rasterio.open(
        path,
        "w",
        driver="COG",
        width=grid.width,
        height=grid.height,
        count=1,
        dtype="int16",
        nodata=NODATA,
        crs=CRS.from_wkt(wkt),
        transform=grid.transform,
        compress="deflate",
        predictor=2,
        blocksize=blocksize,
        overview_count=overviews,
        overview_resampling="average",
    ) as dst:
        dst.write(image, 1)


def write_thumbnail(path: Path, image: np.ndarray, max_size: int = 256) -> None:
    """Greyscale JPEG browse image: 0.5-99.5 % stretch of valid pixels, nodata black."""
    valid = image != NODATA
    values = image[valid].astype(np.float64)
    lo, hi = np.percentile(values, [0.5, 99.5]) if values.size else (0.0, 1.0)
    scaled = np.clip((image.astype(np.float64) - lo) / max(hi - lo, 1.0) * 254 + 1, 1, 255)
    pixels = np.where(valid, scaled, 0).astype(np.uint8)
    thumb = Image.fromarray(pixels)  # uint8 2-D -> greyscale "L"
    factor = max(image.shape) / max_size
    if factor > 1:
        size = (max(1, round(image.shape[1] / factor)), max(1, round(image.shape[0] / factor)))
        thumb = thumb.resize(size, Image.Resampling.BILINEAR)
    thumb.save(path, "JPEG", quality=85)


def statistics(image: np.ndarray) -> dict[str, float]:
    """Band statistics of valid pixels, as ``gdalinfo -stats`` reports them."""
    valid = image[image != NODATA].astype(np.float64)
    return {
        "minimum": int(valid.min()),
        "maximum": int(valid.max()),
        "mean": float(valid.mean()),
        "stddev": float(valid.std()),
        "valid_percent": round(100.0 * valid.size / image.size, 2),
        "mode": int(np.bincount(valid.astype(np.int64)).argmax()),
    }
