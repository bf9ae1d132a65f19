"""Scene provenance: tag parsing, acquisition times, the dominant value, header-only reads."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from eoaccess.errors import InvalidInputError
from eoaccess.stats.provenance import (
    Dominant,
    acquisition_time,
    dominant,
    parse_scene_ids,
    provenance_tag,
    read_tags,
    resolve_scene,
)
from tests.harness.http import start_http_server
from tests.stats.archives import ArpsArchive

SEED_TAG = "PSScene/20231102_190001_45_2495[10]\nPSScene/20231102_190003_53_2495[233]\nNone[29]"  # the value seed 004 prints


def test_parse_the_seed_tag() -> None:
    assert parse_scene_ids(SEED_TAG) == {
        10: "PSScene/20231102_190001_45_2495",
        233: "PSScene/20231102_190003_53_2495",
        29: None,
    }
    assert parse_scene_ids("garbage\nPSScene/x[oops]\n") == {}
    assert provenance_tag(2) == "SCENE_IDS[LAYER_2_VALUE]"


@pytest.mark.parametrize(
    ("scene", "expected"),
    [
        ("PSScene/20231102_190003_53_2495", datetime(2023, 11, 2, 19, 0, 3, tzinfo=UTC)),
        ("PSScene/20231109_182421_1062", datetime(2023, 11, 9, 18, 24, 21, tzinfo=UTC)),
        ("20231109_182421_1062", datetime(2023, 11, 9, 18, 24, 21, tzinfo=UTC)),
        ("PSScene/20231399_182421_1062", None),  # month 13
        ("REOrthoTile/20231109_182421_1062", None),  # unknown item type: not guessed
    ],
)
def test_acquisition_times(scene: str, expected: datetime | None) -> None:
    assert acquisition_time(scene) == expected


def test_dominant_pair_counts_only_counted_pixels() -> None:
    values = np.array([10, 233, 233, 233, 10, 10, 10, 5], dtype=np.uint16)
    tiles = np.array([0, 0, 0, 0, 0, 1, 1, -1])
    counted = np.array([True, True, True, True, True, True, False, True])
    found = dominant(values, tiles, counted)
    # (0, 233) has 3 counted pixels; (0, 10) 2; (1, 10) 1; the -1 pixel had no tile.
    assert found == Dominant(0, 233, 3 / 6)
    assert dominant(values, tiles, np.zeros(8, bool)) is None
    tie = dominant(np.array([7, 3]), np.array([0, 0]), np.ones(2, bool))
    assert tie is not None and tie.value == 3  # ties: the lowest value
    with pytest.raises(InvalidInputError, match="integer"):
        dominant(np.array([1.5]), np.array([0]), np.ones(1, bool))


def test_resolve_known_unknown_and_none_values() -> None:
    tags = {provenance_tag(2): SEED_TAG}
    known = resolve_scene(tags, 2, Dominant(0, 233, 0.5), "item", "tile")
    assert (known.scene_id, known.acquired, known.note) == (
        "20231102_190003_53_2495",
        datetime(2023, 11, 2, 19, 0, 3, tzinfo=UTC),
        None,
    )
    unknown = resolve_scene(tags, 2, Dominant(0, 202, 0.5), "item", "tile")
    assert unknown.scene_id is None and unknown.acquired is None
    assert unknown.note == "value 202 is not listed in SCENE_IDS[LAYER_2_VALUE] of tile item"
    none = resolve_scene(tags, 2, Dominant(0, 29, 0.5), "item", "tile")
    assert none.scene_id is None and "listed as None" in (none.note or "")
    untagged = resolve_scene({}, 2, Dominant(0, 29, 0.5), "item", "tile")
    assert untagged.note == "tile item has no SCENE_IDS[LAYER_2_VALUE] tag"


def test_tags_come_from_one_header_range_read(arps_tiny: ArpsArchive) -> None:
    tile = arps_tiny.tiles[0]
    size = tile["additionalData"]["filesMetadata"]["analysis_ready_ps_qa"]["headerSize"]
    folder = Path(tile["path"]).parent
    server = start_http_server(arps_tiny.product)
    try:
        path = f"/{folder}/analysis_ready_ps_qa.tif"
        tags = read_tags(f"{server.url}{path}", size)
        assert [(r.method, r.range) for r in server.requests_for(path)] == [
            ("GET", f"bytes=0-{size - 1}")
        ]
    finally:
        server.stop()
    scenes = parse_scene_ids(tags[provenance_tag(2)])
    assert scenes and all(v is None or v.startswith("PSScene/") for v in scenes.values())
    assert tags["PIPELINE_VERSION"] == "1.0.0"
