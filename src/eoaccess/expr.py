"""A safe, vectorised expression language for filters and band math.

Users write ``incidence_angle < 70 and gsd <= 10`` (``search --where``) or
``(green - nir) / (green + nir)`` (``stats --expression``). Expressions are parsed with Python's
``ast`` module into a tree of whitelisted nodes — arithmetic, comparisons, boolean logic, ``in``
with literal lists, and a fixed set of nan-aware functions — and evaluated over numpy arrays or
pandas columns. Nothing is ever passed to ``eval``: attribute access, subscripts, lambdas,
comprehensions and unknown functions are rejected when the expression is compiled, with a
message saying what is not allowed. Names that are not identifiers (``eo:cloud_cover``) are
written in backticks.
"""

from __future__ import annotations

import ast
import itertools
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from eoaccess.errors import InvalidInputError

Evaluator = Callable[[Mapping[str, Any]], Any]

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitAnd: np.logical_and,
    ast.BitOr: np.logical_or,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def _where(condition: Any, a: Any, b: Any) -> Any:
    return np.where(np.asarray(condition, dtype=bool), a, b)


def _isnull(value: Any) -> Any:
    import pandas as pd

    return pd.isna(value)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "where": _where,
    "clip": np.clip,
    "abs": np.abs,
    "sqrt": np.sqrt,
    "log": np.log,
    "log10": np.log10,
    "exp": np.exp,
    "minimum": np.fmin,
    "maximum": np.fmax,
    "isnan": np.isnan,
    "isnull": _isnull,
    "isfinite": np.isfinite,
    "round": np.round,
    "floor": np.floor,
    "ceil": np.ceil,
}
"""Functions an expression may call; nan-aware where numpy offers a choice (fmin/fmax)."""

_BACKTICK = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Expression:
    """A compiled expression: its source, the names it reads and its evaluator."""

    source: str
    """The text as the user wrote it."""
    names: frozenset[str]
    """Variable names the expression reads (backtick names unquoted)."""
    _evaluate: Evaluator

    def __call__(self, variables: Mapping[str, Any]) -> Any:
        """Evaluate over ``variables`` (arrays, columns or scalars); missing names are errors."""
        missing = sorted(n for n in self.names if n not in variables)
        if missing:
            raise InvalidInputError(
                f"expression {self.source!r} uses unknown name(s) {', '.join(missing)}; "
                f"available: {', '.join(sorted(map(str, variables))) or 'none'}"
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._evaluate(variables)


def compile_expression(source: str) -> Expression:
    """Parse and check ``source``; raise InvalidInputError naming the first thing not allowed."""
    if not isinstance(source, str) or not source.strip():
        raise InvalidInputError("empty expression")
    quoted: dict[str, str] = {}

    def _quote(match: re.Match[str]) -> str:
        placeholder = f"__q{len(quoted)}__"
        quoted[placeholder] = match.group(1)
        return placeholder

    text = _BACKTICK.sub(_quote, source.strip())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise InvalidInputError(f"invalid expression {source!r}: {exc.msg}{where}") from None
    names: set[str] = set()
    evaluate = _compile(tree.body, source, quoted, names)
    return Expression(source, frozenset(names), evaluate)


def _compile(node: ast.AST, source: str, quoted: dict[str, str], names: set[str]) -> Evaluator:
    def sub(child: ast.AST) -> Evaluator:
        return _compile(child, source, quoted, names)

    if isinstance(node, ast.Constant) and isinstance(
        node.value, int | float | str | bool | type(None)
    ):
        value = node.value
        return lambda _v: value
    if isinstance(node, ast.Name):
        name = quoted.get(node.id, node.id)
        if name in ("nan", "NaN"):
            return lambda _v: np.nan
        if name in ("True", "False", "None"):
            constant = {"True": True, "False": False, "None": None}[name]
            return lambda _v: constant
        names.add(name)
        return lambda v: v[name]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        op = _BINARY[type(node.op)]
        left, right = sub(node.left), sub(node.right)
        return lambda v: op(left(v), right(v))
    if isinstance(node, ast.UnaryOp):
        operand = sub(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda v: -operand(v)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not | ast.Invert):
            return lambda v: np.logical_not(operand(v))
    if isinstance(node, ast.BoolOp):
        parts = [sub(value) for value in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or

        def boolean(v: Mapping[str, Any]) -> Any:
            result = parts[0](v)
            for part in parts[1:]:
                result = combine(result, part(v))
            return result

        return boolean
    if isinstance(node, ast.Compare):
        return _compile_compare(node, sub, source)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        function = FUNCTIONS.get(node.func.id)
        if function is None:
            raise InvalidInputError(
                f"function {node.func.id!r} is not allowed in {source!r}; allowed: {', '.join(sorted(FUNCTIONS))}"
            )
        args = [sub(arg) for arg in node.args]
        return lambda v: function(*(arg(v) for arg in args))
    if isinstance(node, ast.List | ast.Tuple):
        items = [sub(element) for element in node.elts]
        return lambda v: [item(v) for item in items]
    what = type(node).__name__
    segment = ast.get_source_segment(source, node) if hasattr(node, "lineno") else None
    raise InvalidInputError(f"{what} is not allowed in expressions: {segment or source!r}")


def _compile_compare(
    node: ast.Compare, sub: Callable[[ast.AST], Evaluator], source: str
) -> Evaluator:
    operands = [sub(node.left), *(sub(c) for c in node.comparators)]
    checks: list[Callable[[Any, Any], Any]] = []
    for op in node.ops:
        if type(op) in _COMPARE:
            checks.append(_COMPARE[type(op)])
        elif isinstance(op, ast.In | ast.NotIn):
            negate = isinstance(op, ast.NotIn)
            checks.append(lambda a, b, negate=negate: _isin(a, b, negate))
        else:
            raise InvalidInputError(f"comparison {type(op).__name__} is not allowed in {source!r}")

    def compare(v: Mapping[str, Any]) -> Any:
        values = [operand(v) for operand in operands]
        result: Any = True
        for check, (a, b) in zip(checks, itertools.pairwise(values), strict=True):
            result = np.logical_and(result, check(a, b))
        return result

    return compare


def _isin(value: Any, options: Any, negate: bool) -> Any:
    if not isinstance(options, list):
        raise InvalidInputError("'in' needs a literal list such as [1, 2, 3]")
    import pandas as pd

    if isinstance(value, pd.Series):
        hit = value.isin(options)
    else:
        hit = np.isin(np.asarray(value), options)
    return np.logical_not(hit) if negate else hit
