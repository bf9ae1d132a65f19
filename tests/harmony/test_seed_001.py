"""Seed 001 end to end with harmony-py unchanged, against a real server over the tiny archive.

This module runs the service the default way: no scheduler given, so the service starts its
own small Dask LocalCluster on the first job (and stops it with the server).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import h5py
import httpx
import numpy as np
import pytest
import xarray as xr

from eoaccess.harmony import concept_id
from eoaccess.subset import subset
from harmony import BBox, CapabilitiesRequest, Client, Collection, Environment, Request
from tests.harmony.conftest import (
    SEED_BBOX,
    SEED_GRANULE,
    HarmonyServer,
    Ingested,
    serve_harmony,
    settings,
)

BEAMS = ("gt1l", "gt1r", "gt2l", "gt2r", "gt3l", "gt3r")


@pytest.fixture(scope="module")
def served(ingested: Ingested, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HarmonyServer]:
    with serve_harmony(
        ingested.store, ingested.root, settings(tmp_path_factory.mktemp("seed001"), None)
    ) as server:
        yield server


@pytest.fixture()
def client(served: HarmonyServer, monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setenv("ROOT_URL", served.url)
    return Client(env=Environment.LOCAL, check_interval=0.2)


def seed_request(conceptid: str) -> Request:
    return Request(
        collection=Collection(id=conceptid),
        spatial=BBox(-105.5, 40, -105, 41.0),
        temporal={"start": dt.datetime(2020, 4, 27), "stop": dt.datetime(2020, 5, 28)},
    )


def test_capabilities_by_short_name_and_concept_id(client: Client) -> None:
    caps = client.submit(CapabilitiesRequest(short_name="ATL03"))
    assert caps["conceptId"] == concept_id("ATL03")
    assert caps["conceptId"].endswith("-EOACCESS") and caps["conceptId"].startswith("C")
    assert caps["shortName"] == "ATL03"
    assert caps["capabilitiesVersion"] == "2"
    assert (caps["bboxSubset"], caps["shapeSubset"], caps["temporalSubset"]) == (True,) * 3
    assert (caps["variableSubset"], caps["reproject"], caps["concatenate"]) == (False,) * 3
    assert caps["outputFormats"] == ["application/x-hdf5"]
    again = client.submit(CapabilitiesRequest(collection_id=caps["conceptId"]))
    assert again == caps


def test_seed_001_subset_download_and_open(
    client: Client, ingested: Ingested, tmp_path: Path
) -> None:
    caps = client.submit(CapabilitiesRequest(short_name="ATL03"))
    job_id = client.submit(seed_request(caps["conceptId"]))
    assert isinstance(job_id, str) and len(job_id) == 36
    client.wait_for_processing(job_id, show_progress=True)
    status = client.status(job_id)  # wait_for_processing returned: the job is finished
    assert (status["status"], status["progress"], status["num_input_granules"]) == (
        "successful",
        100,
        1,
    )
    summary = client.result_json(job_id)
    assert summary["status"] == "successful"
    assert summary["progress"] == 100
    assert summary["numInputGranules"] == 1
    assert "errors" not in summary
    assert dt.datetime.fromisoformat(summary["dataExpiration"]) > dt.datetime.now(dt.UTC)
    data = [link for link in summary["links"] if link["rel"] == "data"]
    assert [link["title"] for link in data] == [f"{SEED_GRANULE}_subsetted.h5"]
    west, south, east, north = data[0]["bbox"]
    assert SEED_BBOX[0] <= west <= east <= SEED_BBOX[2]
    assert SEED_BBOX[1] <= south <= north <= SEED_BBOX[3]
    assert data[0]["temporal"]["start"].startswith("2020-04-27T19:")
    rels = {link["rel"] for link in summary["links"]}
    assert "stac-catalog-json" in rels and "self" in rels

    directory = tmp_path / "downloads"
    directory.mkdir()
    files = [f.result() for f in client.download_all(job_id, directory=str(directory))]
    assert files == [str(directory / f"{SEED_GRANULE}_subsetted.h5")]
    first_mtime = Path(files[0]).stat().st_mtime_ns
    again = [f.result() for f in client.download_all(job_id, directory=str(directory))]
    assert again == files and Path(files[0]).stat().st_mtime_ns == first_mtime  # no overwrite

    # The same subset made directly by the engine: the service changes nothing in the data.
    granule = next(ingested.root.rglob(f"{SEED_GRANULE}.h5"))
    direct = subset(
        granule,
        output=tmp_path / "direct",
        bbox=SEED_BBOX,
        datetime="2020-04-27T00:00:00Z/2020-05-28T00:00:00Z",
    )
    with h5py.File(files[0]) as served_file, h5py.File(direct.path) as direct_file:
        for beam in BEAMS:
            assert np.array_equal(
                served_file[f"{beam}/heights/lat_ph"][:], direct_file[f"{beam}/heights/lat_ph"][:]
            )
    ds = xr.open_dataset(files[0], group="gt1l/heights")
    assert ds.sizes["delta_time"] > 0
    assert float(ds.lat_ph.min()) >= 40.0 and float(ds.lat_ph.max()) <= 41.0
    assert float(ds.lon_ph.min()) >= -105.5 and float(ds.lon_ph.max()) <= -105.0
    assert np.issubdtype(ds.delta_time.dtype, np.datetime64)


def test_result_files_support_range_and_stac_catalog(client: Client, served: HarmonyServer) -> None:
    caps = client.submit(CapabilitiesRequest(short_name="ATL03"))
    request = seed_request(caps["conceptId"])
    request.labels = ["range-test"]  # not the seed test's request, so a job of its own
    job_id = client.submit(request)
    url = next(iter(client.result_urls(job_id)))
    assert url.startswith(f"{served.url}/service-results/{job_id}/1/")
    whole = httpx.get(url)
    assert whole.status_code == 200 and whole.content[:8] == b"\x89HDF\r\n\x1a\n"
    part = httpx.get(url, headers={"Range": "bytes=1-4"})
    assert part.status_code == 206 and part.content == whole.content[1:5]
    assert part.headers["content-range"] == f"bytes 1-4/{len(whole.content)}"
    catalog_url = client.stac_catalog_url(job_id)
    catalog = httpx.get(catalog_url).json()
    assert catalog["type"] == "Catalog" and catalog["id"] == job_id
    (item_link,) = [link for link in catalog["links"] if link["rel"] == "item"]
    item = httpx.get(item_link["href"]).json()
    assert item["assets"]["data"]["href"] == url
    assert item["bbox"] == next(
        link["bbox"] for link in client.result_json(job_id)["links"] if link["rel"] == "data"
    )
