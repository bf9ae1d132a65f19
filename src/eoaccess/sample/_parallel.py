"""Run product generators in worker processes, relaying their progress to the parent.

The four product families are independent, so on a multi-core machine they are written in
parallel (the sample of every size is CPU-bound: numpy, compression, GDAL). Workers cannot draw
on the parent's terminal, so each task event travels over a queue and a listener thread in the
parent replays it on the real :class:`~eoaccess._progress.Progress`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue as queue_module
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from eoaccess._progress import Progress, Task, TaskReplay, Unit
from eoaccess.sample._common import ProductSummary, Size

_QUEUE: Any = None  # set in each worker by _init_worker
_FLUSH_SECONDS = 0.1


class _RelayTask:
    """Worker side of a task: batches advances so the queue is not flooded."""

    def __init__(self, queue: Any, key: str) -> None:
        self._queue = queue
        self._key = key
        self._pending = 0
        self._last = time.monotonic()

    def advance(self, steps: int = 1) -> None:
        self._pending += steps
        now = time.monotonic()
        if now - self._last >= _FLUSH_SECONDS:
            self.flush()
            self._last = now

    def flush(self) -> None:
        if self._pending:
            self._queue.put(("advance", self._key, self._pending))
            self._pending = 0


class _RelayProgress:
    """Worker side of the progress protocol."""

    def __init__(self, queue: Any, product: str) -> None:
        self._queue = queue
        self._product = product
        self._count = 0

    @contextlib.contextmanager
    def task(
        self,
        description: str,
        total: int | None = None,
        *,
        unit: Unit = "steps",
        transient: bool = False,
    ) -> Iterator[Task]:
        self._count += 1
        key = f"{self._product}#{self._count}"
        self._queue.put(("open", key, description, total, unit, transient))
        relay = _RelayTask(self._queue, key)
        try:
            yield relay
        finally:
            relay.flush()
            self._queue.put(("close", key))


def _init_worker(queue: Any) -> None:
    global _QUEUE
    _QUEUE = queue


def _run_in_worker(
    module_name: str, product: str, root: Path, size: Size, seed: int
) -> ProductSummary:
    import importlib

    module = importlib.import_module(module_name)
    return module.generate(root, size, seed, _RelayProgress(_QUEUE, product))  # type: ignore[no-any-return]


class _Listener(threading.Thread):
    """Parent side: replays task events on the real progress until told to stop."""

    def __init__(self, queue: Any, progress: Progress) -> None:
        super().__init__(name="sample-progress", daemon=True)
        self.queue = queue
        self.stop_requested = threading.Event()
        self.tasks = TaskReplay(progress)

    def run(self) -> None:
        while not (self.stop_requested.is_set() and self.queue.empty()):
            try:
                event = self.queue.get(timeout=0.05)
            except queue_module.Empty:
                continue
            self.handle(event)
        self.tasks.close_all()

    def handle(self, event: tuple[Any, ...]) -> None:
        kind, *args = event
        replay = {"open": self.tasks.open, "advance": self.tasks.advance, "close": self.tasks.close}
        replay[kind](*args)


def generate_parallel(
    jobs: list[tuple[str, str, Path]], size: Size, seed: int, progress: Progress, workers: int
) -> list[ProductSummary]:
    """Run ``(module, product, root)`` jobs in ``workers`` processes; results in job order.

    Workers come from a fork server that has imported the generator modules once: forking the
    caller directly is unsafe when it runs threads (servers in tests, progress bars), and
    spawning would re-import numpy, GDAL and zarr in every worker.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([module for module, _, _ in jobs])
    queue = context.Queue()
    listener = _Listener(queue, progress)
    listener.start()
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(queue,)
        ) as pool:
            futures = [
                pool.submit(_run_in_worker, module, product, root, size, seed)
                for module, product, root in jobs
            ]
            return [future.result() for future in futures]
    finally:
        listener.stop_requested.set()
        listener.join()
        queue.close()
        queue.join_thread()
