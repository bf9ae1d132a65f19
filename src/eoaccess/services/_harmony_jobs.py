"""Harmony job JSON as immutable values (pydantic-free: the shapes are small and fixed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eoaccess.errors import EOAccessError

TERMINAL_STATUSES = frozenset({"successful", "failed", "canceled", "complete_with_errors"})
"""Statuses a job never leaves."""
WAIT_STOPS = TERMINAL_STATUSES | {"paused"}
"""Statuses where waiting ends: nothing changes until the user resumes a paused job."""


class ServiceResponseError(EOAccessError):
    """The service answered with JSON that is not a Harmony job: check the service URL."""

    http_status = 502


@dataclass(frozen=True)
class JobLink:
    """One link of a job: a result file (``rel=data``), the next page, the results catalog."""

    href: str
    """Where it points (https://… or s3://…)."""
    rel: str
    """``data``, ``next``, ``self``, ``stac-catalog-json``…"""
    type: str | None = None
    """Media type."""
    title: str | None = None
    """File name or description."""
    bbox: tuple[float, ...] | None = None
    """West, south, east, north of the data (result files)."""
    temporal: tuple[str | None, str | None] | None = None
    """Start and end of the data (result files)."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JobLink:
        """Read one entry of a job's ``links``."""
        temporal = data.get("temporal")
        bbox = data.get("bbox")
        return cls(
            href=str(data["href"]),
            rel=str(data.get("rel", "")),
            type=data.get("type"),
            title=data.get("title"),
            bbox=tuple(float(v) for v in bbox) if bbox else None,
            temporal=(temporal.get("start"), temporal.get("end")) if temporal else None,
        )


@dataclass(frozen=True)
class JobError:
    """A granule that failed in a job that went on (``complete_with_errors``)."""

    url: str
    """The input granule."""
    message: str
    """Why it failed."""


@dataclass(frozen=True)
class Job:
    """A Harmony job as ``GET /jobs/{id}`` describes it."""

    id: str
    """The job id (``jobID``)."""
    status: str
    """accepted, running, running_with_errors, previewing, paused, successful, failed,
    canceled or complete_with_errors."""
    message: str
    """The service's human-readable state."""
    progress: int
    """Percent of granules done."""
    created_at: str
    """ISO time the job was created."""
    updated_at: str
    """ISO time of the last change."""
    request: str
    """The request URL the job was made from."""
    num_input_granules: int
    """Granules the request matched (after maxResults)."""
    labels: tuple[str, ...] = ()
    """Labels given at submission."""
    data_expiration: str | None = None
    """When the results are removed."""
    errors: tuple[JobError, ...] = ()
    """Failed granules."""
    links: tuple[JobLink, ...] = ()
    """Result, paging and catalog links (of the page fetched)."""

    @property
    def terminal(self) -> bool:
        """True when the job will not change any more."""
        return self.status in TERMINAL_STATUSES

    @property
    def data_links(self) -> tuple[JobLink, ...]:
        """The result files on this page of links."""
        return tuple(link for link in self.links if link.rel == "data")

    def link(self, rel: str) -> JobLink | None:
        """The first link with relation ``rel``."""
        return next((link for link in self.links if link.rel == rel), None)

    @classmethod
    def from_json(cls, data: Any) -> Job:
        """Read job JSON; a reply without the required members is a :class:`ServiceResponseError`."""
        if not isinstance(data, Mapping) or "jobID" not in data or "status" not in data:
            raise ServiceResponseError(
                "the service's reply is not a Harmony job (no jobID/status): is the URL the "
                "service root?"
            )
        return cls(
            id=str(data["jobID"]),
            status=str(data["status"]),
            message=str(data.get("message") or ""),
            progress=int(data.get("progress") or 0),
            created_at=str(data.get("createdAt") or ""),
            updated_at=str(data.get("updatedAt") or ""),
            request=str(data.get("request") or ""),
            num_input_granules=int(data.get("numInputGranules") or 0),
            labels=tuple(str(v) for v in data.get("labels") or ()),
            data_expiration=data.get("dataExpiration"),
            errors=tuple(
                JobError(str(e.get("url", "")), str(e.get("message", "")))
                for e in data.get("errors") or ()
            ),
            links=tuple(JobLink.from_json(link) for link in data.get("links") or ()),
        )
