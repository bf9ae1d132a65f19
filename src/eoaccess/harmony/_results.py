"""The results store and the per-granule task that fills it.

Outputs of granule ``n`` of job ``J`` live at ``J/n/<basename>_subsetted.<ext>``: the name is a
function of the request alone, so a granule run twice (a server restarted mid-job) replaces its
output instead of adding a second one. A local results folder receives the file through the
subsetter's own atomic rename; an S3 results store receives it as one PUT (an object appears
whole or not at all), from a staging folder the worker removes afterwards.

:func:`process_granule` is what runs on a Dask worker: it needs only its frozen, picklable
:class:`GranuleTask`, so the same code runs in a local cluster or on a remote one.
"""

from __future__ import annotations

import mimetypes
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.query import format_datetime
from eoaccess.subset import SubsetRequest, run_subset

_TYPES = {".h5": "application/x-hdf5", ".nc": "application/x-netcdf4", ".tif": "image/tiff"}


@dataclass(frozen=True)
class ResultsTarget:
    """Where outputs go: a local folder or ``s3://bucket/prefix`` (with its endpoint)."""

    location: str
    endpoint: str | None = None

    @property
    def is_s3(self) -> bool:
        return self.location.startswith("s3://")

    @property
    def bucket(self) -> str:
        return urlsplit(self.location).netloc

    @property
    def prefix(self) -> str:
        return urlsplit(self.location).path.strip("/")

    def key(self, relative: str) -> str:
        """The S3 key of a results-relative path."""
        return "/".join(p for p in (self.prefix, relative) if p)

    def s3_url(self, relative: str) -> str:
        """The ``s3://`` URL of a results-relative path."""
        return f"s3://{self.bucket}/{self.key(relative)}"


def results_target(location: str | Path, endpoint: str | None = None) -> ResultsTarget:
    """Validate a results location: a creatable folder or an ``s3://bucket[/prefix]`` URL."""
    text = str(location)
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme != "s3" or not parts.netloc:
            raise InvalidInputError(f"results must be a folder or s3://bucket/prefix, not {text!r}")
        endpoint = (
            endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        )
        return ResultsTarget(text.rstrip("/"), endpoint)
    path = Path(text).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInputError(f"cannot create the results folder {path}: {exc}") from None
    return ResultsTarget(str(path))


def s3_client(target: ResultsTarget, service: str = "s3") -> Any:
    """A boto3 client of the results store's endpoint (credentials: the usual AWS chain)."""
    import boto3

    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    return boto3.client(service, endpoint_url=target.endpoint, region_name=region)


@dataclass(frozen=True)
class GranuleTask:
    """Everything a worker needs to process one granule."""

    href: str
    request: SubsetRequest
    target: ResultsTarget
    folder: str
    """Results-relative folder of this granule's outputs (``job/index``)."""


def _output_record(path: Path, relative: str, result: Any) -> dict[str, Any]:
    suffix = path.suffix.lower()
    media = _TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.is_dir():
        media = "application/x-zarr"
    return {
        "name": path.name,
        "path": relative,
        "size": int(result.bytes),
        "type": media,
        "bbox": list(result.bbox) if result.bbox is not None else None,
        "start": format_datetime(result.start) if result.start else None,
        "end": format_datetime(result.end) if result.end else None,
        "counts": dict(result.counts),
    }


def _upload(target: ResultsTarget, local: Path, relative: str) -> None:
    client = s3_client(target)
    files = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
    for file in files:
        suffix = file.relative_to(local).as_posix() if file != local else ""
        key = target.key("/".join(p for p in (relative, suffix) if p))
        client.upload_file(str(file), target.bucket, key)


def process_granule(task: GranuleTask) -> dict[str, Any]:
    """Subset one granule into the results store; return its output record (runs on a worker)."""
    if not task.target.is_s3:
        folder = Path(task.target.location) / task.folder
        folder.mkdir(parents=True, exist_ok=True)
        result = run_subset(task.href, task.request, folder)
        relative = f"{task.folder}/{result.path.name}"
        return _output_record(result.path, relative, result)
    staging = Path(tempfile.mkdtemp(prefix="eoaccess-harmony-"))
    try:
        result = run_subset(task.href, task.request, staging)
        relative = f"{task.folder}/{result.path.name}"
        _upload(task.target, result.path, relative)
        return _output_record(result.path, relative, result)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def delete_results(target: ResultsTarget, job_id: str) -> int:
    """Delete every output of job ``job_id``; how many files or objects were removed.

    Idempotent (a sweep interrupted half-way is simply run again). Raises OutputError when the
    store refuses, so the job is not marked deleted."""
    from eoaccess.errors import OutputError

    if not target.is_s3:
        folder = Path(target.location) / job_id
        if not folder.exists():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            raise OutputError(f"cannot delete the results of job {job_id}: {exc}") from None
        return count
    client = s3_client(target)
    removed = 0
    try:
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=target.bucket, Prefix=target.key(job_id) + "/"
        )
        for page in pages:
            keys = [{"Key": o["Key"]} for o in page.get("Contents", ())]
            if keys:  # a listing page holds at most 1,000 keys: one DeleteObjects call
                client.delete_objects(Bucket=target.bucket, Delete={"Objects": keys, "Quiet": True})
                removed += len(keys)
    except Exception as exc:  # botocore's errors: any refusal keeps the job unmarked
        reason = " ".join(str(exc).split())
        raise OutputError(f"cannot delete the results of job {job_id}: {reason}") from None
    return removed


def temporary_credentials(target: ResultsTarget, seconds: int = 3600) -> dict[str, str]:
    """Temporary credentials for reading the S3 results (STS ``GetSessionToken``)."""
    if not target.is_s3:
        raise NotFoundError(
            "this server keeps results in a local folder, so there are no cloud credentials: "
            "download the results over HTTP (linktype=https)"
        )
    reply = s3_client(target, "sts").get_session_token(DurationSeconds=seconds)
    creds = reply["Credentials"]
    expiration = creds["Expiration"]
    return {
        "AccessKeyId": creds["AccessKeyId"],
        "SecretAccessKey": creds["SecretAccessKey"],
        "SessionToken": creds["SessionToken"],
        "Expiration": expiration.isoformat() if hasattr(expiration, "isoformat") else expiration,
    }
