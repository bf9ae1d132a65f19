"""Per-band statistics: counts, moments, percentiles and histograms as the Statistical API has them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eoaccess.errors import InvalidInputError
from eoaccess.stats._compute import (
    BandCalculation,
    Calculations,
    HistogramSpec,
    band_statistics,
    parse_percentiles,
    percentile_key,
    valid_pixels,
)


def test_basic_statistics_count_only_valid_pixels() -> None:
    values = np.array([1.0, 2.0, 4.0, 8.0, 100.0, np.nan], dtype=np.float32)
    mask = np.array([True, True, True, True, False, True])
    stats = band_statistics(values, valid_pixels(values, mask, True), BandCalculation())
    assert (stats.min, stats.max) == (1.0, 8.0)
    assert stats.mean == pytest.approx(3.75, abs=0)
    assert stats.st_dev == pytest.approx(np.std([1, 2, 4, 8], ddof=1), rel=1e-15)
    assert (stats.sample_count, stats.no_data_count) == (6, 2)  # masked 100 and the NaN


def test_integer_outputs_keep_their_values() -> None:
    values = np.array([10, 233, 233, 10, 233], dtype=np.int16)
    stats = band_statistics(values, np.ones(5, bool), BandCalculation(percentiles=(50.0,)))
    assert stats.percentiles == {50.0: 233.0}
    assert stats.mean == pytest.approx(143.8, abs=1e-12)


def test_percentiles_take_the_higher_neighbour_by_default() -> None:
    values = np.arange(1, 11, dtype=np.float64)
    calc = BandCalculation(percentiles=(0.0, 25.0, 50.0, 95.0, 100.0))
    stats = band_statistics(values, np.ones(10, bool), calc)
    assert stats.percentiles == {0.0: 1.0, 25.0: 4.0, 50.0: 6.0, 95.0: 10.0, 100.0: 10.0}
    linear = band_statistics(values, np.ones(10, bool), BandCalculation((50.0,), None, "linear"))
    assert linear.percentiles == {50.0: 5.5}


def test_no_valid_pixel_gives_nan_and_all_no_data() -> None:
    stats = band_statistics(
        np.zeros(4), np.zeros(4, bool), BandCalculation((50.0,), HistogramSpec(n_bins=3))
    )
    assert all(math.isnan(v) for v in (stats.min, stats.max, stats.mean, stats.st_dev))
    assert (stats.sample_count, stats.no_data_count) == (4, 4)
    assert math.isnan(stats.percentiles[50.0])
    assert stats.histogram is not None and stats.histogram.bins == ()


def test_histogram_n_bins_spans_min_to_max_last_bin_closed() -> None:
    values = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    stats = band_statistics(
        values, np.ones(5, bool), BandCalculation(histogram=HistogramSpec(n_bins=2))
    )
    assert stats.histogram is not None
    assert stats.histogram.bins == ((0.0, 2.0, 2), (2.0, 4.0, 3))
    assert (stats.histogram.underflow, stats.histogram.overflow) == (0, 0)


def test_histogram_bin_width_and_edges_with_under_and_overflow() -> None:
    values = np.array([-5.0, 0.0, 0.5, 1.0, 1.5, 2.0, 9.0])
    spec = HistogramSpec.from_json({"binWidth": 1, "lowEdge": 0, "highEdge": 2})
    stats = band_statistics(values, np.ones(7, bool), BandCalculation(histogram=spec))
    assert stats.histogram is not None
    assert stats.histogram.bins == ((0.0, 1.0, 2), (1.0, 2.0, 3))
    assert (stats.histogram.underflow, stats.histogram.overflow) == (1, 1)
    explicit = HistogramSpec.from_json({"bins": [0, 1, 10]})
    stats = band_statistics(values, np.ones(7, bool), BandCalculation(histogram=explicit))
    assert stats.histogram is not None
    assert stats.histogram.bins == ((0.0, 1.0, 2), (1.0, 10.0, 4))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"nBins": 2, "binWidth": 1}, "exactly one"),
        ({}, "exactly one"),
        ({"nBins": 0}, "nBins"),
        ({"nBins": 2.5}, "integer"),
        ({"binWidth": -1}, "binWidth"),
        ({"bins": [0, 2, 1]}, "increasing"),
        ({"bins": [1]}, "edges"),
        ({"nBins": 3, "lowEdge": 5, "highEdge": 1}, "highEdge"),
        ("ten", "object"),
    ],
)
def test_bad_histograms(spec: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        HistogramSpec.from_json(spec)


def test_percentile_parsing_and_keys() -> None:
    assert parse_percentiles("50, 95") == (50.0, 95.0)
    assert parse_percentiles([2.5, 50]) == (2.5, 50.0)
    assert percentile_key(50) == "50.0" and percentile_key(2.5) == "2.5"
    with pytest.raises(InvalidInputError, match="outside 0 to 100"):
        parse_percentiles([150])
    with pytest.raises(InvalidInputError, match="invalid percentile"):
        parse_percentiles("fifty")


def test_default_calculations_fall_back_per_output_and_band() -> None:
    special = BandCalculation(percentiles=(50.0,))
    fallback = BandCalculation(percentiles=(5.0,))
    calcs = Calculations({"scenes": {"B0": special}, "default": {"default": fallback}})
    assert calcs.for_band("scenes", "B0") is special
    assert calcs.for_band("scenes", "B1") == BandCalculation()  # scenes has no default band
    assert calcs.for_band("other", "B3") is fallback
