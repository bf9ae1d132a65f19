"""The fast paths of ``join_href`` give exactly what urljoin gives, on random hrefs and bases."""

from __future__ import annotations

import random
from urllib.parse import urljoin

import pytest

from eoaccess.catalog._io import is_url, join_href

_ALPHABET = "ab/.:?#;@[]%\\ \t-_~é09"
_PLAINISH = "abc/é-_~%09."
_BASES = [
    "http://h.example:8080/collections/c/items/i1",
    "https://h/a/b/",
    "https://h/",
    "http://h/a//b/c",
    "http://h/a/./b/c",
    "http://h/a/../b",
    "http://h/a/b;p",
    "http://h/a?q=1",
    "http://u@h/a/b",
    "HTTP://H/a/b",
    "http://h",
    "http://[::1]:80/a/b",
]


def _reference(base: str, href: str) -> str:
    """The general path for http(s) bases, as join_href had it before the fast paths."""
    return href if is_url(href) else urljoin(base, href)


def _random_href(rng: random.Random) -> str:
    head = rng.choice(["", "", "", "/", "./", "../", "http://x/", "https://y.z/", "s3://b/", "c:"])
    alphabet = rng.choice([_ALPHABET, _PLAINISH])  # half of them near the fast path's shape
    return head + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def test_fast_paths_equal_urljoin_on_random_inputs() -> None:
    rng = random.Random(4)
    compared = 0
    for _ in range(20_000):
        base = rng.choice(_BASES)
        href = _random_href(rng)
        try:
            expected = _reference(base, href)
        except ValueError:  # urlsplit rejects it: the fast path must not make it pass
            with pytest.raises(ValueError):
                join_href(base, href)
            continue
        assert join_href(base, href) == expected, (base, href)
        compared += 1
    assert compared > 19_000


@pytest.mark.parametrize(
    ("base", "href", "expected"),
    [
        (
            "http://h:81/collections/c/items/i",
            "c/2024/data.tif",
            "http://h:81/collections/c/items/c/2024/data.tif",
        ),
        ("http://h/a/b", "x/", "http://h/a/x/"),
        ("http://h/a/b", "https://o/p?q#f", "https://o/p?q#f"),
        ("http://h/a//b", "x", "http://h/a/x"),  # urljoin drops the empty segment
        ("http://h/a/b/", "../x", "http://h/a/x"),
        ("http://h/a/b", ".hidden", "http://h/a/.hidden"),
    ],
)
def test_join_href_examples(base: str, href: str, expected: str) -> None:
    assert join_href(base, href) == expected


def test_items_resolved_in_place_equal_absolute_item() -> None:
    """The STAC API client's in-place resolution gives what ``absolute_item`` gives."""
    import copy

    from eoaccess.catalog._items import absolute_item
    from eoaccess.catalog.stac_api import _absolute

    base = "http://h:8081/collections/c/items/i-1"
    item = {
        "type": "Feature",
        "id": "i-1",
        "properties": {},
        "assets": {
            "data": {"href": "c/2024/i-1/data.tif", "roles": ["data"]},
            "up": {"href": "../thumbs/i-1.png"},
            "abs": {"href": "https://other/x.tif"},
            "empty": {"href": ""},
            "odd": "not an object",
        },
        "links": [
            {"rel": "collection", "href": "http://h:8081/collections/c"},
            {"rel": "self", "href": base, "title": "dropped as absolute_item drops it"},
            "not a link",
            {"rel": "alternate", "href": "i-1.html", "type": "text/html"},
        ],
        "collection": "c",
    }
    expected = absolute_item(copy.deepcopy(item), base)
    resolved = _absolute(copy.deepcopy(item))
    assert resolved == expected
    assert list(resolved) == list(expected)  # same member order
    assert (
        resolved["assets"]["data"]["href"]
        == "http://h:8081/collections/c/items/c/2024/i-1/data.tif"
    )
    no_relative = copy.deepcopy(item)
    no_relative["assets"] = {"abs": {"href": "https://other/x.tif"}}
    assert _absolute(no_relative) is no_relative and no_relative["links"] == item["links"]
