"""The same archive gives the same catalog from S3 as from disk, and in pgstac as embedded."""

from __future__ import annotations

from pathlib import Path

import pytest

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.ingest import ingest
from tests.conftest import S3Archive
from tests.harness.postgres import PostgresCluster
from tests.ingest.conftest import Ingested, dump, open_catalog


@pytest.mark.s3
def test_s3_ingest_equals_local_ingest(
    s3_archive: S3Archive, ingested: Ingested, tmp_path: Path
) -> None:
    catalog = tmp_path / "s3-catalog"
    endpoint = s3_archive.server.endpoint
    report = ingest(s3_archive.url, catalog, endpoint_url=endpoint)
    assert report.source == "s3://eoaccess-sample/tiny"
    assert {c.collection: c.added for c in report.collections} == {
        c.collection: c.added for c in ingested.report.collections
    }
    assert report.hashed_bytes == ingested.report.hashed_bytes
    # Fingerprints differ (S3 objects have their own mtimes); everything else is equal.
    with open_catalog(catalog) as s3, open_catalog(ingested.catalog) as local:
        assert dump(s3, strip_fingerprint=True) == dump(local, strip_fingerprint=True)
    again = ingest(s3_archive.url, catalog, endpoint_url=endpoint)
    assert (again.added, again.updated, again.removed, again.hashed_bytes) == (0, 0, 0, 0)


@pytest.mark.s3
def test_s3_ingest_needs_a_catalog(s3_archive: S3Archive) -> None:
    with pytest.raises(InvalidInputError, match="give a catalog for the S3 archive"):
        ingest(s3_archive.url, endpoint_url=s3_archive.server.endpoint)


@pytest.mark.postgres
def test_pgstac_gets_the_same_items(postgres: PostgresCluster, ingested: Ingested) -> None:
    import psycopg

    # A database of its own, so other tests' collections do not mix in.
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS ingest_test")
        conn.execute("CREATE DATABASE ingest_test")
    dsn = postgres.dsn.rsplit("/", 1)[0] + "/ingest_test"
    report = ingest(ingested.archive, dsn)
    assert report.added == ingested.report.added and report.skipped == ()
    with open_catalog(dsn) as pg, open_catalog(ingested.catalog) as embedded:
        assert dump(pg) == dump(embedded)
    again = ingest(ingested.archive, dsn)
    assert (again.added, again.updated, again.removed) == (0, 0, 0)
    assert again.unchanged == report.added


@pytest.mark.s3
def test_s3_bucket_that_does_not_exist(s3_archive: S3Archive, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="cannot list s3://no-such-bucket/x"):
        ingest("s3://no-such-bucket/x", tmp_path / "c", endpoint_url=s3_archive.server.endpoint)
