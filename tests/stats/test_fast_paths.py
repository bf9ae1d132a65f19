"""The engine's fast paths (counted pixels only, native dtypes) give the plain numpy answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import shapely

from eoaccess.stats._aoi import Grid, coverage, pixel_map
from eoaccess.stats._bands import BandSource
from eoaccess.stats._compute import BandCalculation, Calculations, statistics_of
from eoaccess.stats._engine import StatsSpec, compute
from eoaccess.stats._intervals import LastInterval, parse_duration
from eoaccess.stats._mosaic import mosaic
from eoaccess.stats._program import (
    DATA_MASK,
    Evaluated,
    ExpressionProgram,
    OutputSpec,
    _comparisons_only,
)
from tests.stats.test_mosaic import A_GRID, BANDS, CRS, ArrayReader, raster, setup, tile


def test_one_tile_covering_the_aoi_is_kept_as_read() -> None:
    grid = A_GRID  # the AOI is tile A itself
    cover = coverage(grid, shapely.box(*grid.bounds))
    data = raster(1.0, [3])
    reader = ArrayReader({"A": (grid, data)})
    result = mosaic([tile("A", 2, grid)], BANDS, cover, {grid: pixel_map(cover, grid)}.get, reader)
    assert result.pixels is None  # full layout: no gathering, no scattering
    assert result.size == 16
    np.testing.assert_array_equal(result.data.reshape(4, 4)[0], [True, True, True, False])
    # The full-size views rebuild what Sentinel Hub's pixels hold: 0 where no data.
    np.testing.assert_array_equal(result.samples["red"].reshape(4, 4)[0], [1, 1, 1, 0])
    np.testing.assert_array_equal(result.samples["qa"].reshape(4, 4)[0], [10, 10, 10, 0])
    np.testing.assert_array_equal(result.samples[DATA_MASK].reshape(4, 4)[0], [1, 1, 1, 0])
    np.testing.assert_array_equal(result.tile_index.reshape(4, 4)[0], [0, 0, 0, -1])


def test_several_tiles_give_the_compact_layout() -> None:
    cover, maps, reader = setup()
    result = mosaic([tile("A", 2, A_GRID), tile("B", 1, maps_b(maps))], BANDS, cover,
                    maps.__getitem__, reader)  # fmt: skip
    assert result.pixels is not None and result.data is None
    # Row 0: A gives columns 0-2 (its column 3 is no data), B gives 3-5; 4 rows.
    assert sorted(result.pixels.tolist()) == [r * 6 + c for r in range(4) for c in range(6)]
    by_position = dict(zip(result.pixels.tolist(), result.values["red"].tolist(), strict=True))
    assert [by_position[c] for c in range(6)] == [1, 1, 1, 2, 2, 2]
    assert sorted(set(result.tile_of.tolist())) == [0, 1]


def maps_b(maps: Mapping[Grid, Any]) -> Grid:
    return next(g for g in maps if g is not A_GRID and g != A_GRID)


@pytest.mark.parametrize(
    ("source", "native"),
    [
        ("cloud_mask == 1", True),
        ("(cloud_mask == 1) & (qa != 3)", False),  # bitwise & is arithmetic
        ("cloud_mask == 1 and qa in [1, 2] or not qa > -1", True),
        ("`cloud mask` >= 2", True),
        ("a - b > 0", False),
        ("-a < 3", False),
        ("a == nan", False),
        ("where(a > 1, 1, 0) == 1", False),
    ],
)
def test_which_masks_run_in_the_bands_own_dtype(source: str, native: bool) -> None:
    assert _comparisons_only(source) is native


def test_integer_masks_give_the_float64_answers() -> None:
    a = np.array([0, 1, 65535, 7, 300], dtype=np.uint16)
    b = np.array([1, 0, 65534, 7, 2], dtype=np.uint16)
    samples = {"a": a, "b": b, DATA_MASK: np.ones(5, dtype=bool)}
    # Arithmetic must not wrap around in uint16 (0 - 1 would be 65535 > 0).
    wraps = ExpressionProgram("a", "a - b > 0").evaluate(samples, 5)
    np.testing.assert_array_equal(wraps.mask, [False, True, True, False, True])
    # Comparisons with negative and out-of-range numbers are exact in the native dtype.
    compared = ExpressionProgram("a", "a > -1 and a != 70000 and b < 65534.5").evaluate(samples, 5)
    np.testing.assert_array_equal(compared.mask, [True, True, True, True, True])
    # Only the counted pixels' values are kept.
    picked = ExpressionProgram("a * 2", "b == 7").evaluate(samples, 5)
    np.testing.assert_array_equal(picked.at, [3])
    np.testing.assert_array_equal(picked.values["default"], [[14.0]])


def test_statistics_from_float32_and_integers_equal_numpy_in_doubles() -> None:
    rng = np.random.default_rng(8)
    values = (rng.normal(0.3, 0.2, 100_001)).astype(np.float32)
    calc = BandCalculation(percentiles=(50.0, 95.0))
    stats = statistics_of(values, 100_010, calc)
    doubles = values.astype(np.float64)
    assert stats.mean == pytest.approx(doubles.mean(), rel=1e-12)
    assert stats.st_dev == pytest.approx(doubles.std(ddof=1), rel=1e-12)
    assert (stats.min, stats.max) == (float(doubles.min()), float(doubles.max()))
    expected = np.percentile(doubles, [50.0, 95.0], method="higher")
    assert [stats.percentiles[50.0], stats.percentiles[95.0]] == expected.tolist()
    assert (stats.sample_count, stats.no_data_count) == (100_010, 9)
    linear = statistics_of(values, 100_001, BandCalculation((50.0,), None, "linear"))
    assert linear.percentiles[50.0] == float(np.percentile(doubles, 50.0))
    scenes = statistics_of(np.array([4, 4, 4], dtype=np.int16), 3, calc)
    assert (scenes.mean, scenes.st_dev, scenes.percentiles[50.0]) == (4.0, 0.0, 4.0)


@dataclass(frozen=True)
class CountsEverything:
    """A program counting every pixel, data or not (like a script returning dataMask: [1])."""

    @property
    def bands(self) -> tuple[str, ...]:
        return ("red",)

    @property
    def outputs(self) -> tuple[OutputSpec, ...]:
        return (OutputSpec("default", ("B0",), "FLOAT64"),)

    def evaluate(self, samples: Mapping[str, np.ndarray], n: int, engines: Any = None) -> Evaluated:
        red = np.asarray(samples["red"], dtype=np.float64)
        return Evaluated({"default": (red + 1.0).reshape(1, n)}, np.ones(n, dtype=bool))


def _spec(program: Any, aoi: Any) -> StatsSpec:
    return StatsSpec(aoi, CRS, datetime(2023, 11, 1, tzinfo=UTC), datetime(2023, 11, 4, tzinfo=UTC),
                     parse_duration("P3D"), LastInterval.SKIP, program,
                     Calculations.everywhere(BandCalculation(percentiles=(50.0,))))  # fmt: skip


@pytest.mark.parametrize("layout", ["full", "compact"])
def test_pixels_without_data_count_with_zero_inputs(layout: str) -> None:
    """Pixels without data have red 0 (as in Sentinel Hub), never the value read from the file."""
    data = raster(5.0, [3])  # column 3 is no data (red 0)
    data[0, :, 3] = 0.0
    reader = ArrayReader({"A": (A_GRID, data)})
    bands = {"red": BandSource("red", "data", 1, 0.0)}
    # full: the AOI is tile A; compact: the AOI also has 2 columns no tile covers.
    aoi = shapely.box(0, 0, 4, 4) if layout == "full" else shapely.box(0, 0, 6, 4)
    result = compute([tile("A", 2, A_GRID)], _spec(CountsEverything(), aoi), bands, reader=reader)
    stats = result.intervals[0].outputs["default"]["B0"]
    n = 16 if layout == "full" else 24
    without = n - 12  # pixels with red 0 + 1 = 1
    expected = np.array([6.0] * 12 + [1.0] * without)
    assert (stats.sample_count, stats.no_data_count) == (n, 0)
    assert stats.mean == pytest.approx(expected.mean(), rel=1e-12)
    assert stats.st_dev == pytest.approx(expected.std(ddof=1), rel=1e-12)
    assert (stats.min, stats.max) == (1.0, 6.0)
    assert stats.percentiles[50.0] == float(np.percentile(expected, 50, method="higher"))


def test_expression_over_the_full_layout_equals_numpy() -> None:
    rng = np.random.default_rng(4)
    data = np.stack([rng.integers(0, 4, (4, 4)), rng.integers(0, 3, (4, 4))]).astype(np.uint16)
    reader = ArrayReader({"A": (A_GRID, data)})
    bands = {"red": BandSource("red", "data", 1, 0.0), "qa": BandSource("qa", "data", 2, None)}
    program = ExpressionProgram("red / (qa + 1)", "qa != 2")
    result = compute([tile("A", 2, A_GRID)], _spec(program, shapely.box(0, 0, 4, 4)), bands,
                     reader=reader)  # fmt: skip
    stats = result.intervals[0].outputs["default"]["B0"]
    red, qa = data[0].astype(np.float64).ravel(), data[1].astype(np.float64).ravel()
    counted = (red != 0) & (qa != 2)
    expected = red[counted] / (qa[counted] + 1)
    assert (stats.sample_count, stats.no_data_count) == (16, 16 - int(counted.sum()))
    assert stats.mean == pytest.approx(expected.mean(), rel=1e-12)
    assert stats.st_dev == pytest.approx(expected.std(ddof=1), rel=1e-12)
    assert stats.percentiles[50.0] == float(np.percentile(expected, 50, method="higher"))
