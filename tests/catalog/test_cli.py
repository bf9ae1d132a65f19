"""``eoaccess search``, ``eoaccess collections`` and ``eoaccess download`` with search options:
output formats (GeoJSON is the machine-readable contract), enrichment, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from eoaccess.cli import main
from tests.catalog.conftest import Sources
from tests.harness.ports import free_port

KAGUYA_MONO = "kaguya_terrain_camera_monoscopic_uncontrolled_observations"
ARPS = "c3aea595-b59c-4f11-9ae2-a85b5dc68c9c"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["-q", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_geojson_is_a_feature_collection_of_stac_items(
    sources: Sources, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "search",
        sources.api,
        "--collections",
        f"{KAGUYA_MONO},{ARPS}",
        "--bbox",
        "-180,-90,180,90",
        "--sortby",
        "id",
        "--max-items",
        "6",
        "--format",
        "geojson",
    )
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["type"] == "FeatureCollection"
    wanted = sorted(i["id"] for i in sources.items if i["collection"] in (KAGUYA_MONO, ARPS))
    assert [f["id"] for f in document["features"]] == wanted[:6]
    for feature in document["features"]:
        assert feature["type"] == "Feature" and feature["stac_version"] == "1.0.0"
        assert set(feature) >= {"geometry", "properties", "assets", "links", "collection"}


def test_table_is_readable_and_matched_counts(
    sources: Sources, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "search", str(sources.archive), "--collections", "ATL03")
    ids = sorted(i["id"] for i in sources.items if i["collection"] == "ATL03")
    assert code == 0 and out.startswith(f"{len(ids)} items\n")
    assert all(f"│ {item_id} " in out for item_id in ids)
    code, out, _ = run(
        capsys, "search", sources.api, "--datetime", "2009-01-01/2009-12-31", "--matched"
    )
    assert code == 0 and out == "{}\n".format(
        sum(i["properties"].get("start_datetime", "").startswith("2009") for i in sources.items)
    )


def test_files_parquet_csv_urls(
    sources: Sources, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "arps.parquet"
    code, _, err = run(
        capsys,
        "search",
        str(sources.static),
        "--collections",
        ARPS,
        "--format",
        "parquet",
        "--output",
        str(target),
    )
    assert code == 0 and err == f"4 items written to {target}\n"
    assert sorted(pq.read_table(target).column("id").to_pylist()) == sorted(
        i["id"] for i in sources.items if i["collection"] == ARPS
    )
    code, out, _ = run(capsys, "search", str(target), "--format", "csv", "--sortby", "id")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("id,collection,datetime,") and len(lines) == 5
    assert "POLYGON ((" in lines[1]
    code, out, _ = run(capsys, "search", str(target), "--format", "urls", "--sortby", "id")
    urls = out.splitlines()
    assert code == 0 and len(urls) == 8 and all(Path(u).is_file() for u in urls)


def test_enrich_and_where_on_the_command_line(
    sources: Sources, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "search",
        sources.api,
        "--collections",
        KAGUYA_MONO,
        "--enrich",
        "caminfo_pvl:Caminfo.Geometry.IncidenceAngle=incidence_angle",
        "--enrich",
        "caminfo_pvl:Caminfo.Geometry.EmissionAngle=emission",
        "--where",
        "incidence_angle < 50 and emission >= 0",
        "--format",
        "geojson",
    )
    assert code == 0
    features = json.loads(out)["features"]
    assert features and all(f["properties"]["incidence_angle"] < 50 for f in features)
    assert all(isinstance(f["properties"]["emission"], float) for f in features)


def test_collections_command(sources: Sources, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "collections", str(sources.parquet), "--json")
    assert code == 0 and [c["id"] for c in json.loads(out)] == sorted(
        c["id"] for c in sources.collections
    )
    code, out, _ = run(capsys, "collections", sources.api)
    assert code == 0 and out.startswith(f"{len(sources.collections)} collections\n")
    assert "Kaguya Terrain Camera Monoscopic Uncontrolled Observations" in out


def test_download_takes_any_source_and_the_search_options(
    sources: Sources, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(
        capsys,
        "download",
        sources.api,
        "--collections",
        KAGUYA_MONO,
        "--ids",
        "TC1S2B0_01_05525N005E0009",
        "--assets",
        "caminfo_pvl",
        "--dest",
        str(tmp_path),
    )
    assert code == 0
    got = [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()]
    assert got == [f"{KAGUYA_MONO}/TC1S2B0_01_05525N005E0009/TC1S2B0_01_05525N005E0009.caminfo.pvl"]


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["search", "{api}", "--bbox", "0,0,1,95"], "bbox latitude 95 is outside -90..90", 2),
        (["search", "{api}", "--datetime", "2020-02-30"], "invalid date '2020-02-30'", 2),
        (["search", "{api}", "--filter", "gsd >"], "invalid CQL2 filter", 2),
        (["search", "{closed}"], "cannot connect", 1),
        (["search", "{tmp}/plain.txt"], "plain.txt is not JSON", 2),
        (["search", "{tmp}"], "is a folder with neither an embedded catalog", 2),
        (["search", "{api}", "--format", "parquet"], "give --output FILE.parquet", 2),
        (["search", "{api}", "--enrich", "nocolon"], "invalid enrich spec 'nocolon'", 2),
        (["search", "{api}", "--where", "import os"], "invalid expression", 2),
        (["search", "{api}", "--kind", "static"], "is not a static STAC catalog", 2),
        (["collections", "{tmp}/missing.json"], "missing.json does not exist", 1),
    ],
)
def test_errors_are_one_line(
    sources: Sources,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
    code: int,
) -> None:
    (tmp_path / "plain.txt").write_text("hello")
    values = {
        "api": sources.api,
        "closed": f"http://127.0.0.1:{free_port()}/",
        "tmp": str(tmp_path),
    }
    got, out, err = run(capsys, *(a.format(**values) for a in args))
    assert got == code and out == ""
    assert err.count("\n") == 1 and message in err, err
