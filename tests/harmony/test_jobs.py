"""Job life cycle on a real server: bad input, idempotent submission, preview and pause/resume/
cancel through harmony-py, per-granule errors, paging, and a restart mid-job.

All servers of this module share one small Dask cluster (``--dask-scheduler`` mode).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from eoaccess.harmony import concept_id
from eoaccess.query import make_query
from eoaccess.stores import CatalogStore, open_store
from harmony import BBox, Client, Collection, Environment, Request
from tests.harmony.conftest import (
    OTHER_GRANULE,
    SEED_GRANULE,
    HarmonyServer,
    Ingested,
    serve_harmony,
    settings,
    wait_for,
)

RANGESET = "ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset"
BOTH_DAYS = ["lat(39:41)", "lon(-106:-105)", 'time("2020-04-25T00:00:00":"2020-05-28T00:00:00")']


@pytest.fixture(scope="module")
def served(
    ingested: Ingested, dask_scheduler: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HarmonyServer]:
    tmp = tmp_path_factory.mktemp("jobs")
    with serve_harmony(
        ingested.store, ingested.root, settings(tmp, dask_scheduler, preview_threshold=1)
    ) as server:
        yield server


@pytest.fixture()
def client(served: HarmonyServer, monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setenv("ROOT_URL", served.url)
    return Client(env=Environment.LOCAL, check_interval=0.2)


def post(url: str, fields: list[tuple[str, str]], **kwargs: Any) -> httpx.Response:
    """A multipart POST like harmony-py's (every field a form part)."""
    files = [(k, (None, v)) for k, v in fields]
    return httpx.post(url, files=files, timeout=30, **kwargs)


@pytest.mark.parametrize(
    ("collection", "fields", "status", "fragment"),
    [
        ("ATL03", [("subset", "lat(40:41")], 400, "is not of the form dim(min:max)"),
        ("ATL03", [("subset", "lat(95:96)")], 400, "lat must be within ±90, not 95"),
        ("ATL03", [("subset", "lat(41:40)")], 400, "south is north of north"),
        ("ATL03", [("subset", "height(1:2)")], 400, "dimension 'height' is not offered"),
        ("ATL03", [("subset", 'time("2020-05-01":"2020-04-01")')], 400, "start is after end"),
        ("ATL03", [("variable", "h_ph")], 400, "variable subsetting is not offered"),
        ("ATL03", [("format", "image/png")], 400, "format 'image/png' is not offered"),
        ("ATL03", [("format", "image/tiff")], 400, "format image/tiff is not offered for"),
        ("ATL03", [("maxResults", "0")], 400, "maxResults must be a positive integer"),
        ("ATL03", [("skipPreview", "maybe")], 400, "skipPreview must be true or false"),
        ("ATL03", [("subset", "lat(-10:-5)")], 400, "No matching granules found"),
        ("NOPE", [], 404, "there is no collection 'NOPE'"),
    ],
)
def test_bad_requests_answer_json_descriptions(
    served: HarmonyServer,
    collection: str,
    fields: list[tuple[str, str]],
    status: int,
    fragment: str,
) -> None:
    response = post(f"{served.url}/{collection}/{RANGESET}", fields)
    assert response.status_code == status, response.text
    assert fragment in response.json()["description"]
    get = httpx.get(f"{served.url}/{collection}/{RANGESET}", params=fields)
    assert (get.status_code, get.json()["description"]) == (status, response.json()["description"])


def test_bad_queries_of_jobs_and_capabilities(served: HarmonyServer) -> None:
    cases = [
        (httpx.get(f"{served.url}/capabilities"), 400, "give exactly one of shortname"),
        (httpx.get(f"{served.url}/capabilities?shortname=X"), 404, "there is no collection 'X'"),
        (httpx.get(f"{served.url}/capabilities?shortname=ATL03&version=1"), 400, "version '1'"),
        (httpx.get(f"{served.url}/jobs/unknown"), 404, "there is no job unknown"),
        (httpx.get(f"{served.url}/jobs?limit=0"), 400, "limit must be an integer of at least 1"),
        (httpx.post(f"{served.url}/jobs/status", content=b"{"), 400, '{"jobIDs"'),
        (httpx.get(f"{served.url}/cloud-access"), 404, "results in a local folder"),
    ]
    for response, status, fragment in cases:
        assert response.status_code == status, response.text
        assert fragment in response.json()["description"]


def test_submission_is_idempotent(served: HarmonyServer) -> None:
    fields = [("subset", "lat(39.9:40.1)"), ("label", "idem"), ("forceAsync", "true")]
    first = post(f"{served.url}/ATL03/{RANGESET}", fields).json()
    second = post(f"{served.url}/ATL03/{RANGESET}", fields).json()
    assert second["jobID"] == first["jobID"]
    urlencoded = httpx.post(f"{served.url}/ATL03/{RANGESET}", data=dict(fields)).json()
    assert urlencoded["jobID"] == first["jobID"]
    keyed = [
        post(
            f"{served.url}/ATL03/{RANGESET}",
            [*fields, ("maxResults", str(n))],
            headers={"Idempotency-Key": "k-1"},
        ).json()["jobID"]
        for n in (1, 2)
    ]
    assert keyed[0] == keyed[1] != first["jobID"]
    listed = httpx.get(f"{served.url}/jobs", params={"label": "idem", "limit": 10}).json()
    assert sorted(j["jobID"] for j in listed["jobs"]) == sorted({first["jobID"], keyed[0]})
    assert listed["count"] == 2


def test_preview_pauses_then_resume_finishes(client: Client, served: HarmonyServer) -> None:
    request = Request(
        collection=Collection(id=concept_id("ATL03")),
        spatial=BBox(-106, 39, -105, 41),
        temporal={"start": dt.datetime(2020, 4, 25), "stop": dt.datetime(2020, 5, 28)},
        labels=["preview"],
    )
    job_id = client.submit(request)
    assert httpx.get(f"{served.url}/jobs/{job_id}").json()["status"] in ("previewing", "paused")
    client.wait_for_processing(job_id)  # returns at 'paused'
    paused = client.result_json(job_id)
    assert (paused["status"], paused["progress"], paused["numInputGranules"]) == ("paused", 50, 2)
    assert [link["title"] for link in paused["links"] if link["rel"] == "data"] == [
        f"{OTHER_GRANULE}_subsetted.h5"  # the earlier granule is first
    ]
    assert "resumer" in {link["rel"] for link in paused["links"]}
    with pytest.raises(Exception, match="cannot be updated from paused to paused"):
        client.pause(job_id)
    client.resume(job_id)
    client.wait_for_processing(job_id)
    done = client.result_json(job_id)
    assert (done["status"], done["progress"]) == ("successful", 100)
    assert [link["title"] for link in done["links"] if link["rel"] == "data"] == [
        f"{OTHER_GRANULE}_subsetted.h5",
        f"{SEED_GRANULE}_subsetted.h5",
    ]
    with pytest.raises(Exception, match="cannot be updated from successful to canceled"):
        client.cancel(job_id)
    # Paging of the result links: one per page, with next/prev.
    page1 = httpx.get(f"{served.url}/jobs/{job_id}", params={"limit": 1}).json()
    (next_link,) = [link["href"] for link in page1["links"] if link["rel"] == "next"]
    page2 = httpx.get(next_link).json()
    assert [link["title"] for link in page2["links"] if link["rel"] == "data"] == [
        f"{SEED_GRANULE}_subsetted.h5"
    ]
    assert "prev" in {link["rel"] for link in page2["links"]}
    assert list(client.result_urls(job_id, limit=1, page=2)) == [
        link["href"] for link in page2["links"] if link["rel"] == "data"
    ]


def test_skip_preview_and_cancel_of_a_paused_job(served: HarmonyServer, client: Client) -> None:
    skipped = post(
        f"{served.url}/ATL03/{RANGESET}",
        [("subset", s) for s in BOTH_DAYS] + [("skipPreview", "true")],
    ).json()
    assert skipped["status"] in ("accepted", "running", "successful")
    assert wait_for(served.url, skipped["jobID"], {"successful"})["progress"] == 100
    previewed = post(
        f"{served.url}/ATL03/{RANGESET}",
        [("subset", s) for s in BOTH_DAYS] + [("label", "to-cancel")],
    ).json()
    assert previewed["status"] == "previewing"
    wait_for(served.url, previewed["jobID"], {"paused"})
    client.cancel(previewed["jobID"])
    canceled = httpx.get(f"{served.url}/jobs/{previewed['jobID']}").json()
    assert (canceled["status"], canceled["message"]) == ("canceled", "Canceled by user.")
    time.sleep(0.6)  # a runner tick: nothing queued may start after a cancel
    again = httpx.get(f"{served.url}/jobs/{previewed['jobID']}").json()
    assert [link for link in again["links"] if link["rel"] == "data"] == [
        link for link in canceled["links"] if link["rel"] == "data"
    ]
    assert len([link for link in again["links"] if link["rel"] == "data"]) == 1
    with pytest.raises(Exception, match="cannot be updated from canceled to running"):
        client.resume(previewed["jobID"])
    statuses = httpx.post(
        f"{served.url}/jobs/status", json={"jobIDs": [skipped["jobID"], "nope"]}
    ).json()
    assert statuses == {
        "jobStatuses": [{"jobID": skipped["jobID"], "status": "successful", "progress": 100}],
        "notFoundJobIDs": ["nope"],
    }


@pytest.fixture(scope="module")
def broken_catalog(
    ingested: Ingested, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CatalogStore]:
    """ATL03's two items, one pointing at a file that does not exist."""
    store = open_store(tmp_path_factory.mktemp("broken") / "catalog.sqlite")
    items = ingested.store.search(make_query(collections=["ATL03"])).items
    items = [json.loads(json.dumps(i)) for i in items]
    missing = next(i for i in items if i["id"] == OTHER_GRANULE)
    missing["assets"]["data"]["href"] = "atl03/missing/ATL03_missing.h5"
    with store.transaction() as writer:
        writer.upsert_collection(ingested.store.get_collection("ATL03"))
        writer.upsert_items(items)
    yield store
    store.close()


def test_granule_errors_give_complete_with_errors_or_failed(
    broken_catalog: CatalogStore, ingested: Ingested, dask_scheduler: str, tmp_path: Path
) -> None:
    with serve_harmony(broken_catalog, ingested.root, settings(tmp_path, dask_scheduler)) as h:
        fields = [("subset", s) for s in BOTH_DAYS]
        job = post(f"{h.url}/ATL03/{RANGESET}", fields).json()
        done = wait_for(h.url, job["jobID"], {"complete_with_errors", "failed", "successful"})
        assert (done["status"], done["progress"]) == ("complete_with_errors", 100)
        (error,) = done["errors"]
        assert error["url"] == f"{h.url}/files/atl03/missing/ATL03_missing.h5"
        assert "ATL03_missing.h5" in error["message"]
        assert [link["title"] for link in done["links"] if link["rel"] == "data"] == [
            f"{SEED_GRANULE}_subsetted.h5"
        ]
        strict = post(f"{h.url}/ATL03/{RANGESET}", [*fields, ("ignoreErrors", "false")]).json()
        failed = wait_for(h.url, strict["jobID"], {"failed", "complete_with_errors", "successful"})
        assert failed["status"] == "failed"
        assert failed["message"] == "The job failed: 1 of 2 granules failed."


def test_restart_mid_job_finishes_without_lost_or_duplicated_outputs(
    ingested: Ingested, dask_scheduler: str, tmp_path: Path
) -> None:
    config = settings(tmp_path, dask_scheduler)
    fields = [("subset", s) for s in BOTH_DAYS] + [("skipPreview", "true")]
    with serve_harmony(ingested.store, ingested.root, config) as first:
        job = post(f"{first.url}/ATL03/{RANGESET}", fields).json()
        # Stop at once, as a crash would: granules stay queued or running in the state.
    state_before = first.service.state
    assert state_before is not None
    with serve_harmony(ingested.store, ingested.root, config) as second:
        assert second.url != "" and second.service.state.job(job["jobID"]) is not None
        done = wait_for(second.url, job["jobID"], {"successful", "failed", "complete_with_errors"})
        assert (done["status"], done["progress"], done["numInputGranules"]) == (
            "successful",
            100,
            2,
        )
        titles = [link["title"] for link in done["links"] if link["rel"] == "data"]
        assert titles == [f"{OTHER_GRANULE}_subsetted.h5", f"{SEED_GRANULE}_subsetted.h5"]
        again = post(f"{second.url}/ATL03/{RANGESET}", fields).json()
        assert again["jobID"] == job["jobID"]  # the retried POST after a restart: same job
    files = sorted(
        p.relative_to(tmp_path / "results").as_posix()
        for p in (tmp_path / "results").rglob("*")
        if p.is_file()
    )
    assert files == [
        f"{job['jobID']}/1/{OTHER_GRANULE}_subsetted.h5",
        f"{job['jobID']}/2/{SEED_GRANULE}_subsetted.h5",
    ]


def test_shapefile_part_cuts_photons_to_the_polygon(served: HarmonyServer, tmp_path: Path) -> None:
    import h5py

    triangle = {
        "type": "Polygon",
        "coordinates": [[[-105.5, 39.95], [-105.0, 39.95], [-105.5, 40.1], [-105.5, 39.95]]],
    }
    files = [
        ("subset", (None, 'time("2020-04-27T00:00:00":"2020-04-28T00:00:00")')),
        ("shapefile", ("shape.geojson", json.dumps(triangle).encode(), "application/geo+json")),
    ]
    job = httpx.post(f"{served.url}/ATL03/{RANGESET}", files=files, timeout=30).json()
    done = wait_for(served.url, job["jobID"], {"successful", "failed", "complete_with_errors"})
    assert done["status"] == "successful", done
    (link,) = [link for link in done["links"] if link["rel"] == "data"]
    path = tmp_path / "cut.h5"
    path.write_bytes(httpx.get(link["href"]).content)
    import shapely

    polygon = shapely.geometry.shape(triangle)
    with h5py.File(path) as f:
        lon, lat = f["gt1l/heights/lon_ph"][:], f["gt1l/heights/lat_ph"][:]
    assert lon.size > 0
    assert shapely.contains_xy(polygon.buffer(1e-9), lon, lat).all()


def test_pause_resume_cancel_of_a_running_job(
    ingested: Ingested, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a cluster without workers tasks never finish, so the job stays running for sure."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=0,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    ) as idle:
        config = settings(tmp_path, idle.scheduler_address)
        with serve_harmony(ingested.store, ingested.root, config) as h:
            monkeypatch.setenv("ROOT_URL", h.url)
            client = Client(env=Environment.LOCAL, check_interval=0.2)
            fields = [("subset", s) for s in BOTH_DAYS] + [("skipPreview", "true")]
            job_id = post(f"{h.url}/ATL03/{RANGESET}", fields).json()["jobID"]
            running = wait_for(h.url, job_id, {"running"})
            assert (running["progress"], running["numInputGranules"]) == (0, 2)
            assert {"pauser", "canceler"} <= {link["rel"] for link in running["links"]}
            client.pause(job_id)
            paused = client.status(job_id)
            assert (paused["status"], paused["progress"]) == ("paused", 0)
            assert paused["message"] == "The job was paused by the user."
            client.resume(job_id)
            assert client.status(job_id)["status"] == "running"
            client.cancel(job_id)
            canceled = client.status(job_id)
            assert (canceled["status"], canceled["message"]) == ("canceled", "Canceled by user.")
            states = [g.status for g in h.service.state.granules(job_id)]
            assert states == ["canceled", "canceled"]
            client.wait_for_processing(job_id)  # returns at once for a canceled job
