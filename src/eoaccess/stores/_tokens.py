"""Opaque paging tokens shared by the catalog backends: base64url JSON that names its query."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

import orjson

from eoaccess.errors import InvalidInputError
from eoaccess.query import Query


def query_identity(query: Query) -> str:
    """A short hash of everything that selects and orders items (not the page size or fields),
    so a token is only ever used with the search that produced it."""
    parts = {
        "collections": query.collections,
        "ids": query.ids,
        "bbox": query.bbox,
        "intersects": query.intersects,
        "datetime": query.datetime.to_text() if query.datetime else None,
        "filter": query.filter,
        "sortby": [(s.field, s.descending) for s in query.sortby],
    }
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def encode_token(identity: str, state: dict[str, Any]) -> str:
    """A token carrying backend ``state`` for the query with ``identity``."""
    payload = {"v": 1, "q": identity, **state}
    return base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()


def decode_token(token: str, identity: str) -> dict[str, Any]:
    """The state in ``token``; InvalidInputError if it is malformed or from another query."""
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        payload = None
    if not isinstance(payload, dict) or payload.get("v") != 1:
        raise InvalidInputError("invalid paging token: start the search again")
    if payload.get("q") != identity:
        raise InvalidInputError(
            "this paging token belongs to a different search: repeat the same query with it"
        )
    return payload
