"""Statistics of one output band over the AOI: min, max, mean, stDev, counts, percentiles, histogram.

Semantics follow the Statistical API: ``sampleCount`` is every AOI pixel, ``noDataCount`` those
the data mask excludes (and, for float outputs, NaN or infinite values); the other statistics use
the remaining pixels, in double precision over the values as the output's sample type stores them.
``stDev`` is the sample standard deviation (n − 1). Percentiles take the ``higher`` of two
neighbouring values unless another numpy method is asked for, so a percentile is always a value
that occurs (the median of a provenance band is a real scene index). Histogram bins are
``[low, high)`` except the last, ``[low, high]``; values outside go to ``underflow``/``overflow``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eoaccess.errors import InvalidInputError

PERCENTILE_METHODS = ("higher", "lower", "nearest", "linear", "midpoint")
MAX_BINS = 10_000


@dataclass(frozen=True)
class HistogramSpec:
    """How to bin one band: ``n_bins``, ``bin_width`` or explicit ``edges``."""

    n_bins: int | None = None
    bin_width: float | None = None
    edges: tuple[float, ...] | None = None
    """Explicit bin edges ``v1 < v2 < …`` (bins ``[v1, v2), …, [vk-1, vk]``)."""
    low_edge: float | None = None
    """Lowest edge (default: the minimum value)."""
    high_edge: float | None = None
    """Highest edge (default: the maximum value)."""

    @classmethod
    def from_json(cls, spec: Any) -> HistogramSpec:
        """The Statistical API's ``{nBins|binWidth|bins, lowEdge, highEdge}``."""
        if isinstance(spec, int) and not isinstance(spec, bool):
            return cls(n_bins=spec).checked()
        if not isinstance(spec, Mapping):
            raise InvalidInputError("a histogram must be an object {nBins|binWidth|bins, …}")
        given = [k for k in ("nBins", "binWidth", "bins") if spec.get(k) is not None]
        if len(given) != 1:
            raise InvalidInputError("a histogram needs exactly one of nBins, binWidth and bins")

        def number(key: str) -> float | None:
            value = spec.get(key)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInputError(f"histogram {key} must be a number, not {value!r}")
            return float(value)

        edges = spec.get("bins")
        if edges is not None:
            if not isinstance(edges, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in edges
            ):
                raise InvalidInputError("histogram bins must be a list of numbers")
            edges = tuple(float(v) for v in edges)
        n_bins = spec.get("nBins")
        if n_bins is not None and (isinstance(n_bins, bool) or not isinstance(n_bins, int)):
            raise InvalidInputError(f"histogram nBins must be an integer, not {n_bins!r}")
        return cls(
            n_bins=n_bins,
            bin_width=number("binWidth"),
            edges=edges,
            low_edge=number("lowEdge"),
            high_edge=number("highEdge"),
        ).checked()

    def checked(self) -> HistogramSpec:
        if self.n_bins is not None and not 1 <= self.n_bins <= MAX_BINS:
            raise InvalidInputError(f"histogram nBins must be 1 to {MAX_BINS}")
        if self.bin_width is not None and not (
            self.bin_width > 0 and math.isfinite(self.bin_width)
        ):
            raise InvalidInputError("histogram binWidth must be a positive number")
        if self.edges is not None:
            if not 2 <= len(self.edges) <= MAX_BINS + 1:
                raise InvalidInputError(f"histogram bins need 2 to {MAX_BINS + 1} edges")
            if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
                raise InvalidInputError("histogram bins must be strictly increasing")
        if (
            self.low_edge is not None
            and self.high_edge is not None
            and not self.high_edge > self.low_edge
        ):
            raise InvalidInputError("histogram highEdge must be above lowEdge")
        return self

    def bin_edges(self, minimum: float, maximum: float) -> np.ndarray | None:
        """The edges for data spanning ``[minimum, maximum]`` (None when there is no data)."""
        if self.edges is not None:
            return np.asarray(self.edges, dtype=np.float64)
        low = self.low_edge if self.low_edge is not None else minimum
        high = self.high_edge if self.high_edge is not None else maximum
        if not (math.isfinite(low) and math.isfinite(high)):
            return None
        if self.bin_width is not None:
            count = max(1, math.ceil((high - low) / self.bin_width - 1e-9))
            if count > MAX_BINS:
                raise InvalidInputError(f"histogram binWidth gives more than {MAX_BINS} bins")
            return low + self.bin_width * np.arange(count + 1, dtype=np.float64)
        if high <= low:  # every value equal: one bin holding them
            high = low + 1.0
        return np.linspace(low, high, (self.n_bins or 1) + 1)


@dataclass(frozen=True)
class BandCalculation:
    """What to compute for one output band beyond the basic statistics."""

    percentiles: tuple[float, ...] = ()
    """Percentiles in 0…100."""
    histogram: HistogramSpec | None = None
    interpolation: str = "higher"
    """numpy percentile method."""


@dataclass(frozen=True)
class Calculations:
    """Per output, per band calculations with Sentinel Hub's ``default`` fallbacks."""

    by_output: Mapping[str, Mapping[str, BandCalculation]] = field(default_factory=dict)

    def for_band(self, output: str, band: str) -> BandCalculation:
        bands = self.by_output.get(output) or self.by_output.get("default") or {}
        return bands.get(band) or bands.get("default") or BandCalculation()

    @classmethod
    def everywhere(cls, calculation: BandCalculation) -> Calculations:
        return cls({"default": {"default": calculation}})


def parse_percentiles(values: Any) -> tuple[float, ...]:
    """Percentiles in 0…100 from a list or ``"50,95"``."""
    if values is None:
        return ()
    items = values.split(",") if isinstance(values, str) else list(values)
    result = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        try:
            k = float(item)
        except (TypeError, ValueError):
            raise InvalidInputError(f"invalid percentile {item!r}: use numbers 0 to 100") from None
        if not 0 <= k <= 100:
            raise InvalidInputError(f"percentile {k:g} is outside 0 to 100")
        result.append(k)
    return tuple(dict.fromkeys(result))


@dataclass(frozen=True)
class Histogram:
    bins: tuple[tuple[float, float, int], ...]
    """(lowEdge, highEdge, count) per bin."""
    underflow: int
    overflow: int


@dataclass(frozen=True)
class BandStats:
    """The statistics of one output band in one interval."""

    min: float
    max: float
    mean: float
    st_dev: float
    sample_count: int
    no_data_count: int
    percentiles: Mapping[float, float] = field(default_factory=dict)
    histogram: Histogram | None = None


def _histogram(values: np.ndarray, spec: HistogramSpec, low: float, high: float) -> Histogram:
    edges = spec.bin_edges(low, high)
    if edges is None:
        return Histogram((), 0, 0)
    counts, _ = np.histogram(values, bins=edges)
    under = int(np.count_nonzero(values < edges[0]))
    over = int(np.count_nonzero(values > edges[-1]))
    bins = tuple((float(edges[i]), float(edges[i + 1]), int(counts[i])) for i in range(len(counts)))
    return Histogram(bins, under, over)


def band_statistics(
    values: np.ndarray, valid: np.ndarray, calculation: BandCalculation
) -> BandStats:
    """Statistics of ``values`` (``(n,)``, the output's sample type) where ``valid``."""
    return statistics_of(values[valid], int(values.size), calculation)


# Percentile methods whose result is always one of the values: exact in any float dtype.
_PICKING_METHODS = frozenset({"higher", "lower", "nearest"})


def statistics_of(data: np.ndarray, n: int, calculation: BandCalculation) -> BandStats:
    """Statistics of the counted values ``data`` (1-D, the output's sample type) of n pixels.

    Sums are taken in double precision without a float64 copy of the data (``dtype=`` on the
    reduction); the deviation from the mean is the one float64 temporary, squared and summed in
    one pass. Min, max and picking percentiles are exact in the data's own dtype.
    """
    count = int(data.size)
    if count == 0:
        nan = math.nan
        return BandStats(
            nan,
            nan,
            nan,
            nan,
            n,
            n,
            {k: nan for k in calculation.percentiles},
            Histogram((), 0, 0) if calculation.histogram else None,
        )
    low, high = float(data.min()), float(data.max())
    mean = float(np.add.reduce(data, dtype=np.float64)) / count
    st_dev = 0.0
    if count > 1 and low != high:
        deviation = np.subtract(data, np.float64(mean), dtype=np.float64)
        # einsum, not np.dot: dot goes to BLAS, whose own threads fight the interval threads
        # (40x slower on a loaded 2-CPU machine); einsum's loop is single-threaded and exact.
        st_dev = math.sqrt(float(np.einsum("i,i->", deviation, deviation)) / (count - 1))
    percentiles: dict[float, float] = {}
    if calculation.percentiles:
        exact = calculation.interpolation in _PICKING_METHODS
        source = data if exact else data.astype(np.float64)
        found = np.percentile(source, calculation.percentiles, method=calculation.interpolation)
        percentiles = {k: float(v) for k, v in zip(calculation.percentiles, found, strict=True)}
    histogram = (
        _histogram(data, calculation.histogram, low, high) if calculation.histogram else None
    )
    return BandStats(low, high, mean, st_dev, n, n - count, percentiles, histogram)


def valid_pixels(values: np.ndarray, mask: np.ndarray, is_float: bool) -> np.ndarray:
    """Pixels a band's statistics count: the mask, and finite values for float outputs."""
    return mask & np.isfinite(values) if is_float else mask


def percentile_key(k: float) -> str:
    """The Statistical API's key of a percentile: ``"50.0"``."""
    return repr(float(k))


def check_interpolation(method: Any) -> str:
    if method is None:
        return "higher"
    if method not in PERCENTILE_METHODS:
        raise InvalidInputError(
            f"invalid percentile interpolation {method!r}; use one of {', '.join(PERCENTILE_METHODS)}"
        )
    return str(method)
