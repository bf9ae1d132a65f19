"""download() over HTTP: layouts, skips, overwrite, dry runs, manifests, progress, connections."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pystac
import pytest

from eoaccess._progress import LineProgress
from eoaccess.transfer import (
    TransferConfig,
    download,
    download_async,
    read_manifest,
)
from tests.harness.faults import FaultServer
from tests.harness.http import RangeHTTPServer, start_http_server
from tests.transfer.conftest import leftovers, payload, sha256_hex

FILES = {
    "scenes/a/one.tif": payload(300_000, seed=1),
    "scenes/a/one.json": b'{"id": "one"}',
    "scenes/b/two.tif": payload(120_000, seed=2),
    "scenes/b/two.json": b'{"id": "two"}',
}


@pytest.fixture(scope="module")
def files_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RangeHTTPServer]:
    """A Range HTTP server over a folder of known files and two STAC items that point at them."""
    root = tmp_path_factory.mktemp("served")
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    server = start_http_server(root)
    for scene in ("a", "b"):
        stem = "one" if scene == "a" else "two"
        item = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": f"scene-{scene}",
            "collection": "scenes",
            "geometry": None,
            "properties": {"datetime": "2024-01-01T00:00:00Z"},
            "links": [{"rel": "self", "href": f"{server.url}/scenes/{scene}/item.json"}],
            "assets": {
                "image": {
                    "href": f"./{stem}.tif",
                    "type": "image/tiff; application=geotiff",
                    "roles": ["data"],
                    "file:size": len(FILES[f"scenes/{scene}/{stem}.tif"]),
                },
                "meta": {"href": f"{stem}.json", "type": "application/json", "roles": ["metadata"]},
            },
        }
        (root / "scenes" / scene / "item.json").write_text(json.dumps(item))
    yield server
    server.stop()


def items(server: RangeHTTPServer) -> list[dict[str, Any]]:
    return [json.loads((server.root / "scenes" / s / "item.json").read_text()) for s in ("a", "b")]


def gets(server: RangeHTTPServer, since: int = 0) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.log[since:]]


def test_items_land_in_the_default_layout_with_a_manifest(
    files_server: RangeHTTPServer, tmp_path: Path
) -> None:
    start = len(files_server.log)
    manifest = tmp_path / "manifest.jsonl"
    result = download(items(files_server), tmp_path / "data", manifest=manifest)
    assert result.ok, result.summary()
    expected = {
        "scenes/scene-a/one.tif": "scenes/a/one.tif",
        "scenes/scene-a/one.json": "scenes/a/one.json",
        "scenes/scene-b/two.tif": "scenes/b/two.tif",
        "scenes/scene-b/two.json": "scenes/b/two.json",
    }
    for local, remote in expected.items():
        assert (tmp_path / "data" / local).read_bytes() == FILES[remote]
    # relative hrefs were resolved against each item's self link; one GET per file, no retries
    assert sorted(gets(files_server, start)) == sorted(("GET", "/" + r) for r in expected.values())
    rows = read_manifest(manifest)
    assert [(r["path"], r["bytes"], r["sha256"], r["status"]) for r in rows] == [
        (
            str(tmp_path / "data" / local),
            len(FILES[remote]),
            sha256_hex(FILES[remote]),
            "downloaded",
        )
        for local, remote in expected.items()
    ]
    assert [r["url"] for r in rows] == [files_server.url + "/" + r for r in expected.values()]
    assert all(isinstance(r["seconds"], float) for r in rows)
    assert leftovers(tmp_path) == []


def test_present_files_are_skipped_and_overwrite_replaces_them(
    files_server: RangeHTTPServer, tmp_path: Path
) -> None:
    first = download(items(files_server), tmp_path)
    assert len(first.downloaded) == 4
    start = len(files_server.log)
    again = download(items(files_server), tmp_path)
    assert [f.status for f in again.files] == ["skipped"] * 4
    # file:size verifies the images locally; the JSON files (no size) cost one HEAD each
    assert sorted(gets(files_server, start)) == [
        ("HEAD", "/scenes/a/one.json"),
        ("HEAD", "/scenes/b/two.json"),
    ]
    assert "Skipped 4 files already present and verified" in again.summary()

    (tmp_path / "scenes" / "scene-b" / "two.tif").write_bytes(b"short")  # wrong size: refetch
    start = len(files_server.log)
    repaired = download(items(files_server), tmp_path, assets="image")
    assert [f.status for f in repaired.files] == ["skipped", "downloaded"]
    assert gets(files_server, start) == [("GET", "/scenes/b/two.tif")]
    assert (tmp_path / "scenes" / "scene-b" / "two.tif").read_bytes() == FILES["scenes/b/two.tif"]

    start = len(files_server.log)
    replaced = download(items(files_server), tmp_path, overwrite=True, roles="metadata")
    assert [f.status for f in replaced.files] == ["downloaded"] * 2
    assert sorted(gets(files_server, start)) == [
        ("GET", "/scenes/a/one.json"),
        ("GET", "/scenes/b/two.json"),
    ]


def test_dry_run_plans_without_a_request(files_server: RangeHTTPServer, tmp_path: Path) -> None:
    start = len(files_server.log)
    result = download(items(files_server), tmp_path / "d", dry_run=True, media_types="image/tiff")
    assert gets(files_server, start) == []
    assert not (tmp_path / "d").exists()
    assert [(f.status, f.path.relative_to(tmp_path / "d").as_posix()) for f in result.files] == [
        ("planned", "scenes/scene-a/one.tif"),
        ("planned", "scenes/scene-b/two.tif"),
    ]
    assert result.summary() == f"Dry run: would download 2 files, 420.0 kB, to {tmp_path / 'd'}"


def test_pairs_pystac_items_and_search_results_are_accepted(
    files_server: RangeHTTPServer, tmp_path: Path
) -> None:
    url = files_server.url + "/scenes/a/one.tif"
    pairs = download([(url, "x/one.tif")], tmp_path)
    assert (tmp_path / "x" / "one.tif").read_bytes() == FILES["scenes/a/one.tif"]
    assert pairs.files[0].sha256 is None  # hashing is opt-in (or implied by a manifest)
    hashed = download([(url, "y/one.tif")], tmp_path, config=TransferConfig(sha256=True))
    assert hashed.files[0].sha256 == sha256_hex(FILES["scenes/a/one.tif"])

    pystac_items = [pystac.Item.from_dict(d) for d in items(files_server)]

    class Results:
        def items(self) -> Iterator[pystac.Item]:
            return iter(pystac_items)

    for source in (Results(), pystac.ItemCollection(pystac_items)):
        dest = tmp_path / type(source).__name__
        result = download(source, dest, assets=["meta"], layout="{item}/{asset}{ext}")
        assert sorted(f.path.relative_to(dest).as_posix() for f in result.downloaded) == [
            "scene-a/meta.json",
            "scene-b/meta.json",
        ]
    collection = {"type": "FeatureCollection", "features": items(files_server)}
    planned = download(collection, tmp_path, dry_run=True)
    assert len(planned.planned) == 4


def test_progress_reports_files_and_bytes_as_plain_lines(
    files_server: RangeHTTPServer, tmp_path: Path
) -> None:
    stream = io.StringIO()
    download(items(files_server), tmp_path, assets="image", progress=LineProgress(stream))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "Downloading 2 files (2 files) ..."
    assert lines[1] == "Bytes (420.0 kB) ..."
    assert lines[2].startswith("Bytes: done, 420.0 kB in ")
    assert lines[3].startswith("Downloading 2 files: done, 2 files in ")


def test_large_files_get_their_own_bar(files_server: RangeHTTPServer, tmp_path: Path) -> None:
    stream = io.StringIO()
    config = TransferConfig(large_file=200_000)
    download(
        items(files_server), tmp_path, assets="image", config=config, progress=LineProgress(stream)
    )
    per_file = [line for line in stream.getvalue().splitlines() if line.startswith("scenes/")]
    assert per_file[0] == "scenes/scene-a/one.tif (300.0 kB) ..."
    assert per_file[1].startswith("scenes/scene-a/one.tif: done, 300.0 kB in ")
    assert len(per_file) == 2  # two.tif (120 kB) is below the threshold


def test_sync_download_works_inside_a_running_event_loop(
    files_server: RangeHTTPServer, tmp_path: Path
) -> None:
    async def notebook_cell() -> int:
        result = download(items(files_server), tmp_path / "sync")  # as in a Jupyter cell
        twin = await download_async(items(files_server), tmp_path / "async")
        return len(result.downloaded) + len(twin.downloaded)

    assert asyncio.run(notebook_cell()) == 8


def test_connections_are_reused_and_limited_per_host(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    urls = [fault_server.put(f"/f{i}.bin", payload(20_000, seed=i)) for i in range(12)]
    missing = fault_server.url + "/missing.bin"
    sequential = [(u, f"seq/{i}") for i, u in enumerate(urls)]
    one = download([*sequential[:6], (missing, "seq/m"), *sequential[6:]], tmp_path, concurrency=1)
    assert [f.path.name for f in one.failed] == ["m"] and len(one.downloaded) == 12
    assert len({r.client for r in fault_server.log}) == 1  # one keep-alive connection, 404 too
    fault_server.log.clear()
    config = TransferConfig(concurrency=8, per_host=2)
    limited = download([(u, f"par/{i}") for i, u in enumerate(urls)], tmp_path, config=config)
    assert limited.ok
    assert len(fault_server.log) == 12
    assert len({r.client for r in fault_server.log}) <= 2


def test_bad_inputs_are_refused_before_any_transfer(tmp_path: Path) -> None:
    from eoaccess.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="not the string"):
        download("http://example.invalid/x.tif", tmp_path)
    with pytest.raises(InvalidInputError, match="unknown field"):
        download([("http://127.0.0.1:1/x", "x")], tmp_path, layout="{collection}/{nope}")
    with pytest.raises(InvalidInputError, match="relative path inside"):
        download([("http://127.0.0.1:1/x", "../escape")], tmp_path)
    with pytest.raises(InvalidInputError, match="two assets would be written"):
        download([("http://127.0.0.1:1/a", "same"), ("http://127.0.0.1:1/b", "same")], tmp_path)
    with pytest.raises(InvalidInputError, match="unsupported URL scheme 'ftp'"):
        download([("ftp://127.0.0.1/x", "x")], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_extra_headers_are_sent(fault_server: FaultServer, tmp_path: Path) -> None:
    url = fault_server.put("/private.bin", b"secret")
    config = TransferConfig(headers={"Authorization": "Bearer t0ken"})
    assert download([(url, "p.bin")], tmp_path, config=config).ok
    (request,) = fault_server.requests_for("/private.bin")
    assert request.headers["authorization"] == "Bearer t0ken"
    assert request.headers["accept-encoding"] == "identity"


def test_file_writer_handles_many_small_pieces(tmp_path: Path) -> None:
    from eoaccess.transfer._engine import FileWriter

    path = tmp_path / "f.part"
    path.write_bytes(b"keep-me|drop-me")
    writer = FileWriter(path, 8)  # resume after "keep-me|", dropping the rest
    pieces = [bytes([i % 256]) * 3 for i in range(3000)]  # more buffers than one writev takes
    writer.write(pieces)
    writer.close()
    assert path.read_bytes() == b"keep-me|" + b"".join(pieces)


def test_large_batches_are_written_and_hashed_on_worker_threads(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    import hashlib

    from eoaccess.transfer._checksum import multihash_hex

    data = payload(3 * 1024 * 1024 + 123, seed=7)  # three 1 MiB batches and a small tail
    url = fault_server.put("/big.bin", data)
    item = {
        "type": "Feature",
        "id": "big",
        "collection": "c",
        "assets": {
            "a": {"href": url, "file:checksum": multihash_hex("md5", hashlib.md5(data).digest())}
        },
    }
    config = TransferConfig(chunk_size=1024 * 1024, sha256=True)
    result = download(item, tmp_path, config=config)
    assert result.ok, result.summary()
    assert result.files[0].sha256 == sha256_hex(data)
    assert (tmp_path / "c" / "big" / "big.bin").read_bytes() == data
