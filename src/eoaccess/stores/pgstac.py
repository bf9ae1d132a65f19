"""The PostgreSQL catalog: pgstac (``--catalog postgresql://…``), for archives that outgrow one
machine.

Opening migrates the database to the pgstac version of the installed pypgstac (under an
advisory lock, so concurrent openers do not race). Writes go through pgstac's own SQL functions
(``upsert_collection``, ``upsert_items``, ``delete_collection``) on one connection in one
transaction. pgstac drops null members of the JSON it stores (``"datetime": null`` of an item with a time
range, for one); the writer lists their paths under ``eoaccess:nulls`` and reads restore
them, so items come back exactly as written, without ``links``. Searches call pgstac's
``search(jsonb)`` with the body of
:meth:`~eoaccess.query.Query.to_stac_json`, adjusted where pgstac reads a field differently
from :mod:`eoaccess.matching` (see :func:`search_body`), with ``context`` on for an exact
``numberMatched``; the next-page token is pgstac's, wrapped with the identity of the query.

pgstac orders text properties it has no queryable for as text; so that numeric properties sort
numerically (as in the embedded store), the writer registers a ``number`` queryable for every
property it sees only numbers in (with a B-tree index for the ones the embedded store indexes).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import orjson

from eoaccess.errors import DependencyError, InvalidInputError, NotFoundError
from eoaccess.matching import apply_fields, bbox_geometry, normalize_filter
from eoaccess.query import Query
from eoaccess.stores._base import ItemPage, StoreWriter
from eoaccess.stores._items import check_item
from eoaccess.stores._tokens import decode_token, encode_token, query_identity
from eoaccess.stores.embedded import INDEXED_PROPERTIES

_BATCH = 1000
"""Items per ``upsert_items`` call."""
_MIGRATION_LOCK = 0x656F6163  # "eoac": serialises concurrent migrations of one database
_REQUIRED_EXTENSIONS = ("postgis", "btree_gist")
_NULLS = "eoaccess:nulls"


def open(target: str, archive: Any = None) -> PgstacStore:
    """Connect to the pgstac database at the ``postgresql://`` URI ``target``, migrating it first."""
    return PgstacStore(target)


def redact(dsn: str) -> str:
    """The URI without its password."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=user + host))


class PgstacStore:
    """A :class:`~eoaccess.stores.CatalogStore` in a pgstac database; safe to share between threads."""

    def __init__(self, dsn: str, max_connections: int = 8) -> None:
        import psycopg_pool

        self.dsn = dsn
        self.uri = redact(dsn)
        migrate(dsn)
        self._pool = psycopg_pool.ConnectionPool(
            dsn,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            configure=_configure,
            open=True,
            name=f"eoaccess-pgstac-{id(self)}",
        )
        self._queryables: set[str] | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def close(self) -> None:
        """Close the connection pool."""
        self._pool.close()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        """This thread's open write transaction's connection, else one from the pool; pgstac
        errors become eoaccess errors. (A search on another connection while this thread holds
        a write transaction would wait for that transaction's partition locks forever.)"""
        import psycopg

        try:
            active = getattr(self._local, "conn", None)
            if active is not None:
                yield active
            else:
                with self._pool.connection() as conn:
                    yield conn
        except psycopg.errors.RaiseException as exc:  # a pgstac function refused the request
            raise InvalidInputError(f"pgstac: {_message(exc)}") from None
        except psycopg.errors.NoDataFound as exc:
            raise NotFoundError(f"pgstac: {_message(exc)}") from None
        except psycopg.errors.DataException as exc:
            raise InvalidInputError(f"pgstac: {_message(exc)}") from None

    # --- reading --------------------------------------------------------------------------

    def collections(self) -> list[dict[str, Any]]:
        """All collections, sorted by id."""
        with self._connection() as conn:
            rows = conn.execute("SELECT content FROM pgstac.collections ORDER BY id").fetchall()
        return [row[0] for row in rows]

    def get_collection(self, collection_id: str) -> dict[str, Any]:
        """One collection; raises NotFoundError if unknown."""
        with self._connection() as conn:
            row = conn.execute(
                "SELECT content FROM pgstac.collections WHERE id = %s", (collection_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"collection {collection_id!r} not found")
        return row[0]  # type: ignore[no-any-return]

    def get_item(self, collection_id: str, item_id: str) -> dict[str, Any]:
        """One item (hydrated by pgstac, without links); raises NotFoundError if unknown."""
        with self._connection() as conn:
            row = conn.execute(
                "SELECT pgstac.get_item(%s, %s)", (item_id, collection_id)
            ).fetchone()
        if row is None or row[0] is None:
            self.get_collection(collection_id)
            raise NotFoundError(f"item {item_id!r} not found in collection {collection_id!r}")
        return _without_links(row[0])

    def item_fingerprints(self, collection_id: str | None = None) -> dict[tuple[str, str], str]:
        """``(collection, id) -> properties["eoaccess:fingerprint"]`` of items that have one."""
        sql = (
            "SELECT collection, id, content->'properties'->>'eoaccess:fingerprint' AS print"
            " FROM pgstac.items WHERE content->'properties' ? 'eoaccess:fingerprint'"
        )
        params: tuple[Any, ...] = ()
        if collection_id is not None:
            sql += " AND collection = %s"
            params = (collection_id,)
        with self._connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return {(c, i): p for c, i, p in rows if isinstance(p, str)}

    def search(self, query: Query, token: str | None = None) -> ItemPage:
        """One page from pgstac's ``search``, continuing from ``token``."""
        from psycopg.types.json import Jsonb

        identity = query_identity(query)
        body = search_body(query)
        if token:
            state = decode_token(token, identity)
            if not isinstance(state.get("t"), str):
                raise InvalidInputError("invalid paging token: start the search again")
            body["token"] = state["t"]
        with self._connection() as conn, conn.transaction():
            if conn is not getattr(self._local, "conn", None):
                # Read only: pgstac then neither records the search nor caches its count, so
                # numberMatched is counted afresh and exact. (Not inside a write transaction,
                # where SET LOCAL would outlive the search.)
                conn.execute("SET LOCAL pgstac.readonly TO 'true'")
            (result,) = conn.execute("SELECT pgstac.search(%s)", (Jsonb(body),)).fetchone()
        items = [_without_links(feature) for feature in result.get("features") or []]
        if query.fields is not None:
            items = [apply_fields(item, query.fields) for item in items]
        next_token = None
        for link in result.get("links") or []:
            if link.get("rel") == "next":
                found = parse_qs(urlsplit(link["href"]).query).get("token")
                if found:
                    next_token = encode_token(identity, {"t": found[0]})
        return ItemPage(
            items=items, number_matched=result.get("numberMatched"), next_token=next_token
        )

    # --- writing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[StoreWriter]:
        """One PostgreSQL transaction: every change lands, or none (also if the client dies)."""
        if getattr(self._local, "conn", None) is not None:
            raise InvalidInputError("a catalog transaction is already open in this thread")
        with self._connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    writer = _Writer(conn, self._queryable_names(conn))
                    yield writer
            finally:
                self._local.conn = None
            with self._lock:  # only once committed: a rollback also undoes the registrations
                self._queryables = (self._queryables or set()) | writer.queryables

    def _queryable_names(self, conn: Any) -> set[str]:
        with self._lock:
            if self._queryables is None:
                rows = conn.execute("SELECT name FROM pgstac.queryables").fetchall()
                self._queryables = {name for (name,) in rows}
            return set(self._queryables)


class _Writer:
    """The changes of one transaction (a :class:`~eoaccess.stores.StoreWriter`)."""

    def __init__(self, conn: Any, queryables: set[str]) -> None:
        self.conn = conn
        self.queryables = queryables
        self._collections = {
            cid for (cid,) in conn.execute("SELECT id FROM pgstac.collections").fetchall()
        }

    def upsert_collection(self, collection: dict[str, Any]) -> None:
        """Insert or replace a collection."""
        from psycopg.types.json import Jsonb

        cid = collection.get("id") if isinstance(collection, Mapping) else None
        if not isinstance(cid, str) or not cid:
            raise InvalidInputError("a collection needs a string id")
        self.conn.execute("SELECT pgstac.upsert_collection(%s)", (Jsonb(collection),))
        self._collections.add(cid)

    def upsert_items(self, items: Iterable[dict[str, Any]]) -> int:
        """Insert or replace items in batches; their collections must exist."""
        count = 0
        batch: list[dict[str, Any]] = []
        for item in items:
            checked = check_item(item)
            if checked.collection not in self._collections:
                raise NotFoundError(
                    f"collection {checked.collection!r} of item {checked.id!r} does not exist: "
                    "upsert the collection first"
                )
            if item.get("geometry") is None:
                raise InvalidInputError(f"item {checked.id!r} has no geometry (pgstac needs one)")
            stored = checked.stored
            nulls = null_paths(stored)
            batch.append({**stored, _NULLS: nulls} if nulls else stored)
            if len(batch) >= _BATCH:
                count += self._flush(batch)
                batch = []
        if batch:
            count += self._flush(batch)
        return count

    def _flush(self, batch: list[dict[str, Any]]) -> int:
        from psycopg.types.json import Jsonb

        self._register_numbers(batch)
        self.conn.execute(
            "SELECT pgstac.upsert_items(%s)",
            (
                Jsonb(
                    batch,
                    dumps=lambda v: orjson.dumps(v, option=orjson.OPT_SERIALIZE_NUMPY).decode(),
                ),
            ),
        )
        return len(batch)

    def _register_numbers(self, batch: list[dict[str, Any]]) -> None:
        """Register a ``number`` queryable for new properties holding only numbers, so pgstac
        sorts them as numbers rather than as text."""
        numeric: dict[str, bool] = {}
        for item in batch:
            for name, value in (item.get("properties") or {}).items():
                if name in self.queryables or value is None:
                    continue
                is_number = isinstance(value, int | float) and not isinstance(value, bool)
                numeric[name] = numeric.get(name, True) and is_number
        for name, only_numbers in sorted(numeric.items()):
            indexed = name in INDEXED_PROPERTIES
            if not only_numbers and not indexed:
                continue
            definition = {"type": "number"} if only_numbers else {"type": "string"}
            self.conn.execute(
                "SELECT pgstac.upsert_queryable(%s, %s::jsonb, NULL, %s)",
                (name, orjson.dumps(definition).decode(), "BTREE" if indexed else None),
            )
            self.queryables.add(name)

    def delete_items(self, collection: str, ids: Iterable[str]) -> int:
        """Delete items by id; return how many existed."""
        cursor = self.conn.execute(
            "DELETE FROM pgstac.items WHERE collection = %s AND id = ANY(%s)",
            (collection, list(ids)),
        )
        return int(cursor.rowcount)

    def delete_collection(self, collection: str) -> None:
        """Delete a collection and all its items; raises NotFoundError if unknown."""
        if collection not in self._collections:
            raise NotFoundError(f"collection {collection!r} not found")
        self.conn.execute("SELECT pgstac.delete_collection(%s)", (collection,))
        self._collections.discard(collection)


def search_body(query: Query) -> dict[str, Any]:
    """The ``search(jsonb)`` body for ``query``: :meth:`Query.to_stac_json` with a bbox across
    the antimeridian sent as two boxes (pgstac would read it as the box the other way round),
    the filter normalised as :mod:`eoaccess.matching` reads it, context on, and no ``fields``
    (pgstac's rules for them differ; :func:`~eoaccess.matching.apply_fields` applies them)."""
    body = query.to_stac_json()
    body.pop("fields", None)
    if query.bbox is not None and query.bbox[0] > query.bbox[2]:
        import shapely

        del body["bbox"]
        body["intersects"] = orjson.loads(shapely.to_geojson(bbox_geometry(query.bbox)))
    if query.filter is not None:
        body["filter"] = normalize_filter(query.filter)
    body["conf"] = {"context": "on"}
    return body


def migrate(dsn: str) -> str:
    """Bring the database at ``dsn`` to the pgstac version of pypgstac; return that version."""
    import psycopg
    import pypgstac
    from pypgstac.db import PgstacDB
    from pypgstac.migrate import Migrate

    target = pypgstac.__version__
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=15)
    except psycopg.Error as exc:
        raise DependencyError(
            f"cannot connect to PostgreSQL at {redact(dsn)}: {_message(exc)}"
        ) from None
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        if _installed_version(conn) == target:
            return target
        available = {
            name
            for (name,) in conn.execute(
                "SELECT name FROM pg_available_extensions WHERE name = ANY(%s)",
                (list(_REQUIRED_EXTENSIONS),),
            )
        }
        missing = [name for name in _REQUIRED_EXTENSIONS if name not in available]
        if missing:
            raise DependencyError(
                f"PostgreSQL at {redact(dsn)} lacks the extension(s) {', '.join(missing)} that "
                "pgstac needs: install PostGIS (e.g. apt install postgresql-15-postgis-3)"
            )
        db = PgstacDB(dsn=dsn)
        try:
            return str(Migrate(db).run_migration(target))
        except psycopg.Error as exc:
            raise DependencyError(
                f"cannot install pgstac {target} in {redact(dsn)}: {_message(exc)}"
            ) from None
        finally:
            db.close()


def _installed_version(conn: Any) -> str | None:
    (exists,) = conn.execute("SELECT to_regclass('pgstac.migrations') IS NOT NULL").fetchone()
    if not exists:
        return None
    row = conn.execute(
        "SELECT version FROM pgstac.migrations ORDER BY datetime DESC, version DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def _configure(conn: Any) -> None:
    from psycopg.types.json import set_json_loads

    set_json_loads(orjson.loads, conn)  # pages of 10,000 items: parsing speed matters
    conn.execute("SET search_path TO pgstac, public")


def _message(exc: Exception) -> str:
    diag = getattr(exc, "diag", None)
    text = (getattr(diag, "message_primary", None) or str(exc)).strip()
    return " ".join(text.split())


def _without_links(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as it was written: links dropped, null members put back."""
    item.pop("links", None)
    for path in item.pop(_NULLS, None) or []:
        node: Any = item
        try:
            for step in path[:-1]:
                node = node[step]
            if isinstance(node, dict):
                node[path[-1]] = None
        except (KeyError, IndexError, TypeError):
            continue
    return item


def null_paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[list[str | int]]:
    """Paths of the object members whose value is null (pgstac drops them when it stores an
    item; the writer records them under ``eoaccess:nulls`` so that reads put them back)."""
    found: list[list[str | int]] = []
    if isinstance(value, dict):
        for key, child in value.items():
            if child is None:
                found.append([*prefix, key])
            else:
                found += null_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += null_paths(child, (*prefix, index))
    return found
