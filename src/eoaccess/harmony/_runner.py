"""Runs jobs' granules as Dask tasks and keeps the job state current.

One driver thread owns all state transitions: it dispatches queued granules of active jobs to
Dask (a ``distributed.LocalCluster`` started on first use, or an existing scheduler), and
records each finished task. Task callbacks only hand the finished future to the driver, so
there is never a race between two writers of one job. The driver wakes on a finished task, on
``wake()`` (submit, resume, cancel) and every half second.

Stopping the runner (server shutdown, or a crash) leaves granules ``running`` in the state; the
next runner re-queues them (:meth:`~eoaccess.harmony._state.JobState.requeue_interrupted`).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eoaccess.harmony._model import (
    DONE,
    GRANULE_CANCELED,
    GRANULE_FAILED,
    GRANULE_RUNNING,
    PREVIEWING,
    QUEUED,
    TERMINAL,
    GranuleRecord,
    JobRecord,
    job_progress,
)
from eoaccess.harmony._results import GranuleTask, ResultsTarget, process_granule
from eoaccess.harmony._state import JobState
from eoaccess.subset import SubsetRequest

logger = logging.getLogger("eoaccess.harmony")

TICK_SECONDS = 0.5
MAX_RETRY_SECONDS = 30.0
"""Longest pause between attempts while the Dask scheduler cannot be reached."""


@dataclass(frozen=True)
class DaskConfig:
    """Which Dask cluster runs the granules."""

    scheduler: str | None = None
    """An existing scheduler's address; None starts a local cluster on first use."""
    workers: int = 1
    """Workers of the local cluster."""
    processes: bool = True
    """Workers are processes (False: threads of this process)."""


class JobRunner:
    """Dispatches granules to Dask and records their outcome in the job state."""

    def __init__(
        self,
        state: JobState,
        target: ResultsTarget,
        dask: DaskConfig,
        subset_request: Callable[[JobRecord], SubsetRequest],
        resolve_href: Callable[[str], str],
    ) -> None:
        self._state = state
        self._target = target
        self._dask = dask
        self._subset_request = subset_request
        self._resolve_href = resolve_href
        self.lock = threading.RLock()
        """Held while a job's status changes, by the driver and by user actions alike."""
        self._finished: queue.Queue[tuple[str, int, Any]] = queue.Queue()
        self._in_flight: dict[tuple[str, int], Any] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._client: Any = None
        self._cluster: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Re-queue granules a previous server left running and start the driver thread."""
        with self._lock:
            if self._thread is not None:
                return
            requeued = self._state.requeue_interrupted()
            if requeued:
                logger.info("re-queued %d granules interrupted by a restart", requeued)
            self._thread = threading.Thread(
                target=self._loop, name="eoaccess-harmony-runner", daemon=True
            )
            self._thread.start()

    def wake(self) -> None:
        """Look for work now (a job was submitted, resumed or canceled)."""
        self.start()
        self._wake.set()

    def close(self) -> None:
        """Stop dispatching and release the Dask client (and the local cluster we started).

        Granules in flight stay ``running`` in the state, exactly as after a crash."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def cancel(self, job_id: str) -> None:
        """Cancel the job's tasks that have not finished."""
        for (jid, _), future in list(self._in_flight.items()):
            if jid == job_id:
                future.cancel()
        self.wake()

    # --- driver ---------------------------------------------------------------------------

    def _dask_client(self) -> Any:
        if self._client is None:
            try:
                self._connect()
            except Exception:
                # Nothing half-started may linger (each attempt leaves threads otherwise).
                for thing in (self._client, self._cluster):
                    with contextlib.suppress(Exception):
                        if thing is not None:
                            thing.close()
                self._client = self._cluster = None
                raise
        return self._client

    def _connect(self) -> None:
        """Connect to the configured scheduler, or start the local cluster."""
        from distributed import Client, LocalCluster

        if self._dask.scheduler:
            self._client = Client(self._dask.scheduler, timeout="20s")
            return
        # Processes isolate HDF5 and run in parallel; threads of this process start in a
        # second. Both talk TCP on loopback: Dask's in-process transport would look up this
        # host's public address (a UDP "connect" to 8.8.8.8), which a sandbox refuses.
        workers = self._dask.workers
        self._cluster = LocalCluster(
            n_workers=workers if self._dask.processes else 1,
            threads_per_worker=1 if self._dask.processes else workers,
            processes=self._dask.processes,
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address=None,
            # The scheduler's HTTP routes on a free port: the default 8787 is often taken
            # (another cluster) and then only warns.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.WARNING,
        )
        self._client = Client(self._cluster)

    def _loop(self) -> None:
        delay = TICK_SECONDS
        while not self._stop.is_set():
            self._wake.wait(delay)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                with self.lock:
                    self._record_finished()
                    self._dispatch()
                delay = TICK_SECONDS
            except Exception:  # the driver must survive a bad job or a lost scheduler
                logger.exception("job runner step failed; retrying in %.0f s", delay * 2)
                delay = min(delay * 2, MAX_RETRY_SECONDS)

    def _record_finished(self) -> None:
        touched: set[str] = set()
        while True:
            try:
                job_id, index, future = self._finished.get_nowait()
            except queue.Empty:
                break
            if self._in_flight.get((job_id, index)) is not future:
                continue  # a stale future of an earlier dispatch
            del self._in_flight[(job_id, index)]
            touched.add(job_id)
            if future.cancelled():
                continue  # cancel already recorded the granule
            try:
                output = future.result()
            except Exception as exc:
                message = " ".join(str(exc).split()) or type(exc).__name__
                self._state.set_granule(job_id, index, GRANULE_FAILED, error=message)
            else:
                self._state.set_granule(job_id, index, DONE, output=output)
        for job_id in touched:
            self.refresh(job_id)

    def refresh(self, job_id: str) -> None:
        """Recompute a job's status from its granules; a job that just ended stops its work."""
        with self.lock:
            self._refresh(job_id)

    def _refresh(self, job_id: str) -> None:
        job = self._state.job(job_id)
        if job is None:
            return
        ignore = bool(job.request.get("ignoreErrors", True))
        progress = job_progress(job, self._state.counts(job_id), ignore)
        if (progress.status, progress.message, progress.progress) != (
            job.status,
            job.message,
            job.progress,
        ):
            self._state.update(job_id, progress.status, progress.message, progress.progress)
        if progress.status in TERMINAL and job.status not in TERMINAL:
            self._state.cancel_queued(job_id)
            for granule in self._state.granules(job_id, GRANULE_RUNNING):
                self._state.set_granule(job_id, granule.index, GRANULE_CANCELED)
            for (jid, _), future in list(self._in_flight.items()):
                if jid == job_id:
                    future.cancel()

    def _dispatch(self) -> None:
        for job in self._state.active():
            queued = self._state.granules(job.job_id, QUEUED)
            if job.status == PREVIEWING:
                queued = [g for g in queued if g.index <= job.preview_count]
            queued = [g for g in queued if (job.job_id, g.index) not in self._in_flight]
            if not queued:
                self.refresh(job.job_id)
                continue
            request = self._subset_request(job)
            for granule in queued:
                self._submit(job, granule, request)
            self.refresh(job.job_id)

    def _submit(self, job: JobRecord, granule: GranuleRecord, request: SubsetRequest) -> None:
        try:
            client = self._dask_client()
        except Exception as exc:
            if self._dask.scheduler:
                raise  # an existing cluster may come back: the loop retries, backing off
            # A local cluster that cannot start will not start on the next tick either.
            message = f"the local Dask cluster could not start: {' '.join(str(exc).split())}"
            self._state.set_granule(job.job_id, granule.index, GRANULE_FAILED, error=message)
            return
        try:
            href = self._resolve_href(granule.href)
        except Exception as exc:
            self._state.set_granule(job.job_id, granule.index, GRANULE_FAILED, error=str(exc))
            return
        task = GranuleTask(href, request, self._target, f"{job.job_id}/{granule.index}")
        key = f"harmony-{job.job_id}-{granule.index}-{uuid.uuid4().hex[:8]}"
        self._state.set_granule(job.job_id, granule.index, GRANULE_RUNNING)
        future = client.submit(process_granule, task, key=key, pure=False, retries=0)
        self._in_flight[(job.job_id, granule.index)] = future
        job_id, index = job.job_id, granule.index

        def finished(done: Any) -> None:
            self._finished.put((job_id, index, done))
            self._wake.set()

        future.add_done_callback(finished)
