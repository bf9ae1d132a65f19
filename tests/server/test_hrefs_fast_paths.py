"""The fast paths of :mod:`eoaccess.server.hrefs` give exactly what urllib gives."""

from __future__ import annotations

import random
import string
from urllib.parse import quote, urlsplit

import pytest

from eoaccess.server.hrefs import Hrefs, _has_scheme, _quote

CHARS = string.printable + "é/:+.-~ \t\n\x00["
PREFIXES = ("", "s3:", "http://", " h:", "\th", "a+b.c-d:", "1a:", "C:")


def test_scheme_detection_and_quoting_equal_urllib() -> None:
    rng = random.Random(7)
    checked = 0
    for _ in range(3000):
        tail = "".join(rng.choice(CHARS) for _ in range(rng.randint(0, 12)))
        for prefix in PREFIXES:
            text = prefix + tail
            assert _quote(text) == quote(text, safe="")
            assert _quote(text, "/") == quote(text, safe="/")
            try:
                expected = bool(urlsplit(text).scheme)
            except ValueError:  # urllib refuses some URLs; the fast path just sees a scheme
                continue
            assert _has_scheme(text) == expected, repr(text)
            checked += 1
    assert checked > 20_000


@pytest.mark.parametrize(
    ("href", "published"),
    [
        ("kaguya/a b/x.tif", "http://h/files/kaguya/a%20b/x.tif"),
        ("s3://bucket/x.tif", "s3://bucket/x.tif"),
        (" https://x/y", " https://x/y"),
        ("../escape.tif", "../escape.tif"),
    ],
)
def test_asset_hrefs(href: str, published: str) -> None:
    assert Hrefs("http://h/").asset_href(href) == published


def test_item_links_quote_ids() -> None:
    item = {"id": "a/b c", "collection": "c 1", "assets": {}, "links": []}
    links = Hrefs("http://h/").item(item)["links"]
    assert [link["href"] for link in links] == [
        "http://h/collections/c%201/items/a%2Fb%20c",
        "http://h/collections/c%201",
        "http://h/collections/c%201",
        "http://h/",
    ]
