"""``eoaccess serve``: one clear line when it cannot start, and a working server when it can."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from eoaccess.cli import main
from eoaccess.stores import CatalogStore, open_store
from tests.harness.ports import free_port
from tests.server.conftest import LUNAR, lunar_file_bytes, lunar_id


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["serve", *args])
    err = capsys.readouterr().err
    return code, err


def test_missing_catalog_says_to_ingest_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_cli(capsys, str(tmp_path))
    assert code == 1
    assert (
        err == f"eoaccess: error: no catalog in {tmp_path}: run eoaccess ingest {tmp_path} first\n"
    )
    assert not (tmp_path / ".eoaccess").exists()  # nothing was created


def test_missing_archive_and_missing_catalog_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_cli(capsys, str(tmp_path / "nowhere"))
    assert (code, err) == (
        1,
        f"eoaccess: error: archive folder {tmp_path / 'nowhere'} does not exist\n",
    )
    code, err = run_cli(capsys, "--catalog", str(tmp_path / "cat.sqlite"))
    assert code == 1 and "run eoaccess ingest DIR first" in err
    code, err = run_cli(capsys)
    assert code == 2 and err.count("\n") == 1 and "--catalog" in err


def test_empty_catalog_says_to_ingest_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    open_store(None, tmp_path).close()  # a catalog without any collection
    code, err = run_cli(capsys, str(tmp_path), "--port", "0")
    assert code == 1
    assert err.startswith("eoaccess: error: the catalog ") and err.endswith(
        f"has no collections: run eoaccess ingest {tmp_path} first\n"
    )


def test_busy_port_is_one_line(
    archive_root: Path, catalog_store: CatalogStore, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run_cli(capsys, str(archive_root), "--port", str(port))
    assert code == 2
    assert err == (
        f"eoaccess: error: port {port} on 127.0.0.1 is already in use; choose another with --port\n"
    )


def test_serve_runs_until_interrupted(archive_root: Path, catalog_store: CatalogStore) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "eoaccess", "serve", str(archive_root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                landing = httpx.get(url, timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert landing.json()["links"][0] == {
            "rel": "self",
            "type": "application/json",
            "href": url,
        }
        item = httpx.get(f"{url}collections/{LUNAR}/items/{lunar_id(2)}").json()
        assert httpx.get(item["assets"]["image"]["href"]).content == lunar_file_bytes(2)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert f"eoaccess: serving at {url}" in out
    assert process.returncode in (0, 130), err
