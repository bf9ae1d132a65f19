"""Worker processes for many small files: the plan is shared by this process and N-1 children.

Downloading a small file costs CPython ~0.35-0.5 ms of CPU on one core (the HTTP exchange, file
creation and rename, bookkeeping, the kernel's copies), so 2,000 small files are CPU-bound on
one core while the network idles. Each worker process (``python -m eoaccess.transfer._worker``) runs its own event loop,
:class:`TransferEngine` and connection pool with a share of ``concurrency`` and ``per_host``, and
downloads with the same :class:`JobRunner` as this process — so ``.part`` files, resume, checksums,
retries and no-overwrite behave exactly alike.

Protocol over the child's pipes, frames of a 4-byte length and a pickle (both ends are this
code, started by this process):

- parent -> child: the :class:`WorkerSetup`, then batches of ``(index, DownloadJob)``; an empty
  batch means there is no more work.
- child -> parent: lists of events: ``("want", n)`` asks for a batch, ``("done", index,
  FileResult)``, and progress ``("adv", task, n)``, ``("open", task, description, total, unit)``,
  ``("close", task)``; tasks ``"files"`` and ``"bytes"`` are the run's overall bars.

Work is handed out in small batches on request, so the processes balance their load. A child
that dies takes only the files it holds: they are reported failed (their ``.part`` files resume
on the next run).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import pickle
import struct
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import eoaccess
from eoaccess._progress import Progress, Task, TaskReplay, Unit
from eoaccess.transfer._config import TransferConfig
from eoaccess.transfer._engine import (
    _BACKEND_FACTORIES,
    _BACKEND_MODULES,
    TransferEngine,
    url_scheme,
)
from eoaccess.transfer._plan import DownloadJob
from eoaccess.transfer._result import FileResult
from eoaccess.transfer._run import JobQueue, JobRunner

MIN_FILES_PER_PROCESS = 250
"""Below this many files per process a child's start-up (~0.2 CPU s of imports) is not repaid."""
MAX_AUTO_PROCESSES = 4
"""Automatic mode uses at most this many processes; an explicit ``processes`` may use more."""
_HEADER = struct.Struct("!I")
_FLUSH_SECONDS = 0.05  # how often a child relays progress: often enough for a smooth bar


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def idle_cpus() -> int:
    """CPUs not busy with other work: :func:`available_cpus` minus the whole CPUs of the
    1-minute load average, at least 1.

    Worker processes only help on idle cores. Linux schedules a session's processes as one group
    (autogroup), so on a saturated machine a worker takes CPU from this process instead of adding
    some, and its start-up is pure cost (measured at load 7–9 on 2 CPUs: ~40 % more wall time).
    """
    cpus = available_cpus()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform
        return cpus
    return max(1, cpus - int(load))


def _portable(jobs: Sequence[DownloadJob], config: TransferConfig) -> bool:
    """True when a child process can do these jobs: built-in backends and a picklable config.

    A backend added with ``register_backend`` lives only in this process, and a credential
    provider may be a closure that cannot be pickled.
    """
    for scheme in {url_scheme(job.url) for job in jobs}:
        if scheme in _BACKEND_FACTORIES or scheme not in _BACKEND_MODULES:
            return False
    try:
        pickle.dumps(config)
    except (pickle.PicklingError, TypeError, AttributeError):
        return False
    return True


def process_count(
    jobs: Sequence[DownloadJob], config: TransferConfig, *, cpus: int | None = None
) -> int:
    """How many processes (this one included) should download ``jobs``.

    ``config.processes`` if set, else one per idle CPU (``cpus``, default :func:`idle_cpus`; at
    most :data:`MAX_AUTO_PROCESSES`) when the files are many (:data:`MIN_FILES_PER_PROCESS` per
    process) and small (known sizes average below ``config.large_file``; unknown sizes count as
    small). Never more processes than ``concurrency`` or files, and 1 when a child could not do
    the jobs (:func:`_portable`).
    """
    wanted = config.processes
    if wanted is None:
        sizes = [job.size for job in jobs if job.size is not None]
        if sizes and sum(sizes) / len(sizes) >= config.large_file:
            return 1
        cpus = idle_cpus() if cpus is None else cpus
        wanted = min(cpus, MAX_AUTO_PROCESSES, len(jobs) // MIN_FILES_PER_PROCESS)
    wanted = min(wanted, config.concurrency, len(jobs))
    if wanted <= 1 or not _portable(jobs, config):
        return 1
    return wanted


def share_of(config: TransferConfig, processes: int) -> TransferConfig:
    """The settings of one of ``processes`` processes: the run's concurrency and per-host limit
    divided among them, so the whole run keeps to the limits the caller set."""
    if processes <= 1:
        return config
    return replace(
        config,
        concurrency=math.ceil(config.concurrency / processes),
        per_host=math.ceil(config.host_limit / processes),
        processes=1,
    )


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process needs besides its jobs."""

    config: TransferConfig
    """This process's share of the settings."""
    dest: Path
    """The download directory."""
    overwrite: bool
    """Replace files already present."""
    sha256: bool
    """Compute SHA-256 of every file (a manifest is written)."""
    batch: int
    """Jobs asked for at a time."""


def _frame(payload: object) -> bytes:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    return pickle.loads(await reader.readexactly(size))


def _child_env() -> dict[str, str]:
    """The environment of a worker: this one, with eoaccess's own import root on the path."""
    root = str(Path(eoaccess.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


class _Relay:
    """The parent's end of one worker process: feeds it jobs, mirrors its progress and results."""

    def __init__(
        self,
        dest: Path,
        jobs: Sequence[DownloadJob],
        queue: JobQueue,
        results: list[FileResult | None],
        progress: Progress,
        tasks: dict[str, Task],
    ) -> None:
        self.dest = dest
        self.jobs = jobs
        self.queue = queue
        self.results = results
        self.bars = TaskReplay(progress, tasks)
        self.outstanding: set[int] = set()
        self.error = ""
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, setup: WorkerSetup) -> None:
        """Start the worker process and send it its setup (it then imports while we work)."""
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "eoaccess.transfer._worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=_child_env(),
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(_frame(setup))

    async def serve(self) -> None:
        """Serve the worker until it exits, then report the files it did not finish."""
        proc = self.proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            while True:
                try:
                    events = await _read_frame(proc.stdout)
                except (asyncio.IncompleteReadError, pickle.UnpicklingError):
                    break  # the worker exited (normally after the last result)
                for event in events:
                    await self._handle(event, proc.stdin)
            code = await proc.wait()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        finally:
            self.bars.close_all()
        self._fail_outstanding(code)

    async def _handle(self, event: tuple[Any, ...], stdin: asyncio.StreamWriter) -> None:
        kind, *args = event
        if kind == "want":  # the one event that answers: the next batch of jobs
            batch = self.queue.take(args[0])
            self.outstanding.update(batch)
            with contextlib.suppress(ConnectionError):  # it died: its files are failed below
                stdin.write(_frame([(index, self.jobs[index]) for index in batch]))
                await stdin.drain()
        else:
            self._EVENTS[kind](self, *args)

    def _done(self, index: int, result: FileResult) -> None:
        self.results[index] = result
        self.outstanding.discard(index)

    def _advance(self, name: str, steps: int) -> None:
        self.bars.advance(name, steps)

    def _open(self, name: str, description: str, total: int | None, unit: Unit) -> None:
        self.bars.open(name, description, total, unit, transient=True)

    def _close(self, name: str) -> None:
        self.bars.close(name)

    def _error(self, text: str) -> None:
        self.error = text

    _EVENTS: ClassVar[dict[str, Callable[..., None]]] = {
        "done": _done,
        "adv": _advance,
        "open": _open,
        "close": _close,
        "error": _error,
    }

    def _fail_outstanding(self, code: int) -> None:
        if code >= 0:
            why = f"worker process ended with exit code {code}"
        else:
            why = f"worker process killed by signal {-code}"
        if self.error:
            why += f": {self.error}"
        for index in sorted(self.outstanding):
            job = self.jobs[index]
            self.results[index] = FileResult(
                url=job.url, path=self.dest / job.path, status="failed", error=why
            )
            self.bars.advance("files", 1)


async def start_worker_process(
    setup: WorkerSetup,
    jobs: Sequence[DownloadJob],
    queue: JobQueue,
    results: list[FileResult | None],
    progress: Progress,
    files_task: Task,
    bytes_task: Task,
) -> Awaitable[None] | None:
    """Start one worker process; return what serves it until the queue is empty (its results
    land in ``results``), or None when no process could be started (this one does the work)."""
    relay = _Relay(
        setup.dest, jobs, queue, results, progress, {"files": files_task, "bytes": bytes_task}
    )
    try:
        await relay.start(setup)
    except OSError:
        return None
    return relay.serve()


# ---------------------------------------------------------------------------------------------
# The child's side


class _Outbox:
    """Events to the parent, sent in frames; advances of the overall bars are summed."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._events: list[tuple[Any, ...]] = []
        self._sums: dict[str, int] = {}

    def add(self, event: tuple[Any, ...]) -> None:
        self._events.append(event)

    def advance(self, task: str, steps: int) -> None:
        if task in self._sums:
            self._sums[task] += steps
        else:
            self._events.append(("adv", task, steps))

    def sum_advances(self, task: str) -> None:
        """Coalesce advances of ``task`` (an overall bar the parent always has)."""
        self._sums[task] = 0

    def flush(self) -> None:
        events = [("adv", task, n) for task, n in self._sums.items() if n] + self._events
        if not events:
            return
        self._sums = dict.fromkeys(self._sums, 0)
        self._events = []
        data = memoryview(_frame(events))
        while data:  # a blocking pipe; the parent reads continuously
            data = data[os.write(self._fd, data) :]


class _RelayTask:
    def __init__(self, outbox: _Outbox, name: str) -> None:
        self._outbox = outbox
        self._name = name

    def advance(self, steps: int = 1) -> None:
        self._outbox.advance(self._name, steps)


class _RelayProgress:
    """A :class:`Progress` whose tasks (per-file bars) appear in the parent's progress."""

    def __init__(self, outbox: _Outbox) -> None:
        self._outbox = outbox
        self._count = 0

    @contextlib.contextmanager
    def task(
        self,
        description: str,
        total: int | None = None,
        *,
        unit: Unit = "steps",
        transient: bool = False,
    ) -> Any:
        self._count += 1
        name = f"{os.getpid()}-{self._count}"
        self._outbox.add(("open", name, description, total, unit))
        try:
            yield _RelayTask(self._outbox, name)
        finally:
            self._outbox.add(("close", name))


async def serve_worker(stdin_fd: int, out_fd: int) -> None:
    """The worker process: read the setup, ask for batches, download them, relay everything."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(stdin_fd, "rb", buffering=0)
    )
    setup: WorkerSetup = await _read_frame(reader)
    outbox = _Outbox(out_fd)
    files_task, bytes_task = _RelayTask(outbox, "files"), _RelayTask(outbox, "bytes")
    outbox.sum_advances("files")
    outbox.sum_advances("bytes")
    queue: asyncio.Queue[tuple[int, DownloadJob] | None] = asyncio.Queue(setup.batch)
    workers = setup.config.concurrency

    async def feed() -> None:
        while True:
            outbox.add(("want", setup.batch))
            outbox.flush()
            batch = await _read_frame(reader)
            if not batch:
                break
            for item in batch:
                await queue.put(item)  # blocks while a batch is still queued: one ahead at most
        for _ in range(workers):
            await queue.put(None)

    async def flusher() -> None:
        while True:
            await asyncio.sleep(_FLUSH_SECONDS)
            outbox.flush()

    async with TransferEngine(setup.config) as engine:
        runner = JobRunner(
            engine,
            setup.dest,
            setup.overwrite,
            _RelayProgress(outbox),
            files_task,
            bytes_task,
            setup.sha256,
        )

        async def work() -> None:
            while (item := await queue.get()) is not None:
                index, job = item
                outbox.add(("done", index, await runner.one(job)))

        ticker = asyncio.create_task(flusher())
        try:
            await asyncio.gather(feed(), *(work() for _ in range(workers)))
        finally:
            ticker.cancel()
    outbox.flush()


def worker_main() -> int:
    """Entry point of ``python -m eoaccess.transfer._worker``."""
    # The protocol gets its own descriptor; fd 1 goes to stderr so a stray print cannot corrupt it.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    try:
        asyncio.run(serve_worker(0, out_fd))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the parent reports it
        return 130
    except Exception as exc:  # report the reason; the parent fails the files this worker held
        outbox = _Outbox(out_fd)
        outbox.add(("error", f"{type(exc).__name__}: {exc}"))
        with contextlib.suppress(OSError):
            outbox.flush()
        return 1
    return 0
