"""Progress reporting behind a small protocol, so core code never imports a terminal library.

``make_progress()`` picks rich bars on a terminal, plain start/finish lines otherwise, or nothing.
A task counts steps by default; ``unit="bytes"`` shows sizes and a transfer rate instead, and a
``transient`` task (a per-file bar) disappears from the terminal when it ends.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Literal, Protocol, TextIO

Unit = Literal["steps", "files", "bytes"]


class Task(Protocol):
    """One unit of long work whose steps are counted."""

    def advance(self, steps: int = 1) -> None:
        """Record ``steps`` more finished steps."""


class Progress(Protocol):
    """Something that shows how long work advances."""

    def task(
        self,
        description: str,
        total: int | None = None,
        *,
        unit: Unit = "steps",
        transient: bool = False,
    ) -> contextlib.AbstractContextManager[Task]:
        """Open a task of ``total`` steps (unknown when None) for the duration of a block.

        ``unit`` says what a step is (``"bytes"`` shows sizes and a rate); a ``transient`` task is
        removed from the display when its block ends.
        """


class TaskReplay:
    """The parent side of progress relayed from worker processes: tasks of ``progress`` opened,
    advanced and closed by key, as events from a worker say (workers cannot draw on the
    parent's terminal). Keys in ``known`` are tasks the parent opened itself (overall bars);
    events for keys that are not open are ignored, and :meth:`close_all` ends what a worker
    left open (it died, or the run was interrupted)."""

    def __init__(self, progress: Progress, known: Mapping[str, Task] | None = None) -> None:
        self.progress = progress
        self.tasks: dict[str, Task] = dict(known or {})
        self._stacks: dict[str, contextlib.ExitStack] = {}

    def open(
        self, key: str, description: str, total: int | None, unit: Unit, transient: bool
    ) -> None:
        stack = self._stacks[key] = contextlib.ExitStack()
        self.tasks[key] = stack.enter_context(
            self.progress.task(description, total, unit=unit, transient=transient)
        )

    def advance(self, key: str, steps: int) -> None:
        task = self.tasks.get(key)
        if task is not None:
            task.advance(steps)

    def close(self, key: str) -> None:
        stack = self._stacks.pop(key, None)
        if stack is not None:
            self.tasks.pop(key, None)
            stack.close()

    def close_all(self) -> None:
        for key in list(self._stacks):
            self.close(key)


class _NullTask:
    def advance(self, steps: int = 1) -> None:
        pass


class NullProgress:
    """Shows nothing (library use, tests)."""

    @contextlib.contextmanager
    def task(
        self,
        description: str,
        total: int | None = None,
        *,
        unit: Unit = "steps",
        transient: bool = False,
    ) -> Iterator[Task]:
        yield _NullTask()


class LineProgress:
    """Prints one line when a task starts and one when it ends (logs, CI, pipes)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    @contextlib.contextmanager
    def task(
        self,
        description: str,
        total: int | None = None,
        *,
        unit: Unit = "steps",
        transient: bool = False,
    ) -> Iterator[Task]:
        counter = _CountingTask()
        start = time.perf_counter()
        size = f" ({_amount(total, unit)})" if total else ""
        print(f"{description}{size} ...", file=self.stream, flush=True)
        yield counter
        seconds = time.perf_counter() - start
        rate = ""
        if unit == "bytes" and seconds > 0:
            rate = f" ({_amount(counter.done / seconds, unit)}/s)"
        print(
            f"{description}: done, {_amount(counter.done, unit)} in {seconds:.1f} s{rate}",
            file=self.stream,
            flush=True,
        )


def _amount(n: float, unit: Unit) -> str:
    """``n`` steps as people read them: ``3 files``, ``1.2 MB``."""
    if unit != "bytes":
        return f"{n:.0f} {unit}"
    from eoaccess._units import human_bytes

    return human_bytes(n)


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
            _amount_column(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )

    @contextlib.contextmanager
    def task(
        self,
        description: str,
        total: int | None = None,
        *,
        unit: Unit = "steps",
        transient: bool = False,
    ) -> Iterator[Task]:
        bars = self._bars
        with contextlib.ExitStack() as stack:
            if not bars.live.is_started:
                stack.enter_context(bars)
            task_id = bars.add_task(description, total=total, unit=unit)

            class _RichTask:
                def advance(self, steps: int = 1) -> None:
                    bars.advance(task_id, steps)

            try:
                yield _RichTask()
            finally:
                if transient:
                    bars.remove_task(task_id)
            if total is not None and not transient:
                bars.update(task_id, completed=total)


def _amount_column():  # type: ignore[no-untyped-def]
    """A rich column showing ``done/total`` in the task's unit, with a rate for bytes."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class AmountColumn(ProgressColumn):
        def render(self, task):  # type: ignore[no-untyped-def]
            unit = task.fields.get("unit", "steps")
            if unit != "bytes":
                total = "?" if task.total is None else f"{task.total:.0f}"
                return Text(f"{task.completed:.0f}/{total}", style="progress.download")
            total = "?" if task.total is None else _amount(task.total, unit)
            speed = task.finished_speed or task.speed
            rate = f" {_amount(speed, unit)}/s" if speed else ""
            return Text(f"{_amount(task.completed, unit)}/{total}{rate}", style="progress.download")

    return AmountColumn()


def make_progress(enabled: bool = True, stream: TextIO | None = None) -> Progress:
    """Return rich bars on a terminal, plain lines otherwise, or nothing when disabled."""
    if not enabled:
        return NullProgress()
    stream = stream or sys.stderr
    if stream.isatty():
        return RichProgress()
    return LineProgress(stream)
