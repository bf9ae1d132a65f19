"""Maps of footprints: a self-contained HTML page rendered by headless Chromium, PNG images."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image
from shapely.geometry import box

from eoaccess.errors import InvalidInputError
from eoaccess.footprints import COLOURS, footprint, map_items, write_map
from eoaccess.readers import open_dataset
from tests.readers.conftest import ITSLIVE_CUBE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
RED = tuple(int(COLOURS[0][i : i + 2], 16) for i in (1, 3, 5))
BLUE = tuple(int(COLOURS[1][i : i + 2], 16) for i in (1, 3, 5))


def _items() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["a1", "a2", "b1"],
            "collection": ["alpha", "alpha", "beta"],
            "datetime": ["2024-01-01", "2024-01-02", "2024-01-03"],
        },
        geometry=[box(10, 40, 11, 41), box(11.5, 40, 12.5, 41), box(10.5, 41.5, 12, 42.5)],
        crs=4326,
    )


def _pixels_near(image: Image.Image, colour: tuple[int, ...], tolerance: int = 40) -> int:
    rgb = np.asarray(image.convert("RGB")).astype(int)
    return int((np.abs(rgb - np.array(colour)).sum(axis=2) < tolerance).sum())


def _screenshot(page: Path, tmp_path: Path) -> Image.Image:
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=800,600",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return Image.open(shot)


def test_html_map_renders_offline_in_chromium(tiny_archive: Path, tmp_path: Path) -> None:
    ds = open_dataset(tiny_archive / ITSLIVE_CUBE)
    page = write_map(footprint(ds, crs=4326), tmp_path / "cube.html", title="ITS_LIVE cube")
    text = page.read_text()
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text  # nothing to fetch: renders without a network
    assert '"type": "FeatureCollection"' in text
    image = _screenshot(page, tmp_path)
    gray = np.asarray(image.convert("L"), dtype=float)
    assert gray.std() > 10  # not a blank page
    assert _pixels_near(image, RED) > 200  # the footprint's outline is drawn


def test_map_items_colours_collections(tmp_path: Path) -> None:
    page = map_items(_items(), tmp_path / "items.html")
    text = page.read_text()
    assert text.count(f'fill="{COLOURS[0]}"') == 2 and text.count(f'fill="{COLOURS[1]}"') == 1
    assert "<title>b1</title>" in text
    image = _screenshot(page, tmp_path)
    assert _pixels_near(image, RED) > 200 and _pixels_near(image, BLUE) > 100


def test_png_map(tmp_path: Path) -> None:
    path = map_items(_items(), tmp_path / "items.png")
    image = Image.open(path)
    assert image.format == "PNG" and image.size[0] > 300
    assert np.asarray(image.convert("L"), dtype=float).std() > 10
    # filled with alpha over white: lighter than the stroke colour, but of its hue
    rgb = np.asarray(image.convert("RGB")).astype(int)
    reddish = (rgb[..., 0] > 200) & (rgb[..., 1] < 190) & (rgb[..., 2] < 190)
    assert reddish.sum() > 1000


def test_projected_footprints_are_mapped_in_lonlat(tmp_path: Path) -> None:
    native = gpd.GeoDataFrame(
        {"name": ["utm"]}, geometry=[box(500_000, 4_000_000, 600_000, 4_100_000)], crs=32610
    )
    page = write_map(native, tmp_path / "utm.html")
    text = page.read_text()
    assert "123°W" in text or "122.5°W" in text or "122°W" in text  # lon/lat graticule labels


def test_osm_basemap_writes_a_leaflet_page(tmp_path: Path) -> None:
    page = write_map(_items(), tmp_path / "osm.html", basemap="osm")
    text = page.read_text()
    assert "leaflet" in text.lower() and "openstreetmap" in text.lower()
    assert "12.5" in text  # the footprints are in the page's GeoJSON


def test_map_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"cannot write a map to x\.gif"):
        write_map(_items(), tmp_path / "x.gif")
    with pytest.raises(InvalidInputError, match="no footprints"):
        write_map(_items().iloc[:0], tmp_path / "x.html")
    with pytest.raises(InvalidInputError, match=r"for \.html maps only"):
        write_map(_items(), tmp_path / "x.png", basemap="osm")
    assert not list(tmp_path.iterdir())  # nothing half-written
