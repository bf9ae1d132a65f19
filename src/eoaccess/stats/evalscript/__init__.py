"""Sentinel Hub evalscripts (V3) for statistics: V8 for every script, numpy for simple ones.

:func:`compile_evalscript` loads the script in V8 and runs ``setup()`` (always in JavaScript: it
may compute its answer) to learn the input bands and outputs. ``evaluatePixel`` then runs one of
two ways:

- **numpy**: scripts in the subset :mod:`._translate` understands (arithmetic over sample bands,
  ``if``, ``Math.*``: the NDWI script of seed 004) become numpy operations over all pixels at
  once. The translation is only used after it gave the same outputs as V8 on probe pixels.
- **V8**: everything else runs in mini-racer, one call per chunk of pixels over a shared typed
  buffer (:mod:`._v8`), under a time and a heap limit.

A script that cannot be loaded is an :class:`EvalscriptError` (the request is wrong); a script
failing on pixels is an :class:`EvalscriptExecutionError` (or its ``TIMEOUT`` subclass) with the
JavaScript message, reported per interval.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from eoaccess.stats._program import DATA_MASK, Evaluated, OutputSpec
from eoaccess.stats.evalscript._errors import (
    EvalscriptError,
    EvalscriptExecutionError,
    EvalscriptTimeoutError,
)
from eoaccess.stats.evalscript._js import EvalscriptLimits
from eoaccess.stats.evalscript._setup import Evalscript, parse_evalscript
from eoaccess.stats.evalscript._translate import NumpyEvaluatePixel, Translation, translate
from eoaccess.stats.evalscript._v8 import V8Runner

__all__ = [
    "Evalscript",
    "EvalscriptError",
    "EvalscriptExecutionError",
    "EvalscriptLimits",
    "EvalscriptProgram",
    "EvalscriptTimeoutError",
    "V8Pool",
    "compile_evalscript",
    "translate",
]

Engine = Literal["auto", "numpy", "v8"]
PROBE_PIXELS = 4096
# Values probing the branches scripts usually take: masks (0, 1, 2), reflectance DNs, edges.
_PROBE_VALUES = np.array(
    [0, 1, 2, 3, 4, 5, 10, 255, 1000, 3000, 10000, 65535, -1, -100, -32768, 0.5, 0.25],
    dtype=np.float64,
)


def probe_samples(bands: tuple[str, ...], n: int = PROBE_PIXELS) -> dict[str, np.ndarray]:
    """Deterministic test pixels: every band mixes typical values, in its own order."""
    rng = np.random.default_rng(20231102)
    samples = {}
    for name in bands:
        if name == DATA_MASK:
            samples[name] = (rng.random(n) < 0.8).astype(np.float64)
            continue
        typical = rng.choice(_PROBE_VALUES, n)
        continuous = rng.uniform(-2000, 12000, n)
        samples[name] = np.where(rng.random(n) < 0.5, typical, continuous)
    return samples


def _agrees(first: Mapping[str, np.ndarray], second: Mapping[str, np.ndarray]) -> bool:
    # Math functions may differ in the last bit between V8 and numpy's libm.
    return first.keys() == second.keys() and all(
        np.allclose(first[k], second[k], rtol=1e-12, atol=0.0, equal_nan=True) for k in first
    )


class V8Pool:
    """V8 runners kept per thread for one statistics run, so a script stays JIT-compiled.

    Close it when the run ends; runners that failed are closed and dropped at once (a context
    that hit its memory limit cannot be reused).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runners: dict[tuple[int, str], V8Runner] = {}

    def get(self, script: Evalscript, limits: EvalscriptLimits) -> V8Runner:
        key = (threading.get_ident(), script.source)
        with self._lock:
            runner = self._runners.get(key)
        if runner is None:
            runner = V8Runner(script, limits)
            with self._lock:
                self._runners[key] = runner
        return runner

    def discard(self, runner: V8Runner) -> None:
        with self._lock:
            for key, value in list(self._runners.items()):
                if value is runner:
                    del self._runners[key]
        runner.close()

    def close(self) -> None:
        with self._lock:
            runners, self._runners = list(self._runners.values()), {}
        for runner in runners:
            runner.close()


@dataclass(frozen=True)
class EvalscriptProgram:
    """An evalscript as a statistics :class:`~eoaccess.stats._program.Program`."""

    script: Evalscript
    numpy: NumpyEvaluatePixel | None
    """The verified numpy translation, or None to run in V8."""
    reason: str
    """Why V8 runs the script (empty when numpy does)."""
    limits: EvalscriptLimits

    @property
    def engine(self) -> str:
        return "numpy" if self.numpy is not None else "v8"

    @property
    def bands(self) -> tuple[str, ...]:
        return self.script.bands

    @property
    def outputs(self) -> tuple[OutputSpec, ...]:
        return self.script.outputs

    def raw(self, samples: Mapping[str, np.ndarray], n: int, engines: Any = None) -> dict[str, Any]:
        """evaluatePixel's outputs (``dataMask`` included) as float64 ``(bands, n)`` arrays."""
        if self.numpy is not None:
            return self.numpy.run(samples, n)
        pool = engines if isinstance(engines, V8Pool) else None
        runner = pool.get(self.script, self.limits) if pool else V8Runner(self.script, self.limits)
        try:
            result = runner.run(samples, n)
        except BaseException:
            if pool:
                pool.discard(runner)
            raise
        finally:
            if pool is None:
                runner.close()
        return result

    def evaluate(self, samples: Mapping[str, np.ndarray], n: int, engines: Any = None) -> Evaluated:
        raw = self.raw(samples, n, engines)
        mask = self.script.mask_output.cast(raw[DATA_MASK])[0] != 0
        # Only the counted pixels reach a statistic: gather them (an index take, much faster
        # than a boolean one) before casting, and hand over just those (Evaluated.at).
        at = np.flatnonzero(mask)
        values = {o.id: o.cast(np.take(raw[o.id], at, axis=1)) for o in self.script.outputs}
        return Evaluated(values, mask, at)


def _verified(script: Evalscript, translation: Translation, limits: EvalscriptLimits) -> str:
    """Empty if the numpy translation agrees with V8 on probe pixels, else the reason not."""
    assert translation.program is not None
    samples = probe_samples(script.inputs)
    expected = EvalscriptProgram(script, None, "", limits).raw(samples, PROBE_PIXELS)
    if not _agrees(expected, translation.program.run(samples, PROBE_PIXELS)):
        return "the numpy translation differs from V8 on probe pixels"
    return ""


def compile_evalscript(
    source: str,
    available: Collection[str],
    limits: EvalscriptLimits | None = None,
    engine: Engine = "auto",
) -> EvalscriptProgram:
    """Check an evalscript against the ``available`` band names and choose how it runs.

    ``engine`` ``auto`` uses the numpy translation when there is one that agrees with V8;
    ``numpy`` requires it (EvalscriptError otherwise); ``v8`` always runs JavaScript.
    """
    limits = limits or EvalscriptLimits()
    script = parse_evalscript(source, available, limits)
    if engine == "v8":
        return EvalscriptProgram(script, None, "V8 was asked for", limits)
    translation = translate(script)
    reason = translation.reason
    if translation.program is not None:
        try:
            reason = _verified(script, translation, limits)
        except EvalscriptExecutionError as exc:
            reason = f"V8 failed on probe pixels ({exc})"
    if reason:
        if engine == "numpy":
            raise EvalscriptError(f"the evalscript cannot run in numpy: {reason}")
        return EvalscriptProgram(script, None, reason, limits)
    return EvalscriptProgram(script, translation.program, "", limits)
