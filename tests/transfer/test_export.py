"""Download lists for other tools, checked by running the real rclone and aria2c on them."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eoaccess.errors import InvalidInputError
from eoaccess.transfer import S3Options, export_list, exporters
from eoaccess.transfer._checksum import multihash_hex
from tests.harness.http import RangeHTTPServer, start_http_server
from tests.transfer.conftest import payload

FILES = {
    "moon/tc/A1/A1.tif": payload(200_000, seed=1),
    "moon/tc/A1/A1.lbl": b"PDS_VERSION_ID = PDS3\n",
    "moon/tc/B 2/B 2.tif": payload(90_000, seed=2),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RangeHTTPServer]:
    root = tmp_path_factory.mktemp("export")
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    started = start_http_server(root)
    yield started
    started.stop()


def items(base: str) -> list[dict[str, Any]]:
    out = []
    for scene in ("A1", "B 2"):
        assets: dict[str, Any] = {
            "image": {
                "href": f"{base}/moon/tc/{scene.replace(' ', '%20')}/{scene.replace(' ', '%20')}.tif",
                "file:checksum": multihash_hex(
                    "sha256", hashlib.sha256(FILES[f"moon/tc/{scene}/{scene}.tif"]).digest()
                ),
            }
        }
        if scene == "A1":
            assets["label"] = {"href": f"{base}/moon/tc/A1/A1.lbl"}
        out.append({"type": "Feature", "id": scene, "collection": "tc", "assets": assets})
    return out


def test_formats_are_registered() -> None:
    assert exporters() == ("aria2", "rclone", "urls")
    with pytest.raises(InvalidInputError, match="unknown export format 'wget'"):
        export_list([], "wget")


def test_urls_list(server: RangeHTTPServer) -> None:
    assert export_list(items(server.url), "urls").splitlines() == [
        f"{server.url}/moon/tc/A1/A1.tif",
        f"{server.url}/moon/tc/A1/A1.lbl",
        f"{server.url}/moon/tc/B%202/B%202.tif",
    ]


def test_aria2_list_downloads_with_real_aria2c(server: RangeHTTPServer, tmp_path: Path) -> None:
    aria2c = shutil.which("aria2c")
    if aria2c is None:
        pytest.skip("aria2c not installed (scripts/install-system-deps.sh installs it)")
    text = export_list(items(server.url), "aria2", dest=tmp_path / "d")
    digest = hashlib.sha256(FILES["moon/tc/A1/A1.tif"]).hexdigest()
    assert text.splitlines()[1:4] == [
        f"{server.url}/moon/tc/A1/A1.tif",
        "  out=tc/A1/A1.tif",
        f"  checksum=sha-256={digest}",
    ]
    listing = tmp_path / "list.aria2"
    listing.write_text(text)
    done = subprocess.run(
        [
            aria2c,
            f"--input-file={listing}",
            f"--dir={tmp_path / 'd'}",
            "--quiet=true",
            "--max-connection-per-server=1",
            "--split=1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "d/tc/A1/A1.tif").read_bytes() == FILES["moon/tc/A1/A1.tif"]
    assert (tmp_path / "d/tc/A1/A1.lbl").read_bytes() == FILES["moon/tc/A1/A1.lbl"]
    assert (tmp_path / "d/tc/B 2/B 2.tif").read_bytes() == FILES["moon/tc/B 2/B 2.tif"]


def test_rclone_list_downloads_with_real_rclone(server: RangeHTTPServer, tmp_path: Path) -> None:
    rclone = shutil.which("rclone")
    if rclone is None:
        pytest.skip("rclone not installed (scripts/install-system-deps.sh installs it)")
    dest = tmp_path / "d"
    text = export_list(items(server.url), "rclone", dest=dest)
    lines = text.splitlines()
    command = f"rclone copy --files-from THIS_FILE --http-url {server.url}/moon/tc/ :http: {dest}"
    assert lines[0] == f"# {command}"
    assert lines[2:] == ["A1/A1.tif", "A1/A1.lbl", "B 2/B 2.tif"]
    listing = tmp_path / "files.txt"
    listing.write_text(text)
    argv = shlex.split(command.replace("THIS_FILE", str(listing)))
    env = {**os.environ, "RCLONE_CONFIG": str(tmp_path / "rclone.conf")}
    done = subprocess.run(
        [rclone, *argv[1:]], capture_output=True, text=True, timeout=120, check=False, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("A1/A1.tif", "A1/A1.lbl", "B 2/B 2.tif"):
        assert (dest / name).read_bytes() == FILES[f"moon/tc/{name}"]
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "A1/A1.lbl",
        "A1/A1.tif",
        "B 2/B 2.tif",
    ]


def test_rclone_lists_for_s3_and_mixed_sources(tmp_path: Path) -> None:
    pairs = [("s3://usgs-ard/moon/a.tif", "a.tif"), ("s3://usgs-ard/moon/b/c.tif", "c.tif")]
    text = export_list(pairs, "rclone", dest="out", s3=S3Options(region="us-west-2"))
    assert text.splitlines()[0] == (
        '# rclone copy --files-from THIS_FILE ":s3,provider=AWS,region=us-west-2:usgs-ard/moon" out'
    )
    assert text.splitlines()[2:] == ["a.tif", "b/c.tif"]
    with pytest.raises(InvalidInputError, match="one remote root"):
        export_list([("s3://a/x", "x"), ("http://127.0.0.1/y", "y")], "rclone")
    aria2 = export_list(pairs, "aria2", s3=S3Options(region="us-west-2"))
    assert "https://usgs-ard.s3.us-west-2.amazonaws.com/moon/a.tif" in aria2.splitlines()
    assert json.dumps(export_list([], "urls")) == '""'
