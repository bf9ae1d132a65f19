"""Seed 000: the ITS_LIVE cube under a point, opened lazily, its footprint and velocities.

Usage: python seed000_itslive.py SOURCE OUT_DIR
SOURCE is a server URL (`eoaccess serve ARCHIVE`) or the archive folder itself.
"""

import sys
from pathlib import Path

import eoaccess
from eoaccess.timeseries import plot_timeseries

source, out = sys.argv[1].rstrip("/"), Path(sys.argv[2])
files = f"{source}/files" if "://" in source else source  # the server shows files at /files/
point = (-138.958776, 60.748561)  # lon, lat on a glacier in south-east Alaska

catalog = eoaccess.open_catalog(f"{files}/itslive/catalog_v02.json")
item = next(iter(catalog.search(point=point).items()))
cube = next(iter(item["assets"].values()))["href"]
ds = eoaccess.open_dataset(cube)  # lazy: only metadata is read here
print(cube, dict(ds.sizes))

out.mkdir(parents=True, exist_ok=True)
eoaccess.map_items(eoaccess.footprint(ds), out / "footprint.html", title="ITS_LIVE cube")
series = eoaccess.timeseries(cube, points=[point], variables=["v"], include_errors=True)
series.to_csv(out / "velocity.csv", index=False)
plot_timeseries(series, out / "velocity.png")
print(f"{series['v'].notna().sum()} velocities at the point -> {out}")
