"""Seed 004: daily NDWI over the San Francisco Bay from Planet ARPS, cloud-masked, with the
scene behind each day (id and acquisition time from the QA header); CSV and plot.

Usage: python seed004_arps.py SOURCE OUT_DIR   (SOURCE: server URL or archive folder)
"""

import sys
from pathlib import Path

import eoaccess
from eoaccess.stats import plot_series

source, out = sys.argv[1], Path(sys.argv[2])
collections = eoaccess.open_catalog(source).collections()
arps = next(c["id"] for c in collections if "PlanetScope" in c.get("title", ""))
bay, november = (-122.44, 37.75, -122.39, 37.79), "2023-11-01/2023-11-30"  # lon/lat, UTC

daily = eoaccess.stats(
    source, arps, bay, november, "P1D",
    expression="(green - nir) / (green + nir)",
    mask="cloud_mask == 1",  # count clear pixels only
    percentiles=[50],
    provenance="scene_mask",  # the QA band telling which scene each pixel came from
)  # fmt: skip
print(daily[["interval_from", "mean", "p50", "scene_id", "acquired"]].to_string(index=False))
out.mkdir(parents=True, exist_ok=True)
daily.to_csv(out / "ndwi_daily.csv", index=False)
plot_series(daily, out / "ndwi_daily.png", title="NDWI over the San Francisco Bay")
