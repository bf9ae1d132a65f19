"""Planning: input shapes, asset selection, layouts, href resolution and checksums."""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path
from typing import Any

import pystac
import pytest

import eoaccess.transfer as transfer
from eoaccess.errors import InvalidInputError
from eoaccess.transfer import Checksum, DownloadJob, parse_multihash, plan_downloads
from eoaccess.transfer._checksum import multihash_hex
from eoaccess.transfer._plan import resolve_href

ITEM: dict[str, Any] = {
    "type": "Feature",
    "stac_version": "1.0.0",
    "id": "TC1S2B0_01_05524N012E0019",
    "collection": "kaguya_monoscopic",
    "geometry": None,
    "properties": {"datetime": "2008-01-01T00:00:00Z"},
    "links": [{"rel": "self", "href": "https://stac.example/moon/items/TC1/item.json"}],
    "assets": {
        "image": {
            "href": "./TC1.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "roles": ["data"],
            "file:size": 1234,
            "file:checksum": "1220" + "ab" * 32,
        },
        "thumbnail": {"href": "../thumbs/TC1.jpg", "type": "image/jpeg", "roles": ["thumbnail"]},
        "caminfo_pvl": {"href": "s3://astrogeo-ard/moon/TC1.caminfo.pvl", "roles": ["metadata"]},
    },
}


def test_default_layout_and_relative_hrefs() -> None:
    jobs = plan_downloads(ITEM)
    assert jobs == [
        DownloadJob(
            url="https://stac.example/moon/items/TC1/TC1.tif",
            path="kaguya_monoscopic/TC1S2B0_01_05524N012E0019/TC1.tif",
            size=1234,
            checksum=Checksum("sha256", bytes.fromhex("ab" * 32)),
            collection="kaguya_monoscopic",
            item="TC1S2B0_01_05524N012E0019",
            asset="image",
        ),
        DownloadJob(
            url="https://stac.example/moon/items/thumbs/TC1.jpg",
            path="kaguya_monoscopic/TC1S2B0_01_05524N012E0019/TC1.jpg",
            collection="kaguya_monoscopic",
            item="TC1S2B0_01_05524N012E0019",
            asset="thumbnail",
        ),
        DownloadJob(
            url="s3://astrogeo-ard/moon/TC1.caminfo.pvl",
            path="kaguya_monoscopic/TC1S2B0_01_05524N012E0019/TC1.caminfo.pvl",
            collection="kaguya_monoscopic",
            item="TC1S2B0_01_05524N012E0019",
            asset="caminfo_pvl",
        ),
    ]


@pytest.mark.parametrize(
    ("selection", "keys"),
    [
        ({"assets": "image,caminfo_pvl"}, ["image", "caminfo_pvl"]),
        ({"assets": ["thumbnail"]}, ["thumbnail"]),
        ({"roles": "metadata"}, ["caminfo_pvl"]),
        ({"media_types": "image/tiff"}, ["image"]),
        ({"media_types": ["image/jpeg", "image/tiff"]}, ["image", "thumbnail"]),
        ({"assets": "image", "roles": "thumbnail"}, []),
    ],
)
def test_asset_selection(selection: dict[str, Any], keys: list[str]) -> None:
    assert [j.asset for j in plan_downloads([ITEM], **selection)] == keys


def test_layout_fields() -> None:
    (job,) = plan_downloads(ITEM, assets="image", layout="{item}/{asset}{ext}")
    assert job.path == "TC1S2B0_01_05524N012E0019/image.tif"
    (job,) = plan_downloads(ITEM, assets="image", layout="{collection}-{stem}")
    assert job.path == "kaguya_monoscopic-TC1"
    with pytest.raises(InvalidInputError, match=r"unknown field \{date\}"):
        plan_downloads(ITEM, layout="{date}/{filename}")
    with pytest.raises(InvalidInputError, match="has no field"):
        plan_downloads(ITEM, layout="all-in-one")


def test_input_shapes_agree(tmp_path: Path) -> None:
    expected = [j.url for j in plan_downloads(ITEM)]
    item = pystac.Item.from_dict(ITEM)
    fc = {"type": "FeatureCollection", "features": [ITEM]}

    class Search:
        def items(self) -> list[pystac.Item]:
            return [item]

    for source in (item, [item], fc, pystac.ItemCollection([item]), Search(), (ITEM,)):
        assert [j.url for j in plan_downloads(source)] == expected
    asset_jobs = plan_downloads(item.assets["image"])
    assert [(j.url, j.asset) for j in asset_jobs] == [(expected[0], "image")]
    assert plan_downloads([("http://h/a.tif", "x/a.tif")]) == [
        DownloadJob(url="http://h/a.tif", path="x/a.tif")
    ]
    with pytest.raises(InvalidInputError, match="without assets"):
        plan_downloads({"type": "Catalog", "id": "c"})
    with pytest.raises(InvalidInputError, match="cannot download from a int"):
        plan_downloads(3)


def test_hrefs_resolve_against_urls_and_paths() -> None:
    assert resolve_href("a.tif", "http://h/x/item.json") == "http://h/x/a.tif"
    assert resolve_href("/abs/a.tif", "http://h/x/item.json") == "http://h/abs/a.tif"
    assert resolve_href("../a.tif", "/data/cat/x/item.json") == "/data/cat/a.tif"
    assert resolve_href("s3://b/k", "http://h/item.json") == "s3://b/k"
    assert resolve_href("a.tif", None) == "a.tif"


def test_items_without_collection_or_unsafe_paths() -> None:
    bare = {"type": "Feature", "id": "x", "assets": {"a": {"href": "http://h/f.bin"}}}
    assert plan_downloads(bare)[0].path == "no-collection/x/f.bin"
    sneaky = {
        "type": "Feature",
        "id": "..",
        "collection": "..",
        "assets": {"a": {"href": "http://h/.."}},
    }
    with pytest.raises(InvalidInputError, match="relative path inside"):
        plan_downloads(sneaky)
    with pytest.raises(InvalidInputError, match="file:size"):
        plan_downloads(
            {
                "type": "Feature",
                "id": "x",
                "assets": {"a": {"href": "http://h/f", "file:size": "12"}},
            }
        )


def test_multihash_parsing() -> None:
    digest = hashlib.sha256(b"x").digest()
    assert parse_multihash("1220" + digest.hex()) == Checksum("sha256", digest)
    md5 = hashlib.md5(b"x").digest()
    assert parse_multihash("d50110" + md5.hex()) == Checksum("md5", md5)
    assert parse_multihash("d510" + md5.hex()) == Checksum("md5", md5)  # common unencoded form
    assert multihash_hex("sha512", b"\x01" * 64).startswith("1340")
    for bad, why in [
        ("12", "not a hex multihash"),
        ("zz", "not a hex multihash"),
        ("1221" + "00" * 32, "says 33 digest bytes"),
        ("9901" + "00", "unsupported"),
    ]:
        with pytest.raises(InvalidInputError, match=why):
            parse_multihash(bad)


def test_public_api_is_what_we_export() -> None:
    assert set(transfer.__all__) == {
        "DEFAULT_LAYOUT",
        "Backend",
        "Body",
        "Checksum",
        "ConnectError",
        "ConnectionLostError",
        "CredentialProvider",
        "DownloadFailedError",
        "DownloadJob",
        "DownloadResult",
        "FetchOutcome",
        "FileResult",
        "LocalWriteError",
        "PartWriter",
        "RemoteChangedError",
        "RemoteError",
        "RemoteMeta",
        "RemoteNotFoundError",
        "RetryPolicy",
        "S3Credentials",
        "S3Options",
        "StallError",
        "TransferConfig",
        "TransferEngine",
        "TransferError",
        "VerificationError",
        "download",
        "download_async",
        "export_list",
        "exporters",
        "parse_multihash",
        "plan_downloads",
        "read_header",
        "read_header_async",
        "read_manifest",
        "read_range",
        "read_range_async",
        "register_backend",
        "register_exporter",
        "write_manifest",
    }
    from eoaccess.errors import EOAccessError

    for name in transfer.__all__:
        value = getattr(transfer, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, EOAccessError) and value.__doc__
        elif inspect.isfunction(value) or inspect.isclass(value):
            assert value.__doc__, name
