"""Scene provenance (seed 004): which source scene the pixels of an interval came from, and when.

An ARPS daily tile is a composite of PlanetScope scenes; its QA file's ``scene_mask`` band holds,
per pixel, a small integer, and the QA GeoTIFF's tag ``SCENE_IDS[LAYER_2_VALUE]`` (layer 2 being
that band) lists ``PSScene/<scene id>[<value>]`` lines. For each interval, :func:`dominant` finds
the most frequent (tile, value) pair among the counted pixels; :func:`resolve_scene` reads only
the header of that tile's QA file (one Range request of BYOC ``headerSize`` bytes), parses the
tag and maps the value to the scene id and its acquisition time (encoded in the id). A value the
tag does not list, or lists as ``None``, is reported as such, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from eoaccess.errors import InvalidInputError

DEFAULT_HEADER_BYTES = 64 * 1024
"""Bytes read when no ``headerSize`` is recorded (enough for ARPS QA tags)."""

_ENTRY = re.compile(r"^(?P<text>.*)\[(?P<value>-?\d+)\]$")
_PLANETSCOPE = re.compile(r"^(?P<date>\d{8})_(?P<time>\d{6})(?:_\d{2})?_[0-9a-f]{4}$")


def provenance_tag(band_index: int) -> str:
    """The tag listing the scenes of provenance band ``band_index`` (1-based): ARPS's
    ``scene_mask`` is layer 2, so ``SCENE_IDS[LAYER_2_VALUE]``."""
    return f"SCENE_IDS[LAYER_{band_index}_VALUE]"


def parse_scene_ids(text: str) -> dict[int, str | None]:
    """``value -> "ItemType/scene_id"`` from a ``SCENE_IDS[LAYER_n_VALUE]`` tag (``None[0]``
    lines map to None). Lines that are not ``text[value]`` are ignored."""
    entries: dict[int, str | None] = {}
    for line in text.splitlines():
        match = _ENTRY.match(line.strip())
        if match is None:
            continue
        scene = match.group("text").strip()
        entries[int(match.group("value"))] = None if scene in ("", "None") else scene
    return entries


def _planetscope_time(scene_id: str) -> datetime | None:
    match = _PLANETSCOPE.match(scene_id)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group("date") + match.group("time"), "%Y%m%d%H%M%S").replace(
            tzinfo=UTC
        )
    except ValueError:
        return None


# Registry: item type -> acquisition time from a scene id of that type.
ACQUISITION_PARSERS: dict[str, Callable[[str], datetime | None]] = {
    "PSScene": _planetscope_time,
}


def acquisition_time(scene: str) -> datetime | None:
    """When a scene (``ItemType/id``) was acquired, from its id; None if the type is unknown."""
    item_type, _, scene_id = scene.rpartition("/")
    parser = ACQUISITION_PARSERS.get(item_type or "PSScene")
    return parser(scene_id) if parser else None


def read_tags(location: str, header_size: int | None) -> dict[str, str]:
    """The GDAL tags of a GeoTIFF from its first ``header_size`` bytes only (one range read)."""
    from rasterio.errors import RasterioIOError
    from rasterio.io import MemoryFile

    from eoaccess.transfer import read_header

    data = read_header(location, header_size or DEFAULT_HEADER_BYTES)
    try:
        with MemoryFile(data) as memory, memory.open() as dataset:
            return dict(dataset.tags())
    except RasterioIOError as exc:
        raise InvalidInputError(f"cannot read the GeoTIFF header of {location}: {exc}") from None


@dataclass(frozen=True)
class Dominant:
    """The most frequent (tile, provenance value) pair of an interval's counted pixels."""

    tile: int
    """Index into the interval's mosaicked tiles."""
    value: int
    share: float
    """Fraction of the counted pixels with this pair."""


def dominant(values: np.ndarray, tile_index: np.ndarray, counted: np.ndarray) -> Dominant | None:
    """The dominant pair among ``counted`` pixels (ties: the lowest tile, then value)."""
    keep = counted & (tile_index >= 0)
    if not keep.any():
        return None
    picked = values[keep]
    if not np.all(np.isfinite(picked)) or not np.all(np.equal(np.mod(picked, 1), 0)):
        raise InvalidInputError("the provenance band must hold integer values")
    keys = tile_index[keep].astype(np.int64) * (1 << 32) + (picked.astype(np.int64) & 0xFFFFFFFF)
    unique, counts = np.unique(keys, return_counts=True)
    best = int(np.argmax(counts))  # first maximum: the lowest key
    key = int(unique[best])
    value = key & 0xFFFFFFFF
    if value >= 1 << 31:
        value -= 1 << 32
    return Dominant(key >> 32, value, float(counts[best]) / float(picked.size))


@dataclass(frozen=True)
class SceneProvenance:
    """The scene behind an interval's dominant provenance value."""

    value: int | None
    """The dominant provenance value (None when no pixel counted)."""
    share: float | None
    """Its fraction of the counted pixels."""
    item: str | None
    """Catalog item id of the tile it came from."""
    tile_id: str | None
    """BYOC tile id of that tile, if known."""
    scene_id: str | None
    """Scene id without item type (``20231102_190003_53_2495``), None if unknown."""
    acquired: datetime | None
    """Acquisition time (UTC) from the scene id."""
    note: str | None
    """Why ``scene_id`` or ``acquired`` is missing."""


def resolve_scene(
    tags: Mapping[str, str], band_index: int, found: Dominant, item: str, tile_id: str | None
) -> SceneProvenance:
    """Map the dominant value through the tile's provenance tag."""

    def result(scene: str | None, acquired: datetime | None, note: str | None) -> SceneProvenance:
        return SceneProvenance(found.value, found.share, item, tile_id, scene, acquired, note)

    tag = provenance_tag(band_index)
    if tag not in tags:
        return result(None, None, f"tile {item} has no {tag} tag")
    scenes = parse_scene_ids(tags[tag])
    if found.value not in scenes:
        return result(None, None, f"value {found.value} is not listed in {tag} of tile {item}")
    scene = scenes[found.value]
    if scene is None:
        return result(None, None, f"value {found.value} is listed as None (no scene) in {tag}")
    scene_id = scene.rpartition("/")[2]
    acquired = acquisition_time(scene)
    note = None if acquired else f"no acquisition time in scene id {scene}"
    return result(scene_id, acquired, note)


def no_provenance(reason: str) -> SceneProvenance:
    """Provenance that could not be established, and why."""
    return SceneProvenance(None, None, None, None, None, None, reason)
