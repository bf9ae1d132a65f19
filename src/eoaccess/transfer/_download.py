"""``download``: fetch the assets of STAC items (or plain URL/path pairs) into a folder.

Planning (``_plan``) turns the input into jobs; this module runs them through one
:class:`TransferEngine` with a fixed number of workers, skips files already present and verified,
reports progress, and returns a :class:`DownloadResult` (optionally also a JSON-lines manifest).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from eoaccess._atomic import ensure_writable_dir
from eoaccess._progress import NullProgress, Progress, Task
from eoaccess.errors import EOAccessError
from eoaccess.transfer._config import TransferConfig
from eoaccess.transfer._engine import TransferEngine, hash_local_file
from eoaccess.transfer._manifest import write_manifest
from eoaccess.transfer._plan import DEFAULT_LAYOUT, DownloadJob, plan_downloads
from eoaccess.transfer._result import DownloadResult, FileResult
from eoaccess.transfer._sync import run_sync


class _FileProgress:
    """Feeds one file's bytes to the overall bar, and to its own bar when the file is large."""

    def __init__(self, overall: Task, progress: Progress, label: str, large: int) -> None:
        self._overall = overall
        self._progress = progress
        self._label = label
        self._large = large
        self._stack = contextlib.ExitStack()
        self._bar: Task | None = None
        self.counted = 0

    def started(self, total: int | None, done: int) -> None:
        delta = done - self.counted
        if delta:
            self._overall.advance(delta)
        if self._bar is None and total is not None and total >= self._large:
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
        self._stack.close()


class _Run:
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
        self._dirs: set[Path] = set()

    async def one(self, job: DownloadJob) -> FileResult:
        final = self.dest / job.path
        started = time.perf_counter()
        observer = _FileProgress(
            self.bytes_task, self.progress, job.path, self.engine.config.large_file
        )
        try:
            if final.parent not in self._dirs:
                final.parent.mkdir(parents=True, exist_ok=True)
                self._dirs.add(final.parent)
            if not self.overwrite and os.path.lexists(final):
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
            )
            return FileResult(
                url=job.url,
                path=final,
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

    def _failed(self, job: DownloadJob, final: Path, started: float, why: str) -> FileResult:
        return FileResult(
            url=job.url,
            path=final,
            status="failed",
            seconds=time.perf_counter() - started,
            error=why,
        )

    async def _verified(self, job: DownloadJob, final: Path, started: float) -> FileResult | None:
        """A skip result when the existing file matches what is expected, else None."""
        sha256 = None
        size = final.stat().st_size
        if job.checksum is not None:
            size, sha256, ok = await hash_local_file(final, job.checksum, self.sha256)
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
            path=final,
            status="skipped",
            bytes=size,
            seconds=time.perf_counter() - started,
            sha256=sha256,
        )


async def run_jobs(
    jobs: Sequence[DownloadJob],
    dest: str | os.PathLike[str] = ".",
    *,
    overwrite: bool = False,
    dry_run: bool = False,
    manifest: str | os.PathLike[str] | None = None,
    config: TransferConfig | None = None,
    progress: Progress | None = None,
    engine: TransferEngine | None = None,
) -> DownloadResult:
    """Download planned ``jobs`` into ``dest`` with ``config.concurrency`` workers."""
    started = time.perf_counter()
    root = Path(dest)
    if engine is not None:
        config = engine.config
    config = config or TransferConfig()
    if dry_run:
        files = tuple(
            FileResult(url=j.url, path=root / j.path, status="planned", bytes=j.size or 0)
            for j in jobs
        )
        result = DownloadResult(root, files, time.perf_counter() - started, dry_run=True)
    else:
        ensure_writable_dir(root)
        progress = progress or NullProgress()
        sizes = [j.size for j in jobs]
        total_bytes = sum(s for s in sizes if s is not None) if None not in sizes else None
        results: list[FileResult | None] = [None] * len(jobs)
        async with contextlib.AsyncExitStack() as stack:
            if engine is None:
                engine = await stack.enter_async_context(TransferEngine(config))
            files_task = stack.enter_context(
                progress.task(f"Downloading {len(jobs)} files", total=len(jobs), unit="files")
            )
            bytes_task = stack.enter_context(
                progress.task("Bytes", total=total_bytes, unit="bytes")
            )
            sha256 = config.sha256 or manifest is not None
            run = _Run(engine, root, overwrite, progress, files_task, bytes_task, sha256)
            pending = iter(range(len(jobs)))

            async def worker() -> None:
                for index in pending:
                    results[index] = await run.one(jobs[index])

            workers = min(config.concurrency, len(jobs))
            await asyncio.gather(*(worker() for _ in range(workers)))
        files = tuple(r for r in results if r is not None)
        result = DownloadResult(root, files, time.perf_counter() - started)
    if manifest is not None:
        write_manifest(manifest, result)
    return result


def _config_with(config: TransferConfig | None, concurrency: int | None) -> TransferConfig | None:
    if concurrency is None:
        return config
    return replace(config or TransferConfig(), concurrency=concurrency)


async def download_async(
    source: Any,
    dest: str | os.PathLike[str] = ".",
    *,
    assets: str | Iterable[str] | None = None,
    roles: str | Iterable[str] | None = None,
    media_types: str | Iterable[str] | None = None,
    layout: str = DEFAULT_LAYOUT,
    overwrite: bool = False,
    dry_run: bool = False,
    manifest: str | os.PathLike[str] | None = None,
    concurrency: int | None = None,
    config: TransferConfig | None = None,
    progress: Progress | None = None,
    engine: TransferEngine | None = None,
) -> DownloadResult:
    """Async twin of :func:`download`; reading ``source`` (e.g. paging search results) runs in a
    worker thread so the event loop is never blocked."""
    jobs = await asyncio.to_thread(
        plan_downloads, source, assets=assets, roles=roles, media_types=media_types, layout=layout
    )
    return await run_jobs(
        jobs,
        dest,
        overwrite=overwrite,
        dry_run=dry_run,
        manifest=manifest,
        config=_config_with(config, concurrency),
        progress=progress,
        engine=engine,
    )


def download(
    source: Any,
    dest: str | os.PathLike[str] = ".",
    *,
    assets: str | Iterable[str] | None = None,
    roles: str | Iterable[str] | None = None,
    media_types: str | Iterable[str] | None = None,
    layout: str = DEFAULT_LAYOUT,
    overwrite: bool = False,
    dry_run: bool = False,
    manifest: str | os.PathLike[str] | None = None,
    concurrency: int | None = None,
    config: TransferConfig | None = None,
    progress: Progress | None = None,
) -> DownloadResult:
    """Download the assets of ``source`` into ``dest``, resumably and verified.

    ``source``: pystac Items, STAC item dicts, an ItemCollection/FeatureCollection (dict or
    pystac), search results (anything with ``.items()``), or ``(url, relative_path)`` pairs.
    ``assets``/``roles``/``media_types`` select assets (comma-separated or lists); ``layout``
    places them (fields ``{collection} {item} {asset} {filename} {stem} {ext}``). Files already
    present and verified are skipped unless ``overwrite``; ``manifest`` writes JSON lines.
    Failures do not raise: check ``result.ok`` or call ``result.raise_for_failures()``.
    Works in scripts and inside a running event loop (Jupyter) alike.
    """
    jobs = plan_downloads(
        source, assets=assets, roles=roles, media_types=media_types, layout=layout
    )
    return run_sync(
        run_jobs,
        jobs,
        dest,
        overwrite=overwrite,
        dry_run=dry_run,
        manifest=manifest,
        config=_config_with(config, concurrency),
        progress=progress,
    )
