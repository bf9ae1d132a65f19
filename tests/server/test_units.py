"""The server's pure parts, without a server: parameters, proxy headers, hrefs, file paths."""

from __future__ import annotations

import pytest
from stac_api_validator.validations import invalid_datetimes, valid_datetimes

import eoaccess.server
from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.query import MAX_LIMIT, Interval
from eoaccess.server.files import clean_archive_path, media_type
from eoaccess.server.hrefs import Hrefs, archive_relative
from eoaccess.server.params import (
    check_rfc3339_interval,
    parse_server_limit,
    query_from_params,
)
from eoaccess.server.proxy import ForwardedOrigin, forwarded_origin
from eoaccess.server.stac import summary_schema


def test_public_names() -> None:
    assert eoaccess.server.__all__ == [
        "RunningServer",
        "ServerSettings",
        "create_app",
        "serve_forever",
        "start_in_thread",
    ]


@pytest.mark.parametrize("text", valid_datetimes)
def test_rfc3339_accepts_what_the_spec_allows(text: str) -> None:
    query = query_from_params({"datetime": text})
    assert isinstance(query.datetime, Interval)


@pytest.mark.parametrize("text", invalid_datetimes)
def test_rfc3339_rejects_what_the_spec_forbids(text: str) -> None:
    with pytest.raises(InvalidInputError):
        query_from_params({"datetime": text})


def test_rfc3339_interval_shapes() -> None:
    assert check_rfc3339_interval("2020-01-01T00:00:00Z/..") == "2020-01-01T00:00:00Z/.."
    with pytest.raises(InvalidInputError, match="more than one '/'"):
        check_rfc3339_interval("a/b/c")


def test_query_from_get_and_post_agree() -> None:
    get = query_from_params(
        {
            "collections": "a,b",
            "bbox": "1,2,3,4",
            "datetime": "2020-01-01T00:00:00Z/..",
            "filter": "gsd > 5",
            "sortby": "-datetime",
            "fields": "id,-assets",
            "limit": "20",
        }
    )
    post = query_from_params(
        {
            "collections": ["a", "b"],
            "bbox": [1, 2, 3, 4],
            "datetime": "2020-01-01T00:00:00Z/..",
            "filter": {"op": ">", "args": [{"property": "gsd"}, 5]},
            "sortby": [{"field": "datetime", "direction": "desc"}],
            "fields": {"include": ["id"], "exclude": ["assets"]},
            "limit": 20,
        },
        body=True,
    )
    assert get == post
    assert get.limit == 20 and get.bbox == (1.0, 2.0, 3.0, 4.0)


def test_limit_is_capped_not_refused() -> None:
    assert parse_server_limit("10001") == MAX_LIMIT
    assert parse_server_limit(10**12) == MAX_LIMIT
    assert parse_server_limit("7") == 7
    with pytest.raises(InvalidInputError):
        parse_server_limit("-5")


def test_collection_route_fixes_the_collection() -> None:
    assert query_from_params({"collections": "other"}, collection="mine").collections == ("mine",)


@pytest.mark.parametrize(
    ("headers", "origin"),
    [
        ({}, ForwardedOrigin()),
        (
            {"x-forwarded-proto": "https", "x-forwarded-host": "a.example.org, proxy.internal"},
            ForwardedOrigin("https", "a.example.org", None),
        ),
        (
            {"x-forwarded-host": "a.example.org", "x-forwarded-port": "8080"},
            ForwardedOrigin(None, "a.example.org:8080", None),
        ),
        (
            {"x-forwarded-proto": "https", "x-forwarded-host": "a.example.org:443"},
            ForwardedOrigin("https", "a.example.org", None),
        ),
        ({"x-forwarded-prefix": "stac/v1/"}, ForwardedOrigin(None, None, "/stac/v1")),
        ({"x-forwarded-prefix": "/"}, ForwardedOrigin()),
        ({"x-forwarded-prefix": "/a b"}, ForwardedOrigin()),
        (
            {"forwarded": 'for=1.2.3.4;host="[2001:db8::1]:8443";proto=HTTPS'},
            ForwardedOrigin("https", "[2001:db8::1]:8443", None),
        ),
        ({"x-forwarded-host": "a.example.org/path"}, ForwardedOrigin()),
        ({"x-forwarded-proto": "ftp"}, ForwardedOrigin()),
    ],
)
def test_forwarded_origin(headers: dict[str, str], origin: ForwardedOrigin) -> None:
    assert forwarded_origin(headers) == origin


def test_hrefs() -> None:
    hrefs = Hrefs("https://h.example/stac/")
    assert hrefs.url("collections", "a b/c") == "https://h.example/stac/collections/a%20b%2Fc"
    assert hrefs.asset_href("./x/y z.tif") == "https://h.example/stac/files/x/y%20z.tif"
    assert hrefs.asset_href("s3://bucket/key.tif") == "s3://bucket/key.tif"
    assert hrefs.asset_href("/abs/path.tif") == "/abs/path.tif"
    assert archive_relative("../outside.tif") is None
    assert archive_relative("a/../b.tif") == "b.tif"


def test_clean_archive_path() -> None:
    assert clean_archive_path("a//b/c.tif") == "a/b/c.tif"
    assert clean_archive_path("") == ""
    for bad in ("..", "a/../b", "./a", ".eoaccess/x", "a\\b", "a\x00"):
        with pytest.raises(NotFoundError):
            clean_archive_path(bad)


def test_media_types() -> None:
    assert media_type("x.TIF") == "image/tiff"
    assert media_type(".zmetadata") == "application/json"
    assert media_type("ATL03_x.h5") == "application/x-hdf5"
    assert media_type("blob.unknownext") == "application/octet-stream"


def test_summary_schema() -> None:
    assert summary_schema({"minimum": 1, "maximum": 5}) == {"type": "integer"}
    assert summary_schema({"minimum": 0.5, "maximum": 5}) == {"type": "number"}
    assert summary_schema(["b", "a", "b"]) == {"type": "string", "enum": ["a", "b"]}
    assert summary_schema([1, "a"]) == {}
    assert summary_schema([True]) == {"type": "boolean"}


def test_draft_cql2_between_is_accepted() -> None:
    """stac-api-validator (and older clients) send ``between(x, [a, b])``."""
    from eoaccess.query import parse_filter

    draft = {"op": "not", "args": [{"op": "between", "args": [{"property": "gsd"}, [0, 50]]}]}
    assert parse_filter(draft) == {
        "op": "not",
        "args": [{"op": "between", "args": [{"property": "gsd"}, 0.0, 50.0]}],
    }
