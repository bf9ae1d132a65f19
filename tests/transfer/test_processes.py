"""Many small files over worker processes: same guarantees, progress relayed, dead workers."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from eoaccess._progress import LineProgress
from eoaccess.transfer import (
    DownloadJob,
    DownloadResult,
    RetryPolicy,
    S3Credentials,
    S3Options,
    TransferConfig,
    download,
    read_manifest,
    register_backend,
)
from eoaccess.transfer import _processes as processes
from eoaccess.transfer._engine import _BACKEND_FACTORIES
from eoaccess.transfer._http import create_backend
from eoaccess.transfer._processes import process_count, share_of
from tests.harness.faults import FaultServer, stall
from tests.transfer.conftest import leftovers, payload, sha256_hex


def jobs(count: int, size: int | None = None, scheme: str = "http") -> list[DownloadJob]:
    return [DownloadJob(url=f"{scheme}://host/f{i}", path=f"f{i}", size=size) for i in range(count)]


def test_many_small_files_get_one_process_per_cpu_up_to_four() -> None:
    config = TransferConfig()
    assert process_count(jobs(500), config, cpus=2) == 2
    assert process_count(jobs(500), config, cpus=8) == 2  # 250 files per process at least
    assert process_count(jobs(5000), config, cpus=8) == 4
    assert process_count(jobs(5000, size=256 * 1024), config, cpus=3) == 3
    assert process_count(jobs(499), config, cpus=8) == 1
    assert process_count(jobs(5000), config, cpus=1) == 1


def test_automatic_mode_counts_only_idle_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "available_cpus", lambda: 4)
    monkeypatch.setattr(processes.os, "getloadavg", lambda: (1.7, 0.0, 0.0))
    assert processes.idle_cpus() == 3
    assert process_count(jobs(5000), TransferConfig()) == 3
    monkeypatch.setattr(processes.os, "getloadavg", lambda: (7.2, 0.0, 0.0))  # saturated
    assert processes.idle_cpus() == 1
    assert process_count(jobs(5000), TransferConfig()) == 1
    assert process_count(jobs(5000), TransferConfig(processes=2)) == 2  # explicit wins


def test_large_files_and_what_a_child_cannot_do_stay_in_one_process() -> None:
    assert process_count(jobs(5000, size=64 * 2**20), TransferConfig(), cpus=8) == 1
    assert process_count(jobs(5000, scheme="gs"), TransferConfig(), cpus=8) == 1  # unknown
    provider = S3Options(credentials=lambda: S3Credentials("AKIA", "secret"))
    assert process_count(jobs(5000), TransferConfig(s3=provider), cpus=8) == 1  # not picklable
    register_backend("http", create_backend)  # a backend registered here is not in a child
    try:
        assert process_count(jobs(5000), TransferConfig(), cpus=8) == 1
    finally:
        _BACKEND_FACTORIES.pop("http")


def test_explicit_processes_are_capped_by_files_and_concurrency() -> None:
    assert process_count(jobs(10), TransferConfig(processes=3), cpus=1) == 3
    assert process_count(jobs(2), TransferConfig(processes=3), cpus=8) == 2
    assert process_count(jobs(10), TransferConfig(processes=4, concurrency=2), cpus=8) == 2
    assert process_count(jobs(5000), TransferConfig(processes=1), cpus=8) == 1


def test_each_process_gets_a_share_of_the_limits() -> None:
    share = share_of(TransferConfig(concurrency=16), 2)
    assert (share.concurrency, share.per_host, share.processes) == (8, 8, 1)
    share = share_of(TransferConfig(concurrency=16, per_host=3), 2)
    assert (share.concurrency, share.per_host) == (8, 2)
    assert share_of(TransferConfig(), 1) == TransferConfig()


def serve(server: FaultServer, count: int) -> dict[str, bytes]:
    """``count`` files of different small sizes; returns relative path -> content."""
    files = {}
    for i in range(count):
        data = payload(1000 + 997 * i, seed=i)
        server.put(f"/d{i % 3}/f{i}.bin", data)
        files[f"d{i % 3}/f{i}.bin"] = data
    return files


def test_worker_processes_download_verified_files_with_skips_failures_and_a_manifest(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    files = serve(fault_server, 30)
    pairs = [(f"{fault_server.url}/{rel}", rel) for rel in files]
    pairs.insert(7, (f"{fault_server.url}/missing.bin", "missing.bin"))
    present = tmp_path / "d0" / "f3.bin"  # already there and verified (by a HEAD): skipped
    present.parent.mkdir()
    present.write_bytes(files["d0/f3.bin"])
    config = TransferConfig(concurrency=4, processes=2)

    result = download(pairs, tmp_path, config=config, manifest=tmp_path / "m.jsonl")

    assert result.processes == 2
    assert [f.path for f in result.files] == [tmp_path / rel for _, rel in pairs]  # input order
    statuses = {f.path.relative_to(tmp_path).as_posix(): f.status for f in result.files}
    assert statuses == {
        **dict.fromkeys(files, "downloaded"),
        "d0/f3.bin": "skipped",
        "missing.bin": "failed",
    }
    assert [f.error for f in result.failed] == [
        f"HTTP 404 Not Found for {fault_server.url}/missing.bin: no such object"
    ]
    for rel, data in files.items():
        assert (tmp_path / rel).read_bytes() == data
    rows = {row["path"]: row for row in read_manifest(tmp_path / "m.jsonl")}
    assert rows[str(tmp_path / "d1/f4.bin")]["sha256"] == sha256_hex(files["d1/f4.bin"])
    assert rows[str(tmp_path / "d1/f4.bin")]["bytes"] == len(files["d1/f4.bin"])
    gets = sorted(r.path for r in fault_server.log if r.method == "GET")
    assert gets == sorted([f"/{rel}" for rel in files if rel != "d0/f3.bin"] + ["/missing.bin"])
    assert leftovers(tmp_path) == []
    assert not (tmp_path / "missing.bin").exists()


def test_download_starts_workers_by_itself_for_many_small_files(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = serve(fault_server, 12)
    pairs = [(f"{fault_server.url}/{rel}", rel) for rel in files]
    monkeypatch.setattr(processes, "MIN_FILES_PER_PROCESS", 5)  # "many" = 5 per process here
    monkeypatch.setattr(processes, "idle_cpus", lambda: 2)

    result = download(pairs, tmp_path)  # no processes setting: automatic

    assert result.ok and result.processes == 2
    assert all((tmp_path / rel).read_bytes() == data for rel, data in files.items())


def test_progress_of_worker_processes_reaches_the_callers_bars(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    files = serve(fault_server, 12)
    pairs = [(f"{fault_server.url}/{rel}", rel) for rel in files]
    stream = io.StringIO()
    config = TransferConfig(concurrency=4, processes=2, large_file=6000)

    result = download(pairs, tmp_path, config=config, progress=LineProgress(stream))

    assert result.ok and result.processes == 2
    lines = stream.getvalue().splitlines()
    assert lines[-1].startswith("Downloading 12 files: done, 12 files in ")
    total = sum(len(d) for d in files.values())
    assert f"Bytes: done, {total / 1000:.1f} kB in " in "\n".join(lines)
    bars = sorted(line.split(" ")[0] for line in lines if line.startswith("d") and "done" in line)
    large = sorted(f"{rel}:" for rel, data in files.items() if len(data) >= 6000)
    assert bars == large  # per-file bars of large files, from whichever process fetched them


def test_worker_processes_also_run_from_inside_an_event_loop(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    files = serve(fault_server, 6)
    pairs = [(f"{fault_server.url}/{rel}", rel) for rel in files]

    async def notebook_cell() -> DownloadResult:
        return download(pairs, tmp_path, config=TransferConfig(processes=2))  # as in Jupyter

    result = asyncio.run(notebook_cell())
    assert result.ok and result.processes == 2
    assert {f.path.relative_to(tmp_path).as_posix() for f in result.downloaded} == set(files)


def _worker_pids() -> list[int]:
    """Worker processes started by this (the test) process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"eoaccess.transfer._worker" in cmdline:
            found.append(int(entry))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds workers through /proc")
def test_a_killed_worker_process_fails_only_the_files_it_held(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    files = {f"f{i}.bin": payload(50_000, seed=i) for i in range(6)}
    for rel, data in files.items():
        fault_server.put(f"/{rel}", data)
        fault_server.add_faults(f"/{rel}", stall(after=1000))  # every file hangs once
    pairs = [(f"{fault_server.url}/{rel}", rel) for rel in files]
    config = TransferConfig(
        concurrency=2,
        processes=2,
        stall_timeout=60,
        retry=RetryPolicy(attempts=3, backoff=0.001, max_backoff=0.002, jitter=0.0),
    )
    outcome: list[DownloadResult] = []
    runner = threading.Thread(
        target=lambda: outcome.append(download(pairs, tmp_path, config=config))
    )
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while not ({r.path for r in fault_server.log} >= {"/f0.bin", "/f1.bin"}):
            assert time.monotonic() < deadline, "the worker process never asked for files"
            time.sleep(0.01)
        (worker,) = _worker_pids()
        os.kill(worker, signal.SIGKILL)
    finally:
        fault_server.release.set()
        runner.join(60)
    (result,) = outcome

    failed = {f.path.name for f in result.failed}
    assert "f1.bin" in failed and "f0.bin" not in failed  # f0 was this process's, f1 the worker's
    assert {f.error for f in result.failed} == {"worker process killed by signal 9"}
    assert {f.path.name for f in result.downloaded} == set(files) - failed
    for done in result.downloaded:
        assert done.path.read_bytes() == files[done.path.name]
    for name in failed:
        assert not (tmp_path / name).exists()  # never a partial file under a final name

    again = download(pairs, tmp_path, config=TransferConfig(processes=1))
    assert again.ok, again.summary()
    assert {f.path.name for f in again.downloaded} == failed
    assert leftovers(tmp_path) == []
