"""Search results written in the CLI's output formats, registered by name.

``table`` is for people (rich, readable in a terminal, plain when piped); ``geojson`` is the
machine-readable contract (a FeatureCollection of STAC items); ``parquet`` is stac-geoparquet;
``csv`` has the GeoDataFrame's columns with the geometry as WKT; ``urls`` lists asset hrefs.
Files are written atomically; without a file, text goes to the given stream.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

import orjson

from eoaccess.catalog._results import SearchResult, items_geodataframe
from eoaccess.errors import InvalidInputError

Writer = Callable[[SearchResult, Path | None, TextIO], int]
"""Write the results to the file (or the stream) and return how many items were written."""


def _emit(text: str, output: Path | None, stream: TextIO) -> None:
    if output is None:
        stream.write(text)
        return
    from eoaccess._atomic import write_text_atomic

    write_text_atomic(output, text)


def _geojson(result: SearchResult, output: Path | None, stream: TextIO) -> int:
    collection = {"type": "FeatureCollection", "features": list(result.items())}
    _emit(orjson.dumps(collection).decode() + "\n", output, stream)
    return len(collection["features"])


def _parquet(result: SearchResult, output: Path | None, stream: TextIO) -> int:
    if output is None:
        raise InvalidInputError("--format parquet writes a file: give --output FILE.parquet")
    from eoaccess.catalog.geoparquet import write_geoparquet

    items = list(result.items())
    write_geoparquet(items, output, result.collections_of(items))
    return len(items)


def _csv(result: SearchResult, output: Path | None, stream: TextIO) -> int:
    items = list(result.items())
    import pandas as pd

    shapes = items_geodataframe(items)
    frame = pd.DataFrame(shapes.drop(columns="geometry"))
    frame["geometry"] = shapes.geometry.to_wkt()
    for column in frame.columns:  # nested values as JSON, not Python reprs
        if frame[column].dtype == object:
            frame[column] = [
                orjson.dumps(v).decode() if isinstance(v, dict | list) else v for v in frame[column]
            ]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    _emit(buffer.getvalue(), output, stream)
    return len(items)


def _urls(result: SearchResult, output: Path | None, stream: TextIO) -> int:
    lines = list(result.urls())
    _emit("".join(f"{line}\n" for line in lines), output, stream)
    return len(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def _table(result: SearchResult, output: Path | None, stream: TextIO) -> int:
    from rich.table import Table

    items = list(result.items())
    extra = [spec.name for spec in result.enrich_specs]
    table = Table(show_lines=False)
    for name in ("id", "collection", "datetime", *extra):
        table.add_column(name, overflow="fold")
    for item in items:
        props: Mapping[str, Any] = item.get("properties") or {}
        when = props.get("datetime") or _range(props)
        table.add_row(
            _cell(item.get("id")),
            _cell(item.get("collection")),
            _cell(when),
            *(_cell(props.get(name)) for name in extra),
        )
    _print_table(f"{len(items)} items", table, output, stream)
    return len(items)


def _print_table(title: str, table: Any, output: Path | None, stream: TextIO) -> None:
    """The title line and the table: fitted to a terminal, at full width elsewhere (files,
    pipes), so that long ids are not folded."""
    from rich.console import Console

    if output is None and stream.isatty():
        console = Console(file=stream)
        console.print(title, soft_wrap=True)
        console.print(table)
        return
    buffer = io.StringIO()
    console = Console(file=buffer, width=100_000, color_system=None)
    console.print(title, soft_wrap=True)
    console.print(table)
    text = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
    _emit(text, output, stream)


def _range(props: Mapping[str, Any]) -> str | None:
    start, end = props.get("start_datetime"), props.get("end_datetime")
    if start or end:
        return f"{start or '..'}/{end or '..'}"
    return None


OUTPUT_FORMATS: dict[str, Writer] = {
    "table": _table,
    "geojson": _geojson,
    "parquet": _parquet,
    "csv": _csv,
    "urls": _urls,
}
"""Format name -> writer; ``eoaccess search --format`` offers these."""


def write_results(result: SearchResult, fmt: str, output: Path | None, stream: TextIO) -> int:
    """Write ``result`` as ``fmt`` to ``output`` (or ``stream``); return the items written."""
    if fmt not in OUTPUT_FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}: use one of {', '.join(OUTPUT_FORMATS)}")
    return OUTPUT_FORMATS[fmt](result, output, stream)


def collections_table(collections: list[dict[str, Any]], stream: TextIO) -> None:
    """A readable table of collections: id, title, spatial and temporal extent, as rich prints
    it (plain text when piped)."""
    from rich.table import Table

    table = Table()
    for name in ("id", "title", "bbox", "interval"):
        table.add_column(name, overflow="fold")
    for collection in collections:
        extent = collection.get("extent") or {}
        boxes = (extent.get("spatial") or {}).get("bbox") or [[]]
        intervals = (extent.get("temporal") or {}).get("interval") or [[]]
        box = ",".join(f"{v:.6g}" for v in boxes[0]) if boxes and boxes[0] else ""
        interval = "/".join(v or ".." for v in intervals[0]) if intervals and intervals[0] else ""
        table.add_row(str(collection.get("id")), str(collection.get("title") or ""), box, interval)
    _print_table(f"{len(collections)} collections", table, None, stream)
