"""What the ``subset --service`` and ``jobs`` commands do, apart from click: which service a
command line names, running a job to its downloaded results, and the lines people read."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from eoaccess._progress import Progress
from eoaccess.errors import EOAccessError, InvalidInputError
from eoaccess.services import DEFAULT_DIALECT, SERVICE_DIALECTS
from eoaccess.services._harmony_jobs import Job
from eoaccess.services.harmony import HarmonyService, JobStateError
from eoaccess.transfer import DownloadResult

Echo = Callable[[str], None]


@dataclass(frozen=True)
class ServiceTarget:
    """The service a command line names: its root URL and API dialect."""

    url: str
    """Service root."""
    dialect: str
    """Key of :data:`~eoaccess.services.SERVICE_DIALECTS`."""


def _is_url(text: str) -> bool:
    return urlsplit(text).scheme in ("http", "https")


def service_target(source: str | None, service: str) -> ServiceTarget:
    """Resolve ``SOURCE`` and ``--service``: a dialect name (SOURCE is the service root), an
    http(s) URL (the service root; SOURCE may be left out), or a path relative to SOURCE."""
    if service in SERVICE_DIALECTS:
        if not source:
            raise InvalidInputError(
                f"--service {service} needs SOURCE, the service root URL "
                f"(eoaccess subset http://host:port/ --service {service} …)"
            )
        return ServiceTarget(_checked_url(source), service)
    if _is_url(service):
        if source and source.rstrip("/") != service.rstrip("/"):
            raise InvalidInputError(
                f"SOURCE {source} and --service {service} name two different services: give "
                "the service root once (or --service as a path relative to SOURCE)"
            )
        return ServiceTarget(service, DEFAULT_DIALECT)
    if service.startswith(("/", "./")) and source:
        return ServiceTarget(
            urljoin(_checked_url(source).rstrip("/") + "/", service), DEFAULT_DIALECT
        )
    raise InvalidInputError(
        f"--service takes a service URL or a dialect ({', '.join(sorted(SERVICE_DIALECTS))}), "
        f"not {service!r}"
    )


def _checked_url(text: str) -> str:
    if not _is_url(text):
        raise InvalidInputError(f"the service root must be an http(s) URL, not {text!r}")
    return text


def report_downloads(result: DownloadResult, echo: Echo) -> None:
    """One line per file: its path, and why it was not downloaded when it was not."""
    for f in result.files:
        if f.status == "downloaded":
            echo(str(f.path))
        elif f.status == "skipped":
            echo(f"{f.path} (kept: already present; --overwrite replaces it)")
        else:
            echo(f"{f.path} (failed: {f.error})")


def finish_job(
    service: HarmonyService,
    job: Job,
    output: str | os.PathLike[str],
    *,
    overwrite: bool,
    progress: Progress,
    echo: Echo,
) -> DownloadResult:
    """Wait for a submitted job, download its results into ``output``, print one line per file.

    Raises when the job failed, was canceled or paused (with what to do next), or when some
    granule or file failed, after downloading everything that is there.
    """
    job = service.wait(job.id, progress=progress) if not job.terminal else job
    if job.status == "paused":
        raise JobStateError(
            f"job {job.id} is paused ({job.message or 'preview done'}): check the results so "
            f"far, then `eoaccess jobs {service.url} resume {job.id}`"
        )
    if job.status in ("failed", "canceled"):
        raise EOAccessError(f"job {job.id} {job.status}: {job.message}")
    result = service.download_results(job.id, output, overwrite=overwrite, progress=progress)
    report_downloads(result, echo)
    if job.status == "complete_with_errors":
        first = job.errors[0].message if job.errors else job.message
        raise EOAccessError(
            f"job {job.id} completed with errors in {len(job.errors)} granule(s): {first}"
        )
    result.raise_for_failures()
    return result


def job_line(job: Job) -> str:
    """A job in one line: id, status, progress, granules, message."""
    return (
        f"{job.id}  {job.status}  {job.progress}%  {job.num_input_granules} granules  "
        f"{job.message}".rstrip()
    )


def job_details(job: Job) -> list[str]:
    """The lines of ``jobs … status ID``."""
    lines = [
        f"job       {job.id}",
        f"status    {job.status} ({job.progress}%)",
        f"message   {job.message}",
        f"granules  {job.num_input_granules}",
        f"created   {job.created_at}",
        f"updated   {job.updated_at}",
        f"request   {job.request}",
    ]
    if job.labels:
        lines.append(f"labels    {', '.join(job.labels)}")
    if job.data_expiration:
        lines.append(f"expires   {job.data_expiration}")
    lines += [f"error     {e.url}: {e.message}" for e in job.errors]
    lines += [f"result    {link.href}" for link in job.data_links]
    return lines


def jobs_table(jobs: Sequence[Job]) -> list[str]:
    """``jobs … list`` as an aligned table."""
    header = ("JOB ID", "STATUS", "PROGRESS", "GRANULES", "CREATED", "LABELS")
    rows = [
        (
            j.id,
            j.status,
            f"{j.progress}%",
            str(j.num_input_granules),
            j.created_at,
            ",".join(j.labels),
        )
        for j in jobs
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]


JOB_ACTIONS: dict[str, Callable[[HarmonyService, str], Job]] = {
    "status": HarmonyService.job,
    "pause": HarmonyService.pause,
    "resume": HarmonyService.resume,
    "cancel": HarmonyService.cancel,
}
"""The ``jobs`` actions that take a job id."""
