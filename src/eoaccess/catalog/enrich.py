"""Sidecar enrichment: a value read from one asset of every result becomes a column.

Seed 002 fetches the ISIS ``caminfo`` PVL label of every Kaguya image with aiohttp and
``pvl.loads`` to add the incidence angle; here that is one spec,
``caminfo_pvl:Caminfo.Geometry.IncidenceAngle=incidence_angle`` (``--enrich`` on the CLI),
and the value lands in each item's properties (so in the GeoDataFrame, GeoJSON, table, and in
``where`` filters).

A spec is ``ASSET:[FORMAT:]PATH[=NAME]``. Formats are registered in :data:`FORMATS` and chosen
from the asset's media type or file name unless given: ``pvl`` (dotted path through objects and
groups), ``json`` (dotted path, ``[i]`` for list items), ``xml`` (element path with ``/`` or
``.``, ``@attr`` for an attribute) and ``tiff`` (a GeoTIFF dataset tag such as
``SCENE_IDS[LAYER_2_VALUE]``, read from the file's header bytes only, as in seed 004).

Sidecars are fetched concurrently through the transfer engine, each URL once per batch, and
cached on disk keyed by URL and ETag (``$EOACCESS_CACHE_DIR``, else ``~/.cache/eoaccess``):
a repeated search asks only ``HEAD`` of each sidecar. An asset an item does not have gives
None; a sidecar that cannot be fetched or lacks the path raises, naming the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson

from eoaccess.catalog._io import CATALOG_CONFIG, WHOLE_OBJECT
from eoaccess.errors import EOAccessError, InvalidInputError
from eoaccess.query import format_datetime
from eoaccess.transfer import RemoteNotFoundError, TransferConfig, TransferEngine, TransferError

HEADER_BYTES = 64 * 1024
"""First read of a GeoTIFF header; more is read only if the tags lie further."""
_MAX_HEADER = 16 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_:.\-]*$")


class SidecarError(EOAccessError):
    """A sidecar could not be fetched or does not hold the value asked for: the message names
    its URL and the path."""

    http_status = 502


@dataclass(frozen=True)
class EnrichSpec:
    """One value to read from a sidecar asset of every item."""

    asset: str
    """Asset key (``caminfo_pvl``)."""
    path: str
    """Where the value is inside the sidecar (format-specific)."""
    name: str
    """The property (column) it is stored as."""
    format: str | None = None
    """Forced format, else chosen from the asset's media type or file name."""

    @property
    def text(self) -> str:
        """The spec as written."""
        middle = f"{self.format}:" if self.format else ""
        return f"{self.asset}:{middle}{self.path}={self.name}"


def parse_enrich(spec: str | EnrichSpec) -> EnrichSpec:
    """Parse ``ASSET:[FORMAT:]PATH[=NAME]``; NAME defaults to the path's last part."""
    if isinstance(spec, EnrichSpec):
        return spec
    text = str(spec).strip()
    asset, sep, rest = text.partition(":")
    if not sep or not asset.strip() or not rest.strip():
        raise InvalidInputError(
            f"invalid enrich spec {spec!r}: use ASSET:PATH=NAME, e.g. "
            "caminfo_pvl:Caminfo.Geometry.IncidenceAngle=incidence_angle"
        )
    fmt = None
    head, sep, tail = rest.partition(":")
    if sep and head.strip().lower() in FORMATS:
        fmt, rest = head.strip().lower(), tail
    path, sep, name = rest.rpartition("=") if "=" in rest else (rest, "", "")
    path, name = path.strip(), name.strip()
    if not path:
        raise InvalidInputError(f"invalid enrich spec {spec!r}: the path is empty")
    if not name:
        last = re.split(r"[./]", re.sub(r"\[\d+\]", "", path))[-1].lstrip("@")
        name = re.sub(r"[^A-Za-z0-9_]+", "_", last).strip("_") or "value"
    if not _NAME.match(name):
        raise InvalidInputError(
            f"invalid column name {name!r} in enrich spec {spec!r}: use letters, digits, _"
        )
    return EnrichSpec(asset.strip(), path, name, fmt)


# --- formats --------------------------------------------------------------------------------------


def _missing(path: str, step: str, container: Any) -> InvalidInputError:
    keys = list(container.keys()) if isinstance(container, Mapping) else []
    shown = ", ".join(map(str, keys[:12])) + (", …" if len(keys) > 12 else "")
    where = f" (it has {shown})" if keys else ""
    return InvalidInputError(f"no {step!r} on the way to {path!r}{where}")


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _walk(document: Any, path: str) -> Any:
    """Follow a dotted path with ``[i]`` indexes through dicts and lists."""
    value = document
    for match in _STEP.finditer(path):
        key, index = match.group(1), match.group(2)
        if key is not None and key.isdigit() and isinstance(value, list):
            index, key = key, None
        if key is not None:
            if not isinstance(value, Mapping) or key not in value:
                raise _missing(path, key, value)
            value = value[key]
        else:
            position = int(index)
            if not isinstance(value, list | tuple) or position >= len(value):
                raise _missing(path, f"[{position}]", value)
            value = value[position]
    return value


def _json_value(data: bytes, spec: EnrichSpec) -> Any:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"not JSON: {exc}") from None
    return _walk(document, spec.path)


def _pvl_decoder() -> Any:
    import pvl

    class _Decoder(pvl.decoder.OmniDecoder):  # type: ignore[misc]
        """pvl's decoder, without trying date formats on values that cannot be dates (most
        of a label's words): the same values, several times faster."""

        def decode_datetime(self, value: str) -> Any:
            if not value[:1].isdigit() or ("-" not in value and ":" not in value):
                raise ValueError(value)
            return super().decode_datetime(value)

    return _Decoder(grammar=pvl.grammar.OmniGrammar())


_AGGREGATE = r"^[ \t]*(?:BEGIN_)?(OBJECT|GROUP)[ \t]*=[ \t]*{name}[ \t]*\r?$"
_AGGREGATE_ANY = re.compile(
    r"^[ \t]*(?:BEGIN_)?(OBJECT|GROUP)[ \t]*=", re.IGNORECASE | re.MULTILINE
)
_END_ANY = re.compile(r"^[ \t]*END_(OBJECT|GROUP)\b", re.IGNORECASE | re.MULTILINE)
_STATEMENT = re.compile(r"^[ \t]*[A-Za-z^][\w:^]*[ \t]*=|^[ \t]*END(_\w+)?\b", re.MULTILINE)


def _pvl_excerpts(text: str, parts: Sequence[str]) -> list[str]:
    """Smaller labels holding the same value, smallest first: just the statement of the leaf
    inside its aggregation blocks, then the whole innermost block.

    pvl lexes character by character in Python (~10 ms per kB), and a caminfo label is 7 kB of
    which one line is wanted. An excerpt is only offered when it is plainly delimited — the
    blocks found by name, the leaf named exactly once in its block — and the caller falls back
    to the whole label when an excerpt does not parse.
    """
    opening: list[str] = []
    for name in parts[:-1]:
        start = re.compile(_AGGREGATE.format(name=re.escape(name)), re.IGNORECASE | re.MULTILINE)
        found = start.search(text)
        if found is None:
            return []
        depth, position = 1, found.end()
        while depth:
            begin = _AGGREGATE_ANY.search(text, position)
            end = _END_ANY.search(text, position)
            if end is None:
                return []
            if begin is not None and begin.start() < end.start():
                depth, position = depth + 1, begin.end()
            else:
                depth, position = depth - 1, end.end()
        opening.append(f"{found.group(1)} = {name}")
        text = text[found.end() : end.start()]
    closing = [f"END_{line.split(' ', 1)[0]}" for line in reversed(opening)]
    excerpts = []
    leaf = re.compile(rf"^[ \t]*{re.escape(parts[-1])}[ \t]*=", re.MULTILINE)
    hits = list(leaf.finditer(text))
    if len(hits) == 1:
        following = _STATEMENT.search(text, hits[0].end())
        statement = text[hits[0].start() : following.start() if following else len(text)]
        excerpts.append("\n".join([*opening, statement, *closing, "END"]))
    if opening:
        excerpts.append("\n".join([*opening, text, *closing, "END"]))
    return excerpts


def _pvl_value(data: bytes, spec: EnrichSpec) -> Any:
    import pvl

    text = data.decode("utf-8", "replace")
    parts = [p for p in spec.path.split(".") if p]
    decoder = _pvl_decoder()
    for excerpt in _pvl_excerpts(text, parts):
        try:
            return _walk(pvl.loads(excerpt, decoder=decoder), spec.path)
        except Exception:  # any doubt about an excerpt: try the next, then the whole label
            continue
    try:
        module = pvl.loads(text, decoder=decoder)
    except Exception as exc:  # pvl raises its own LexerError/ParseError types
        raise InvalidInputError(f"not a PVL label: {' '.join(str(exc).split())[:200]}") from None
    return _walk(module, spec.path)


def _xml_value(data: bytes, spec: EnrichSpec) -> Any:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise InvalidInputError(f"not XML: {exc}") from None
    path = spec.path.replace(".", "/").strip("/")
    attribute = None
    if "/@" in "/" + path:
        path, _, attribute = ("/" + path).rpartition("/@")
        path = path.strip("/")
    steps = path.split("/") if path else []
    if steps and _local(root.tag) == steps[0]:
        steps = steps[1:]  # the path may start at the root element
    node = root
    for step in steps:
        child = next((c for c in node if _local(c.tag) == step), None)
        if child is None:
            names = sorted({_local(c.tag) for c in node})
            raise InvalidInputError(
                f"no element {step!r} on the way to {spec.path!r} (it has {', '.join(names)})"
            )
        node = child
    if attribute is not None:
        attributes = {_local(k): v for k, v in node.attrib.items()}
        if attribute not in attributes:
            raise InvalidInputError(f"no attribute {attribute!r} at {spec.path!r}")
        return _number_or_text(attributes[attribute])
    return _number_or_text((node.text or "").strip())


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _number_or_text(text: str) -> Any:
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _tiff_value(data: bytes, spec: EnrichSpec) -> Any:
    from eoaccess._tiff import header_tags

    tags = header_tags(data)
    if spec.path not in tags:
        shown = ", ".join(sorted(tags)) or "none"
        raise InvalidInputError(f"no tag {spec.path!r} in the GeoTIFF header (it has {shown})")
    return tags[spec.path]


FORMATS: dict[str, Callable[[bytes, EnrichSpec], Any]] = {
    "pvl": _pvl_value,
    "json": _json_value,
    "xml": _xml_value,
    "tiff": _tiff_value,
}
"""Format name -> reader of one value from a sidecar's bytes."""

# Registry: file name suffix -> format, and media type -> format.
_SUFFIXES = {
    ".pvl": "pvl",
    ".lbl": "pvl",
    ".cub": "pvl",
    ".json": "json",
    ".geojson": "json",
    ".xml": "xml",
    ".tif": "tiff",
    ".tiff": "tiff",
}
_MEDIA = {"application/json": "json", "application/xml": "xml", "text/xml": "xml"}


def format_of(spec: EnrichSpec, asset: Mapping[str, Any]) -> str:
    """The format to read ``asset`` with: forced, from its file name, or from its media type."""
    if spec.format:
        return spec.format
    href = str(asset.get("href") or "")
    name = href.split("?", 1)[0].rsplit("/", 1)[-1].lower()
    for suffix, fmt in sorted(_SUFFIXES.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(suffix):
            return fmt
    media = str(asset.get("type") or "").split(";")[0].strip().lower()
    if media.startswith("image/tiff"):
        return "tiff"
    if media in _MEDIA:
        return _MEDIA[media]
    raise InvalidInputError(
        f"cannot tell the format of asset {spec.asset!r} ({href}): write it in the spec, "
        f"e.g. {spec.asset}:pvl:{spec.path}={spec.name} ({', '.join(FORMATS)})"
    )


def _jsonable(value: Any) -> Any:
    """Plain JSON values (pvl quantities as their number, dates as RFC 3339 text)."""
    if hasattr(value, "value") and hasattr(value, "units"):  # pvl Quantity
        return _jsonable(value.value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


# --- cache ----------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """``$EOACCESS_CACHE_DIR``, else ``$XDG_CACHE_HOME/eoaccess``, else ``~/.cache/eoaccess``."""
    explicit = os.environ.get("EOACCESS_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(base).expanduser() / "eoaccess"


class SidecarCache:
    """Sidecar bytes on disk, keyed by URL and ETag (a changed object has a new ETag)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or cache_dir()) / "sidecars"

    def _path(self, url: str, etag: str, kind: str) -> Path:
        digest = hashlib.sha256(f"{kind}\0{url}\0{etag}".encode()).hexdigest()
        return self.root / digest[:2] / digest

    def get(self, url: str, etag: str | None, kind: str) -> bytes | None:
        if not etag:
            return None
        try:
            return self._path(url, etag, kind).read_bytes()
        except OSError:
            return None

    def put(self, url: str, etag: str | None, kind: str, data: bytes) -> None:
        if not etag:
            return  # without a validator a cached copy could never be trusted
        from eoaccess._atomic import write_bytes_atomic

        # A cache that cannot be written only costs a fetch next time.
        with contextlib.suppress(OSError, EOAccessError):
            write_bytes_atomic(self._path(url, etag, kind), data)


# --- fetching -------------------------------------------------------------------------------------


async def _fetch(engine: TransferEngine, cache: SidecarCache, url: str, fmt: str) -> bytes:
    """The bytes a format needs: the whole sidecar, or a GeoTIFF's header."""
    from eoaccess._tiff import TiffTruncatedError, header_tags

    kind = "header" if fmt == "tiff" else "whole"
    meta = await engine.stat(url)
    cached = cache.get(url, meta.etag, kind)
    if cached is not None:
        return cached
    if fmt != "tiff":
        data = await engine.read_range(url, 0, WHOLE_OBJECT)
    else:
        size = HEADER_BYTES
        while True:
            data = await engine.read_range(url, 0, size)
            try:
                header_tags(data)
                break
            except TiffTruncatedError as exc:
                if len(data) < size or exc.needed > _MAX_HEADER:
                    raise InvalidInputError(f"GeoTIFF header of {url} is truncated") from None
                size = max(exc.needed, 2 * size)
            except InvalidInputError:
                break  # not a TIFF: the reader reports it with the URL
    cache.put(url, meta.etag, kind, data)
    return data


async def enrich_async(
    items: Sequence[dict[str, Any]],
    specs: Sequence[EnrichSpec],
    config: TransferConfig | None = None,
    cache: SidecarCache | None = None,
) -> list[dict[str, Any]]:
    """``items`` with each spec's value added to their properties (None where an item has no
    such asset). Every sidecar URL is fetched once, all at the same time."""
    cache = cache or SidecarCache()
    jobs: dict[tuple[str, str], asyncio.Task[bytes]] = {}
    wanted: list[tuple[int, EnrichSpec, str | None, str | None]] = []
    async with TransferEngine(config or CATALOG_CONFIG) as engine:
        for position, item in enumerate(items):
            for spec in specs:
                asset = (item.get("assets") or {}).get(spec.asset)
                href = asset.get("href") if isinstance(asset, Mapping) else None
                if not isinstance(href, str) or not href:
                    wanted.append((position, spec, None, None))
                    continue
                fmt = format_of(spec, asset)
                key = (href, "header" if fmt == "tiff" else "whole")
                if key not in jobs:
                    jobs[key] = asyncio.ensure_future(_fetch(engine, cache, href, fmt))
                wanted.append((position, spec, href, fmt))
        try:
            await asyncio.gather(*jobs.values())
        except RemoteNotFoundError as exc:
            raise SidecarError(f"sidecar missing: {exc}") from None
        except TransferError as exc:
            raise SidecarError(f"cannot fetch a sidecar: {exc}") from None
        finally:
            for job in jobs.values():
                job.cancel()
    out = [dict(item, properties=dict(item.get("properties") or {})) for item in items]
    for position, spec, href, fmt in wanted:
        value = None
        if href is not None and fmt is not None:
            data = jobs[(href, "header" if fmt == "tiff" else "whole")].result()
            try:
                value = _jsonable(FORMATS[fmt](data, spec))
            except InvalidInputError as exc:
                raise SidecarError(f"{href} ({spec.asset}, {fmt}): {exc}") from None
        out[position]["properties"][spec.name] = value
    return out


def enrich(
    items: Sequence[dict[str, Any]],
    specs: Iterable[str | EnrichSpec],
    config: TransferConfig | None = None,
    cache: SidecarCache | None = None,
) -> list[dict[str, Any]]:
    """Sync twin of :func:`enrich_async` (specs may be given as text)."""
    from eoaccess.transfer._sync import run_sync

    parsed = [parse_enrich(s) for s in specs]
    return run_sync(enrich_async, items, parsed, config, cache)
