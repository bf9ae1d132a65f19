"""Results expire: at ``dataExpiration`` a finished job's outputs are deleted (the job stays
listed), its result links answer 410 with a description, and jobs still running, not yet
expired or already purged are left alone. The S3 and PostgreSQL variants are in
test_backends.py."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import httpx

from eoaccess.harmony._model import JobRecord
from eoaccess.harmony._state import JobState, _sqlite_dialect
from tests.harmony.conftest import Ingested, serve_harmony, settings, wait_for

RANGESET = "ATL03/ogc-api-coverages/1.0.0/collections/all/coverage/rangeset"
FINISHED = {"successful", "failed", "complete_with_errors"}


def _record(job_id: str, status: str, expires: dt.datetime) -> JobRecord:
    return JobRecord(
        job_id, "alice", "ATL03", status, "", 100, expires, expires, expires, 0, 0, (), {}, job_id
    )


def test_state_lists_finished_expired_jobs_once(tmp_path: Path) -> None:
    state = JobState(_sqlite_dialect(tmp_path / "state.sqlite"))
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    hour = dt.timedelta(hours=1)
    for job_id, status, expires in (
        ("done-old", "successful", now - hour),
        ("failed-old", "failed", now - 2 * hour),
        ("done-new", "successful", now + hour),
        ("running-old", "running", now - hour),
        ("paused-old", "paused", now - hour),
    ):
        state.create(_record(job_id, status, expires), [])
    assert [j.job_id for j in state.expired(now)] == ["failed-old", "done-old"]
    state.mark_purged("failed-old", now)
    assert [j.job_id for j in state.expired(now)] == ["done-old"]
    assert state.purged("failed-old") == now
    assert state.purged("done-old") is None
    state.close()


def _submit(url: str) -> str:
    fields = [("subset", "lat(40:41)"), ("subset", "lon(-105.5:-105)")]
    response = httpx.post(f"{url}/{RANGESET}", files=[(k, (None, v)) for k, v in fields])
    assert response.status_code == 200, response.text
    return str(response.json()["jobID"])


def test_expired_results_are_deleted_and_answer_410(
    ingested: Ingested, dask_scheduler: str, tmp_path: Path
) -> None:
    config = settings(tmp_path, dask_scheduler, purge_interval=0)
    with serve_harmony(ingested.store, ingested.root, config) as h:
        job_id = _submit(h.url)
        done = wait_for(h.url, job_id, FINISHED)
        assert done["status"] == "successful"
        data = [link["href"] for link in done["links"] if link.get("rel") == "data"]
        assert len(data) == 2
        assert httpx.get(data[0]).status_code == 200
        folder = tmp_path / "results" / job_id
        assert sorted(p.name for p in folder.rglob("*.h5"))  # outputs exist
        # Not expired yet: nothing happens.
        assert h.service.purge_expired() == []
        assert folder.exists()
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30, hours=1)
        assert h.service.purge_expired(later) == [job_id]
        assert not folder.exists()
        for href in data:
            gone = httpx.get(href)
            assert gone.status_code == 410
            description = gone.json()["description"]
            assert description.startswith(f"the results of job {job_id} expired on ")
            assert description.endswith("and were deleted; submit the request again")
        # The job itself stays listed with its status.
        assert httpx.get(f"{h.url}/jobs/{job_id}").json()["status"] == "successful"
        assert h.service.purge_expired(later) == []  # once


def test_the_background_sweep_deletes_expired_results(
    ingested: Ingested, dask_scheduler: str, tmp_path: Path
) -> None:
    """With outputs that expire as soon as they exist, the sweep (every 0.2 s here) removes
    them without anyone asking."""
    config = settings(tmp_path, dask_scheduler, expiration_days=0, purge_interval=0.2)
    with serve_harmony(ingested.store, ingested.root, config) as h:
        job_id = _submit(h.url)
        wait_for(h.url, job_id, FINISHED)
        folder = tmp_path / "results" / job_id
        deadline = time.monotonic() + 30
        while folder.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not folder.exists()
        assert h.service.state.purged(job_id) is not None
