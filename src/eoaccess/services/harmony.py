"""Our Harmony client: capabilities, asynchronous subsetting jobs, their results.

:class:`HarmonyService` speaks the protocol the way harmony-py does (same multipart submission,
same query encoding, ``POST /jobs/status`` polling with a fallback to ``GET /jobs/{id}``), so it
works against NASA Harmony and against ``eoaccess serve``. JSON calls go through one pooled httpx
client; result files go through the transfer engine (atomic ``.part`` → final, verified, resumable).

Errors become the project's error classes by HTTP status (one table, :data:`STATUS_ERRORS`), with
the service's ``description`` in the message.
"""

from __future__ import annotations

import os
import posixpath
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from eoaccess._progress import NullProgress, Progress, make_progress
from eoaccess.errors import EOAccessError, InvalidInputError, NotFoundError
from eoaccess.services._auth import Credentials
from eoaccess.services._harmony_jobs import WAIT_STOPS, Job, JobLink, ServiceResponseError
from eoaccess.services._harmony_request import (
    MASK,
    CapabilitiesQuery,
    SubsetJobRequest,
    as_curl,
    as_url,
    rangeset_fields,
    rangeset_url,
)
from eoaccess.transfer import DownloadResult, FileResult, S3Credentials, TransferConfig

LinkType = Literal["https", "http", "s3"]


class ServiceAuthError(EOAccessError):
    """The service refused the credentials: check --user/--token, EOACCESS_TOKEN or ~/.netrc."""

    http_status = 401


class JobStateError(EOAccessError):
    """The job cannot do that in its current state (e.g. resume a running job): check its status."""

    http_status = 409


class ServiceError(EOAccessError):
    """The service failed or is unreachable: try again later or check the service URL."""

    http_status = 502


STATUS_ERRORS: Mapping[int, type[EOAccessError]] = {
    400: InvalidInputError,
    401: ServiceAuthError,
    403: ServiceAuthError,
    404: NotFoundError,
    409: JobStateError,
    422: InvalidInputError,
}
"""Which error a refused request raises; other 4xx are InvalidInputError, 5xx ServiceError."""


_NO_BATCH_STATUS = frozenset({400, 404, 405, 501})
"""Answers to ``POST /jobs/status`` of a service without the batch endpoint."""


def _error_for(response: httpx.Response, what: str) -> EOAccessError:
    """The project error for a non-success response, with the service's own description."""
    description = ""
    try:
        body = response.json()
        if isinstance(body, Mapping):
            description = str(body.get("description") or body.get("error") or "")
    except ValueError:
        if response.headers.get("content-type", "").startswith("text/plain"):
            description = " ".join(response.text[:200].split())  # an HTML page says nothing
    status = response.status_code
    kind = STATUS_ERRORS.get(status) or (ServiceError if status >= 500 else InvalidInputError)
    detail = f": {description}" if description else ""
    return kind(f"{what} failed with HTTP {status}{detail}")


class HarmonyService:
    """A Harmony transformation service at ``url`` (its root, path prefix included).

    ``auth`` is a :class:`~eoaccess.services.BearerToken` or :class:`~eoaccess.services.BasicAuth`
    (see :func:`~eoaccess.services.resolve_credentials`), or None for an open service.
    ``poll_interval`` is the longest pause between status polls while waiting (polling starts
    at 50 ms and backs off). Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        url: str,
        *,
        auth: Credentials | None = None,
        timeout: float = 60.0,
        poll_interval: float = 2.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInputError(
                f"service URL must be http(s)://host[:port][/path], not {url!r}"
            )
        self.url = url.rstrip("/")
        self.auth = auth
        self.poll_interval = poll_interval
        headers = {"Authorization": auth.authorization()} if auth else {}
        self._http = httpx.Client(
            headers=headers,
            timeout=timeout,
            follow_redirects=True,
            transport=transport or httpx.HTTPTransport(retries=2),
        )
        self._batch_status = True  # POST /jobs/status until the server says it has none

    def __enter__(self) -> HarmonyService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __repr__(self) -> str:
        return f"HarmonyService({self.url!r}, auth={self.auth!r})"

    # --- plumbing -------------------------------------------------------------------------

    def _request(
        self, method: str, url: str, what: str, accept: frozenset[int] = frozenset(), **kwargs: Any
    ) -> httpx.Response:
        """Send one request; error statuses other than those in ``accept`` raise."""
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise ServiceError(
                f"{what}: cannot reach the service at {self.url} ({type(exc).__name__}: {exc})"
            ) from None
        if response.is_error and response.status_code not in accept:
            raise _error_for(response, what)
        return response

    def _json(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        response = self._request(method, url, what, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ServiceResponseError(
                f"{what}: the service at {self.url} did not answer with JSON"
            ) from None

    def _job_url(self, job_id: str, action: str = "") -> str:
        if not job_id or "/" in job_id:
            raise InvalidInputError(f"invalid job id {job_id!r}")
        return f"{self.url}/jobs/{job_id}" + (f"/{action}" if action else "")

    # --- requests as text -----------------------------------------------------------------

    def request_as_url(self, request: SubsetJobRequest | CapabilitiesQuery) -> str:
        """The request as one GET URL (the service accepts both forms); no credentials in it."""
        if isinstance(request, CapabilitiesQuery):
            return as_url(f"{self.url}/capabilities", request.params())
        return as_url(
            rangeset_url(self.url, request.collection), rangeset_fields(request, multipart=False)
        )

    def request_as_curl(self, request: SubsetJobRequest | CapabilitiesQuery) -> str:
        """The request as a curl command, with the Authorization header shown as ``*****``."""
        headers = {"Authorization": MASK} if self.auth else {}
        if isinstance(request, CapabilitiesQuery):
            return as_curl("GET", self.request_as_url(request), headers=headers)
        return as_curl(
            "POST",
            rangeset_url(self.url, request.collection),
            form=rangeset_fields(request, multipart=True),
            headers=headers,
        )

    # --- capabilities and submission ------------------------------------------------------

    def capabilities(
        self, collection: str | None = None, *, short_name: str | None = None
    ) -> dict[str, Any]:
        """The service's capabilities JSON for a collection (by id or short name)."""
        query = CapabilitiesQuery(collection_id=collection, short_name=short_name)
        what = f"capabilities of {collection or short_name}"
        body = self._json("GET", f"{self.url}/capabilities", what, params=query.params())
        if not isinstance(body, dict):
            raise ServiceResponseError(f"{what}: the reply is not a JSON object")
        return body

    def submit(self, request: SubsetJobRequest | None = None, /, **kwargs: Any) -> Job:
        """Submit a subsetting job (a request, or :meth:`SubsetJobRequest.of` arguments).

        Sent as multipart/form-data like harmony-py; the reply is the new job (or the finished
        one, when the service answers synchronously).
        """
        if request is None:
            request = SubsetJobRequest.of(**kwargs)
        elif kwargs:
            raise InvalidInputError("give a SubsetJobRequest or keyword arguments, not both")
        files = [(k, (None, v)) for k, v in rangeset_fields(request, multipart=True)]
        # One key per call: a retried POST (after a lost reply) names the same job, while a
        # deliberate second submission of the same request makes a second job.
        body = self._json(
            "POST",
            rangeset_url(self.url, request.collection),
            f"submitting a job for {request.collection}",
            files=files,
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        return Job.from_json(body)

    # --- jobs -----------------------------------------------------------------------------

    def job(self, job_id: str, *, link_type: LinkType = "https", page: int | None = None) -> Job:
        """The job's status and (one page of) its links."""
        params: dict[str, Any] = {"linktype": link_type}
        if page is not None:
            params["page"] = page
        return Job.from_json(
            self._json("GET", self._job_url(job_id), f"job {job_id}", params=params)
        )

    def jobs(self, *, label: str | None = None, limit: int | None = None) -> list[Job]:
        """The caller's jobs, newest first as the service lists them, following ``next`` pages
        until ``limit`` jobs (all when None)."""
        params: dict[str, Any] = {}
        if label:
            params["label"] = label
        if limit is not None:
            params["limit"] = min(limit, 2000)
        url: str | None = f"{self.url}/jobs"
        found: list[Job] = []
        while url is not None and (limit is None or len(found) < limit):
            body = self._json("GET", url, "listing jobs", params=params)
            if not isinstance(body, Mapping) or not isinstance(body.get("jobs"), list):
                raise ServiceResponseError("listing jobs: the reply has no 'jobs' list")
            found += [Job.from_json(j) for j in body["jobs"]]
            url = _next_href(body.get("links") or (), url)
            params = {}  # the next link carries the query
        return found if limit is None else found[:limit]

    def statuses(self, job_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """``{id: (status, progress)}`` of several jobs in one request (``POST /jobs/status``);
        ids the service does not know are left out."""
        if self._batch_status:
            what = "polling job status"
            response = self._request(
                "POST",
                f"{self.url}/jobs/status",
                what,
                accept=_NO_BATCH_STATUS,
                json={"jobIDs": list(job_ids)},
            )
            if response.status_code not in _NO_BATCH_STATUS:
                try:
                    body = response.json()
                except ValueError:
                    raise ServiceResponseError(f"{what}: the reply is not JSON") from None
                return {
                    str(s["jobID"]): (str(s["status"]), int(s.get("progress") or 0))
                    for s in body.get("jobStatuses", ())
                }
            # An older service has no batch endpoint (its router may even read "status" as a
            # job id): poll each job as older harmony-py releases do.
            self._batch_status = False
        found: dict[str, tuple[str, int]] = {}
        for job_id in job_ids:
            try:
                job = self.job(job_id)
            except NotFoundError:
                continue
            found[job_id] = (job.status, job.progress)
        return found

    def wait(
        self,
        job_id: str,
        *,
        progress: Progress | bool | None = None,
        timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Job:
        """Poll until the job is finished or paused and return it; ``progress`` shows percent
        (True: a bar on stderr, as harmony-py's ``show_progress=True``).

        A paused job (a preview of a large request) ends the wait: nothing happens until it is
        resumed. ``timeout`` (seconds) raises :class:`ServiceError` when exceeded.
        """
        progress = make_progress() if progress is True else (progress or NullProgress())
        deadline = None if timeout is None else time.monotonic() + timeout
        shown = 0
        # Short jobs finish in well under a second: poll fast at first, then back off to
        # poll_interval so long jobs cost the service one request every few seconds.
        delay = min(0.05, self.poll_interval)
        with progress.task(f"Job {job_id}", total=100, unit="steps") as bar:
            while True:
                state = self.statuses([job_id]).get(job_id)
                if state is None:
                    raise NotFoundError(f"job {job_id} not found at {self.url}")
                status, percent = state
                if percent > shown:
                    bar.advance(percent - shown)
                    shown = percent
                if status in WAIT_STOPS:
                    return self.job(job_id)
                if deadline is not None and time.monotonic() > deadline:
                    raise ServiceError(f"job {job_id} still {status} after {timeout:g} s")
                sleep(delay)
                delay = min(delay * 1.5, self.poll_interval)

    def pause(self, job_id: str) -> Job:
        """Pause a running job (409 → :class:`JobStateError` when it cannot be paused)."""
        return self._act(job_id, "pause")

    def resume(self, job_id: str) -> Job:
        """Resume a paused or previewing job."""
        return self._act(job_id, "resume")

    def cancel(self, job_id: str) -> Job:
        """Cancel a job: queued granules are not processed."""
        return self._act(job_id, "cancel")

    def _act(self, job_id: str, action: str) -> Job:
        response = self._request("GET", self._job_url(job_id, action), f"{action} job {job_id}")
        try:
            return Job.from_json(response.json())
        except (ValueError, ServiceResponseError):
            return self.job(job_id)  # some services answer with a message, not the job

    # --- results --------------------------------------------------------------------------

    def result_links(self, job_id: str, *, link_type: LinkType = "https") -> list[JobLink]:
        """Every result file link of the job, following the ``next`` pages of its links."""
        links: list[JobLink] = []
        url: str | None = self._job_url(job_id)
        params: dict[str, Any] = {"linktype": link_type}
        while url is not None:
            body = self._json("GET", url, f"results of job {job_id}", params=params)
            job = Job.from_json(body)
            links += [
                replace(link, href=urljoin(self.url + "/", link.href)) for link in job.data_links
            ]
            url = _next_href(body.get("links") or (), url)
            params = {}
        return links

    def result_urls(self, job_id: str, *, link_type: LinkType = "https") -> list[str]:
        """The hrefs of :meth:`result_links`."""
        return [link.href for link in self.result_links(job_id, link_type=link_type)]

    def cloud_access(self) -> S3Credentials:
        """Temporary S3 credentials for ``s3://`` result links (``GET /cloud-access``)."""
        body = self._json("GET", f"{self.url}/cloud-access", "getting S3 credentials")
        if not isinstance(body, Mapping):
            raise ServiceResponseError("cloud-access: the reply is not a JSON object")
        return S3Credentials.from_mapping(body)

    def download_results(
        self,
        job_id: str,
        dest: str | os.PathLike[str] = ".",
        *,
        overwrite: bool = False,
        progress: Progress | None = None,
        config: TransferConfig | None = None,
    ) -> DownloadResult:
        """Download the job's result files into ``dest`` with the transfer engine.

        Files already in ``dest`` are left untouched (reported as ``skipped``) unless
        ``overwrite``. Credentials go only to the service's own host, never to other hosts the
        links may point at. Failures do not raise: check ``result.ok``.
        """
        return self.download_links(
            self.result_links(job_id), dest, overwrite=overwrite, progress=progress, config=config
        )

    def download_links(
        self,
        links: Sequence[JobLink],
        dest: str | os.PathLike[str] = ".",
        *,
        overwrite: bool = False,
        progress: Progress | None = None,
        config: TransferConfig | None = None,
    ) -> DownloadResult:
        """Download result ``links`` into ``dest`` (see :meth:`download_results`)."""
        from eoaccess.transfer import download

        started = time.perf_counter()
        root = Path(dest)
        kept: list[FileResult] = []
        own: list[tuple[str, str]] = []
        foreign: list[tuple[str, str]] = []
        origin = _origin(self.url)
        for name, link in _unique_names(links):
            target = root / name
            if not overwrite and os.path.lexists(target):
                # harmony-py's overwrite=False: an existing file is the user's, whatever it holds.
                size = os.lstat(target).st_size
                kept.append(FileResult(url=link.href, path=target, status="skipped", bytes=size))
                continue
            (own if _origin(link.href) == origin else foreign).append((link.href, name))
        results: list[FileResult] = list(kept)
        base = config or TransferConfig()
        for pairs, headers in ((own, self._auth_headers()), (foreign, {})):
            if not pairs:
                continue
            run_config = replace(base, headers=dict(base.headers) | headers)
            outcome = download(
                pairs,
                root,
                overwrite=overwrite,
                config=run_config,
                progress=progress or NullProgress(),
            )
            results += outcome.files
        return DownloadResult(root, tuple(results), time.perf_counter() - started)

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": self.auth.authorization()} if self.auth else {}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _next_href(links: Sequence[Mapping[str, Any]], current: str) -> str | None:
    for link in links:
        if link.get("rel") == "next" and link.get("href"):
            return urljoin(current, str(link["href"]))
    return None


def _unique_names(links: Sequence[JobLink]) -> Iterator[tuple[str, JobLink]]:
    """A local file name per link: the URL's last path segment, made unique when two clash."""
    seen: set[str] = set()
    for link in links:
        name = posixpath.basename(unquote(urlsplit(link.href).path)) or link.title or "result"
        if not name or name in (".", "..") or os.sep in name:
            raise ServiceResponseError(f"result link {link.href!r} has no usable file name")
        stem, ext = posixpath.splitext(name)
        candidate, n = name, 1
        while candidate in seen:
            candidate, n = f"{stem}_{n}{ext}", n + 1
        seen.add(candidate)
        yield candidate, link
