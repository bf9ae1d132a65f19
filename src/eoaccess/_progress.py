"""Progress reporting behind a small protocol, so core code never imports a terminal library.

``make_progress()`` picks rich bars on a terminal, plain start/finish lines otherwise, or nothing.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Protocol, TextIO


class Task(Protocol):
    """One unit of long work whose steps are counted."""

    def advance(self, steps: int = 1) -> None:
        """Record ``steps`` more finished steps."""


class Progress(Protocol):
    """Something that shows how long work advances."""

    def task(
        self, description: str, total: int | None = None
    ) -> contextlib.AbstractContextManager[Task]:
        """Open a task of ``total`` steps (unknown when None) for the duration of a block."""


class _NullTask:
    def advance(self, steps: int = 1) -> None:
        pass


class NullProgress:
    """Shows nothing (library use, tests)."""

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[Task]:
        yield _NullTask()


class LineProgress:
    """Prints one line when a task starts and one when it ends (logs, CI, pipes)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[Task]:
        counter = _CountingTask()
        start = time.perf_counter()
        size = f" ({total} steps)" if total else ""
        print(f"{description}{size} ...", file=self.stream, flush=True)
        yield counter
        print(
            f"{description}: done, {counter.done} steps in {time.perf_counter() - start:.1f} s",
            file=self.stream,
            flush=True,
        )


class _CountingTask:
    def __init__(self) -> None:
        self.done = 0

    def advance(self, steps: int = 1) -> None:
        self.done += steps


class RichProgress:
    """Live bars with counts, rate and ETA on a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import (
            Progress as _RichProgress,
        )

        self._bars = _RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[Task]:
        bars = self._bars
        with contextlib.ExitStack() as stack:
            if not bars.live.is_started:
                stack.enter_context(bars)
            task_id = bars.add_task(description, total=total)

            class _RichTask:
                def advance(self, steps: int = 1) -> None:
                    bars.advance(task_id, steps)

            yield _RichTask()
            if total is not None:
                bars.update(task_id, completed=total)


def make_progress(enabled: bool = True, stream: TextIO | None = None) -> Progress:
    """Return rich bars on a terminal, plain lines otherwise, or nothing when disabled."""
    if not enabled:
        return NullProgress()
    stream = stream or sys.stderr
    if stream.isatty():
        return RichProgress()
    return LineProgress(stream)
