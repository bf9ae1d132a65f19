"""Harmony requests as values, and their wire encoding (the one harmony-py produces).

A :class:`SubsetJobRequest` is converted once, at the boundary, from whatever the caller has
(``"W,S,E,N"`` text or numbers, ``"start/end"`` text or datetimes). :func:`rangeset_fields` turns
it into the ordered ``(name, value)`` pairs Harmony reads: ``forceAsync``, the ``subset`` axes,
then the other parameters in harmony-py's order. The same pairs are a multipart POST body, a
``GET`` query string (:func:`as_url`) or a curl command (:func:`as_curl`), so the three cannot
disagree. Keeping harmony-py's order and number formatting lets a test compare our URL with
harmony-py's character for character.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from eoaccess.errors import InvalidInputError
from eoaccess.query import parse_bbox, parse_datetime

RANGESET_PATH = "ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset"
"""Path below ``{root}/{collection}/`` of the OGC API Coverages rangeset endpoint."""

MASK = "*****"
"""What credentials are replaced with wherever a request is shown."""

Number = int | float


@dataclass(frozen=True)
class DimensionRange:
    """A subset along a named dimension (``subset=lev(10:20)``); None is an open end."""

    name: str
    """Dimension name in the data."""
    min: Number | None = None
    """Lower bound, or None for open."""
    max: Number | None = None
    """Upper bound, or None for open."""


@dataclass(frozen=True)
class SubsetJobRequest:
    """One asynchronous subsetting job: which collection, where, when, and what to keep."""

    collection: str
    """Collection id (or short name, which our server also accepts)."""
    bbox: tuple[Number, Number, Number, Number] | None = None
    """West, south, east, north in degrees; numbers keep their type so ``41.0`` stays ``41.0``."""
    start: datetime | None = None
    """Start of the time range (UTC; sent as naive ISO like harmony-py), None for open."""
    stop: datetime | None = None
    """End of the time range, None for open."""
    variables: tuple[str, ...] = ("all",)
    """Variables to keep; ``all`` keeps every variable."""
    granule_ids: tuple[str, ...] = ()
    """Only these granules (item ids)."""
    max_results: int | None = None
    """At most this many input granules."""
    labels: tuple[str, ...] = ()
    """Job labels, to find the job again with ``jobs(label=…)``."""
    crs: str | None = None
    """Output CRS (``outputcrs``), for services that reproject."""
    format: str | None = None
    """Output media type."""
    dimensions: tuple[DimensionRange, ...] = ()
    """Subsets along other dimensions."""
    width: int | None = None
    """Output columns, for services that resample."""
    height: int | None = None
    """Output rows."""
    destination_url: str | None = None
    """An ``s3://`` location the service should write the results to."""
    concatenate: bool | None = None
    """Ask for one concatenated output."""
    skip_preview: bool | None = None
    """Run a large job to the end instead of pausing after a preview batch."""
    ignore_errors: bool | None = None
    """Keep going when single granules fail (``complete_with_errors``)."""
    extra: tuple[tuple[str, str], ...] = field(default=())
    """Further parameters sent as given, after the known ones."""

    def __post_init__(self) -> None:
        if not self.collection or "/" in self.collection:
            raise InvalidInputError(f"invalid collection {self.collection!r}")
        if self.start is not None and self.stop is not None and self.start > self.stop:
            raise InvalidInputError("the time range's start is after its stop")
        if self.max_results is not None and self.max_results < 1:
            raise InvalidInputError(f"max_results must be >= 1, got {self.max_results}")
        if self.destination_url is not None and not self.destination_url.startswith("s3://"):
            raise InvalidInputError("destination_url must be an s3:// location")
        for dim in self.dimensions:
            if dim.min is not None and dim.max is not None and dim.min > dim.max:
                raise InvalidInputError(f"dimension {dim.name}: min is greater than max")

    @classmethod
    def of(
        cls,
        collection: str,
        *,
        bbox: str | Sequence[Number] | None = None,
        datetime: str | Sequence[Any] | None = None,
        variables: str | Iterable[str] | None = None,
        granule_ids: str | Iterable[str] | None = None,
        labels: str | Iterable[str] | None = None,
        **options: Any,
    ) -> SubsetJobRequest:
        """Build a request from loose inputs: ``"W,S,E,N"`` or numbers, ``"start/end"`` text or
        a (start, end) pair, comma-separated names or lists; other fields pass through."""
        start = stop = None
        if datetime is not None:
            interval = parse_datetime(datetime)
            start, stop = interval.start, interval.end
        return cls(
            collection,
            bbox=_bbox(bbox),
            start=start,
            stop=stop,
            variables=_names(variables) or ("all",),
            granule_ids=_names(granule_ids),
            labels=_names(labels),
            **options,
        )


@dataclass(frozen=True)
class CapabilitiesQuery:
    """A capabilities request: by collection id or by short name (exactly one)."""

    collection_id: str | None = None
    """Collection (concept) id."""
    short_name: str | None = None
    """Collection short name, e.g. ``ATL03``."""
    version: str | None = None
    """Capabilities version (``2``); None lets the server choose."""

    def __post_init__(self) -> None:
        if (self.collection_id is None) == (self.short_name is None):
            raise InvalidInputError("give exactly one of collection_id and short_name")

    def params(self) -> list[tuple[str, str]]:
        """Query parameters in harmony-py's order."""
        pairs = [("collectionid", self.collection_id), ("shortname", self.short_name)]
        pairs.append(("version", self.version))
        return [(k, v) for k, v in pairs if v is not None]


def _bbox(value: str | Sequence[Number] | None) -> tuple[Number, Number, Number, Number] | None:
    """Validate a bbox but keep the caller's numbers (ints stay ints, as harmony-py prints them)."""
    if value is None:
        return None
    parse_bbox(value)  # range and order checks with the project's messages
    if isinstance(value, str):
        return tuple(_parse_number(p) for p in value.replace(" ", "").split(",") if p)  # type: ignore[return-value]
    return tuple(value)  # type: ignore[return-value]


def _parse_number(text: str) -> Number:
    """``40`` → 40 and ``41.0`` → 41.0, so the request shows the numbers as the user wrote them."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def _names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    return tuple(s.strip() for s in items if s and s.strip())


def _naive_iso(value: datetime) -> str:
    """Harmony's time subset form: ISO 8601 without an offset, in UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


def _bound(value: Number | None) -> str:
    return "*" if value is None else str(value)


def subset_axes(request: SubsetJobRequest) -> list[str]:
    """The ``subset`` values: ``lat(s:n)``, ``lon(w:e)``, ``time("a":"b")``, dimensions."""
    axes: list[str] = []
    if request.bbox is not None:
        west, south, east, north = request.bbox
        axes += [f"lat({south}:{north})", f"lon({west}:{east})"]
    if request.start is not None or request.stop is not None:
        start = f'"{_naive_iso(request.start)}"' if request.start is not None else "*"
        stop = f'"{_naive_iso(request.stop)}"' if request.stop is not None else "*"
        axes.append(f"time({start}:{stop})")
    axes += [f"{d.name}({_bound(d.min)}:{_bound(d.max)})" for d in request.dimensions]
    return axes


def _flag(value: bool | None) -> str | None:
    return None if value is None else str(value).lower()


def rangeset_fields(request: SubsetJobRequest, *, multipart: bool) -> list[tuple[str, str]]:
    """The request's parameters as ordered pairs; repeated names are repeated pairs.

    In a multipart body all granule ids share one part (comma-separated), as harmony-py sends
    them to keep the number of parts small; in a URL each is its own ``granuleId``.
    """
    pairs: list[tuple[str, str | None]] = [("forceAsync", "true")]
    pairs += [("subset", axis) for axis in subset_axes(request)]
    pairs += [("outputcrs", request.crs), ("destinationUrl", request.destination_url)]
    if request.granule_ids:
        if multipart:
            pairs.append(("granuleId", ",".join(request.granule_ids)))
        else:
            pairs += [("granuleId", g) for g in request.granule_ids]
    pairs += [
        ("width", None if request.width is None else str(request.width)),
        ("height", None if request.height is None else str(request.height)),
        ("format", request.format),
        ("maxResults", None if request.max_results is None else str(request.max_results)),
        ("concatenate", _flag(request.concatenate)),
        ("skipPreview", _flag(request.skip_preview)),
        ("ignoreErrors", _flag(request.ignore_errors)),
    ]
    pairs += [("variable", v) for v in request.variables]
    pairs += [("label", label) for label in request.labels]
    pairs += list(request.extra)
    return [(k, v) for k, v in pairs if v is not None]


def rangeset_url(root: str, collection: str) -> str:
    """The rangeset endpoint of ``collection`` below the service root."""
    return f"{root.rstrip('/')}/{collection}/{RANGESET_PATH}"


def as_url(url: str, params: Sequence[tuple[str, str]]) -> str:
    """``url`` with ``params`` as a query string (form encoding, like a browser or requests)."""
    return f"{url}?{urlencode(list(params))}" if params else url


def as_curl(
    method: str,
    url: str,
    *,
    form: Sequence[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> str:
    """A curl command for the request; the Authorization header is masked as ``*****``.

    Form fields use ``--form-string`` so values starting with ``@`` or ``<`` are not read as file
    names by curl.
    """
    parts = ["curl", "-X", method]
    for name, value in (headers or {}).items():
        shown = MASK if name.lower() in ("authorization", "cookie") else value
        parts += ["-H", f"{name}: {shown}"]
    for name, value in form:
        parts += ["--form-string", f"{name}={value}"]
    parts.append(url)
    return " ".join(shlex.quote(p) for p in parts)
