"""The embedded catalog: one SQLite file under ``ARCHIVE/.eoaccess/``, no server process.

SQLite (from the standard library) gives transactions that survive a crash (write-ahead log),
readers that do not block the writer, and an R*Tree index. Items are rows with the columns a
search narrows on — collection, id, the start and end of the time range, the exact bounds and
WKB geometry — next to the item JSON exactly as written (without ``links``). Each footprint has
one R*Tree box per part (so an item cut at the antimeridian gets two boxes instead of one box
around the whole world). Collections, ids, time range, the R*Tree prefilter and the CQL2
terms :mod:`._sqlite_cql2` translates run in SQLite; exact geometry tests (shapely) and CQL2
terms SQL cannot express run as SQL functions on the rows that remain, so counting and paging
stay in SQL. The most selective condition, measured by counting its index candidates, drives
the query (see :class:`_Plan`). Pages continue from a keyset token (the sort values of the last
item), so a deep page costs what the first one does. See ``docs/design/catalog-stores.md``.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from eoaccess.errors import InvalidInputError, NotFoundError, OutputError
from eoaccess.matching import DEFAULT_SORTBY, apply_fields, filter_matches, normalize_filter
from eoaccess.query import Query, SortField
from eoaccess.stores import _sqlite_cql2 as cql2sql
from eoaccess.stores._base import EMBEDDED_DIRNAME, ItemPage, StoreWriter
from eoaccess.stores._items import check_item
from eoaccess.stores._sqlite_cql2 import Condition
from eoaccess.stores._tokens import decode_token, encode_token, query_identity

CATALOG_FILENAME = "catalog.sqlite"
SCHEMA_VERSION = 1
_BOXES_PER_ITEM = 8
"""R*Tree box ids are ``rid * 8 + n``: an item has at most 8 boxes, found from its row id."""
_QUERY_BOXES = 16
"""A query geometry with more parts than this is prefiltered by its overall bounds."""
_TIME = "items_datetime"
_PROBE_LIMIT = 10_000
"""Candidates counted at most per condition when choosing the driving one."""

_ANALYZE_AFTER = 1000
"""Rows a transaction must change before the planner statistics are refreshed."""

INDEXED_PROPERTIES = ("eo:cloud_cover", "gsd", "platform")
"""Item properties with an expression index (the ones searches filter on most)."""
PROPERTY_INDEXES = {name: f"items_p{n}" for n, name in enumerate(INDEXED_PROPERTIES)}

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS collections (id TEXT PRIMARY KEY, content TEXT NOT NULL)"
    " WITHOUT ROWID",
    """CREATE TABLE IF NOT EXISTS items (
        rid INTEGER PRIMARY KEY,
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        datetime INTEGER NOT NULL,
        end_datetime INTEGER NOT NULL,
        minx REAL, miny REAL, maxx REAL, maxy REAL,
        nboxes INTEGER NOT NULL,
        geometry BLOB,
        fingerprint TEXT,
        content TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS items_key ON items (collection, id)",
    "CREATE INDEX IF NOT EXISTS items_id ON items (id)",
    # end_datetime last: the order's index also answers time-range tests without the table.
    "CREATE INDEX IF NOT EXISTS items_datetime ON items (datetime, collection, id, end_datetime)",
    "CREATE INDEX IF NOT EXISTS items_end_datetime ON items (end_datetime)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS item_boxes USING rtree(bid, minx, maxx, miny, maxy)",
    *(
        f"CREATE INDEX IF NOT EXISTS {index} ON items ({cql2sql.property_sql(name)})"
        for name, index in PROPERTY_INDEXES.items()
    ),
    "INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', 0)",
    "INSERT OR IGNORE INTO meta (key, value)"
    " SELECT 'max_span', coalesce(max(end_datetime - datetime), 0) FROM items",
    f"INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', {SCHEMA_VERSION})",
]


def open(target: str | Path, archive: str | Path | None = None) -> EmbeddedStore:
    """Open (creating if needed) the embedded catalog at ``target``.

    ``target`` is the ``.eoaccess`` directory, an archive directory (its ``.eoaccess`` is
    used), a ``.sqlite`` file, or any of these as an ``embedded://`` URI.
    """
    text = str(target)
    if text.startswith("embedded://"):
        text = text[len("embedded://") :]
    path = Path(text).expanduser()
    if path.suffix not in (".sqlite", ".db"):
        if path.name != EMBEDDED_DIRNAME:
            path = path / EMBEDDED_DIRNAME
        path = path / CATALOG_FILENAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the catalog directory {path.parent}: {exc.strerror or exc}"
        ) from None
    return EmbeddedStore(path)


class EmbeddedStore:
    """A :class:`~eoaccess.stores.CatalogStore` in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.uri = str(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        conn = self._connection()
        version = _schema_version(conn)
        if version is None:  # a new catalog (the write lock only then: a reader never waits)
            with _immediate(conn):
                for statement in _SCHEMA:
                    conn.execute(statement)
            version = _schema_version(conn)
        if version != SCHEMA_VERSION:
            raise InvalidInputError(
                f"{path} has catalog schema version {version}; this eoaccess reads version "
                f"{SCHEMA_VERSION}: re-run `eoaccess ingest` into a new catalog"
            )

    # --- connections ----------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections are not shared between threads)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.path, timeout=60, isolation_level=None, check_same_thread=False
                )
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.Error as exc:
                raise OutputError(f"cannot open the catalog {self.path}: {exc}") from None
            # NORMAL with WAL: a crash never corrupts or half-applies a transaction; only a
            # power loss may drop the last commits.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA cache_size = -65536")
            conn.execute("PRAGMA mmap_size = 2147418112")  # the most this SQLite maps
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.create_function("eo_spatial", 3, _spatial, deterministic=True)
            conn.create_function("eo_cql2", 2, _residual_matches, deterministic=True)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    # --- reading --------------------------------------------------------------------------

    def collections(self) -> list[dict[str, Any]]:
        """All collections, sorted by id."""
        rows = self._connection().execute("SELECT content FROM collections ORDER BY id")
        return [orjson.loads(content) for (content,) in rows]

    def get_collection(self, collection_id: str) -> dict[str, Any]:
        """One collection; raises NotFoundError if unknown."""
        row = (
            self._connection()
            .execute("SELECT content FROM collections WHERE id = ?", (collection_id,))
            .fetchone()
        )
        if row is None:
            raise NotFoundError(f"collection {collection_id!r} not found")
        return orjson.loads(row[0])  # type: ignore[no-any-return]

    def get_item(self, collection_id: str, item_id: str) -> dict[str, Any]:
        """One item; raises NotFoundError if the collection or item is unknown."""
        row = (
            self._connection()
            .execute(
                "SELECT content FROM items WHERE collection = ? AND id = ?",
                (collection_id, item_id),
            )
            .fetchone()
        )
        if row is None:
            self.get_collection(collection_id)
            raise NotFoundError(f"item {item_id!r} not found in collection {collection_id!r}")
        return orjson.loads(row[0])  # type: ignore[no-any-return]

    def item_fingerprints(self, collection_id: str | None = None) -> dict[tuple[str, str], str]:
        """``(collection, id) -> properties["eoaccess:fingerprint"]`` of items that have one."""
        sql = "SELECT collection, id, fingerprint FROM items WHERE fingerprint IS NOT NULL"
        params: tuple[Any, ...] = ()
        if collection_id is not None:
            sql += " AND collection = ?"
            params = (collection_id,)
        rows = self._connection().execute(sql, params)
        return {(collection, item_id): print_ for collection, item_id, print_ in rows}

    def search(self, query: Query, token: str | None = None) -> ItemPage:
        """One page of items matching ``query`` in the store's order, continuing from ``token``."""
        conn = self._connection()
        # One snapshot for the probes, the count and the page (inside this thread's write
        # transaction, if one is open, which then sees its own changes).
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")
        try:
            generation, max_span = _state(conn)
            plan = _Plan.of(query, max_span)
            start = _Token.decode(token, plan) if token else None
            reuse = start is not None and start.generation == generation
            driver = start.driver if start is not None and reuse else plan.driver(conn)
            matched = start.matched if start is not None and reuse else None
            # With a selective driver, sort its few rows; otherwise walk the order's index.
            hidden = driver >= 0
            if hidden and plan.conditions[driver].exact is not None:
                plan = plan.replacing(driver, _exact_matches(conn, plan.conditions[driver]))
            in_one_pass = matched is None and start is None and hidden
            if matched is None and not in_one_pass:
                counting = driver if hidden else None
                where, params = plan.where(counting)
                (matched,) = conn.execute(
                    f"SELECT count(*) FROM {plan.source(counting)} WHERE {where}", params
                ).fetchone()
            where, params = plan.where(driver)
            if start is not None:
                after, after_params = plan.after(start.values, hidden)
                where, params = f"{where} AND {after}", params + after_params
            keys = ", ".join(key.sql for key in plan.keys)
            # The first page of a selective search counts its matches in the same pass that
            # sorts them: the exact (shapely, residual CQL2) tests run once per candidate.
            total = ", count(*) OVER ()" if in_one_pass else ""
            sql = (
                f"SELECT items.content, {keys}{total} FROM {plan.source(driver)} WHERE {where}"
                f" ORDER BY {plan.order_by(hidden)} LIMIT ?"
            )
            rows = conn.execute(sql, [*params, query.limit + 1]).fetchall()
            if in_one_pass:
                matched = rows[0][-1] if rows else 0
                rows = [row[:-1] for row in rows]
        finally:
            if own:
                conn.execute("COMMIT")
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        items = [orjson.loads(row[0]) for row in rows]
        if query.fields is not None:
            items = [apply_fields(item, query.fields) for item in items]
        next_token = None
        if more:
            last = list(rows[-1][1:])
            next_token = _Token(plan.identity, last, generation, int(matched or 0), driver).encode()
        return ItemPage(items=items, number_matched=matched, next_token=next_token)

    # --- writing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[StoreWriter]:
        """One SQLite transaction: every change in the block lands, or none (even on a crash)."""
        conn = self._connection()
        if conn.in_transaction:
            raise InvalidInputError("a catalog transaction is already open in this thread")
        with _immediate(conn):
            writer = _Writer(conn)
            yield writer
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
        if writer.changed >= _ANALYZE_AFTER:
            # Fresh statistics let the planner choose between the R*Tree, the datetime index
            # and the property indexes; sampled, so this stays well under a second.
            conn.execute("PRAGMA analysis_limit = 2000")
            conn.execute("ANALYZE")


@contextlib.contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT, rolled back if the block raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _schema_version(conn: sqlite3.Connection) -> int | None:
    """The schema version of a complete catalog, None for a new (or half-created) file."""
    try:
        rows = dict(conn.execute("SELECT key, value FROM meta"))
    except sqlite3.OperationalError:  # no meta table yet
        return None
    if not {"schema_version", "generation", "max_span"} <= set(rows):
        return None
    return int(rows["schema_version"])


def _state(conn: sqlite3.Connection) -> tuple[int, int]:
    """The catalog generation — a counter every committed write transaction increments, so a
    cached count is still exact while it has not moved — and the longest item time range (µs)."""
    rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('generation', 'max_span')"))
    return int(rows["generation"]), int(rows["max_span"])


# --- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """An item as the columns of ``items`` and its R*Tree boxes."""

    collection: str
    id: str
    start: int
    end: int
    bounds: tuple[float, float, float, float] | None
    boxes: list[tuple[float, float, float, float]]
    geometry: bytes | None
    fingerprint: str | None
    content: bytes


def _item_row(item: Mapping[str, Any]) -> _Row:
    """Check an item (as pgstac would) and compute its columns."""
    import shapely
    import shapely.geometry

    checked = check_item(item)
    geometry = item.get("geometry")
    wkb, bounds, boxes = None, None, []
    if geometry is not None:
        try:
            shape = shapely.geometry.shape(geometry)
        except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException):
            raise InvalidInputError(f"item {checked.id!r} has an invalid geometry") from None
        if not shape.is_empty:
            wkb = shapely.to_wkb(shape)
            bounds = shape.bounds
            boxes = _boxes(shape, _BOXES_PER_ITEM)
    try:
        content = orjson.dumps(checked.stored, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError as exc:
        raise InvalidInputError(f"item {checked.id!r} is not JSON: {exc}") from None
    return _Row(
        checked.collection,
        checked.id,
        cql2sql.to_micros(checked.start),
        cql2sql.to_micros(checked.end),
        bounds,
        boxes,
        wkb,
        checked.fingerprint,
        content,
    )


def _boxes(shape: Any, limit: int) -> list[tuple[float, float, float, float]]:
    """Bounding boxes of the parts of a geometry: one per part (a footprint cut at the
    antimeridian gets two small boxes, not one around the world), by hemisphere beyond ``limit``."""
    parts = list(getattr(shape, "geoms", [shape]))
    if len(parts) <= 1:
        return [shape.bounds]
    if len(parts) > limit:
        import shapely

        west = [p for p in parts if p.centroid.x < 0]
        east = [p for p in parts if p.centroid.x >= 0]
        return [shapely.GeometryCollection(g).bounds for g in (west, east) if g]
    return [p.bounds for p in parts if not p.is_empty]


class _Writer:
    """The changes of one transaction (a :class:`~eoaccess.stores.StoreWriter`)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.changed = 0
        """Items upserted or deleted so far."""
        self._collections = {
            cid for (cid,) in conn.execute("SELECT id FROM collections").fetchall()
        }

    def upsert_collection(self, collection: dict[str, Any]) -> None:
        """Insert or replace a collection."""
        cid = collection.get("id") if isinstance(collection, Mapping) else None
        if not isinstance(cid, str) or not cid:
            raise InvalidInputError("a collection needs a string id")
        self.conn.execute(
            "INSERT INTO collections (id, content) VALUES (?, ?)"
            " ON CONFLICT (id) DO UPDATE SET content = excluded.content",
            (cid, orjson.dumps(collection).decode()),
        )
        self._collections.add(cid)

    def upsert_items(self, items: Iterable[dict[str, Any]]) -> int:
        """Insert or replace items; their collections must exist."""
        count = longest = 0
        for item in items:
            row = _item_row(item)
            if row.collection not in self._collections:
                raise NotFoundError(
                    f"collection {row.collection!r} of item {row.id!r} does not exist: "
                    "upsert the collection first"
                )
            existing = self.conn.execute(
                "SELECT rid, nboxes FROM items WHERE collection = ? AND id = ?",
                (row.collection, row.id),
            ).fetchone()
            values = (
                row.start,
                row.end,
                *(row.bounds or (None, None, None, None)),
                len(row.boxes),
                row.geometry,
                row.fingerprint,
                row.content.decode(),
            )
            if existing is None:
                rid = self.conn.execute(
                    "INSERT INTO items (collection, id, datetime, end_datetime, minx, miny,"
                    " maxx, maxy, nboxes, geometry, fingerprint, content)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row.collection, row.id, *values),
                ).lastrowid
            else:
                rid = existing[0]
                self._delete_boxes(rid, existing[1])
                self.conn.execute(
                    "UPDATE items SET datetime = ?, end_datetime = ?, minx = ?, miny = ?,"
                    " maxx = ?, maxy = ?, nboxes = ?, geometry = ?, fingerprint = ?,"
                    " content = ? WHERE rid = ?",
                    (*values, rid),
                )
            self.conn.executemany(
                "INSERT INTO item_boxes (bid, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)",
                [
                    (rid * _BOXES_PER_ITEM + n, west, east, south, north)
                    for n, (west, south, east, north) in enumerate(row.boxes)
                ],
            )
            count += 1
            longest = max(longest, row.end - row.start)
        self.conn.execute(
            "UPDATE meta SET value = max(value, ?) WHERE key = 'max_span'", (longest,)
        )
        self.changed += count
        return count

    def delete_items(self, collection: str, ids: Iterable[str]) -> int:
        """Delete items by id; return how many existed."""
        deleted = 0
        for item_id in ids:
            row = self.conn.execute(
                "SELECT rid, nboxes FROM items WHERE collection = ? AND id = ?",
                (collection, item_id),
            ).fetchone()
            if row is not None:
                self._delete_boxes(*row)
                self.conn.execute("DELETE FROM items WHERE rid = ?", (row[0],))
                deleted += 1
        self.changed += deleted
        return deleted

    def delete_collection(self, collection: str) -> None:
        """Delete a collection and all its items; raises NotFoundError if unknown."""
        if collection not in self._collections:
            raise NotFoundError(f"collection {collection!r} not found")
        rows = self.conn.execute(
            "SELECT rid, nboxes FROM items WHERE collection = ?", (collection,)
        ).fetchall()
        for rid, nboxes in rows:
            self._delete_boxes(rid, nboxes)
        self.conn.execute("DELETE FROM items WHERE collection = ?", (collection,))
        self.conn.execute("DELETE FROM collections WHERE id = ?", (collection,))
        self._collections.discard(collection)

    def _delete_boxes(self, rid: int, nboxes: int) -> None:
        self.conn.executemany(
            "DELETE FROM item_boxes WHERE bid = ?",
            [(rid * _BOXES_PER_ITEM + n,) for n in range(nboxes)],
        )


# --- search plans -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Key:
    """One ORDER BY key."""

    sql: str
    """The SQL expression."""
    descending: bool
    """Sort from high to low."""
    nullable: bool
    """Whether the expression can be NULL (a property), which then sorts above every value."""


@dataclass(frozen=True)
class _Plan:
    """A query as SQL: AND conditions, sort keys, and the identity its tokens carry.

    SQLite (as built here, without STAT4) cannot tell how selective a range on a property or a
    spatial test is, and may walk the wrong index: ``platform = 'x'`` (one row in seven)
    instead of ``eo:cloud_cover < 0.5`` (one in two hundred). So the store measures instead:
    every condition an index serves has a *probe* that lists its candidates through that index,
    counted up to :data:`_PROBE_LIMIT`. The condition with the fewest candidates drives the
    query and the others are hidden from the planner (``+(…)``); when none is selective, the
    order's index drives (walking ``items_datetime`` in the default order).
    """

    conditions: tuple[Condition, ...]
    keys: tuple[_Key, ...]
    identity: str

    @classmethod
    def of(cls, query: Query, max_span: int = 0) -> _Plan:
        """The plan of ``query``; ``max_span`` is the longest time range of any item (µs)."""
        conditions: list[Condition] = []
        if query.collections is not None:
            marks = ", ".join("?" for _ in query.collections)
            sql = f"items.collection IN ({marks})"
            conditions.append(_probed(sql, tuple(query.collections), "items_key"))
        if query.ids is not None:
            sql = "items.id IN (SELECT value FROM json_each(?))"
            conditions.append(_probed(sql, (orjson.dumps(list(query.ids)).decode(),), "items_id"))
        if query.datetime is not None:
            start, end = query.datetime.start, query.datetime.end
            # An item meets [start, end] if it starts before the end and ends after the start.
            # It then also started at most ``max_span`` before ``start``: that redundant lower
            # bound turns the test into a range of the datetime index.
            low = cql2sql.to_micros(start) - max_span if start is not None else None
            high = cql2sql.to_micros(end) if end is not None else None
            if low is not None and high is not None:
                conditions.append(_probed("items.datetime BETWEEN ? AND ?", (low, high), _TIME))
            elif high is not None:
                conditions.append(_probed("items.datetime <= ?", (high,), _TIME))
            elif low is not None:
                conditions.append(_probed("items.datetime >= ?", (low,), _TIME))
            if start is not None:
                conditions.append(Condition("items.end_datetime >= ?", (low + max_span,)))
        area = _query_area(query)
        if area is not None:
            conditions.append(_spatial_sql("intersects", area))
        if query.filter is not None:
            translated = cql2sql.translate(
                normalize_filter(query.filter), _spatial_sql, PROPERTY_INDEXES
            )
            conditions += translated.conditions
            if translated.residual is not None:
                residual = orjson.dumps(translated.residual).decode()
                conditions.append(Condition("eo_cql2(?, items.content)", (residual,)))
        return cls(
            conditions=tuple(conditions),
            keys=_sort_keys(query.sortby or DEFAULT_SORTBY),
            identity=query_identity(query),
        )

    def driver(self, conn: sqlite3.Connection) -> int:
        """The index of the most selective probed condition, or -1 if none is selective.

        Selective means fewer candidates than :data:`_PROBE_LIMIT` and than an eighth of the
        catalog: beyond that, walking the order's index meets a page of matches sooner than
        sorting all of them.
        """
        (rows,) = conn.execute("SELECT coalesce(max(rid), 0) FROM items").fetchone()
        best, fewest = -1, min(_PROBE_LIMIT, rows // 8 + 1)
        for number, condition in enumerate(self.conditions):
            if condition.probe is None:
                continue
            sql = f"SELECT count(*) FROM ({condition.probe} LIMIT {_PROBE_LIMIT})"
            (count,) = conn.execute(sql, condition.probe_params).fetchone()
            if count < fewest:
                best, fewest = number, count
        return best

    def replacing(self, number: int, condition: Condition) -> _Plan:
        """The same plan with condition ``number`` swapped for an equivalent one."""
        conditions = list(self.conditions)
        conditions[number] = condition
        return replace(self, conditions=tuple(conditions))

    def source(self, driver: int | None) -> str:
        """``items``, through the driving condition's index when it has one."""
        index = self.conditions[driver].index if driver is not None and driver >= 0 else None
        return f"items INDEXED BY {index}" if index else "items"

    def where(self, driver: int | None) -> tuple[str, list[Any]]:
        """The WHERE clause: all conditions visible to the planner (``driver`` None), only the
        driver's, or none (``driver`` -1)."""
        parts, params = [], []
        for number, condition in enumerate(self.conditions):
            visible = driver is None or number == driver
            parts.append(condition.sql if visible else f"+({condition.sql})")
            params += condition.params
        return " AND ".join(parts) or "1", params

    def order_by(self, hidden: bool) -> str:
        """ORDER BY; ``hidden`` keeps the planner from walking an index for the order."""
        terms = []
        for key in self.keys:
            direction = "DESC" if key.descending else "ASC"
            nulls = (" NULLS FIRST" if key.descending else " NULLS LAST") if key.nullable else ""
            terms.append(f"{'+' if hidden else ''}{key.sql} {direction}{nulls}")
        return ", ".join(terms)

    def after(self, values: list[Any], hidden: bool = False) -> tuple[str, list[Any]]:
        """SQL for "comes after the row whose sort values are ``values``" in this order."""
        keys = [replace(k, sql=f"+{k.sql}") if hidden else k for k in self.keys]
        uniform = len({k.descending for k in keys}) == 1
        if uniform and not any(k.nullable for k in keys):
            # A row value compares lexicographically and lets SQLite walk an index.
            columns = ", ".join(k.sql for k in keys)
            marks = ", ".join("?" for _ in values)
            operator = "<" if keys[0].descending else ">"
            return f"(({columns}) {operator} ({marks}))", list(values)
        alternatives: list[str] = []
        params: list[Any] = []
        equal: list[str] = []
        equal_params: list[Any] = []
        for key, value in zip(keys, values, strict=True):
            beyond, beyond_params = _beyond(key, value)
            if beyond is not None:
                alternatives.append("(" + " AND ".join([*equal, beyond]) + ")")
                params += equal_params + beyond_params
            equal.append(f"{key.sql} IS ?")
            equal_params.append(value)
        return "(" + (" OR ".join(alternatives) or "0") + ")", params


def _probed(sql: str, params: tuple[Any, ...], index: str) -> Condition:
    """A condition an index of ``items`` answers: its probe is itself, through that index."""
    return Condition(
        sql, params, f"SELECT 1 FROM items INDEXED BY {index} WHERE {sql}", params, index
    )


def _beyond(key: _Key, value: Any) -> tuple[str | None, list[Any]]:
    """SQL for "sorts after ``value``" on one key, where NULL sorts above every value."""
    if value is None:
        # Nothing is above NULL ascending; descending, every value comes after it.
        return (None, []) if not key.descending else (f"{key.sql} IS NOT NULL", [])
    if key.descending:
        return f"{key.sql} < ?", [value]
    return f"({key.sql} > ? OR {key.sql} IS NULL)", [value]


def _sort_keys(sortby: tuple[SortField, ...]) -> tuple[_Key, ...]:
    """SQL sort keys for ``sortby`` then (collection, id) in the first key's direction; keys
    after both collection and id are dropped, the order being total there (as pgstac does)."""
    fields = list(sortby)
    named = {f.field.removeprefix("properties.") for f in fields}
    fields += [SortField(n, fields[0].descending) for n in ("collection", "id") if n not in named]
    keys: list[_Key] = []
    seen: set[str] = set()
    for field in fields:
        name = field.field.removeprefix("properties.")
        if name in cql2sql.TIME_COLUMNS:
            keys.append(_Key(cql2sql.TIME_COLUMNS[name], field.descending, False))
        elif name in cql2sql.TEXT_COLUMNS:
            keys.append(_Key(cql2sql.TEXT_COLUMNS[name], field.descending, False))
            seen.add(name)
        else:
            sql = cql2sql.property_sql(name)
            if sql is None:
                raise InvalidInputError(f"cannot sort by {field.field!r}")
            keys.append(_Key(sql, field.descending, True))
        if seen == {"collection", "id"}:
            break
    return tuple(keys)


def _query_area(query: Query) -> dict[str, Any] | None:
    """The search area as GeoJSON; a bbox crossing the antimeridian becomes two boxes."""
    import shapely

    from eoaccess.matching import bbox_geometry

    if query.bbox is not None:
        return orjson.loads(shapely.to_geojson(bbox_geometry(query.bbox)))  # type: ignore[no-any-return]
    return query.intersects


def _spatial_sql(predicate: str, geojson: Mapping[str, Any]) -> Condition:
    """The condition ``predicate(query geometry, item geometry)``: an R*Tree prefilter on the
    boxes of the query's parts, a shortcut for items inside a query rectangle, then shapely."""
    import shapely
    import shapely.geometry

    try:
        area = shapely.geometry.shape(geojson)
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException):
        raise InvalidInputError(f"invalid geometry in query: {str(geojson)[:200]}") from None
    if area.is_empty:
        return Condition("(0)")
    wkb = shapely.to_wkb(area)
    exact = "eo_spatial(?, ?, items.geometry)"
    parts = list(getattr(area, "geoms", [area]))
    boxes = [area.bounds] if len(parts) > _QUERY_BOXES else [p.bounds for p in parts]
    prefilter = " UNION ALL ".join(
        f"SELECT bid / {_BOXES_PER_ITEM} FROM item_boxes"
        " WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?"
        for _ in boxes
    )
    prefilter_params = tuple(v for (w, s, e, n) in boxes for v in (e, w, n, s))
    candidates = f"items.rid IN ({prefilter})"
    if predicate == "disjoint":
        return Condition(
            f"(items.geometry IS NOT NULL AND NOT ({candidates} AND {exact}))",
            (*prefilter_params, "intersects", wkb),
        )
    inside: list[str] = []
    inside_params: list[Any] = []
    if predicate == "intersects":
        # An item whose bounds lie inside a rectangle of the query area intersects it: no
        # shapely call for the bulk of the results of a large box.
        for part in parts if len(parts) <= _QUERY_BOXES else []:
            if part.geom_type == "Polygon" and part.equals(shapely.box(*part.bounds)):
                inside.append(
                    "(items.minx >= ? AND items.maxx <= ? AND items.miny >= ? AND items.maxy <= ?)"
                )
                w, s, e, n = part.bounds
                inside_params += [w, e, s, n]
    exact_sql = " OR ".join([*inside, exact])
    return Condition(
        f"({candidates} AND ({exact_sql}))",
        (*prefilter_params, *inside_params, predicate, wkb),
        prefilter,
        prefilter_params,
        exact=(predicate, wkb),
    )


def _exact_matches(conn: sqlite3.Connection, condition: Condition) -> Condition:
    """A driving spatial condition as the list of row ids that pass it: the R*Tree candidates'
    geometries tested with shapely in one vectorised call (a per-row SQL function costs far
    more per candidate)."""
    import shapely

    assert condition.exact is not None and condition.probe is not None
    predicate, wkb = condition.exact
    rows = conn.execute(
        f"SELECT rid, geometry FROM items WHERE rid IN ({condition.probe})", condition.probe_params
    ).fetchall()
    geometries = shapely.from_wkb([geometry for _, geometry in rows])
    passed = getattr(shapely, predicate)(_prepared(wkb), geometries)
    rids = [rid for (rid, _), ok in zip(rows, passed, strict=True) if ok]
    return Condition(
        "items.rid IN (SELECT value FROM json_each(?))", (orjson.dumps(rids).decode(),)
    )


# --- paging tokens ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    """Where the next page starts: the sort values of the last item returned."""

    identity: str
    """The query the token belongs to."""
    values: list[Any]
    """Sort key values of the last item."""
    generation: int
    """Catalog generation when ``matched`` was counted."""
    matched: int
    """numberMatched, reused while the generation has not moved."""
    driver: int
    """The plan's driving condition, also reused (see :meth:`_Plan.driver`)."""

    def encode(self) -> str:
        state = {"k": self.values, "g": self.generation, "n": self.matched, "d": self.driver}
        return encode_token(self.identity, state)

    @classmethod
    def decode(cls, token: str, plan: _Plan) -> _Token:
        state = decode_token(token, plan.identity)
        values, generation, matched = state.get("k"), state.get("g"), state.get("n")
        driver = state.get("d")
        if (
            not isinstance(values, list)
            or len(values) != len(plan.keys)
            or not all(v is None or isinstance(v, str | int | float) for v in values)
            or not isinstance(generation, int)
            or not isinstance(matched, int)
            or not isinstance(driver, int)
            or not -1 <= driver < len(plan.conditions)
        ):
            raise InvalidInputError("invalid paging token: start the search again")
        return cls(plan.identity, values, generation, matched, driver)


# --- SQL functions ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _prepared(wkb: bytes) -> Any:
    import shapely

    geometry = shapely.from_wkb(wkb)
    shapely.prepare(geometry)
    return geometry


def _spatial(predicate: str, query_wkb: bytes, item_wkb: bytes | None) -> int | None:
    """``predicate(query, item)`` with shapely; NULL (unknown) for an item without geometry."""
    if item_wkb is None:
        return None
    import shapely

    try:
        return int(getattr(shapely, predicate)(_prepared(query_wkb), shapely.from_wkb(item_wkb)))
    except shapely.errors.GEOSException:
        return None


@functools.lru_cache(maxsize=64)
def _expression(text: str) -> Any:
    import cql2

    return cql2.Expr(orjson.loads(text))


def _residual_matches(filter_json: str, content: str) -> int:
    """The CQL2 terms SQL could not express, evaluated exactly as :mod:`eoaccess.matching` does."""
    return int(filter_matches(_expression(filter_json), orjson.loads(content)))
