"""``eoaccess download SOURCE``: STAC files and static catalogs in, files or lists out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pystac
import pytest

from eoaccess.cli import main
from eoaccess.transfer import read_manifest
from tests.harness.http import RangeHTTPServer, start_http_server
from tests.transfer.conftest import payload

FILES = {"a.tif": payload(50_000, seed=1), "b.tif": payload(30_000, seed=2)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RangeHTTPServer]:
    root = tmp_path_factory.mktemp("cli")
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    started = start_http_server(root)
    yield started
    started.stop()


def collection_file(tmp_path: Path, server: RangeHTTPServer, names: list[str]) -> Path:
    features = [
        {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": Path(name).stem,
            "collection": "demo",
            "geometry": None,
            "properties": {"datetime": "2024-01-01T00:00:00Z"},
            "links": [],
            "assets": {
                "image": {"href": f"{server.url}/{name}", "roles": ["data"]},
                "thumb": {"href": f"{server.url}/{name}", "roles": ["thumbnail"]},
            },
        }
        for name in names
    ]
    path = tmp_path / "items.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_download_an_item_collection_with_a_manifest(
    server: RangeHTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = collection_file(tmp_path, server, ["a.tif", "b.tif"])
    manifest = tmp_path / "m.jsonl"
    code = main(
        [
            "-q",
            "download",
            str(source),
            "--assets",
            "image",
            "--dest",
            str(tmp_path / "out"),
            "--manifest",
            str(manifest),
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.startswith("Downloaded 2 files, 80.0 kB in ")
    assert (tmp_path / "out/demo/a/a.tif").read_bytes() == FILES["a.tif"]
    assert (tmp_path / "out/demo/b/b.tif").read_bytes() == FILES["b.tif"]
    assert [r["status"] for r in read_manifest(manifest)] == ["downloaded", "downloaded"]
    # a second run skips both (one HEAD each: no file:size to check against)
    assert (
        main(["-q", "download", str(source), "--assets", "image", "--dest", str(tmp_path / "out")])
        == 0
    )
    assert "Skipped 2 files already present and verified" in capsys.readouterr().out


def test_processes_option_spreads_the_files(
    server: RangeHTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = collection_file(tmp_path, server, ["a.tif", "b.tif"])
    dest = tmp_path / "out"
    argv = ["-q", "download", str(source), "--assets", "image", "--dest", str(dest)]
    code = main([*argv, "--processes", "2"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.splitlines()[0].endswith(f"to {dest}; 2 processes")
    assert (dest / "demo/a/a.tif").read_bytes() == FILES["a.tif"]
    assert (dest / "demo/b/b.tif").read_bytes() == FILES["b.tif"]


def test_failures_exit_non_zero_with_one_line(
    server: RangeHTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = collection_file(tmp_path, server, ["a.tif", "missing.tif"])
    code = main(["-q", "download", str(source), "--assets", "image", "--dest", str(tmp_path / "o")])
    out = capsys.readouterr()
    assert code == 1
    assert "Failed 1 files:" in out.out and "HTTP 404" in out.out
    assert out.err.count("\n") == 1
    assert out.err.startswith("eoaccess: error: 1 of 2 files failed: ")
    assert not (tmp_path / "o/demo/missing/missing.tif").exists()


def test_static_catalog_over_http(
    http_server: RangeHTTPServer,
    tiny_archive: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    catalog = tiny_archive / "kaguya" / "catalog.json"
    if not catalog.exists():
        pytest.skip("the tiny sample has no kaguya catalog")
    expected = sorted(
        f"{item.collection_id}/{item.id}/{Path(item.assets['provenance'].href).name}"
        for item in pystac.Catalog.from_file(str(catalog)).get_items(recursive=True)
        if "provenance" in item.assets
    )
    url = f"{http_server.url}/kaguya/catalog.json"
    assert (
        main(["download", url, "--assets", "provenance", "--dest", str(tmp_path), "--dry-run"]) == 0
    )
    planned = capsys.readouterr().out.splitlines()
    assert len(planned) == len(expected) + 1 and planned[-1].startswith(
        f"Dry run: would download {len(expected)} files"
    )
    assert main(["-q", "download", url, "--assets", "provenance", "--dest", str(tmp_path)]) == 0
    got = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert got == expected and expected


def test_export_to_a_file_and_to_stdout(
    server: RangeHTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = collection_file(tmp_path, server, ["a.tif", "b.tif"])
    listing = tmp_path / "list.txt"
    start = len(server.log)
    assert (
        main(
            [
                "download",
                str(source),
                "--assets",
                "image",
                "--export",
                "rclone",
                "--output",
                str(listing),
            ]
        )
        == 0
    )
    assert listing.read_text().splitlines()[2:] == ["a.tif", "b.tif"]
    assert main(["download", str(source), "--assets", "image", "--export", "urls"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{server.url}/a.tif", f"{server.url}/b.tif"]
    assert server.log[start:] == []  # exporting transfers nothing


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["download", "{tmp}/nope.json"], "nope.json does not exist", 1),
        (["download", "{tmp}/bad.json"], "bad.json is not JSON", 2),
        (["download", "{tmp}/items.geojson", "--layout", "{x}"], "unknown field {x}", 2),
        (
            ["download", "{tmp}/items.geojson", "--export", "wget"],
            "Invalid value for '--export'",
            2,
        ),
    ],
)
def test_bad_input_is_one_line_on_stderr(
    server: RangeHTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
    code: int,
) -> None:
    collection_file(tmp_path, server, ["a.tif"])
    (tmp_path / "bad.json").write_text("{not json")
    assert main([a.replace("{tmp}", str(tmp_path)) for a in args]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
