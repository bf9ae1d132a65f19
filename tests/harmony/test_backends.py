"""Results in S3 (moto) read with the credentials of ``/cloud-access``, job state in PostgreSQL
beside a pgstac catalog, and auth (Basic, Bearer, wrong password) with harmony-py unchanged."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import s3fs
import xarray as xr
from harmony.auth import BadAuthentication

from eoaccess.harmony import HarmonySettings, concept_id
from eoaccess.query import make_query
from eoaccess.stores import open_store
from harmony import BBox, Client, Collection, Environment, LinkType, Request
from tests.harmony.conftest import SEED_GRANULE, Ingested, serve_harmony, settings, wait_for
from tests.harness.postgres import PostgresCluster
from tests.harness.s3 import TEST_CREDENTIALS, S3Server

RESULTS_BUCKET = "eoaccess-results"


def seed_request(**extra: object) -> Request:
    return Request(
        collection=Collection(id=concept_id("ATL03")),
        spatial=BBox(-105.5, 40, -105, 41.0),
        temporal={"start": dt.datetime(2020, 4, 27), "stop": dt.datetime(2020, 5, 28)},
        **extra,
    )


def test_s3_results_with_cloud_access_credentials(
    ingested: Ingested,
    s3_server: S3Server,
    dask_scheduler: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s3 = s3_server.client()
    s3.create_bucket(
        Bucket=RESULTS_BUCKET,
        CreateBucketConfiguration={"LocationConstraint": TEST_CREDENTIALS["AWS_DEFAULT_REGION"]},
    )
    config = settings(
        tmp_path,
        dask_scheduler,
        results=f"s3://{RESULTS_BUCKET}/jobs",
        s3_endpoint=s3_server.endpoint,
    )
    with serve_harmony(ingested.store, ingested.root, config) as h:
        monkeypatch.setenv("ROOT_URL", h.url)
        client = Client(env=Environment.LOCAL, check_interval=0.2)
        job_id = client.submit(seed_request())
        client.wait_for_processing(job_id)
        urls = list(client.result_urls(job_id, link_type=LinkType.s3))
        name = f"{SEED_GRANULE}_subsetted.h5"
        assert urls == [f"s3://{RESULTS_BUCKET}/jobs/{job_id}/1/{name}"]
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=RESULTS_BUCKET)["Contents"]]
        assert keys == [f"jobs/{job_id}/1/{name}"]
        creds = client.aws_credentials()
        assert set(creds) == {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"}
        assert creds["aws_access_key_id"] != TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"]  # temporary
        fs = s3fs.S3FileSystem(
            key=creds["aws_access_key_id"],
            secret=creds["aws_secret_access_key"],
            token=creds["aws_session_token"],
            client_kwargs={"endpoint_url": s3_server.endpoint, "region_name": "us-west-2"},
        )
        with fs.open(urls[0], mode="rb") as remote:
            ds = xr.open_dataset(remote, group="gt1l/heights")
            assert ds.sizes["delta_time"] > 0
            assert 40.0 <= float(ds.lat_ph.min()) <= float(ds.lat_ph.max()) <= 41.0
        raw = httpx.get(h.url + "/cloud-access").json()
        assert set(raw) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
        # The https links of S3 results are served by this server, with Range.
        (https_url,) = client.result_urls(job_id)
        assert https_url == f"{h.url}/service-results/{job_id}/1/{name}"
        head = httpx.get(https_url, headers={"Range": "bytes=0-7"})
        assert (head.status_code, head.content) == (206, b"\x89HDF\r\n\x1a\n")
        files = [f.result() for f in client.download_all(job_id, directory=str(tmp_path))]
        assert files == [str(tmp_path / name)]
        assert (tmp_path / name).stat().st_size == s3.head_object(
            Bucket=RESULTS_BUCKET, Key=keys[0]
        )["ContentLength"]
        # At expiry the objects are deleted from the bucket and the link answers 410.
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
        assert h.service.purge_expired(later) == [job_id]
        assert s3.list_objects_v2(Bucket=RESULTS_BUCKET).get("Contents", []) == []
        gone = httpx.get(https_url)
        assert gone.status_code == 410
        assert "expired" in gone.json()["description"]


def test_job_state_lives_in_postgresql_beside_pgstac(
    ingested: Ingested, postgres: PostgresCluster, dask_scheduler: str, tmp_path: Path
) -> None:
    import psycopg
    from psycopg import sql

    admin = postgres.dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS eo_harmony WITH (FORCE)"))
        conn.execute(sql.SQL("CREATE DATABASE eo_harmony"))
    dsn = postgres.dsn.rsplit("/", 1)[0] + "/eo_harmony"
    store = open_store(dsn, ingested.root)
    try:
        with store.transaction() as writer:
            writer.upsert_collection(ingested.store.get_collection("ATL03"))
            writer.upsert_items(ingested.store.search(make_query(collections=["ATL03"])).items)
        config = HarmonySettings(results=str(tmp_path / "results"), dask_scheduler=dask_scheduler)
        with serve_harmony(store, ingested.root, config) as h:
            fields = [("subset", "lat(40:41)"), ("subset", "lon(-105.5:-105)"), ("label", "pg_%")]
            job = httpx.post(
                f"{h.url}/ATL03/ogc-api-coverages/1.0.0/collections/all/coverage/rangeset",
                files=[(k, (None, v)) for k, v in fields],
            ).json()
            done = wait_for(h.url, job["jobID"], {"successful", "failed", "complete_with_errors"})
            assert done["status"] == "successful"
            # Paging and the label filter run as SQL on PostgreSQL too (LIKE characters literal).
            for params, ids in (
                ({"limit": 1}, [job["jobID"]]),
                ({"label": "pg_%"}, [job["jobID"]]),
                ({"label": "pgx%"}, []),
            ):
                listed = httpx.get(f"{h.url}/jobs", params=params).json()
                assert [j["jobID"] for j in listed["jobs"]] == ids
                assert listed["count"] == len(ids)
            # Expiry bookkeeping is SQL on PostgreSQL too: purged once, then never again.
            later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
            assert h.service.purge_expired(later) == [job["jobID"]]
            assert h.service.purge_expired(later) == []
        with psycopg.connect(dsn) as conn:
            row = conn.execute(
                "SELECT status, progress, num_granules FROM eoaccess_harmony.jobs WHERE job_id = %s",
                (job["jobID"],),
            ).fetchone()
            granules = conn.execute(
                "SELECT idx, item_id, status FROM eoaccess_harmony.granules WHERE job_id = %s",
                (job["jobID"],),
            ).fetchall()
        assert row == ("successful", 100, 2)
        assert sorted(granules) == [
            (1, "ATL03_20200426074754_04700706_006_01", "successful"),
            (2, SEED_GRANULE, "successful"),
        ]
    finally:
        store.close()


@pytest.fixture(scope="module")
def secured(
    ingested: Ingested, dask_scheduler: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    config = settings(
        tmp_path_factory.mktemp("auth"),
        dask_scheduler,
        users={"alice": "wonder-land", "bob": "builder"},
        tokens={"tok-alice-123": "alice"},
    )
    with serve_harmony(ingested.store, ingested.root, config) as h:
        yield h.url


def test_auth_basic_bearer_and_owner_isolation(
    secured: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOT_URL", secured)
    anonymous = httpx.get(f"{secured}/jobs")
    assert anonymous.status_code == 401
    assert "authentication required" in anonymous.json()["description"]
    with pytest.raises(BadAuthentication):
        Client(env=Environment.LOCAL, auth=("alice", "wrong"))
    alice = Client(env=Environment.LOCAL, auth=("alice", "wonder-land"), check_interval=0.2)
    job_id = alice.submit(seed_request(labels=["auth"]))
    alice.wait_for_processing(job_id)
    assert alice.status(job_id)["status"] == "successful"
    by_token = Client(env=Environment.LOCAL, token="tok-alice-123", check_interval=0.2)
    assert by_token.status(job_id)["status"] == "successful"  # the same user
    bob = httpx.get(f"{secured}/jobs/{job_id}", auth=("bob", "builder"))
    assert bob.status_code == 404
    url = next(iter(alice.result_urls(job_id)))
    assert httpx.get(url, auth=("bob", "builder")).status_code == 404
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, auth=("alice", "wonder-land")).status_code == 200
    listed = httpx.get(f"{secured}/jobs", auth=("bob", "builder")).json()
    assert listed["count"] == 0
    text = json.dumps(alice.result_json(job_id))
    assert "wonder-land" not in text and "tok-alice-123" not in text
    assert httpx.get(f"{secured}/jobs", headers={"Authorization": "Bearer nope"}).status_code == 401
