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
from eoaccess._progress import NullProgress, Progress
from eoaccess.transfer._config import TransferConfig
from eoaccess.transfer._engine import TransferEngine
from eoaccess.transfer._manifest import write_manifest
from eoaccess.transfer._plan import DEFAULT_LAYOUT, DownloadJob, plan_downloads
from eoaccess.transfer._processes import (
    WorkerSetup,
    process_count,
    share_of,
    start_worker_process,
)
from eoaccess.transfer._result import DownloadResult, FileResult
from eoaccess.transfer._run import JobQueue, JobRunner
from eoaccess.transfer._sync import run_sync


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
    """Download planned ``jobs`` into ``dest`` with ``config.concurrency`` workers.

    Many small files are spread over worker processes (``config.processes``, decided by
    :func:`process_count`); a caller's ``engine`` keeps everything in this process.
    """
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
        processes = 1 if engine is not None else process_count(jobs, config)
        local = share_of(config, processes)
        progress = progress or NullProgress()
        sizes = [j.size for j in jobs]
        total_bytes = sum(s for s in sizes if s is not None) if None not in sizes else None
        results: list[FileResult | None] = [None] * len(jobs)
        async with contextlib.AsyncExitStack() as stack:
            if engine is None:
                engine = await stack.enter_async_context(TransferEngine(local))
            files_task = stack.enter_context(
                progress.task(f"Downloading {len(jobs)} files", total=len(jobs), unit="files")
            )
            bytes_task = stack.enter_context(
                progress.task("Bytes", total=total_bytes, unit="bytes")
            )
            sha256 = config.sha256 or manifest is not None
            run = JobRunner(engine, root, overwrite, progress, files_task, bytes_task, sha256)
            queue = JobQueue(len(jobs))

            async def worker() -> None:
                for index in queue.take_each():
                    results[index] = await run.one(jobs[index])

            setup = WorkerSetup(local, root, overwrite, sha256, local.concurrency)
            # Workers start first: they import while this process does its first files.
            children = []
            for _ in range(processes - 1):
                child = await start_worker_process(
                    setup, jobs, queue, results, progress, files_task, bytes_task
                )
                if child is not None:
                    children.append(child)
            workers = min(local.concurrency, len(jobs))
            await asyncio.gather(*(worker() for _ in range(workers)), *children)
        files = tuple(r for r in results if r is not None)
        result = DownloadResult(root, files, time.perf_counter() - started, processes=processes)
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
