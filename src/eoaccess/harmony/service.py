"""The Harmony-compatible transformation service, without any web framework.

:class:`JobService` turns validated requests into jobs (catalog items matching the request
become the job's granules), answers job queries and status changes for their owner, and hands
the granules to the :class:`~eoaccess.harmony._runner.JobRunner`. The FastAPI router in
:mod:`eoaccess.server.harmony` only parses HTTP and renders what this returns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eoaccess.errors import GoneError, InvalidInputError, NotFoundError, OutputError
from eoaccess.harmony._auth import Auth
from eoaccess.harmony._capabilities import CollectionInfo, Collections, capabilities_query
from eoaccess.harmony._model import (
    ACCEPTED,
    ACTIVE,
    CANCELED,
    DONE,
    GRANULE_CANCELED,
    GRANULE_FAILED,
    GRANULE_RUNNING,
    PAUSED,
    PREVIEWING,
    RUNNING,
    ConflictError,
    GranuleRecord,
    HarmonySettings,
    HarmonyUnavailable,
    JobRecord,
)
from eoaccess.harmony._params import JobRequest, parse_job_request, utc_now
from eoaccess.harmony._results import delete_results, results_target, temporary_credentials
from eoaccess.harmony._runner import DaskConfig, JobRunner
from eoaccess.harmony._state import JobState, open_state, stamp
from eoaccess.query import make_query
from eoaccess.server.hrefs import archive_relative
from eoaccess.stores import CatalogStore
from eoaccess.subset import SubsetRequest, make_request

log = logging.getLogger("eoaccess.harmony")

RESULTS_DIRNAME = "harmony-results"
SEARCH_PAGE = 500


@dataclass(frozen=True)
class Transition:
    """A status change a user may ask for."""

    allowed_from: frozenset[str]
    status: str
    message: str


# Registry: action of ``GET /jobs/{id}/{action}`` -> the status change it makes.
TRANSITIONS: dict[str, Transition] = {
    "pause": Transition(
        frozenset(ACTIVE),
        PAUSED,
        "The job was paused by the user. The job may be resumed using the provided link.",
    ),
    "resume": Transition(frozenset({PAUSED, PREVIEWING}), RUNNING, "The job is being processed"),
    "cancel": Transition(frozenset(ACTIVE | {PAUSED}), CANCELED, "Canceled by user."),
}


def _fingerprint(owner: str, collection: str, request: JobRequest) -> str:
    text = json.dumps(
        {"owner": owner, "collection": collection, "request": request.to_json()}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()


def subset_request(request: JobRequest) -> SubsetRequest:
    """The subset engine's request for a job's request (InvalidInputError on bad values)."""
    return make_request(
        bbox=request.bbox,
        intersects=dict(request.shape) if request.shape else None,
        datetime=request.time.to_text() if request.time else None,
        variables=list(request.variables) if request.variables else None,
        crs=request.output_crs,
        format=request.format_name,
    )


class JobService:
    """Jobs over one catalog: submission, queries, status changes, results."""

    def __init__(
        self,
        store: CatalogStore,
        archive_root: str | Path | None,
        settings: HarmonySettings,
        state: JobState | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.archive_root = str(archive_root) if archive_root is not None else None
        self.auth = Auth(dict(settings.users), dict(settings.tokens))
        self.collections = Collections(store)
        self.state = state or open_state(store, settings.state)
        self.target = results_target(self._results_location(), settings.s3_endpoint)
        self.runner = JobRunner(
            self.state,
            self.target,
            DaskConfig(settings.dask_scheduler, settings.workers, settings.processes),
            lambda job: subset_request(JobRequest.from_json(job.request)),
            self._source_href,
        )
        self._submit_lock = threading.Lock()
        self._closed = False
        self._stop_sweeps = threading.Event()
        self._sweeper: threading.Thread | None = None
        if self.state.active():
            self.runner.start()  # resume jobs a previous server left unfinished
        if settings.purge_interval > 0:
            self._sweeper = threading.Thread(
                target=self._sweep_forever, name="eoaccess-harmony-expiry", daemon=True
            )
            self._sweeper.start()

    def _results_location(self) -> str:
        if self.settings.results:
            return self.settings.results
        path = getattr(self.store, "path", None)
        if path is not None:
            return str(Path(path).parent / RESULTS_DIRNAME)
        if self.archive_root and "://" not in self.archive_root:
            return str(Path(self.archive_root) / ".eoaccess" / RESULTS_DIRNAME)
        raise HarmonyUnavailable("give a results location (--results DIR or s3://bucket/prefix)")

    def close(self) -> None:
        """Stop the runner (unfinished granules resume on the next start) and the state.

        Idempotent: the server's owner and a test harness may both close it."""
        if self._closed:
            return
        self._closed = True
        self._stop_sweeps.set()
        if self._sweeper is not None:
            self._sweeper.join()
        self.runner.close()
        self.state.close()

    # --- expiry ---------------------------------------------------------------------------

    def purge_expired(self, now: dt.datetime | None = None) -> list[str]:
        """Delete the outputs of finished jobs past ``dataExpiration``; the jobs purged.

        The jobs stay listed (their status and history are the user's record); their result
        files answer 410 Gone. A job whose outputs cannot be deleted is left for the next sweep.
        """
        now = now or utc_now()
        purged = []
        for job in self.state.expired(now):
            try:
                removed = delete_results(self.target, job.job_id)
            except OutputError as exc:
                log.warning("%s", exc)
                continue
            self.state.mark_purged(job.job_id, now)
            log.info("job %s expired: %d result files deleted", job.job_id, removed)
            purged.append(job.job_id)
        return purged

    def _sweep_forever(self) -> None:
        """Sweep at start, then every ``purge_interval`` seconds until closed."""
        while not self._stop_sweeps.is_set():
            try:
                self.purge_expired()
            except Exception:  # the sweep must outlive a database hiccup; the next one retries
                log.exception("sweeping expired Harmony results failed")
            self._stop_sweeps.wait(self.settings.purge_interval)

    def check_results_available(self, job: JobRecord) -> None:
        """GoneError (410) when the job's outputs were deleted at expiry."""
        when = self.state.purged(job.job_id)
        if when is not None:
            raise GoneError(
                f"the results of job {job.job_id} expired on {stamp(job.expires)} "
                "and were deleted; submit the request again"
            )

    # --- capabilities ---------------------------------------------------------------------

    def capabilities(
        self, shortname: str | None, collectionid: str | None, version: str | None, href: str
    ) -> dict[str, Any]:
        """The v2 capabilities document of the collection named."""
        info = self.collections.resolve(capabilities_query(shortname, collectionid, version))
        return info.capabilities(href)

    # --- submission -----------------------------------------------------------------------

    def submit(
        self,
        owner: str,
        collection: str,
        variables_segment: str,
        params: Iterable[tuple[str, str]],
        shape: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> JobRecord:
        """Create the job a rangeset request asks for (or return the one it repeats)."""
        info = self.collections.resolve(collection)
        request = parse_job_request(variables_segment, params, shape)
        _check_offered(info, request)
        subset_request(request)  # reject bad CRS, shapes and the like before any job exists
        fingerprint = _fingerprint(owner, info.id, request)
        with self._submit_lock:
            since = utc_now() - dt.timedelta(seconds=self.settings.dedupe_seconds)
            existing = self.state.duplicate(owner, fingerprint, since, idempotency_key)
            if existing is not None:
                return existing
            items = self._granule_items(info, request)
            if not items:
                raise InvalidInputError(
                    f"No matching granules found: no item of collection {info.id} matches "
                    "the request's area, time and granule ids"
                )
            job_id = str(uuid.uuid4())
            now = utc_now()
            threshold = self.settings.preview_threshold
            preview = len(items) > threshold and not request.skip_preview
            job = JobRecord(
                job_id=job_id,
                owner=owner,
                collection=info.id,
                status=PREVIEWING if preview else ACCEPTED,
                message=(
                    "The job is generating a preview before auto-pausing"
                    if preview
                    else "The job has been accepted and is waiting to be processed"
                ),
                progress=0,
                created=now,
                updated=now,
                expires=now + dt.timedelta(days=self.settings.expiration_days),
                num_granules=len(items),
                preview_count=threshold if preview else 0,
                labels=request.labels,
                request=request.to_json(),
                fingerprint=fingerprint,
                idempotency_key=idempotency_key,
            )
            granules = [
                GranuleRecord(job_id, n, str(item["id"]), _data_href(item))
                for n, item in enumerate(items, start=1)
            ]
            self.state.create(job, granules)
        self.runner.wake()
        return job

    def _granule_items(self, info: CollectionInfo, request: JobRequest) -> list[dict[str, Any]]:
        cap = min(request.max_results or self.settings.max_granules, self.settings.max_granules)
        area: dict[str, Any] = {}
        if request.shape is not None:
            import shapely
            import shapely.geometry

            geometry = shapely.geometry.shape(request.shape)
            if request.bbox is not None:
                geometry = shapely.intersection(geometry, shapely.box(*request.bbox))
            if geometry.is_empty:
                return []
            area["intersects"] = json.loads(json.dumps(shapely.geometry.mapping(geometry)))
        elif request.bbox is not None:
            area["bbox"] = request.bbox
        items: list[dict[str, Any]] = []
        token = None
        while len(items) < cap:
            query = make_query(
                collections=[info.id],
                ids=list(request.granule_ids) if request.granule_ids else None,
                datetime=request.time.to_text() if request.time else None,
                sortby="+datetime",
                limit=min(SEARCH_PAGE, cap - len(items)),
                **area,
            )
            page = self.store.search(query, token)
            items += page.items
            token = page.next_token
            if token is None:
                break
        return items[:cap]

    def _source_href(self, href: str) -> str:
        """Where a worker reads a granule: archive-relative hrefs resolved against the archive."""
        relative = archive_relative(href)
        if relative is None:
            return href
        if self.archive_root is None:
            raise NotFoundError(f"granule {href} is archive-relative but no archive is served")
        if "://" in self.archive_root:
            return f"{self.archive_root.rstrip('/')}/{relative}"
        return str(Path(self.archive_root) / relative)

    # --- queries --------------------------------------------------------------------------

    def job(self, owner: str, job_id: str) -> JobRecord:
        """The owner's job (NotFoundError for unknown jobs and other owners' jobs alike)."""
        job = self.state.job(job_id)
        if job is None or job.owner != owner:
            raise NotFoundError(f"there is no job {job_id}")
        return job

    def jobs(
        self, owner: str, label: str | None, page: int, limit: int
    ) -> tuple[list[JobRecord], int]:
        """A page of the owner's jobs, newest first, and their total number."""
        return self.state.jobs(owner, label, (page - 1) * limit, limit)

    def statuses(self, owner: str, job_ids: Iterable[str]) -> dict[str, Any]:
        """``POST /jobs/status``: status and progress of several jobs at once."""
        found, missing = [], []
        for job_id in job_ids:
            job = self.state.job(str(job_id))
            if job is None or job.owner != owner:
                missing.append(job_id)
            else:
                found.append({"jobID": job.job_id, "status": job.status, "progress": job.progress})
        return {"jobStatuses": found, "notFoundJobIDs": missing}

    def outputs(self, job: JobRecord, offset: int, limit: int) -> tuple[list[GranuleRecord], int]:
        """A page of the job's successful granules (in input order) and their total number."""
        done = self.state.granules(job.job_id, DONE)
        return done[offset : offset + limit], len(done)

    def errors(self, job: JobRecord) -> list[GranuleRecord]:
        """The job's failed granules."""
        return self.state.granules(job.job_id, GRANULE_FAILED)

    def output(self, owner: str, job_id: str, index: int) -> GranuleRecord:
        """One successful granule of the owner's job."""
        self.job(owner, job_id)
        found = [g for g in self.state.granules(job_id, DONE) if g.index == index]
        if not found:
            raise NotFoundError(f"job {job_id} has no output {index}")
        return found[0]

    # --- status changes -------------------------------------------------------------------

    def change(self, owner: str, job_id: str, action: str) -> JobRecord:
        """Pause, resume or cancel the owner's job (ConflictError when its status forbids)."""
        transition = TRANSITIONS.get(action)
        if transition is None:
            raise NotFoundError(f"unknown job action {action!r}; use pause, resume or cancel")
        with self.runner.lock:
            job = self.job(owner, job_id)
            if job.status not in transition.allowed_from:
                raise ConflictError(
                    f"Job status cannot be updated from {job.status} to {transition.status}."
                )
            self.state.update(job_id, transition.status, transition.message, job.progress)
            if transition.status == CANCELED:
                self.state.cancel_queued(job_id)
                for granule in self.state.granules(job_id, GRANULE_RUNNING):
                    self.state.set_granule(job_id, granule.index, GRANULE_CANCELED)
                self.runner.cancel(job_id)
            else:
                self.runner.refresh(job_id)
                self.runner.wake()
        return self.job(owner, job_id)

    # --- cloud access ---------------------------------------------------------------------

    def cloud_access(self) -> dict[str, str]:
        """Temporary credentials to read S3 results directly."""
        return temporary_credentials(self.target)


def _data_href(item: Mapping[str, Any]) -> str:
    assets = item.get("assets") or {}
    for asset in assets.values():
        if "data" in (asset.get("roles") or []):
            return str(asset["href"])
    if not assets:
        raise InvalidInputError(f"item {item.get('id')} has no assets to process")
    return str(next(iter(assets.values()))["href"])


def _check_offered(info: CollectionInfo, request: JobRequest) -> None:
    """Reject what the collection's kind of data does not offer, naming it."""
    kind = info.kind
    if request.variables is not None:
        if not kind.variable_subset:
            raise InvalidInputError(
                f"variable subsetting is not offered for collection {info.id}; use variable=all"
            )
        unknown = [v for v in request.variables if info.variables and v not in info.variables]
        if unknown:
            raise InvalidInputError(
                f"unknown variable(s) {', '.join(unknown)} of collection {info.id}; "
                f"choose from {', '.join(info.variables)}"
            )
    if request.format is not None and request.format not in kind.output_formats:
        raise InvalidInputError(
            f"format {request.format} is not offered for collection {info.id}; "
            f"choose from {', '.join(kind.output_formats)}"
        )
    if request.output_crs is not None and not kind.reproject:
        raise InvalidInputError(f"reprojection (outputcrs) is not offered for collection {info.id}")


__all__ = ["TRANSITIONS", "JobService", "subset_request"]
