"""Values of the Harmony-compatible service: settings, job and granule records, job statuses.

Everything here is a frozen value; the state store persists them and the service renders them.
How a job's status follows from its granules' states is one pure function,
:func:`job_progress`, so the runner, the restart recovery and the tests agree on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eoaccess.errors import EOAccessError

# Job statuses (Harmony's names).
ACCEPTED = "accepted"
RUNNING = "running"
RUNNING_WITH_ERRORS = "running_with_errors"
PREVIEWING = "previewing"
PAUSED = "paused"
SUCCESSFUL = "successful"
FAILED = "failed"
CANCELED = "canceled"
COMPLETE_WITH_ERRORS = "complete_with_errors"

TERMINAL = frozenset({SUCCESSFUL, FAILED, CANCELED, COMPLETE_WITH_ERRORS})
"""Statuses a job never leaves."""
ACTIVE = frozenset({ACCEPTED, RUNNING, RUNNING_WITH_ERRORS, PREVIEWING})
"""Statuses whose queued granules are dispatched (previewing: only the preview batch)."""

# Granule states.
QUEUED = "queued"
GRANULE_RUNNING = "running"
DONE = "successful"
GRANULE_FAILED = "failed"
GRANULE_CANCELED = "canceled"
FINISHED = frozenset({DONE, GRANULE_FAILED, GRANULE_CANCELED})


class AuthenticationError(EOAccessError):
    """Missing or wrong credentials: give a configured user (Basic) or token (Bearer)."""

    http_status = 401


class HarmonyUnavailable(EOAccessError):
    """The service cannot run beside this catalog (no place for job state or results)."""

    http_status = 503


class ConflictError(EOAccessError):
    """The job cannot change to the asked status from the one it has."""

    http_status = 409


@dataclass(frozen=True)
class HarmonySettings:
    """How the transformation service runs; every field has a default for local use."""

    enabled: bool = True
    """Whether ``eoaccess serve`` offers the service at all."""
    results: str | None = None
    """Where job outputs go: a folder or ``s3://bucket/prefix`` (default: next to the catalog,
    ``ARCHIVE/.eoaccess/harmony-results``)."""
    state: str | None = None
    """Where job state persists: a SQLite file or a ``postgresql://`` DSN (default: beside the
    catalog, ``ARCHIVE/.eoaccess/harmony.sqlite`` or schema ``eoaccess_harmony`` of pgstac)."""
    s3_endpoint: str | None = None
    """S3/STS endpoint of an S3 results store (default: the ``AWS_ENDPOINT_URL*`` variables)."""
    dask_scheduler: str | None = None
    """Address of an existing Dask scheduler (``tcp://…``); None starts a local cluster lazily."""
    workers: int = 1
    """Workers of the local cluster."""
    processes: bool = True
    """Local cluster workers are processes (isolation, parallel HDF5); False runs them as
    threads of the server, which start in a second instead of ~10 s (the quickstart)."""
    users: Mapping[str, str] = field(default_factory=dict)
    """User name -> password (HTTP Basic). With no users and no tokens the service is open."""
    tokens: Mapping[str, str] = field(default_factory=dict)
    """Bearer token -> user name."""
    preview_threshold: int = 300
    """Jobs with more granules process this many as a preview, then pause until resumed."""
    expiration_days: int = 30
    """Days job outputs stay (``dataExpiration``); then they are deleted."""
    purge_interval: float = 3600.0
    """Seconds between sweeps that delete the outputs of expired jobs (also one at start;
    0 turns the background sweep off)."""
    dedupe_seconds: float = 60.0
    """An identical request of the same owner within this many seconds returns the existing
    job (harmony-py retries POSTs on 5xx)."""
    max_granules: int = 10_000
    """Most granules one job may expand to."""
    page_limit: int = 2000
    """Default (and largest) number of result links per job page."""


@dataclass(frozen=True)
class JobRecord:
    """One job as persisted."""

    job_id: str
    owner: str
    collection: str
    """Catalog collection id."""
    status: str
    message: str
    progress: int
    created: dt.datetime
    updated: dt.datetime
    expires: dt.datetime
    num_granules: int
    preview_count: int
    """Granules of the preview batch (0: no preview)."""
    labels: tuple[str, ...]
    request: Mapping[str, Any]
    """The normalised request (see :meth:`eoaccess.harmony._params.JobRequest.to_json`)."""
    fingerprint: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class GranuleRecord:
    """One input granule of a job and what became of it."""

    job_id: str
    index: int
    """1-based position in the job (also the folder of its outputs)."""
    item_id: str
    href: str
    """Where the worker reads the granule (a local path or a URL)."""
    status: str = QUEUED
    output: Mapping[str, Any] | None = None
    """``{name, size, type, bbox, start, end}`` of the written file."""
    error: str | None = None


@dataclass(frozen=True)
class Progress:
    """A job's status, message and percentage derived from its granules."""

    status: str
    message: str
    progress: int


def job_progress(job: JobRecord, counts: Mapping[str, int], ignore_errors: bool) -> Progress:
    """The status a job has given its granules' states (``counts``: granule state -> number).

    Harmony's rules: an error fails the job unless ``ignoreErrors``; then it runs
    ``running_with_errors`` and ends ``complete_with_errors`` (``failed`` if nothing worked);
    a previewing job pauses once its preview batch is finished.
    """
    total = job.num_granules
    done, failed = counts.get(DONE, 0), counts.get(GRANULE_FAILED, 0)
    finished = sum(counts.get(s, 0) for s in FINISHED)
    percent = 100 if finished >= total else int(100 * finished / total)
    if job.status in TERMINAL or job.status == PAUSED:
        return Progress(job.status, job.message, job.progress if job.status != PAUSED else percent)
    if failed and not ignore_errors:
        return Progress(FAILED, f"The job failed: {failed} of {total} granules failed.", percent)
    if finished >= total:
        if failed == 0:
            return Progress(SUCCESSFUL, "The job has completed successfully", 100)
        if done == 0:
            return Progress(FAILED, f"The job failed: all {total} granules failed.", 100)
        return Progress(
            COMPLETE_WITH_ERRORS,
            f"The job has completed with errors: {failed} of {total} granules failed.",
            100,
        )
    if job.status == PREVIEWING and finished >= job.preview_count:
        return Progress(
            PAUSED,
            f"The job is paused after a preview of {job.preview_count} of {total} granules. "
            "The job may be resumed using the provided link.",
            percent,
        )
    if job.status == PREVIEWING:
        return Progress(PREVIEWING, "The job is generating a preview before auto-pausing", percent)
    if failed:
        return Progress(
            RUNNING_WITH_ERRORS, f"The job is running with {failed} granule errors", percent
        )
    if finished or counts.get(GRANULE_RUNNING, 0):
        return Progress(RUNNING, "The job is being processed", percent)
    return Progress(job.status, job.message, percent)
