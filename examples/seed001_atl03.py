"""Seed 001: ask the Harmony-compatible service what it can do with ATL03, subset a bbox and a
month as an asynchronous job with a progress bar, download the results, count photons per beam.

Usage: python seed001_atl03.py SERVER_URL OUT_DIR
"""

import sys

import xarray as xr

from eoaccess.services import HarmonyService

url, out = sys.argv[1], sys.argv[2]
with HarmonyService(url) as service:
    capabilities = service.capabilities(short_name="ATL03")
    print("ATL03 is", capabilities["conceptId"], "bboxSubset:", capabilities["bboxSubset"])
    job = service.submit(
        collection=capabilities["conceptId"],
        bbox=(-105.5, 40, -105, 41.0),
        datetime="2020-04-27T00:00:00Z/2020-05-28T00:00:00Z",
    )
    job = service.wait(job.id, progress=True)  # a progress bar
    print("job", job.id, job.status)
    downloaded = service.download_results(job.id, out)  # existing files are kept
    downloaded.raise_for_failures()
for path in sorted(f.path for f in downloaded.files):
    for beam in ("gt1l", "gt1r", "gt2l", "gt2r", "gt3l", "gt3r"):
        with xr.open_dataset(path, group=f"{beam}/heights") as ds:
            print(path.name, beam, ds.sizes["delta_time"], "photons")
