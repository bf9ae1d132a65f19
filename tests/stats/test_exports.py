"""The public surface of ``eoaccess.stats`` is what we mean to export."""

from __future__ import annotations

import eoaccess.stats
import eoaccess.stats.evalscript


def test_stats_exports() -> None:
    assert sorted(eoaccess.stats.__all__) == [
        "BandSource", "BandStats", "Grid", "GridRequest", "IntervalError", "IntervalResult",
        "RasterReader", "SceneProvenance", "StatsResult", "StatsSpec", "band_sources", "compute",
        "compute_stats", "plot_series", "stats", "to_frame", "write_table",
    ]  # fmt: skip
    for name in eoaccess.stats.__all__:
        assert getattr(eoaccess.stats, name) is not None


def test_evalscript_exports() -> None:
    assert sorted(eoaccess.stats.evalscript.__all__) == [
        "Evalscript", "EvalscriptError", "EvalscriptExecutionError", "EvalscriptLimits",
        "EvalscriptProgram", "EvalscriptTimeoutError", "V8Pool", "compile_evalscript", "translate",
    ]  # fmt: skip
