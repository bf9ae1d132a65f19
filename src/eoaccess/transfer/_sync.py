"""Run an async twin from synchronous code — also where an event loop already runs (Jupyter).

Without a running loop the coroutine runs in a fresh loop via ``asyncio.run``. Inside a running
loop (a notebook cell), blocking that loop's thread on itself would deadlock, so the coroutine
runs to completion in a fresh loop on a worker thread while the caller waits. No loop is kept
between calls and no loop is patched.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def run_sync(func: Callable[P, Coroutine[Any, Any, T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Call ``func(*args, **kwargs)`` and wait for its result from synchronous code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(func(*args, **kwargs))
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="eoaccess-sync") as pool:
        return pool.submit(lambda: asyncio.run(func(*args, **kwargs))).result()
