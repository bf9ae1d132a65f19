"""``eoaccess ingest``: a report table (or JSON) on stdout, one-line errors on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ingest.conftest import Ingested


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eoaccess", "-q", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_ingest_prints_the_report(ingested: Ingested, tmp_path: Path) -> None:
    done = run_cli("ingest", str(ingested.archive), "--catalog", str(tmp_path / "cat"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["collection", "items", "added", "updated", "removed", "unchanged"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:] if line and line[0] != " "}
    for counts in ingested.report.collections:
        assert rows[counts.collection] == [str(counts.added), str(counts.added), "0", "0", "0"]
    total = str(ingested.report.added)
    assert rows["total"] == [total, total, "0", "0", "0"]
    done = run_cli("ingest", str(ingested.archive), "--catalog", str(tmp_path / "cat"), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert sum(c["unchanged"] for c in report["collections"]) == ingested.report.added
    assert report["hashed_bytes"] == 0 and report["skipped"] == []


def test_corrupt_file_is_listed_and_the_run_succeeds(archive_copy: Path) -> None:
    granule = sorted((archive_copy / "atl03").rglob("*.h5"))[0]
    granule.write_bytes(b"\0" * 64)
    done = run_cli("ingest", str(archive_copy))
    assert done.returncode == 0, done.stderr
    relative = granule.relative_to(archive_copy).as_posix()
    assert f"skipped {relative}: not a readable HDF5/NetCDF file" in done.stdout
    assert (archive_copy / ".eoaccess" / "catalog.sqlite").is_file()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["ingest", "{tmp}/missing"], 1, "archive directory {tmp}/missing does not exist"),
        (["ingest", "{tmp}/file"], 2, "archive {tmp}/file is not a directory"),
        (["ingest", "{tmp}", "--catalog", "ftp://host/x"], 2, "unsupported catalog URI"),
        (
            ["ingest", "s3://bucket-without-catalog/x"],
            2,
            "give a catalog for the S3 archive s3://bucket-without-catalog/x",
        ),
        (["ingest"], 2, "Missing argument 'SOURCE'"),
    ],
)
def test_errors_are_one_line(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    (tmp_path / "file").write_text("x")
    done = run_cli(*(a.format(tmp=tmp_path) for a in args))
    assert done.returncode == code
    assert len(done.stderr.strip().splitlines()) == 1
    assert message.format(tmp=tmp_path) in done.stderr
    assert "Traceback" not in done.stderr
