"""What is computed per pixel before statistics: a band-math expression or an evalscript.

Both are :class:`Program`\\ s: they name the bands they read and their outputs, and turn band
arrays (one value per AOI pixel) into output values and a data mask. Programs are plain frozen
values so that Dask can ship them to workers; anything compiled (an expression's evaluator, a V8
context) is built where it runs.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from eoaccess.errors import InvalidInputError
from eoaccess.expr import Expression, compile_expression

DATA_MASK = "dataMask"
"""Input band (1 where a tile has data) and output id (pixels counted in the statistics)."""

# sampleType -> (numpy type of the values statistics see, integer bounds or None).
SAMPLE_TYPES: dict[str, tuple[type[np.generic], tuple[int, int] | None]] = {
    "AUTO": (np.float32, None),  # the Statistical API's default is FLOAT32
    "FLOAT32": (np.float32, None),
    "FLOAT64": (np.float64, None),  # expressions: no loss
    "UINT8": (np.uint8, (0, 255)),
    "INT8": (np.int8, (-128, 127)),
    "UINT16": (np.uint16, (0, 65535)),
    "INT16": (np.int16, (-32768, 32767)),
}


@dataclass(frozen=True)
class OutputSpec:
    """One output of a program."""

    id: str
    """Output id (``default``, ``scenes``…): a key of the Statistical API reply."""
    bands: tuple[str, ...]
    """Band names in the reply: ``B0, B1, …`` or the names an evalscript gave."""
    sample_type: str
    """Sample type; values are cast to it before statistics (a key of :data:`SAMPLE_TYPES`)."""

    def cast(self, values: np.ndarray) -> np.ndarray:
        """Values as the sample type stores them (integers rounded and clamped, NaN as 0)."""
        dtype, bounds = SAMPLE_TYPES[self.sample_type]
        if bounds is None:
            return values.astype(dtype, copy=False)
        rounded = np.rint(values)
        rounded[np.isnan(rounded)] = 0.0
        np.clip(rounded, *bounds, out=rounded)  # infinities too
        return rounded.astype(dtype)

    @property
    def is_float(self) -> bool:
        return SAMPLE_TYPES[self.sample_type][1] is None


@dataclass(frozen=True)
class Evaluated:
    """A program's result over n pixels."""

    values: dict[str, np.ndarray]
    """Output id -> ``(bands, n)`` values, already cast to the output's sample type; with
    :attr:`at`, ``(bands, len(at))`` values of the counted pixels only."""
    mask: np.ndarray
    """``(n,)`` booleans: pixels the statistics count (before NaN checks)."""
    at: np.ndarray | None = None
    """Positions of the counted pixels when :attr:`values` hold only those (no full-size array
    of values nobody reads), else None."""


class Program(Protocol):
    """Per-pixel computation feeding the statistics."""

    @property
    def bands(self) -> tuple[str, ...]:
        """Data bands read from the tiles (``dataMask`` excluded: the mosaic provides it)."""

    @property
    def outputs(self) -> tuple[OutputSpec, ...]:
        """Outputs whose bands get statistics."""

    def evaluate(self, samples: Mapping[str, np.ndarray], n: int, engines: Any = None) -> Evaluated:
        """Outputs and mask from ``samples`` (band name -> ``(n,)`` values, ``dataMask`` included).

        ``engines`` is a per-run cache of reusable evaluators (V8 contexts), or None.
        """


@functools.lru_cache(maxsize=64)
def _compiled(source: str) -> Expression:
    return compile_expression(source)


@dataclass(frozen=True)
class ExpressionProgram:
    """Band math with :mod:`eoaccess.expr`: one output ``default`` with band ``B0``.

    ``mask`` selects the pixels to count (``cloud_mask == 1``); pixels without data never count.
    """

    expression: str
    mask: str | None = None

    @classmethod
    def build(
        cls, expression: str, mask: str | None, available: Mapping[str, Any]
    ) -> ExpressionProgram:
        """Compile both expressions now, so that bad input fails before any pixel is read."""
        names: set[str] = set()
        for text in (expression, mask):
            if text is not None:
                names |= _compiled(text).names
        unknown = sorted(n for n in names if n != DATA_MASK and n not in available)
        if unknown:
            raise InvalidInputError(
                f"unknown band(s) {', '.join(unknown)}; the collection has "
                f"{', '.join(sorted(available)) or 'no bands'} (and dataMask)"
            )
        return cls(expression, mask)

    @property
    def bands(self) -> tuple[str, ...]:
        names = set(_compiled(self.expression).names)
        if self.mask is not None:
            names |= _compiled(self.mask).names
        return tuple(sorted(names - {DATA_MASK}))

    @property
    def outputs(self) -> tuple[OutputSpec, ...]:
        return (OutputSpec("default", ("B0",), "FLOAT64"),)

    def evaluate(self, samples: Mapping[str, np.ndarray], n: int, engines: Any = None) -> Evaluated:
        data = np.asarray(samples[DATA_MASK])
        if self.mask is not None:
            selected = _compiled(self.mask)(_variables(self.mask, samples))
            selected = np.broadcast_to(np.asarray(selected, dtype=bool), (n,))
            mask = np.logical_and(data, selected)  # one pass, whatever dataMask's dtype
        else:
            mask = data != 0
        # Band math only where pixels count: the others' values never reach a statistic, so
        # the result holds the counted pixels only (Evaluated.at).
        counted = np.flatnonzero(mask)
        value = np.empty(counted.size, dtype=np.float64)
        if counted.size:
            every = counted.size == n  # no gathering when every pixel counts
            computed = _compiled(self.expression)(
                _variables(self.expression, samples, None if every else counted, exact=False)
            )
            value[:] = np.broadcast_to(np.asarray(computed, dtype=np.float64), counted.shape)
        return Evaluated({"default": value.reshape(1, -1)}, mask, counted)


def _variables(
    source: str,
    samples: Mapping[str, np.ndarray],
    at: np.ndarray | None = None,
    *,
    exact: bool = True,
) -> dict[str, np.ndarray]:
    """The bands an expression reads (at pixels ``at``, or all).

    Band math runs in doubles (integer DNs must not wrap around; ``exact=False``). A pure
    comparison over integer bands (``cloud_mask == 1``) gives the same answer in the bands'
    own dtype, so those are passed as they are, saving a float64 copy of every band.
    """
    native = exact and _comparisons_only(source)
    variables = {}
    for name in _compiled(source).names:
        if name not in samples:
            continue
        band = samples[name] if at is None else samples[name][at]
        keep = native and (band.dtype.kind in "biu")
        variables[name] = band if keep else np.asarray(band, dtype=np.float64)
    return variables


_COMPARISON_NODES = (
    ast.Expression, ast.Compare, ast.BoolOp, ast.And, ast.Or, ast.Name, ast.Load,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.List, ast.Tuple,
)  # fmt: skip


_SPECIAL_NAMES = frozenset({"nan", "NaN", "True", "False", "None"})


@functools.lru_cache(maxsize=64)
def _comparisons_only(source: str) -> bool:
    """Whether ``source`` only compares names with numbers and combines the results.

    Then numpy compares integer arrays exactly (mixed kinds promote, Python numbers are exact),
    whereas any arithmetic could wrap around in an integer dtype.
    """
    text = re.sub(r"`[^`]*`", "name", source.strip())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                return False
        elif isinstance(node, ast.UnaryOp):
            if not (isinstance(node.op, ast.USub | ast.UAdd | ast.Not)):
                return False
            if not isinstance(node.op, ast.Not) and not isinstance(node.operand, ast.Constant):
                return False  # a negated band would wrap around
        elif isinstance(node, ast.unaryop):
            continue
        elif not isinstance(node, _COMPARISON_NODES) or _SPECIAL_NAMES.issuperset(
            [getattr(node, "id", None)]
        ):
            return False  # nan/True/… are constants in expressions, not integer bands
    return True
