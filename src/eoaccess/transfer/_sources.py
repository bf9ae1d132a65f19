"""Read the STAC items of a JSON source with pystac (what ``eoaccess download SOURCE`` accepts now).

A FeatureCollection/ItemCollection file, a single item, or a static catalog or collection whose
items are found by walking its links; local paths and http(s) URLs alike. This is the stop-gap
until ``open_catalog`` recognises every kind of SOURCE; the CLI calls only :func:`read_stac_items`.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from eoaccess.errors import InvalidInputError, NotFoundError


def _absolute(source: str) -> str:
    if len(urlsplit(source).scheme) > 1:
        return source
    return os.path.abspath(os.path.expanduser(source))


def read_stac_items(source: str) -> list[Any]:
    """The items of ``source`` as pystac Items (hrefs resolvable against their self links)."""
    import pystac

    href = _absolute(source)
    try:
        data = pystac.StacIO.default().read_json(href)
    except FileNotFoundError:
        raise NotFoundError(f"{source} does not exist") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{source} is a directory: give its catalog.json") from None
    except (URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise NotFoundError(f"cannot read {source}: {reason}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{source} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{source} is not a STAC object or FeatureCollection")
    try:
        if data.get("type") == "FeatureCollection":
            collection = pystac.ItemCollection.from_dict(data, preserve_dict=False)
            items = list(collection)
            for item in items:
                if item.get_self_href() is None:
                    item.set_self_href(href)  # relative hrefs are relative to the file
            return items
        stac = pystac.read_dict(data, href=href)
    except (pystac.STACError, KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"{source} is not a valid STAC object: {exc}") from None
    if isinstance(stac, pystac.Item):
        return [stac]
    if isinstance(stac, pystac.Catalog):  # collections are catalogs too
        return list(stac.get_items(recursive=True))
    raise InvalidInputError(f"{source} holds no items")
