"""Running planned jobs in one process: the per-file steps every worker (and worker process) shares.

:class:`JobRunner` downloads one :class:`DownloadJob` (skip check, fetch, result);
:class:`JobQueue` hands out job indices in order to this process's workers and to worker processes
alike, so the processes of one run balance their load.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from eoaccess._progress import Progress, Task
from eoaccess.errors import EOAccessError
from eoaccess.transfer._engine import TransferEngine, hash_local_file
from eoaccess.transfer._plan import DownloadJob
from eoaccess.transfer._result import FileResult


class JobQueue:
    """The indices ``0 .. count-1`` handed out in order, one or a batch at a time."""

    def __init__(self, count: int) -> None:
        self._next = 0
        self._count = count

    def take(self, most: int = 1) -> range:
        """Up to ``most`` indices nobody has taken yet (empty when all are taken)."""
        start = self._next
        self._next = min(self._count, start + max(most, 0))
        return range(start, self._next)

    def take_each(self) -> Iterator[int]:
        """Take indices one at a time until none is left (a worker's loop)."""
        while True:
            taken = self.take()
            if not taken:
                return
            yield taken[0]


class FileProgress:
    """Feeds one file's bytes to the overall bar, and to its own bar when the file is large."""

    def __init__(self, overall: Task, progress: Progress, label: str, large: int) -> None:
        self._overall = overall
        self._progress = progress
        self._label = label
        self._large = large
        self._stack: contextlib.ExitStack | None = None  # made only for a file's own bar
        self._bar: Task | None = None
        self.counted = 0

    def started(self, total: int | None, done: int) -> None:
        delta = done - self.counted
        if delta:
            self._overall.advance(delta)
        if self._bar is None and total is not None and total >= self._large:
            self._stack = contextlib.ExitStack()
            self._bar = self._stack.enter_context(
                self._progress.task(self._label, total=total, unit="bytes", transient=True)
            )
            self._bar.advance(done)
        elif self._bar is not None and delta:
            self._bar.advance(delta)
        self.counted = done

    def advanced(self, nbytes: int) -> None:
        self._overall.advance(nbytes)
        if self._bar is not None:
            self._bar.advance(nbytes)
        self.counted += nbytes

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()


class JobRunner:
    """One download run: shared engine, destination, options and progress tasks."""

    def __init__(
        self,
        engine: TransferEngine,
        dest: Path,
        overwrite: bool,
        progress: Progress,
        files_task: Task,
        bytes_task: Task,
        sha256: bool,
    ) -> None:
        self.engine = engine
        self.dest = dest
        self.overwrite = overwrite
        self.sha256 = sha256
        self.progress = progress
        self.files_task = files_task
        self.bytes_task = bytes_task
        self._root = os.path.join(dest, "")  # with a trailing separator: root + job.path
        # folder (relative, as in job paths) -> created by this runner, so it held nothing before
        self._dirs: dict[str, bool] = {}

    def _folder(self, relative: str) -> bool:
        """Make sure folder ``relative`` (of a job path) exists; True when this call created it.

        A folder this runner created can hold no file or ``.part`` file from an earlier run (job
        paths are distinct), so its files need no existence checks.
        """
        path = self._root + relative
        try:
            os.mkdir(path)
        except FileExistsError:
            return False
        except FileNotFoundError:  # a parent is missing too
            os.makedirs(os.path.dirname(path), exist_ok=True)
            try:
                os.mkdir(path)
            except FileExistsError:
                return False
        return True

    async def one(self, job: DownloadJob) -> FileResult:
        final = self._root + job.path  # a str: the engine works with names, not Path objects
        started = time.perf_counter()
        observer = FileProgress(
            self.bytes_task, self.progress, job.path, self.engine.config.large_file
        )
        try:
            folder = job.path.rpartition("/")[0]
            fresh = self._dirs.get(folder)
            if fresh is None:
                fresh = self._dirs[folder] = bool(folder) and self._folder(folder)
            if not (fresh or self.overwrite) and os.path.lexists(final):
                skipped = await self._verified(job, final, started)
                if skipped is not None:
                    self.bytes_task.advance(skipped.bytes)
                    return skipped
            outcome = await self.engine.fetch(
                job.url,
                final,
                size=job.size,
                checksum=job.checksum,
                sha256=self.sha256,
                observer=observer,
                fresh=fresh,
            )
            return FileResult(
                url=job.url,
                path=outcome.path,
                status="downloaded",
                bytes=outcome.size,
                fetched=outcome.fetched,
                seconds=time.perf_counter() - started,
                sha256=outcome.sha256,
                resumed_from=outcome.resumed_from,
                attempts=outcome.attempts,
            )
        except EOAccessError as exc:
            return self._failed(job, final, started, str(exc))
        except OSError as exc:
            return self._failed(job, final, started, f"cannot write {final}: {exc.strerror or exc}")
        finally:
            observer.close()
            self.files_task.advance()

    def _failed(self, job: DownloadJob, final: str, started: float, why: str) -> FileResult:
        return FileResult(
            url=job.url,
            path=Path(final),
            status="failed",
            seconds=time.perf_counter() - started,
            error=why,
        )

    async def _verified(self, job: DownloadJob, final: str, started: float) -> FileResult | None:
        """A skip result when the existing file matches what is expected, else None."""
        sha256 = None
        size = os.stat(final).st_size
        if job.checksum is not None:
            size, sha256, ok = await hash_local_file(Path(final), job.checksum, self.sha256)
            ok = ok and (job.size is None or size == job.size)
        elif job.size is not None:
            ok = size == job.size
        else:
            remote = await self.engine.stat(job.url)
            ok = remote.size is not None and remote.size == size
        if not ok:
            return None
        return FileResult(
            url=job.url,
            path=Path(final),
            status="skipped",
            bytes=size,
            seconds=time.perf_counter() - started,
            sha256=sha256,
        )
