"""``eoaccess serve`` with the Harmony options, as a real process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.harmony.conftest import Ingested


def test_serve_with_users_requires_credentials(ingested: Ingested, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "eoaccess",
        "serve",
        str(ingested.root),
        "--port",
        "0",
        "--user",
        "alice:s3cret",
        "--token",
        "tk-1:alice",
        "--results",
        str(tmp_path / "results"),
        "--preview-threshold",
        "5",
        "--expiration-days",
        "3",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        match = re.search(r"serving at (http://127\.0\.0\.1:\d+)/", line)
        assert match, line
        url = match.group(1)
        # The line is printed once the port is bound; uvicorn listens a moment later.
        deadline = time.monotonic() + 60
        while True:
            try:
                first = httpx.get(f"{url}/jobs", timeout=30)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the server never listened"
                time.sleep(0.1)
        assert first.status_code == 401
        assert httpx.get(f"{url}/jobs", auth=("alice", "s3cret"), timeout=30).json()["count"] == 0
        caps = httpx.get(
            f"{url}/capabilities",
            params={"shortname": "ATL03"},
            headers={"Authorization": "Bearer tk-1"},
            timeout=30,
        ).json()
        assert caps["shortName"] == "ATL03"
        assert (tmp_path / "results").is_dir()
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert b"s3cret" not in err and b"tk-1" not in err


def test_serve_rejects_a_bad_results_location(ingested: Ingested) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "eoaccess",
            "serve",
            str(ingested.root),
            "--port",
            "0",
            "--results",
            "ftp://host/x",
        ],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "results must be a folder or s3://bucket/prefix" in lines[0]
    bad_user = subprocess.run(
        [sys.executable, "-m", "eoaccess", "serve", str(ingested.root), "--user", "alice"],
        capture_output=True,
        timeout=60,
    )
    assert bad_user.returncode != 0
    assert bad_user.stderr.decode().strip().endswith("give --user as NAME:PASSWORD")
    bad_days = subprocess.run(
        [sys.executable, "-m", "eoaccess", "serve", str(ingested.root), "--expiration-days", "-1"],
        capture_output=True,
        timeout=60,
    )
    assert bad_days.returncode == 2
    (line,) = bad_days.stderr.decode().strip().splitlines()
    assert "--expiration-days" in line and "-1" in line
