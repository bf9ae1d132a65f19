"""The per-file shortcuts of the engine: what they skip, and that they skip nothing that matters.

Folders a run creates hold nothing from earlier runs, so their files are not looked for (no
``lexists``, no ``.part`` stat); folders that existed are checked as before. Backends are
resolved once per scheme and engine.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from eoaccess._progress import NullProgress
from eoaccess.transfer import TransferConfig, TransferEngine, register_backend
from eoaccess.transfer._engine import _BACKEND_FACTORIES
from eoaccess.transfer._run import JobRunner
from tests.harness.faults import FaultServer, drop
from tests.transfer.conftest import leftovers, payload
from tests.transfer.test_faults import ranges, run


def _runner(dest: Path) -> JobRunner:
    engine = TransferEngine(TransferConfig())
    task = NullProgress().task("t").__enter__()
    return JobRunner(engine, dest, False, NullProgress(), task, task, False)


def test_runner_knows_which_folders_it_created(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    runner = _runner(tmp_path)
    assert runner._folder("old") is False
    assert runner._folder("new/deeper/still") is True  # missing parents are made too
    assert (tmp_path / "new" / "deeper" / "still").is_dir()
    assert runner._folder("new/deeper/still") is False  # now it exists


def test_a_fresh_folder_still_resumes_after_a_dropped_connection(
    fault_server: FaultServer, fast_config: TransferConfig, tmp_path: Path
) -> None:
    """The first attempt skips looking for a part file; the retry must find and resume it."""
    data = payload(3_000_000)
    url = fault_server.put("/drop.bin", data)
    fault_server.add_faults("/drop.bin", drop(after=2_000_000))
    result = run([(url, "made/by/run/drop.bin")], tmp_path, fast_config)
    assert result.ok, result.summary()
    assert (tmp_path / "made/by/run/drop.bin").read_bytes() == data
    first, second = ranges(fault_server, "/drop.bin")
    assert first is None and second is not None and second.startswith("bytes=")
    assert second != "bytes=0-"
    assert result.files[0].attempts == 2
    assert result.files[0].path == tmp_path / "made/by/run/drop.bin"
    assert leftovers(tmp_path) == []


def test_existing_folders_are_still_checked(
    fault_server: FaultServer, fast_config: TransferConfig, tmp_path: Path
) -> None:
    """A present file in an existing folder is skipped (HEAD only); a part from an earlier run
    without its sidecar is restarted from zero; a new folder's file is simply fetched."""
    data = payload(200_000, seed=3)
    urls = {name: fault_server.put(f"/{name}", data) for name in ("a.bin", "b.bin", "c.bin")}
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "a.bin").write_bytes(data)
    (tmp_path / "old" / "b.bin.part").write_bytes(b"stale bytes of unknown origin")
    pairs = [
        (urls["a.bin"], "old/a.bin"),
        (urls["b.bin"], "old/b.bin"),
        (urls["c.bin"], "new/c.bin"),
    ]
    result = run(pairs, tmp_path, fast_config)
    assert [(f.path.relative_to(tmp_path).as_posix(), f.status) for f in result.files] == [
        ("old/a.bin", "skipped"),
        ("old/b.bin", "downloaded"),
        ("new/c.bin", "downloaded"),
    ]
    assert [r.method for r in fault_server.requests_for("/a.bin")] == ["HEAD"]
    assert ranges(fault_server, "/b.bin") == [None]
    assert (tmp_path / "old" / "b.bin").read_bytes() == data
    assert (tmp_path / "new" / "c.bin").read_bytes() == data
    assert leftovers(tmp_path) == []
    assert sorted(os.listdir(tmp_path / "old")) == ["a.bin", "b.bin"]


def test_a_scheme_is_resolved_once_per_engine() -> None:
    made: list[Any] = []
    created = 0

    class Fake:
        async def aclose(self) -> None:
            made.remove(self)

    def factory(config: TransferConfig) -> Any:
        nonlocal created
        created += 1
        made.append(Fake())
        return made[-1]

    register_backend("fake-once", factory)
    try:

        async def go() -> tuple[Any, Any]:
            async with TransferEngine(TransferConfig()) as engine:
                return engine.backend("fake-once://a/1"), engine.backend("FAKE-ONCE://b/2")

        first, second = asyncio.run(go())
        assert first is second
        assert created == 1
        assert made == []  # closed with the engine
    finally:
        _BACKEND_FACTORIES.pop("fake-once", None)
