"""stac-geoparquet files: read as a searchable source, and written from search results.

The ``stac-geoparquet`` package is not installed here, so the layout of its specification
(v1.0) is written and read with pyarrow directly: one row per item; columns ``type``,
``stac_version``, ``stac_extensions``, ``id``, ``geometry`` (WKB, the GeoParquet primary
column), ``bbox`` (a struct ``xmin/ymin/xmax/ymax``, declared as the GeoParquet 1.1 bbox
covering), ``links``, ``assets`` (a struct per asset key), ``collection``, and every item
property as a top-level column; ``datetime``, ``start_datetime``, ``end_datetime``, ``created``
and ``updated`` are ``timestamp[us, UTC]``. File metadata holds ``geo`` (GeoParquet) and
``stac-geoparquet`` (version and the collections). A property whose values Arrow cannot type
as one column (a number in one item, text in another) is stored as JSON text and named in the
``eoaccess:json_columns`` metadata, so it reads back exactly; other readers see strings.

Reading pushes ``collections``, ``ids`` and the spatial query's bounds down to Arrow compute over
the ``collection``, ``id`` and ``bbox`` columns; only the rows left become item dicts, which
:class:`~eoaccess.catalog._memory.ItemIndex` then matches exactly.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from eoaccess.catalog._base import Page, Probe
from eoaccess.catalog._errors import NotACatalogError
from eoaccess.catalog._io import gc_paused
from eoaccess.catalog._memory import ItemIndex, paged
from eoaccess.query import Query, format_datetime, parse_instant

MAGIC = b"PAR1"
SPEC_VERSION = "1.0.0"
GEOPARQUET_VERSION = "1.1.0"
TIMESTAMP_PROPERTIES = ("datetime", "start_datetime", "end_datetime", "created", "updated")
_CORE = ("type", "stac_version", "stac_extensions", "id", "geometry", "bbox", "links", "assets")
_JSON_COLUMNS_KEY = b"eoaccess:json_columns"
_BBOX_FIELDS = ("xmin", "ymin", "xmax", "ymax")


# --- writing ------------------------------------------------------------------------------------


def _timestamps(values: list[Any]) -> Any:
    import pyarrow as pa

    moments = [parse_instant(v) if isinstance(v, str) and v else None for v in values]
    return pa.array(moments, type=pa.timestamp("us", tz="UTC"))


def _has_empty_struct(arrow_type: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_struct(arrow_type):
        return arrow_type.num_fields == 0 or any(
            _has_empty_struct(arrow_type.field(i).type) for i in range(arrow_type.num_fields)
        )
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return _has_empty_struct(arrow_type.value_type)
    return False


def _column(values: list[Any]) -> tuple[Any, bool]:
    """An Arrow array of ``values``, or of their JSON text when Arrow cannot type them as one
    column; the flag says which."""
    import pyarrow as pa

    try:
        array = pa.array(values)
        if not _has_empty_struct(array.type):
            return array, False
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        pass
    text = [None if v is None else orjson.dumps(v).decode() for v in values]
    return pa.array(text, type=pa.string()), True


def _bbox_of(item: Mapping[str, Any], geometry: Any) -> dict[str, float] | None:
    box = item.get("bbox")
    if isinstance(box, list | tuple) and len(box) in (4, 6):
        west, south, east, north = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
        return dict(zip(_BBOX_FIELDS, map(float, (west, south, east, north)), strict=True))
    if geometry is None:
        return None
    return dict(zip(_BBOX_FIELDS, map(float, geometry.bounds), strict=True))


def items_table(
    items: Iterable[Mapping[str, Any]], collections: Iterable[Mapping[str, Any]] = ()
) -> Any:
    """A pyarrow Table of ``items`` in the stac-geoparquet layout, with its file metadata."""
    import pyarrow as pa
    import shapely

    rows = list(items)
    geometries = shapely.from_geojson(
        [orjson.dumps(r["geometry"]).decode() if r.get("geometry") else None for r in rows]
    )
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row.get("properties") or {}))
    columns: dict[str, Any] = {}
    json_columns: list[str] = []

    def add(name: str, values: list[Any]) -> None:
        array, as_json = _column(values)
        columns[name] = array
        if as_json:
            json_columns.append(name)

    columns["type"] = pa.array([r.get("type") or "Feature" for r in rows], pa.string())
    columns["stac_version"] = pa.array([r.get("stac_version") for r in rows], pa.string())
    add("stac_extensions", [list(r.get("stac_extensions") or []) for r in rows])
    columns["id"] = pa.array([r["id"] for r in rows], pa.string())
    columns["geometry"] = pa.array(list(shapely.to_wkb(geometries)), pa.binary())
    bbox_type = pa.struct([(f, pa.float64()) for f in _BBOX_FIELDS])
    columns["bbox"] = pa.array(
        [_bbox_of(r, g) for r, g in zip(rows, geometries, strict=True)], bbox_type
    )
    add("links", [list(r.get("links") or []) for r in rows])
    add("assets", [dict(r.get("assets") or {}) for r in rows])
    columns["collection"] = pa.array([r.get("collection") for r in rows], pa.string())
    for name in names:
        if name in columns:
            continue  # a property named like a core column cannot be a column of its own
        values = [(r.get("properties") or {}).get(name) for r in rows]
        if name in TIMESTAMP_PROPERTIES:
            try:
                columns[name] = _timestamps(values)
                continue
            except ValueError:
                pass  # not RFC 3339 in some item: keep the values as they are
        add(name, values)
    table = pa.table(columns)
    types = sorted({g.geom_type for g in geometries if g is not None})
    valid = [g for g in geometries if g is not None]
    geo = {
        "version": GEOPARQUET_VERSION,
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": types,
                "bbox": shapely.total_bounds(valid).tolist() if valid else [],
                "covering": {"bbox": {f: ["bbox", f] for f in _BBOX_FIELDS}},
            }
        },
    }
    stac = {"version": SPEC_VERSION, "collections": {c["id"]: dict(c) for c in collections}}
    metadata = {
        b"geo": orjson.dumps(geo),
        b"stac-geoparquet": orjson.dumps(stac),
        _JSON_COLUMNS_KEY: orjson.dumps(json_columns),
    }
    return table.replace_schema_metadata(metadata)


def write_geoparquet(
    items: Iterable[Mapping[str, Any]],
    path: str | os.PathLike[str],
    collections: Iterable[Mapping[str, Any]] = (),
) -> Path:
    """Write ``items`` as a stac-geoparquet file at ``path``, atomically; return the path."""
    import pyarrow.parquet as pq

    from eoaccess._atomic import atomic_path
    from eoaccess.errors import OutputError

    target = Path(path)
    table = items_table(items, collections)
    with atomic_path(target) as tmp:
        try:
            pq.write_table(table, tmp, compression="zstd", row_group_size=50_000)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc}") from None
    return target


# --- reading ------------------------------------------------------------------------------------


def _drop_nulls(value: Any) -> Any:
    """Struct columns give every row every field of the union: absent ones come back None."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    from datetime import datetime

    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _metadata_json(schema: Any, key: bytes) -> Any:
    raw = (schema.metadata or {}).get(key)
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


@dataclass
class _Rows:
    """A stac-geoparquet table and the item dicts of its rows, converted on first use."""

    table: Any
    json_columns: frozenset[str]
    cache: dict[int, dict[str, Any]] = field(default_factory=dict)

    def items(self, positions: list[int]) -> list[dict[str, Any]]:
        missing = [p for p in positions if p not in self.cache]
        if missing:
            with gc_paused():
                converted = self._convert(missing)
            self.cache.update(zip(missing, converted, strict=True))
        return [self.cache[p] for p in positions]

    def _convert(self, positions: list[int]) -> list[dict[str, Any]]:
        import pyarrow as pa
        import shapely

        rows = self.table.take(pa.array(positions, pa.int64()))
        records = rows.to_pylist()
        geometries: list[Any] = [None] * len(records)
        if "geometry" in rows.column_names:
            shapes = shapely.from_wkb(rows.column("geometry").to_numpy(zero_copy_only=False))
            texts = shapely.to_geojson(shapes)
            geometries = [orjson.loads(t) if t is not None else None for t in texts]
        return [
            self._item(record, geometry)
            for record, geometry in zip(records, geometries, strict=True)
        ]

    def _value(self, name: str, value: Any) -> Any:
        if name in self.json_columns and isinstance(value, str):
            return orjson.loads(value)
        return _plain(_drop_nulls(value))

    def _item(self, record: dict[str, Any], geometry: Any) -> dict[str, Any]:
        item: dict[str, Any] = {
            "type": record.get("type") or "Feature",
            "stac_version": record.get("stac_version") or "1.0.0",
        }
        if record.get("stac_extensions") is not None:
            item["stac_extensions"] = self._value("stac_extensions", record["stac_extensions"])
        item["id"] = record["id"]
        item["geometry"] = geometry
        box = record.get("bbox")
        if isinstance(box, dict) and all(box.get(f) is not None for f in _BBOX_FIELDS):
            item["bbox"] = [box[f] for f in _BBOX_FIELDS]
        elif isinstance(box, list):
            item["bbox"] = box
        properties: dict[str, Any] = {}
        nested = record.get("properties")
        if isinstance(nested, dict):  # older writers kept a properties struct
            properties.update(self._value("properties", nested))
        for name, value in record.items():
            if name in _CORE or name in ("collection", "properties"):
                continue
            if value is None and name != "datetime":
                continue
            properties[name] = self._value(name, value)
        properties.setdefault("datetime", None)
        item["properties"] = properties
        item["links"] = self._value("links", record.get("links") or [])
        item["assets"] = self._value("assets", record.get("assets") or {})
        if record.get("collection") is not None:
            item["collection"] = record["collection"]
        return item


def read_table(data: bytes | None, href: str) -> Any:
    """The pyarrow Table of a Parquet file (from ``data``, or from the local file ``href``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if data is None:
            return pq.read_table(href)
        return pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise NotACatalogError(f"{href} is not a readable Parquet file: {exc}") from None


def _candidate_mask(table: Any, query: Query) -> Any:
    """Rows that may match: collection, id and bbox tests that never drop a matching row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    mask = pa.array([True] * table.num_rows, pa.bool_())
    names = table.column_names
    if query.collections is not None and "collection" in names:
        mask = pc.and_(mask, pc.is_in(table["collection"], pa.array(query.collections)))
    if query.ids is not None and "id" in names:
        mask = pc.and_(mask, pc.is_in(table["id"], pa.array(query.ids)))
    bounds = _query_bounds(query)
    if bounds is not None and _has_bbox_struct(table):
        column = table["bbox"]
        xmin, ymin, xmax, ymax = (pc.struct_field(column, f) for f in _BBOX_FIELDS)
        west, south, east, north = bounds
        outside = pc.or_(pc.greater(ymin, north), pc.less(ymax, south))
        if west <= east:
            # Items whose box crosses the antimeridian (xmin > xmax) stay candidates.
            crossing = pc.greater(xmin, xmax)
            apart = pc.or_(pc.greater(xmin, east), pc.less(xmax, west))
            outside = pc.or_(outside, pc.and_(apart, pc.invert(crossing)))
        mask = pc.and_(mask, pc.fill_null(pc.invert(outside), True))
    return pc.fill_null(mask, True)


def _has_bbox_struct(table: Any) -> bool:
    import pyarrow as pa

    if "bbox" not in table.column_names:
        return False
    bbox_type = table.schema.field("bbox").type
    return bool(pa.types.is_struct(bbox_type)) and all(
        bbox_type.get_field_index(f) >= 0 for f in _BBOX_FIELDS
    )


def _query_bounds(query: Query) -> tuple[float, float, float, float] | None:
    if query.bbox is not None:
        return query.bbox
    if query.intersects is not None:
        import shapely.geometry

        minx, miny, maxx, maxy = shapely.geometry.shape(query.intersects).bounds
        # A geometry split at the antimeridian spans almost every longitude: test latitudes only.
        return (minx, miny, maxx, maxy) if maxx - minx < 180 else (180.0, miny, -180.0, maxy)
    return None


@dataclass
class GeoParquetCatalog:
    """An opened stac-geoparquet file."""

    href: str
    rows: _Rows
    stored_collections: dict[str, dict[str, Any]]
    kind: str = "geoparquet"

    def _matching(self, query: Query) -> list[dict[str, Any]]:
        import numpy as np

        mask = _candidate_mask(self.rows.table, query)
        positions = np.flatnonzero(mask.to_numpy(zero_copy_only=False)).tolist()
        return ItemIndex(self.rows.items(positions)).matching(query)

    def collections(self) -> list[dict[str, Any]]:
        from eoaccess.ingest._collections import CollectionInfo, Extent, build_collection

        found = dict(self.stored_collections)
        table = self.rows.table
        if "collection" in table.column_names:
            ids = {c for c in table["collection"].unique().to_pylist() if c is not None}
            for cid in sorted(ids - set(found)):
                extent = Extent()
                for item in self._matching(Query(collections=(cid,))):
                    extent.add_item(item)
                found[cid] = build_collection(CollectionInfo(cid, cid, ""), extent)
        return [found[k] for k in sorted(found)]

    def pages(self, query: Query) -> Iterator[Page]:
        return paged(self._matching(query), query.limit, self.href)

    def count(self, query: Query) -> int:
        return len(self._matching(query))

    def close(self) -> None:
        pass


def open_table(table: Any, href: str) -> GeoParquetCatalog:
    """A searchable source over a stac-geoparquet table."""
    names = table.column_names
    if "id" not in names:
        raise NotACatalogError(f"{href} is Parquet but not stac-geoparquet (no id column)")
    stac = _metadata_json(table.schema, b"stac-geoparquet") or {}
    stored = stac.get("collections") if isinstance(stac, dict) else None
    if not isinstance(stored, dict):
        single = stac.get("collection") if isinstance(stac, dict) else None
        stored = {single["id"]: single} if isinstance(single, dict) and "id" in single else {}
    json_columns = _metadata_json(table.schema, _JSON_COLUMNS_KEY) or []
    rows = _Rows(table, frozenset(str(c) for c in json_columns))
    return GeoParquetCatalog(href, rows, {str(k): dict(v) for k, v in stored.items()})


class GeoParquetKind:
    """The ``geoparquet`` kind."""

    name = "geoparquet"
    description = "stac-geoparquet file (path, http(s), s3)"

    def recognise(self, probe: Probe) -> bool:
        return probe.data is not None and probe.data[:4] == MAGIC

    def open(self, probe: Probe) -> GeoParquetCatalog:
        if probe.data is None or probe.data[:4] != MAGIC:
            what = "a folder" if probe.data is None else "not a Parquet file"
            raise NotACatalogError(f"{probe.href} is {what}, not stac-geoparquet")
        return open_table(read_table(probe.data, probe.href), probe.href)


KIND = GeoParquetKind()
