"""Recognise what kind of catalog a source is, from its content.

The source is read once (a folder is only looked at): the bytes go to each registered kind in
registry order — archive folder, Parquet magic, a landing page with ``conformsTo``, a static
STAC document, a FeatureCollection of footprints — and the first that recognises them opens the
source from the same bytes. ``kind=`` skips recognition.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import orjson

from eoaccess.catalog._base import KINDS, Probe, Source, SourceKind, kind
from eoaccess.catalog._errors import NotACatalogError, SourceUnreachableError
from eoaccess.catalog._io import absolute_source, local_path, read_bytes
from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.transfer import TransferConfig


def probe(source: str | os.PathLike[str], config: TransferConfig) -> Probe:
    """Read ``source`` (nothing for a local folder) so that kinds can recognise it."""
    href = absolute_source(source)
    local = local_path(href)
    if local is not None:
        if local.is_dir():
            return Probe(str(local), None, config)
        if not local.exists():
            raise NotFoundError(f"{source} does not exist")
        try:
            return Probe(str(local), local.read_bytes(), config)
        except OSError as exc:
            raise SourceUnreachableError(f"cannot read {local}: {exc.strerror or exc}") from None
    from eoaccess.transfer._engine import check_supported

    check_supported(href)
    return Probe(href, read_bytes(href, config), config)


def check_kind(name: str) -> str:
    """``name`` if it is a registered kind, else InvalidInputError listing them."""
    if name not in KINDS:
        raise InvalidInputError(f"unknown catalog kind {name!r}: use one of {', '.join(KINDS)}")
    return name


def recognise(found: Probe) -> SourceKind:
    """The first registered kind that recognises the probe."""
    for name in KINDS:
        candidate = kind(name)
        if candidate.recognise(found):
            return candidate
    raise NotACatalogError(
        f"{found.href} {_what(found)}; force the kind with --kind/kind= "
        f"({', '.join(KINDS)}) if it is one"
    )


def _what(found: Probe) -> str:
    """What the content looks like, for the error message."""
    if found.is_dir:
        return "is a folder with neither an embedded catalog (.eoaccess/) nor a catalog.json"
    data = found.json
    if data is None:
        if not (found.data or b"").strip():
            return "is empty"
        try:
            orjson.loads(found.data or b"")
        except orjson.JSONDecodeError as exc:
            return f"is not JSON ({exc}) and not Parquet"
    if isinstance(data, Mapping):
        kind_name = data.get("type")
        return f"is a JSON object of type {kind_name!r} that is no catalog eoaccess knows"
    return f"is a JSON {type(data).__name__}, not a catalog"


def open_source(
    source: str | os.PathLike[str], kind_name: str | None, config: TransferConfig
) -> Source:
    """Open one source, of the given kind or of the kind its content shows."""
    if kind_name is not None:
        check_kind(kind_name)
    found = probe(source, config)
    chosen = kind(kind_name) if kind_name is not None else recognise(found)
    return chosen.open(found)
