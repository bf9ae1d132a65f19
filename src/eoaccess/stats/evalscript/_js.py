"""V8 (mini-racer) contexts for evalscripts: the Sentinel Hub globals, limits and readable errors.

Every evalscript runs in its own V8 isolate with a hard heap limit and a time limit per call.
Errors keep only what a user needs: the JavaScript error line (``TypeError: … (line 12)``), never
mini-racer's internals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eoaccess.stats.evalscript._errors import (
    EvalscriptError,
    EvalscriptExecutionError,
    EvalscriptTimeoutError,
)

# Globals evalscripts may use in setup(): Sentinel Hub defines these enumerations.
PRELUDE = """
var SampleType = {AUTO: "AUTO", UINT8: "UINT8", UINT16: "UINT16", INT8: "INT8", INT16: "INT16",
                  FLOAT32: "FLOAT32"};
var Mosaicking = {SIMPLE: "SIMPLE", ORBIT: "ORBIT", TILE: "TILE"};
"""

_LOCATION = re.compile(r"^<anonymous>:(\d+): (.*)$")


@dataclass(frozen=True)
class EvalscriptLimits:
    """Resource limits of one evalscript run."""

    seconds: float = 120.0
    """Time limit of evaluatePixel over one interval (all its chunks together)."""
    setup_seconds: float = 5.0
    """Time limit of loading the script and running setup()."""
    max_memory: int = 1 << 30
    """Hard V8 heap limit in bytes; reaching it fails the run."""


def _js_message(exc: Exception) -> str:
    """The JavaScript error of a mini-racer exception as one line, with the script line number."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    match = _LOCATION.match(first)
    if match:
        return f"{match.group(2)} (line {match.group(1)})"
    return first


def settle(context: Any) -> None:
    """Wait until V8 has delivered the result of a call cancelled by its timeout.

    mini-racer reports the cancelled call later, from V8's thread; a context closed before that
    makes the late report fail. A trivial call queued behind it returns only after it.
    """
    try:
        context.eval("0", timeout_sec=5)
    except Exception:  # a context past its memory limit answers nothing any more
        return


def translate_error(exc: Exception, during: str, *, bad_script: bool) -> Exception:
    """The eoaccess error for a mini-racer exception raised ``during`` some step."""
    from py_mini_racer import JSOOMException, JSTimeoutException

    if isinstance(exc, JSTimeoutException):
        return EvalscriptTimeoutError(f"evalscript {during} ran out of time")
    if isinstance(exc, JSOOMException):
        return EvalscriptExecutionError(f"evalscript {during} exceeded its memory limit")
    message = f"evalscript {during} failed: {_js_message(exc)}"
    return EvalscriptError(message) if bad_script else EvalscriptExecutionError(message)


def is_js_error(exc: BaseException) -> bool:
    """True for the exceptions mini-racer raises from evaluating JavaScript."""
    from py_mini_racer import JSEvalException

    return isinstance(exc, JSEvalException)


@contextmanager
def v8_context(source: str, limits: EvalscriptLimits) -> Iterator[Any]:
    """A MiniRacer with the prelude and ``source`` loaded; closed afterwards.

    A script that does not compile or whose top level throws is an :class:`EvalscriptError`.
    """
    from py_mini_racer import MiniRacer

    context = MiniRacer()
    try:
        context.set_hard_memory_limit(limits.max_memory)
        context.eval(PRELUDE)
        try:
            # Loaded alone so that JavaScript line numbers are the script's own.
            context.eval(source, timeout_sec=limits.setup_seconds)
        except Exception as exc:
            if is_js_error(exc):
                settle(context)
                raise translate_error(exc, "loading", bad_script=True) from None
            raise
        yield context
    finally:
        context.close()
