"""Item checks both catalog backends apply before writing, so that they accept the same items."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eoaccess.errors import InvalidInputError
from eoaccess.query import parse_instant

FINGERPRINT_PROPERTY = "eoaccess:fingerprint"
"""The item property ingest writes its fingerprint into (see ``CatalogStore.item_fingerprints``)."""


@dataclass(frozen=True)
class CheckedItem:
    """An item that passed the checks, with what a backend indexes it by."""

    collection: str
    """Collection id."""
    id: str
    """Item id."""
    start: datetime
    """Start of the item's time range (``start_datetime`` when both ends are set, else ``datetime``)."""
    end: datetime
    """End of the item's time range."""
    fingerprint: str | None
    """``properties["eoaccess:fingerprint"]`` when it is a string."""
    stored: dict[str, Any]
    """The item as stored: as given, minus ``links`` (the server writes its own)."""


def check_item(item: Any) -> CheckedItem:
    """Check what pgstac requires of an item (id, collection, a datetime or both range ends,
    start before end) and say which item is wrong and why."""
    if not isinstance(item, Mapping):
        raise InvalidInputError(f"an item must be a JSON object, not {type(item).__name__}")
    item_id, collection = item.get("id"), item.get("collection")
    if not isinstance(item_id, str) or not item_id:
        raise InvalidInputError(f"item has no string id: {str(item)[:200]}")
    if not isinstance(collection, str) or not collection:
        raise InvalidInputError(f"item {item_id!r} has no collection")
    props = item.get("properties")
    if not isinstance(props, Mapping):
        raise InvalidInputError(f"item {item_id!r} has no properties object")
    first, last = props.get("start_datetime"), props.get("end_datetime")
    texts = (first, last) if first and last else (props.get("datetime"),) * 2
    if not texts[0]:
        raise InvalidInputError(
            f"item {item_id!r} needs a datetime, or both start_datetime and end_datetime"
        )
    try:
        start, end = (parse_instant(str(text)) for text in texts)
    except InvalidInputError as exc:
        raise InvalidInputError(f"item {item_id!r}: {exc}") from None
    if start > end:
        raise InvalidInputError(f"item {item_id!r}: start_datetime is after end_datetime")
    fingerprint = props.get(FINGERPRINT_PROPERTY)
    return CheckedItem(
        collection=collection,
        id=item_id,
        start=start,
        end=end,
        fingerprint=fingerprint if isinstance(fingerprint, str) else None,
        stored={key: value for key, value in item.items() if key != "links"},
    )
