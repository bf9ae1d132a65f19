"""``eoaccess.stats.stats`` and ``eoaccess stats`` end to end on the ARPS sample archive.

Every number is checked against a plain numpy computation over the same pixels read with
rasterio, independently of the engine's grid, mosaic and program code.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.windows import Window

from eoaccess.cli import main
from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.stats import compute_stats, plot_series, stats, write_table
from eoaccess.stats._program import ExpressionProgram
from eoaccess.stats.evalscript import compile_evalscript
from eoaccess.stats.provenance import acquisition_time, parse_scene_ids
from tests.stats.archives import SEED_AOI, ArpsArchive, seed_evalscript

NDWI = "(green - nir) / (green + nir)"
CLEAR = "cloud_mask == 1"
TINY_DAYS = ["2023-11-01", "2023-11-02", "2023-11-05", "2023-11-06"]


def day_pixels(
    archive: ArpsArchive, day: str, window: Window | None = None
) -> dict[str, np.ndarray]:
    """Plain rasterio reads of one day's files (all of the tile, or a window)."""
    folder = archive.day_folder(day)
    with rasterio.open(folder / "analysis_ready_ps_sr.tif") as sr:
        green, nir = sr.read([2, 4], window=window).astype(np.float64)
    with rasterio.open(folder / "analysis_ready_ps_qa.tif") as qa:
        cloud, scene = qa.read(window=window)
        tags = qa.tags()
    return {"green": green, "nir": nir, "cloud": cloud, "scene": scene, "data": green != 0,
            "tags": tags}  # fmt: skip


def reference(pixels: dict[str, np.ndarray]) -> np.ndarray:
    counted = pixels["data"] & (pixels["cloud"] == 1)
    g, n = pixels["green"][counted], pixels["nir"][counted]
    return (g - n) / (g + n)


def test_expression_statistics_equal_numpy_over_the_same_pixels(arps_tiny: ArpsArchive) -> None:
    frame = stats(
        arps_tiny.root, arps_tiny.collection_id, SEED_AOI, "2023-11-01/2023-11-30",
        expression=NDWI, mask=CLEAR, percentiles=[50, 95],
    )  # fmt: skip
    assert list(frame["interval_from"].dt.strftime("%Y-%m-%d")) == TINY_DAYS  # days with tiles
    assert (frame["tiles"] == 1).all()
    sample_counts = set(frame["sampleCount"])
    assert len(sample_counts) == 1  # the AOI's pixels, every day
    for _, row in frame.iterrows():
        # The tiny tile lies inside the seed AOI: its pixels are the AOI's pixels with data.
        values = reference(day_pixels(arps_tiny, row["interval_from"].strftime("%Y-%m-%d")))
        assert row["sampleCount"] - row["noDataCount"] == values.size > 0
        assert row["min"] == values.min() and row["max"] == values.max()
        assert row["mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert row["stDev"] == pytest.approx(values.std(ddof=1), rel=1e-12)
        assert row["p50"] == np.percentile(values, 50, method="higher")
        assert row["p95"] == np.percentile(values, 95, method="higher")


def test_a_projected_window_counts_exactly_its_pixels(arps_small: ArpsArchive) -> None:
    with rasterio.open(arps_small.day_folder("2023-11-05") / "analysis_ready_ps_sr.tif") as src:
        transform = src.transform
    # 40 x 30 pixels of the tile's own lattice, given in UTM.
    west, north = transform.c + 3 * 100, transform.f - 3 * 50
    bbox = (west, north - 3 * 30, west + 3 * 40, north)
    frame = stats(
        arps_small.root, arps_small.collection_id, bbox, "2023-11-05/2023-11-05",
        expression=NDWI, mask=CLEAR, crs="EPSG:32610", histogram=4,
    )  # fmt: skip
    [row] = frame.to_dict("records")
    assert row["sampleCount"] == 40 * 30
    values = reference(day_pixels(arps_small, "2023-11-05", Window(100, 50, 40, 30)))
    assert row["noDataCount"] == 1200 - values.size
    assert row["mean"] == pytest.approx(values.mean(), rel=1e-12)
    histogram = json.loads(row["histogram"])
    counts, edges = np.histogram(values, bins=4)
    assert [b["count"] for b in histogram["bins"]] == counts.tolist()
    assert [b["lowEdge"] for b in histogram["bins"]] == pytest.approx(
        edges[:-1].tolist(), rel=1e-12
    )


def test_scene_provenance_of_each_interval(arps_tiny: ArpsArchive) -> None:
    frame = stats(
        arps_tiny.root, arps_tiny.collection_id, SEED_AOI, "2023-11-01/2023-11-06",
        expression=NDWI, mask=CLEAR, provenance="scene_mask",
    )  # fmt: skip
    tiles = {t["sensingTime"][:10]: t for t in arps_tiny.tiles}
    for _, row in frame.iterrows():
        day = row["interval_from"].strftime("%Y-%m-%d")
        pixels = day_pixels(arps_tiny, day)
        counted = pixels["data"] & (pixels["cloud"] == 1)
        values, counts = np.unique(pixels["scene"][counted], return_counts=True)
        expected = int(values[np.argmax(counts)])
        scene = parse_scene_ids(pixels["tags"]["SCENE_IDS[LAYER_2_VALUE]"])[expected]
        assert row["provenance_value"] == expected
        assert row["provenance_share"] == pytest.approx(counts.max() / counted.sum(), rel=1e-12)
        assert row["tile_id"] == tiles[day]["id"]
        assert row["scene_id"] == scene.removeprefix("PSScene/")
        assert row["acquired"] == acquisition_time(scene)
        assert row["acquired"].date().isoformat() == day  # the scene was taken that day
        assert pd.isna(row["provenance_note"])


def test_longer_intervals_mosaic_the_most_recent_tile(arps_tiny: ArpsArchive) -> None:
    daily = stats(arps_tiny.root, arps_tiny.collection_id, SEED_AOI, "2023-11-01/2023-11-10",
                  expression=NDWI, interval="P1D")  # fmt: skip
    five = stats(arps_tiny.root, arps_tiny.collection_id, SEED_AOI, "2023-11-01/2023-11-10",
                 expression=NDWI, interval="P5D")  # fmt: skip
    assert list(five["tiles"]) == [3, 1]
    # Every tile of 1-5 November covers the tiny window except part of the 1st: the 5th wins.
    by_day = daily.set_index(daily["interval_from"].dt.strftime("%Y-%m-%d"))
    for column in ("mean", "min", "max", "noDataCount"):
        assert five.iloc[0][column] == by_day.loc["2023-11-05", column]
        assert five.iloc[1][column] == by_day.loc["2023-11-06", column]


def test_the_seed_evalscript_gives_the_expression_numbers(arps_tiny: ArpsArchive) -> None:
    result = compute_stats(
        arps_tiny.root, arps_tiny.collection_id, SEED_AOI, "2023-11-01/2023-11-06",
        evalscript=seed_evalscript(), percentiles=[50],
    )  # fmt: skip
    assert result.engine == "numpy"
    for interval in result.intervals:
        values = reference(day_pixels(arps_tiny, interval.interval.start.date().isoformat()))
        ndwi = interval.outputs["default"]["B0"]
        expected = values.astype(np.float32).astype(np.float64)  # the FLOAT32 output
        assert ndwi.mean == pytest.approx(expected.mean(), rel=1e-12)
        assert ndwi.min == expected.min() and ndwi.max == expected.max()
        scenes = interval.outputs["scenes"]["B0"]
        assert scenes.no_data_count == ndwi.no_data_count
        pixels = day_pixels(arps_tiny, interval.interval.start.date().isoformat())
        counted = pixels["data"] & (pixels["cloud"] == 1)
        assert scenes.percentiles[50.0] == np.percentile(
            pixels["scene"][counted], 50, method="higher"
        )


def test_a_failing_interval_is_reported_and_the_others_computed(arps_tiny: ArpsArchive) -> None:
    script = seed_evalscript().replace(
        "function evaluatePixel(sample) {",
        "function evaluatePixel(sample) {\n    if (sample.scene_mask == 539) { throw new Error('scene 539 is bad'); }",
    )
    frame = stats(arps_tiny.root, arps_tiny.collection_id, SEED_AOI, "2023-11-01/2023-11-06",
                  evalscript=script)  # fmt: skip
    errors = frame.set_index(frame["interval_from"].dt.strftime("%Y-%m-%d"))["error"]
    assert errors["2023-11-01"].startswith(
        "EXECUTION_ERROR: evalscript evaluatePixel failed: Error: scene 539 is bad"
    )
    assert errors.drop("2023-11-01").isna().all()
    assert frame["mean"].notna().sum() == 3


def test_tables_and_plot_are_written_atomically(arps_tiny: ArpsArchive, tmp_path: Path) -> None:
    frame = stats(arps_tiny.root, arps_tiny.collection_id, SEED_AOI, "2023-11-01/2023-11-06",
                  expression=NDWI, mask=CLEAR, percentiles=[5, 50, 95], provenance="scene_mask")  # fmt: skip
    csv, parquet, png = tmp_path / "s.csv", tmp_path / "s.parquet", tmp_path / "s.png"
    write_table(frame, csv)
    write_table(frame, parquet)
    plot_series(frame, png)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "s.parquet", "s.png"]
    back = pd.read_parquet(parquet)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    text = pd.read_csv(csv)
    assert list(text.columns) == list(frame.columns)
    assert text["interval_from"].tolist() == [f"{d}T00:00:00Z" for d in TINY_DAYS]
    assert text["mean"].tolist() == pytest.approx(frame["mean"].tolist(), rel=1e-15)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InvalidInputError, match=r"use a file ending in \.csv"):
        write_table(frame, tmp_path / "s.xlsx")


def test_stac_api_source_gives_the_archive_numbers(arps_tiny: ArpsArchive) -> None:
    from eoaccess.server import create_app, start_in_thread
    from eoaccess.stores import open_store

    local = stats(arps_tiny.root, arps_tiny.collection_id, SEED_AOI, "2023-11-01/2023-11-06",
                  expression=NDWI, mask=CLEAR, provenance="scene_mask", percentiles=[50])  # fmt: skip
    store = open_store(None, arps_tiny.root)
    try:
        with start_in_thread(create_app(store, arps_tiny.root)) as server:
            remote = stats(server.url, f"byoc-{arps_tiny.collection_id}", SEED_AOI,
                           "2023-11-01/2023-11-06", expression=NDWI, mask=CLEAR,
                           provenance="scene_mask", percentiles=[50])  # fmt: skip
    finally:
        store.close()
    pd.testing.assert_frame_equal(remote, local)


def test_programs_survive_pickling_for_dask_workers() -> None:
    expression = ExpressionProgram.build(NDWI, CLEAR, {"green": 1, "nir": 1, "cloud_mask": 1})
    evalscript = compile_evalscript(seed_evalscript(), {"green", "nir", "cloud_mask", "scene_mask"})
    for program in (expression, evalscript):
        copy = pickle.loads(pickle.dumps(program))
        samples = {"green": np.array([3.0, 1.0]), "nir": np.array([1.0, 1.0]),
                   "cloud_mask": np.array([1.0, 0.0]), "scene_mask": np.array([2.0, 2.0]),
                   "dataMask": np.ones(2)}  # fmt: skip
        first, second = program.evaluate(samples, 2), copy.evaluate(samples, 2)
        np.testing.assert_array_equal(first.values["default"], second.values["default"])
        np.testing.assert_array_equal(first.mask, [True, False])


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[str]:
    from distributed import LocalCluster

    # A real scheduler on loopback TCP (workers in this process: no process start-up cost); its
    # HTTP endpoint on a free port, not the default 8787 other runs on this machine may hold.
    cluster = LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                           host="127.0.0.1", dashboard_address="127.0.0.1:0")  # fmt: skip
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_an_existing_dask_cluster_gives_the_same_numbers(
    arps_tiny: ArpsArchive, dask_cluster: str
) -> None:
    common = dict(expression=NDWI, mask=CLEAR, provenance="scene_mask", percentiles=[50])
    local = stats(
        arps_tiny.root, arps_tiny.collection_id, SEED_AOI, "2023-11-01/2023-11-06", **common
    )
    remote = stats(arps_tiny.root, arps_tiny.collection_id, SEED_AOI, "2023-11-01/2023-11-06",
                   dask_scheduler=dask_cluster, **common)  # fmt: skip
    pd.testing.assert_frame_equal(remote, local)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"collections": "nope"}, NotFoundError, "nope"),
        ({"collections": ["a", "b"]}, InvalidInputError, "exactly one collection"),
        ({"expression": "green - swir"}, InvalidInputError, "unknown band.*swir.*blue"),
        ({"expression": "__import__('os')"}, InvalidInputError, "not allowed"),
        ({"aoi": (10.0, 10.0, 10.1, 10.1)}, InvalidInputError, "outside the data"),
        ({"aoi": "1,2,3"}, InvalidInputError, "bbox must have 4"),
        ({"interval": "P1X"}, InvalidInputError, "ISO 8601 duration"),
        ({"datetime": "2023-11-01/.."}, InvalidInputError, "closed time range"),
        (
            {"evalscript": "//VERSION=3\n"},
            InvalidInputError,
            "either an expression or an evalscript",
        ),
        ({"provenance": "tide"}, InvalidInputError, "unknown provenance band 'tide'"),
        ({"percentiles": "101"}, InvalidInputError, "outside 0 to 100"),
    ],
)
def test_bad_input_is_one_clear_error(
    arps_tiny: ArpsArchive, changes: dict, error: type[Exception], message: str
) -> None:
    args = {"source": arps_tiny.root, "collections": arps_tiny.collection_id, "aoi": SEED_AOI,
            "datetime": "2023-11-01/2023-11-06", "expression": NDWI, **changes}  # fmt: skip
    with pytest.raises(error, match=message):
        stats(**args)


def test_no_tiles_in_the_range_is_an_empty_table(arps_tiny: ArpsArchive) -> None:
    frame = stats(arps_tiny.root, arps_tiny.collection_id, SEED_AOI, "2023-12-01/2023-12-31",
                  expression=NDWI)  # fmt: skip
    assert frame.empty and list(frame.columns)[:3] == ["interval_from", "interval_to", "tiles"]


def test_cli(arps_tiny: ArpsArchive, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, png = tmp_path / "ndwi.csv", tmp_path / "ndwi.png"
    code = main(["stats", str(arps_tiny.root), "--collections", arps_tiny.collection_id,
                 "--aoi", ",".join(map(str, SEED_AOI)), "--datetime", "2023-11-01/2023-11-06",
                 "--expression", NDWI, "--mask", CLEAR, "--percentiles", "50,95",
                 "--provenance", "scene_mask", "--output", str(out), "--plot", str(png)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(out)
    assert len(table) == 4 and {"p50", "p95", "scene_id", "acquired"} <= set(table.columns)
    assert png.exists()
    script = tmp_path / "ndwi.js"
    script.write_text(seed_evalscript())
    code = main(["stats", str(arps_tiny.root), "--collections", arps_tiny.collection_id,
                 "--aoi", ",".join(map(str, SEED_AOI)), "--datetime", "2023-11-05/2023-11-05",
                 "--evalscript", str(script), "--percentiles", "50"])  # fmt: skip
    printed = capsys.readouterr().out.splitlines()
    assert code == 0 and len(printed) == 2 and "scenes_B0_p50" in printed[0]
    code = main(["stats", str(arps_tiny.root), "--collections", arps_tiny.collection_id,
                 "--aoi", ",".join(map(str, SEED_AOI)), "--datetime", "2023-11-01/2023-11-06", "--expression", "nir +"])  # fmt: skip
    err = capsys.readouterr().err
    assert (
        code == 2 and err.count("\n") == 1 and err.startswith("eoaccess: error: invalid expression")
    )


def test_cli_exits_non_zero_when_an_interval_failed(arps_tiny: ArpsArchive, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    script = tmp_path / "bad.js"
    script.write_text(seed_evalscript().replace(
        "const clear", "if (sample.scene_mask == 539) { throw new Error('bad scene'); }\n    const clear"))  # fmt: skip
    code = main(["stats", str(arps_tiny.root), "--collections", arps_tiny.collection_id,
                 "--aoi", ",".join(map(str, SEED_AOI)), "--datetime", "2023-11-01/2023-11-06",
                 "--evalscript", str(script), "--output", str(tmp_path / "out.csv")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "1 of 4 intervals failed: EXECUTION_ERROR" in err and "bad scene" in err
    assert len(pd.read_csv(tmp_path / "out.csv")) == 4  # the table is still written


def test_utc_columns(arps_tiny: ArpsArchive) -> None:
    frame = stats(arps_tiny.root, arps_tiny.collection_id, SEED_AOI, "2023-11-05/2023-11-05",
                  expression=NDWI)  # fmt: skip
    assert frame["interval_from"].iloc[0] == datetime(2023, 11, 5, tzinfo=UTC)
    assert frame["interval_to"].iloc[0] == datetime(2023, 11, 6, tzinfo=UTC)
