"""Serve the JSON-schema look-ups of stac-api-validator and pystac from local copies.

stac-api-validator (through stac-validator and stac-check) and pystac fetch the STAC and GeoJSON
schemas from the internet, which these machines cannot reach. While :func:`offline_schemas` is
active, those fetches are answered from pystac's bundled schema cache (STAC v1.1.0 and GeoJSON)
and from the STAC v1.0.0 core and GeoJSON schemas shipped in ``shared/schemas``. Any other
schema URL — in practice an extension schema such as projection's — fails at once, without
touching the network, and is recorded in :attr:`SchemaLookups.missing` so that the tests can keep
"schema not available offline" apart from real validation errors. Loopback URLs (our server)
are fetched for real.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.harness.network import is_loopback

_STAC_V1 = "https://schemas.stacspec.org/v1.0.0"
_ITEM_PARTS = ("item", "basics", "datetime", "instrument", "licensing", "provider")


def shared_schemas_dir() -> Path:
    """The STAC and GeoJSON schemas of ``shared/`` (see tests.shared_paths)."""
    from tests.shared_paths import SCHEMAS

    return SCHEMAS


def local_schema_map() -> dict[str, dict[str, Any]]:
    """Schema URL -> schema document, for every schema available offline."""
    from pystac.validation.local_validator import get_local_schema_cache

    schemas = dict(get_local_schema_cache())
    root = shared_schemas_dir()
    v1 = root / "v1.0.0"
    for name in _ITEM_PARTS:
        schemas[f"{_STAC_V1}/item-spec/json-schema/{name}.json"] = _load(v1 / f"{name}.json")
    schemas[f"{_STAC_V1}/collection-spec/json-schema/collection.json"] = _load(
        v1 / "collection.json"
    )
    schemas[f"{_STAC_V1}/catalog-spec/json-schema/catalog.json"] = _load(v1 / "catalog.json")
    for name in ("Feature", "Geometry"):
        schemas[f"https://geojson.org/schema/{name}.json"] = _load(root / f"{name}.json")
    return schemas


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


class SchemaUnavailableOffline(OSError):
    """A schema URL that is neither bundled nor on loopback."""


@dataclass
class SchemaLookups:
    """What the validators asked for while offline."""

    served: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)


def _normalise(url: str) -> str:
    return url.split("#", 1)[0]


@contextlib.contextmanager
def offline_schemas() -> Iterator[SchemaLookups]:
    """Patch stac-validator's and pystac's schema fetching for the duration of the block."""
    import pystac.validation
    from pystac.validation.stac_validator import GetSchemaError, JsonSchemaSTACValidator
    from stac_validator import utilities

    local = local_schema_map()
    lookups = SchemaLookups()
    original_fetch = utilities.fetch_and_parse_file

    def fetch(input_path: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
        url = _normalise(input_path)
        if url in local:
            lookups.served.add(url)
            return json.loads(json.dumps(local[url]))
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and not is_loopback(parts.hostname or ""):
            lookups.missing.add(url)
            raise SchemaUnavailableOffline(f"schema not available offline: {url}")
        return original_fetch(input_path, headers)  # type: ignore[no-any-return]

    class OfflineValidator(JsonSchemaSTACValidator):
        def __init__(self) -> None:
            super().__init__()
            self.schema_cache.update(local)

        def _get_schema(self, schema_uri: str) -> dict[str, Any]:
            url = _normalise(schema_uri)
            if url in self.schema_cache:
                lookups.served.add(url)
                return self.schema_cache[url]
            lookups.missing.add(url)
            raise GetSchemaError(url, SchemaUnavailableOffline(url))

    utilities.fetch_and_parse_file = fetch
    utilities._schema_cache.cache_clear()
    previous = pystac.validation.RegisteredValidator.get_validator()
    pystac.validation.set_validator(OfflineValidator())
    try:
        yield lookups
    finally:
        utilities.fetch_and_parse_file = original_fetch
        utilities._schema_cache.cache_clear()
        pystac.validation.set_validator(previous)


# --- the validator command -------------------------------------------------------------

VALIDATED_CLASSES = ("core", "collections", "features", "item-search", "filter")
LUNAR_AREA = {
    "type": "Polygon",
    "coordinates": [[[10, -5], [12, -5], [12, -3], [10, -3], [10, -5]]],
}


def run_validator(
    url: str, collection: str, classes: tuple[str, ...] = VALIDATED_CLASSES
) -> tuple[str, list[str], set[str]]:
    """Run the stac-api-validator command offline; return its output, error lines and the
    schema URLs it could not get offline."""
    import pytest
    from click.testing import CliRunner
    from stac_api_validator.__main__ import main

    if not shared_schemas_dir().exists():
        pytest.skip(f"STAC schemas not found at {shared_schemas_dir()}")

    args = ["--root-url", url, "--collection", collection, "--geometry", json.dumps(LUNAR_AREA)]
    for name in classes:
        args += ["--conformance", name]
    with offline_schemas() as lookups:
        result = CliRunner().invoke(main, args, catch_exceptions=False)
    output = result.output
    errors = output.split("\nErrors:", 1)[1].splitlines()[1:] if "\nErrors:\n" in output else []
    return output, [e for e in errors if e.startswith("- ")], lookups.missing
