"""Translate CQL2-JSON into SQLite SQL over the embedded catalog's ``items`` table.

What translates runs inside SQLite (indexes, three-valued logic, count and paging in one
statement); what does not is left as a *residual* CQL2 expression that the store evaluates
exactly with :func:`eoaccess.matching.filter_matches` on the rows SQL kept. Only whole
top-level ``and`` terms are split off, so SQL and residual together are exactly the filter.

Properties read as pgstac and :mod:`eoaccess.matching` read them: ``id`` and ``collection`` are
columns; ``datetime`` and ``start_datetime`` are the start of the item's time range and
``end_datetime`` its end (integer microseconds since 1970 in UTC); everything else is
``properties.<name>`` of the item JSON. Spatial operators test the exact geometry with shapely
(the SQL function ``eo_spatial``) after an R*Tree prefilter on the query geometry's boxes.
The caller passes the filter through :func:`eoaccess.matching.normalize_filter` first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eoaccess.errors import InvalidInputError
from eoaccess.query import parse_instant

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Columns of ``items`` that a property name resolves to (pgstac's queryable_column).
TIME_COLUMNS = {
    "datetime": "items.datetime",
    "start_datetime": "items.datetime",
    "end_datetime": "items.end_datetime",
}
TEXT_COLUMNS = {"id": "items.id", "collection": "items.collection"}

_COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# Spatial operators, each as (shapely predicate with the query geometry first, implies that
# the two geometries intersect). s_within(item, q) is contains(q, item), and so on.
SPATIAL_OPS: dict[str, tuple[str, bool]] = {
    "s_intersects": ("intersects", True),
    "s_within": ("contains", True),
    "s_contains": ("within", True),
    "s_equals": ("equals", True),
    "s_overlaps": ("overlaps", True),
    "s_crosses": ("crosses", True),
    "s_touches": ("touches", True),
    "s_disjoint": ("disjoint", False),
}
_SAFE_NAME = re.compile(r'^[^".\\\[\]$]+$')


def to_micros(moment: datetime) -> int:
    """Microseconds since 1970-01-01T00:00:00Z: how the catalog stores instants."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def property_sql(name: str) -> str | None:
    """SQL for a property other than the time columns, or None if it cannot be addressed."""
    name = name.removeprefix("properties.")
    if name in TEXT_COLUMNS:
        return TEXT_COLUMNS[name]
    if not _SAFE_NAME.match(name):
        return None  # dotted or quoted names: left to the exact evaluation
    return f"json_extract(content, '$.properties.\"{name}\"')"


@dataclass(frozen=True)
class Condition:
    """One AND term of a WHERE clause over ``items``, and how to count its candidates."""

    sql: str
    """Boolean SQL."""
    params: tuple[Any, ...] = ()
    """Positional parameters of :attr:`sql`."""
    probe: str | None = None
    """A SELECT listing (a superset of) the rows the term keeps through an index, so that its
    selectivity can be measured cheaply; None when no index serves the term."""
    probe_params: tuple[Any, ...] = ()
    """Positional parameters of :attr:`probe`."""
    index: str | None = None
    """The index of ``items`` to use when this condition drives (SQLite, estimating a range
    on an expression index without statistics, would rather scan the table)."""
    exact: tuple[str, bytes] | None = None
    """For a spatial test: the shapely predicate and the query geometry (WKB). When the
    condition drives, its R*Tree candidates (:attr:`probe`) are tested in one vectorised call
    instead of row by row."""


@dataclass(frozen=True)
class SqlFilter:
    """A CQL2 filter split into SQL conditions and an exactly evaluated remainder."""

    conditions: tuple[Condition, ...]
    """The top-level ``and`` terms SQL expresses."""
    residual: dict[str, Any] | None
    """The ``and`` terms SQL could not express, as CQL2-JSON; None when everything translated."""

    @property
    def sql(self) -> str:
        """All conditions as one SQL expression (``1`` when there are none)."""
        return " AND ".join(c.sql for c in self.conditions) or "1"

    @property
    def params(self) -> tuple[Any, ...]:
        """Parameters of :attr:`sql`."""
        return tuple(v for c in self.conditions for v in c.params)


SpatialSql = Callable[[str, Any], Condition]
"""Builds the condition for a spatial test: (shapely predicate, query geometry as GeoJSON)."""


def translate(
    expr: dict[str, Any], spatial: SpatialSql, indexed: Mapping[str, str] | None = None
) -> SqlFilter:
    """Split a (normalised) CQL2-JSON filter into SQL conditions and a residual.

    ``indexed`` maps properties to their expression index: comparisons on them (and on the
    id, collection and time columns) get a probe through that index, as spatial tests do
    through the R*Tree.
    """
    terms = expr["args"] if _op(expr) == "and" else [expr]
    conditions: list[Condition] = []
    rest: list[Any] = []
    for term in terms:
        translator = _Translator(spatial)
        condition = translator.top_level(term, indexed or {})
        if condition is None:
            rest.append(term)
        else:
            conditions.append(condition)
    residual: dict[str, Any] | None = None
    if len(rest) == 1:
        residual = rest[0]
    elif rest:
        residual = {"op": "and", "args": rest}
    return SqlFilter(tuple(conditions), residual)


def _op(node: Any) -> str | None:
    if isinstance(node, dict) and isinstance(node.get("op"), str):
        return str(node["op"]).lower()
    return None


Sql = tuple[str, list[Any]]


class _Translator:
    """Recursive translation of one term; a node returns None when SQL cannot express it."""

    def __init__(self, spatial: SpatialSql) -> None:
        self.spatial = spatial

    def top_level(self, node: Any, indexed: Mapping[str, str]) -> Condition | None:
        """A top-level AND term as a condition, with a probe when an index serves it."""
        op = _op(node)
        args = node.get("args") if isinstance(node, dict) else None
        if op in SPATIAL_OPS and isinstance(args, list) and len(args) == 2:
            resolved = _spatial_operands(op, args)
            return None if resolved is None else self.spatial(*resolved)
        translated = self.node(node)
        if translated is None:
            return None
        sql, params = translated
        index = _index_of(args[0], indexed) if op in _PROBED_OPS and args else None
        if index is None:
            return Condition(sql, tuple(params))
        probe = f"SELECT 1 FROM items INDEXED BY {index} WHERE {sql}"
        return Condition(sql, tuple(params), probe, tuple(params), index)

    def node(self, node: Any) -> Sql | None:
        op = _op(node)
        if op is None or not isinstance(node.get("args"), list):
            return None
        args = node["args"]
        if op in ("and", "or"):
            parts = [self.node(a) for a in args]
            if not parts or any(p is None for p in parts):
                return None
            joined = f" {op.upper()} ".join(p[0] for p in parts if p)
            return f"({joined})", [v for p in parts if p for v in p[1]]
        if op == "not" and len(args) == 1:
            inner = self.node(args[0])
            return None if inner is None else (f"(NOT {inner[0]})", inner[1])
        handler = _HANDLERS.get(op)
        return handler(self, op, args) if handler else None

    # --- operands -------------------------------------------------------------------------

    def scalar(self, operand: Any) -> tuple[str, str, list[Any]] | None:
        """An operand as (kind, sql, params): a column ('time', 'text'), a JSON property
        ('value') or a literal ('instant', 'number', 'string')."""
        if isinstance(operand, dict) and set(operand) == {"property"}:
            name = str(operand["property"]).removeprefix("properties.")
            if name in TIME_COLUMNS:
                return "time", TIME_COLUMNS[name], []
            sql = property_sql(name) if name not in ("geometry", "geom") else None
            if sql is None:
                return None
            return ("text" if name in TEXT_COLUMNS else "value"), sql, []
        if isinstance(operand, dict) and set(operand) == {"timestamp"}:
            moment = _timestamp(operand["timestamp"])
            return None if moment is None else ("instant", "?", [to_micros(moment)])
        if isinstance(operand, bool) or operand is None:
            return None  # JSON true/false read back as 1/0 in SQLite: left to exact evaluation
        if isinstance(operand, int | float):
            return "number", "?", [operand]
        if isinstance(operand, str):
            return "string", "?", [operand]
        return None

    def operands(self, *operands: Any) -> list[tuple[str, list[Any]]] | None:
        """Operands that SQL compares as CQL2 compares them, as (sql, params) each."""
        scalars = [self.scalar(o) for o in operands]
        if any(s is None for s in scalars):
            return None
        subject = scalars[0]
        assert subject is not None
        if not all(_comparable(subject[0], other[0]) for other in scalars[1:] if other):
            return None
        return [(s[1], s[2]) for s in scalars if s]

    # --- operators ------------------------------------------------------------------------

    def comparison(self, op: str, args: list[Any]) -> Sql | None:
        found = self.operands(*args) if len(args) == 2 else None
        if found is None:
            return None
        (left, left_params), (right, right_params) = found
        return f"({left} {_COMPARISONS[op]} {right})", left_params + right_params

    def between(self, op: str, args: list[Any]) -> Sql | None:
        found = self.operands(*args) if len(args) == 3 else None
        if found is None:
            return None
        (subject, a), (low, b), (high, c) = found
        return f"({subject} BETWEEN {low} AND {high})", a + b + c

    def in_list(self, op: str, args: list[Any]) -> Sql | None:
        if len(args) != 2 or not isinstance(args[1], list) or not args[1]:
            return None
        found = self.operands(args[0], *args[1])
        if found is None:
            return None
        (subject, params), *values = found
        marks = ", ".join(sql for sql, _ in values)
        return f"({subject} IN ({marks}))", params + [v for _, vs in values for v in vs]

    def like(self, op: str, args: list[Any]) -> Sql | None:
        if len(args) != 2 or not isinstance(args[1], str):
            return None
        subject = self.scalar(args[0])
        if subject is None or subject[0] not in ("text", "value"):
            return None
        return f"({subject[1]} GLOB ?)", [*subject[2], like_to_glob(args[1])]

    def is_null(self, op: str, args: list[Any]) -> Sql | None:
        if len(args) != 1:
            return None
        subject = self.scalar(args[0])
        if subject is None or subject[0] not in ("time", "text", "value"):
            return None
        # Columns are never null (pgstac's datetime/end_datetime columns are NOT NULL too).
        return ("(0)", []) if subject[0] in ("time", "text") else (f"({subject[1]} IS NULL)", [])

    def spatial_op(self, op: str, args: list[Any]) -> Sql | None:
        resolved = _spatial_operands(op, args) if len(args) == 2 else None
        if resolved is None:
            return None
        condition = self.spatial(*resolved)
        return condition.sql, list(condition.params)

    def t_intersects(self, op: str, args: list[Any]) -> Sql | None:
        spans = [self.span(a) for a in args] if len(args) == 2 else [None]
        if any(s is None for s in spans):
            return None
        (left_low, left_high), (right_low, right_high) = spans  # type: ignore[misc]
        # Closed ranges meet unless one ends before the other starts; open ends never exclude.
        conditions: list[str] = []
        params: list[Any] = []
        for first, operator, second in ((left_low, "<=", right_high), (left_high, ">=", right_low)):
            if first is not None and second is not None:
                conditions.append(f"{first[0]} {operator} {second[0]}")
                params += first[1] + second[1]
        return f"({' AND '.join(conditions) or '1'})", params

    def span(self, operand: Any) -> tuple[End, End] | None:
        """A temporal operand as the SQL of its (low, high) ends; None ends are open ('..')."""
        if isinstance(operand, dict) and set(operand) == {"property"}:
            name = str(operand["property"]).removeprefix("properties.")
            column = TIME_COLUMNS.get(name)
            return None if column is None else ((column, []), (column, []))
        if isinstance(operand, dict) and set(operand) == {"timestamp"}:
            moment = _timestamp(operand["timestamp"])
            if moment is None:
                return None
            return ("?", [to_micros(moment)]), ("?", [to_micros(moment)])
        if isinstance(operand, dict) and set(operand) == {"interval"}:
            ends = operand["interval"]
            if not isinstance(ends, list) or len(ends) != 2:
                return None
            low, high = self.interval_end(ends[0], 0), self.interval_end(ends[1], 1)
            if low is False or high is False:
                return None
            return low, high  # type: ignore[return-value]
        return None

    def interval_end(self, value: Any, index: int) -> End | bool:
        """One end of an INTERVAL: its SQL, None when open, False when not translatable."""
        if value in ("..", ""):
            return None
        if isinstance(value, str):
            moment = _timestamp(value)
            return False if moment is None else ("?", [to_micros(moment)])
        if isinstance(value, dict) and set(value) == {"property"}:
            span = self.span(value)
            return False if span is None else span[index]
        return False


End = tuple[str, list[Any]] | None
"""One end of a temporal operand: (sql, params), or None when open."""


def _timestamp(text: Any) -> datetime | None:
    """A full RFC 3339 timestamp (bare dates are left to exact evaluation), or None."""
    if not isinstance(text, str) or "T" not in text.upper():
        return None
    try:
        return parse_instant(text)
    except InvalidInputError:
        return None


def _comparable(a: str, b: str) -> bool:
    """Whether SQL compares operands of these kinds as CQL2 does."""
    kinds = {a, b}
    if "time" in kinds:
        return kinds <= {"time", "instant"}
    if "instant" in kinds:
        return False
    if "text" in kinds:
        return kinds <= {"text", "string"}
    return "value" in kinds or kinds == {"number"} or kinds == {"string"}


_PROBED_OPS = {*_COMPARISONS, "between", "in"} - {"<>"}


COLUMN_INDEXES = {
    "id": "items_id",
    "collection": "items_key",
    "datetime": "items_datetime",
    "start_datetime": "items_datetime",
    "end_datetime": "items_end_datetime",
}
"""The index that answers comparisons on each column of ``items``."""


def _index_of(operand: Any, indexed: Mapping[str, str]) -> str | None:
    """The index answering comparisons on this operand (a column or an indexed property)."""
    if not (isinstance(operand, dict) and set(operand) == {"property"}):
        return None
    name = str(operand["property"]).removeprefix("properties.")
    return COLUMN_INDEXES.get(name) or indexed.get(name)


def _spatial_operands(op: str, args: list[Any]) -> tuple[str, Any] | None:
    """(shapely predicate with the query geometry first, query GeoJSON) of a spatial operator
    between the item geometry and a literal; None for other operands."""
    predicate, _ = SPATIAL_OPS[op]
    first, second = args
    if _is_geometry_property(second) and not _is_geometry_property(first):
        first, second = second, first
        predicate = {"contains": "within", "within": "contains"}.get(predicate, predicate)
    if not _is_geometry_property(first) or not _is_geojson(second):
        return None
    return predicate, second


def _is_geometry_property(operand: Any) -> bool:
    return isinstance(operand, dict) and operand.get("property") in ("geometry", "geom")


def _is_geojson(operand: Any) -> bool:
    return (
        isinstance(operand, dict)
        and isinstance(operand.get("type"), str)
        and ("coordinates" in operand or "geometries" in operand)
    )


def like_to_glob(pattern: str) -> str:
    """A CQL2 LIKE pattern (``%``, ``_``, backslash escapes; case-sensitive) as a SQLite GLOB."""
    out = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            char = next(chars, "\\")
            out.append(_glob_literal(char))
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(_glob_literal(char))
    return "".join(out)


def _glob_literal(char: str) -> str:
    return f"[{char}]" if char in "*?[" else char


_HANDLERS: dict[str, Callable[[_Translator, str, list[Any]], Sql | None]] = {
    **{op: _Translator.comparison for op in _COMPARISONS},
    "between": _Translator.between,
    "in": _Translator.in_list,
    "like": _Translator.like,
    "isnull": _Translator.is_null,
    "t_intersects": _Translator.t_intersects,
    **{op: _Translator.spatial_op for op in SPATIAL_OPS},
}
