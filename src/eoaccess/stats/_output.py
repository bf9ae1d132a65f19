"""Statistics as a table (one row per interval), written atomically as CSV or Parquet, and a plot.

Columns: ``interval_from``, ``interval_to`` (UTC), ``tiles`` (how many were mosaicked), then the
statistics of the first output band unprefixed (``min``, ``max``, ``mean``, ``stDev``,
``sampleCount``, ``noDataCount``, ``p50``…, ``histogram`` as JSON) and those of other output
bands prefixed ``<output>_<band>_``; with provenance, ``provenance_value``, ``provenance_share``,
``item``, ``tile_id``, ``scene_id``, ``acquired``, ``provenance_note``; ``error`` when an
interval failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eoaccess._atomic import atomic_path
from eoaccess.errors import InvalidInputError, OutputError
from eoaccess.stats._compute import BandStats
from eoaccess.stats._engine import StatsResult

STAT_COLUMNS = ("min", "max", "mean", "stDev", "sampleCount", "noDataCount")
PROVENANCE_COLUMNS = (
    "provenance_value",
    "provenance_share",
    "item",
    "tile_id",
    "scene_id",
    "acquired",
    "provenance_note",
)


def percentile_column(k: float) -> str:
    """``p50``, ``p95``, ``p2.5``."""
    return f"p{k:g}"


def _band_columns(stats: BandStats, prefix: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        f"{prefix}min": stats.min,
        f"{prefix}max": stats.max,
        f"{prefix}mean": stats.mean,
        f"{prefix}stDev": stats.st_dev,
        f"{prefix}sampleCount": stats.sample_count,
        f"{prefix}noDataCount": stats.no_data_count,
    }
    for k, value in stats.percentiles.items():
        row[f"{prefix}{percentile_column(k)}"] = value
    if stats.histogram is not None:
        row[f"{prefix}histogram"] = json.dumps(
            {
                "bins": [
                    {"lowEdge": low, "highEdge": high, "count": count}
                    for low, high, count in stats.histogram.bins
                ],
                "underflow": stats.histogram.underflow,
                "overflow": stats.histogram.overflow,
            }
        )
    return row


def to_frame(result: StatsResult) -> Any:
    """The result as a pandas DataFrame, one row per interval with data."""
    import pandas as pd

    bands = [(o.id, b) for o in result.outputs for b in o.bands]
    rows = []
    for interval in result.intervals:
        row: dict[str, Any] = {
            "interval_from": interval.interval.start,
            "interval_to": interval.interval.end,
            "tiles": len(interval.tiles),
        }
        for position, (output, band) in enumerate(bands):
            stats = interval.outputs.get(output, {}).get(band)
            if stats is not None:
                row.update(_band_columns(stats, "" if position == 0 else f"{output}_{band}_"))
        provenance = interval.provenance
        if provenance is not None:
            row.update(
                provenance_value=provenance.value,
                provenance_share=provenance.share,
                item=provenance.item,
                tile_id=provenance.tile_id,
                scene_id=provenance.scene_id,
                acquired=provenance.acquired,
                provenance_note=provenance.note,
            )
        if interval.error is not None:
            row["error"] = f"{interval.error.type}: {interval.error.message}"
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=["interval_from", "interval_to", "tiles", *STAT_COLUMNS])
    for column in ("interval_from", "interval_to", "acquired"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _write_csv(frame: Any, path: Path) -> None:
    frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")


def _write_parquet(frame: Any, path: Path) -> None:
    frame.to_parquet(path, index=False)


# Registry: file suffix -> writer of a table to a (temporary) path.
TABLE_WRITERS: dict[str, Callable[[Any, Path], None]] = {
    ".csv": _write_csv,
    ".parquet": _write_parquet,
    ".pq": _write_parquet,
}


def write_table(frame: Any, path: str | Path) -> Path:
    """Write the table atomically, as CSV or Parquet by the file suffix."""
    target = Path(path)
    writer = TABLE_WRITERS.get(target.suffix.lower())
    if writer is None:
        raise InvalidInputError(
            f"cannot write {target.name}: use a file ending in {', '.join(TABLE_WRITERS)}"
        )
    try:
        with atomic_path(target) as tmp:
            writer(frame, tmp)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def plot_series(frame: Any, path: str | Path, title: str | None = None) -> Path:
    """A PNG of the mean over time with a percentile band (the lowest to the highest percentile
    column; min to max without percentiles), written atomically."""
    from matplotlib.figure import Figure  # no pyplot: the user's backend stays untouched

    target = Path(path)
    if target.suffix.lower() != ".png":
        raise InvalidInputError(f"the plot is a PNG: name it *.png, not {target.name}")
    figure = Figure(figsize=(9, 4.5), dpi=100)
    axes = figure.add_subplot()
    if not frame.empty and "mean" in frame:
        data = frame.dropna(subset=["mean"])
        when = data["interval_from"]
        percentiles = sorted(
            (c for c in frame.columns if c.startswith("p") and c[1:].replace(".", "", 1).isdigit()),
            key=lambda c: float(c[1:]),
        )
        low, high = (percentiles[0], percentiles[-1]) if len(percentiles) >= 2 else ("min", "max")
        axes.fill_between(when, data[low], data[high], alpha=0.25, label=f"{low} to {high}")
        axes.plot(when, data["mean"], marker="o", label="mean")
        if len(percentiles) == 1:
            axes.plot(when, data[percentiles[0]], linestyle="--", label=percentiles[0])
        axes.legend(loc="best")
    else:
        axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel("interval start (UTC)")
    axes.set_ylabel("value")
    axes.set_title(title or "statistics over time")
    axes.grid(True, alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    try:
        with atomic_path(target) as tmp:
            figure.savefig(tmp, format="png")
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target
