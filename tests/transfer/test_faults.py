"""Downloads against a server that fails in every way we know: the outcome must stay trustworthy.

In every case: no partial or corrupt file under a final name, the result names exactly what
failed, and the server log shows exactly which bytes were fetched again.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from eoaccess.transfer import (
    DownloadResult,
    RetryPolicy,
    TransferConfig,
    TransferEngine,
    download,
    download_async,
)
from eoaccess.transfer._checksum import multihash_hex
from eoaccess.transfer._engine import FileWriter
from tests.harness.faults import (
    FaultServer,
    drop,
    ignore_range,
    stall,
    status,
    truncate,
    wrong_bytes,
)
from tests.transfer.conftest import CHUNK, SleepRecorder, leftovers, payload


def run(
    source: Any,
    dest: Path,
    config: TransferConfig,
    sleeps: SleepRecorder | None = None,
    writer: Any = FileWriter,
    **options: Any,
) -> DownloadResult:
    """Download through an engine whose sleeps are recorded (no real waiting)."""

    async def go() -> DownloadResult:
        async with TransferEngine(config, sleep=sleeps or SleepRecorder(), writer=writer) as engine:
            return await download_async(source, dest, engine=engine, **options)

    return asyncio.run(go())


def item(url: str, data: bytes, **fields: Any) -> dict[str, Any]:
    """A STAC item with one asset ``data`` at ``url`` carrying file:size and file:checksum."""
    asset = {
        "href": url,
        "file:size": len(data),
        "file:checksum": multihash_hex("sha256", hashlib.sha256(data).digest()),
        **fields,
    }
    return {"type": "Feature", "id": "i1", "collection": "c1", "assets": {"data": asset}}


def ranges(server: FaultServer, path: str) -> list[str | None]:
    return [r.range for r in server.requests_for(path, "GET")]


def test_dropped_connection_resumes_where_the_data_stopped(
    fault_server: FaultServer, fast_config: TransferConfig, tmp_path: Path
) -> None:
    data = payload(3_000_000)
    url = fault_server.put("/drop.bin", data)
    fault_server.add_faults("/drop.bin", drop(after=2_000_000))
    result = run([(url, "drop.bin")], tmp_path, fast_config)
    assert result.ok, result.summary()
    assert (tmp_path / "drop.bin").read_bytes() == data
    first, second = ranges(fault_server, "/drop.bin")
    assert first is None and second is not None
    resumed_at = int(second.removeprefix("bytes=").removesuffix("-"))
    # every byte that reached the client was kept; only what the socket buffers held is lost
    assert 2_000_000 - 512 * 1024 <= resumed_at <= 2_000_000
    assert fault_server.sent_for("/drop.bin") == len(data) + (2_000_000 - resumed_at)
    assert result.files[0].attempts == 2
    assert leftovers(tmp_path) == []


def test_truncated_body_is_detected_by_file_size_and_resumed_exactly(
    fault_server: FaultServer, fast_config: TransferConfig, tmp_path: Path
) -> None:
    data = payload(500_000)
    url = fault_server.put("/t.bin", data)
    fault_server.add_faults("/t.bin", truncate(after=300_000))
    result = run(item(url, data), tmp_path, fast_config)
    assert result.ok, result.summary()
    assert (tmp_path / "c1" / "i1" / "t.bin").read_bytes() == data
    assert ranges(fault_server, "/t.bin") == [None, "bytes=300000-"]
    assert fault_server.sent_for("/t.bin") == len(data)  # nothing fetched twice


def test_error_statuses_are_retried_honouring_retry_after(
    fault_server: FaultServer, fast_config: TransferConfig, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    data = payload(10_000)
    url = fault_server.put("/r.bin", data)
    fault_server.add_faults("/r.bin", status(503, "2"), status(429, "1"), status(500))
    result = run([(url, "r.bin")], tmp_path, fast_config, sleeps)
    assert result.ok, result.summary()
    # Retry-After wins; without it the exponential backoff (capped at 0.002 s here) applies
    assert sleeps.delays == [2.0, 1.0, 0.002]
    assert [r.status for r in fault_server.requests_for("/r.bin")] == [503, 429, 500, 200]
    assert result.files[0].attempts == 4


def test_retry_after_as_http_date_is_honoured() -> None:
    from eoaccess.transfer._httpbase import parse_retry_after

    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("soon") is None


def test_giving_up_names_the_file_and_leaves_nothing(
    fault_server: FaultServer, fast_config: TransferConfig, tmp_path: Path
) -> None:
    good = fault_server.put("/good.bin", payload(1000))
    bad = fault_server.put("/bad.bin", payload(1000, seed=2))
    fault_server.add_faults("/bad.bin", *[status(503)] * 4)
    result = run([(good, "good.bin"), (bad, "bad.bin")], tmp_path, fast_config)
    assert not result.ok
    assert [f.path.name for f in result.failed] == ["bad.bin"]
    assert [f.path.name for f in result.downloaded] == ["good.bin"]
    error = result.failed[0].error or ""
    assert "HTTP 503" in error and "gave up after 4 attempts" in error
    assert not (tmp_path / "bad.bin").exists()
    assert leftovers(tmp_path) == []
    summary = result.summary()
    assert "Failed 1 files:" in summary and str(tmp_path / "bad.bin") in summary
    assert len(fault_server.requests_for("/bad.bin")) == 4


def test_not_found_is_not_retried(
    fault_server: FaultServer, fast_config: TransferConfig, tmp_path: Path
) -> None:
    result = run([(fault_server.url + "/missing.bin", "m.bin")], tmp_path, fast_config)
    assert [f.status for f in result.files] == ["failed"]
    assert "HTTP 404" in (result.files[0].error or "")
    assert len(fault_server.requests_for("/missing.bin")) == 1
    assert list(tmp_path.iterdir()) == []


def test_wrong_bytes_fail_the_checksum_and_are_not_kept(
    fault_server: FaultServer, fast_config: TransferConfig, tmp_path: Path
) -> None:
    data = payload(200_000)
    url = fault_server.put("/w.bin", data)
    fault_server.add_faults("/w.bin", wrong_bytes())
    result = run(item(url, data), tmp_path, fast_config)
    assert [f.status for f in result.files] == ["failed"]
    assert "checksum mismatch" in (result.files[0].error or "")
    assert not (tmp_path / "c1" / "i1" / "w.bin").exists()
    assert leftovers(tmp_path) == []
    assert len(fault_server.requests_for("/w.bin")) == 1  # wrong content is not retried blindly


def test_md5_multihash_is_verified(
    fault_server: FaultServer, fast_config: TransferConfig, tmp_path: Path
) -> None:
    data = payload(70_000)
    url = fault_server.put("/m.bin", data)
    checksum = multihash_hex("md5", hashlib.md5(data).digest())
    assert checksum.startswith("d50110")
    result = run(item(url, data, **{"file:checksum": checksum}), tmp_path, fast_config)
    assert result.ok, result.summary()
    assert result.files[0].sha256 is None  # md5 verified; SHA-256 only for manifests
    wrong = multihash_hex("md5", hashlib.md5(b"other").digest())
    (tmp_path / "c1" / "i1" / "m.bin").unlink()
    failed = run(item(url, data, **{"file:checksum": wrong}), tmp_path, fast_config)
    assert failed.files[0].error == (
        f"{url}: checksum mismatch, expected md5:{hashlib.md5(b'other').hexdigest()}, "
        f"got md5:{hashlib.md5(data).hexdigest()}; file not kept"
    )
    assert leftovers(tmp_path) == [] and not (tmp_path / "c1" / "i1" / "m.bin").exists()


def test_server_ignoring_range_restarts_from_zero(
    fault_server: FaultServer, fast_config: TransferConfig, tmp_path: Path
) -> None:
    data = payload(1_000_000)
    url = fault_server.put("/ir.bin", data)
    fault_server.add_faults("/ir.bin", truncate(after=400_000), ignore_range())
    one_try = replace(fast_config, retry=RetryPolicy(attempts=1))
    first = run(item(url, data), tmp_path, one_try)
    assert [f.status for f in first.files] == ["failed"]
    part = tmp_path / "c1" / "i1" / "ir.bin.part"
    assert part.stat().st_size == 400_000  # kept for a later run, under a .part name only
    second = run(item(url, data), tmp_path, fast_config)
    assert second.ok, second.summary()
    assert (tmp_path / "c1" / "i1" / "ir.bin").read_bytes() == data
    assert ranges(fault_server, "/ir.bin") == [None, "bytes=400000-"]
    assert [r.status for r in fault_server.requests_for("/ir.bin")] == [200, 200]
    assert second.files[0].fetched == len(data)
    assert leftovers(tmp_path) == []


def test_remote_change_between_runs_restarts_from_zero(
    fault_server: FaultServer, fast_config: TransferConfig, tmp_path: Path
) -> None:
    old, new = payload(600_000, seed=1), payload(600_000, seed=2)
    url = fault_server.put("/ch.bin", old)
    fault_server.add_faults("/ch.bin", truncate(after=250_000))
    one_try = replace(fast_config, retry=RetryPolicy(attempts=1))
    assert not run(item(url, old, **{"file:checksum": None}), tmp_path, one_try).ok
    fault_server.put("/ch.bin", new)  # a new version with a new ETag
    result = run(item(url, new, **{"file:checksum": None}), tmp_path, fast_config)
    assert result.ok, result.summary()
    assert (tmp_path / "c1" / "i1" / "ch.bin").read_bytes() == new
    # the resume request saw another ETag; the next request took the whole new object
    assert ranges(fault_server, "/ch.bin") == [None, "bytes=250000-", None]


def test_stalled_connection_is_dropped_and_resumed(
    fault_server: FaultServer, fast_config: TransferConfig, tmp_path: Path
) -> None:
    data = payload(400_000)
    url = fault_server.put("/s.bin", data)
    fault_server.add_faults("/s.bin", stall(after=150_000))
    result = run(item(url, data), tmp_path, fast_config)
    assert result.ok, result.summary()
    assert (tmp_path / "c1" / "i1" / "s.bin").read_bytes() == data
    # all 150,000 bytes had arrived before the stall: the retry asks for exactly the rest
    assert ranges(fault_server, "/s.bin") == [None, "bytes=150000-"]
    assert fault_server.sent_for("/s.bin") == len(data)


class FullDiskWriter(FileWriter):
    """A writer whose disk fills up after ``limit`` bytes of files named ``*full*``."""

    limit = 100_000

    def __init__(self, path: Path, offset: int) -> None:
        super().__init__(path, offset)
        self.full = "full" in path.name
        self.written = offset

    def write(self, pieces: Sequence[bytes]) -> None:
        size = sum(len(p) for p in pieces)
        if self.full and self.written + size > self.limit:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super().write(pieces)
        self.written += size


def test_disk_full_is_reported_cleanly(
    fault_server: FaultServer, fast_config: TransferConfig, tmp_path: Path
) -> None:
    urls = {
        name: fault_server.put(f"/{name}", payload(300_000, seed=i))
        for i, name in enumerate(["a.bin", "full.bin", "b.bin"])
    }
    result = run(
        [(url, name) for name, url in urls.items()], tmp_path, fast_config, writer=FullDiskWriter
    )
    assert [(f.path.name, f.status) for f in result.files] == [
        ("a.bin", "downloaded"),
        ("full.bin", "failed"),
        ("b.bin", "downloaded"),
    ]
    assert (
        result.failed[0].error
        == f"cannot write {tmp_path / 'full.bin.part'}: No space left on device"
    )
    assert not (tmp_path / "full.bin").exists()
    assert leftovers(tmp_path) == []
    assert len(fault_server.requests_for("/full.bin")) == 1  # a full disk is not retried


def test_unreachable_host_is_given_up_after_one_file_exhausted_its_retries(
    fast_config: TransferConfig, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    from tests.harness.ports import free_port

    base = f"http://127.0.0.1:{free_port()}"
    pairs = [(f"{base}/{name}", name) for name in ("x.bin", "y.bin", "z.bin")]
    result = run(pairs, tmp_path, replace(fast_config, concurrency=1), sleeps)
    errors = [f.error or "" for f in result.files]
    assert [f.status for f in result.files] == ["failed"] * 3
    assert f"{base}/x.bin: cannot connect" in errors[0] and "gave up after 4 attempts" in errors[0]
    for error in errors[1:]:
        assert (
            "not tried, 127.0.0.1" in error
            and "is unreachable (4 connection attempts failed)" in error
        )
    assert len(sleeps.delays) == 3  # only the first file waited out its backoff
    assert list(tmp_path.iterdir()) == []


_CHILD = """
import sys
from eoaccess.transfer import TransferConfig, download
config = TransferConfig(chunk_size=int(sys.argv[3]), stall_timeout=120)
download([(sys.argv[1], "big.bin")], sys.argv[2], config=config)
"""


def test_killed_download_resumes_fetching_at_most_one_chunk_again(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    data = payload(3_000_000)
    url = fault_server.put("/big.bin", data)
    sent_before_kill = 1_000_000
    fault_server.add_faults("/big.bin", stall(after=sent_before_kill))
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, url, str(tmp_path), str(CHUNK)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    part, sidecar = tmp_path / "big.bin.part", tmp_path / "big.bin.part.json"
    try:
        # wait for the condition itself: the child has written all it holds of the sent bytes
        deadline = time.monotonic() + 60
        while not (
            sidecar.exists() and part.exists() and part.stat().st_size > sent_before_kill - CHUNK
        ):
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never wrote the first megabyte"
            time.sleep(0.01)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        fault_server.release.set()
    assert child.returncode == -signal.SIGKILL
    assert not (tmp_path / "big.bin").exists()
    kept = part.stat().st_size

    result = download([(url, "big.bin")], tmp_path, config=TransferConfig(chunk_size=CHUNK))
    assert result.ok, result.summary()
    assert (tmp_path / "big.bin").read_bytes() == data
    assert ranges(fault_server, "/big.bin") == [None, f"bytes={kept}-"]
    # The client can finish reading before the server thread records what it sent: wait for it.
    deadline = time.monotonic() + 10
    while fault_server.sent_for("/big.bin") < len(data) and time.monotonic() < deadline:
        time.sleep(0.01)
    fetched_again = fault_server.sent_for("/big.bin") - len(data)
    assert 0 <= fetched_again <= CHUNK
    assert result.files[0].resumed_from == kept
    assert leftovers(tmp_path) == []
