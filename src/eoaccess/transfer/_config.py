"""Immutable settings of the transfer engine: concurrency, timeouts, retries and S3 access."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from eoaccess.errors import InvalidInputError

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a failed request again."""

    attempts: int = 6
    """Tries per transfer, the first included (connection errors, 429, 5xx, stalls, short bodies)."""
    backoff: float = 0.5
    """Delay before the first retry in seconds; doubled for each further one."""
    max_backoff: float = 30.0
    """Upper bound of the exponential delay."""
    jitter: float = 0.25
    """Random extra delay as a fraction of the delay, so many clients do not retry in step."""
    max_retry_after: float = 300.0
    """Longest server ``Retry-After`` honoured; longer requests are cut to this."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise InvalidInputError(f"retry attempts must be >= 1, got {self.attempts}")
        if min(self.backoff, self.max_backoff, self.jitter, self.max_retry_after) < 0:
            raise InvalidInputError("retry delays must not be negative")

    def delay(
        self, retry: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first retry).

        A server's ``Retry-After`` wins over the exponential delay: it says when the server will
        accept the request again.
        """
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        base = min(self.backoff * 2 ** (retry - 1), self.max_backoff)
        return base * (1.0 + self.jitter * (rng or random).random())


@dataclass(frozen=True)
class S3Credentials:
    """AWS-style keys; ``session_token`` is set for temporary credentials (STS, Harmony)."""

    access_key_id: str
    """The access key id (``AKIA…``/``ASIA…``)."""
    secret_access_key: str = field(repr=False)
    """The secret key; never printed."""
    session_token: str | None = field(default=None, repr=False)
    """The session token of temporary credentials."""
    expiration: datetime | None = None
    """When temporary credentials expire (timezone-aware); a provider is asked again before."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> S3Credentials:
        """Accept the shapes services return: Harmony ``/cloud-access`` or STS (``AccessKeyId``…)."""
        lowered = {k.lower().replace("_", ""): v for k, v in data.items()}
        try:
            key = str(lowered["accesskeyid"])
            secret = str(lowered["secretaccesskey"])
        except KeyError:
            raise InvalidInputError("S3 credentials need AccessKeyId and SecretAccessKey") from None
        token = lowered.get("sessiontoken") or lowered.get("token")
        expiration = lowered.get("expiration")
        if isinstance(expiration, str):
            expiration = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
        return cls(
            key,
            secret,
            str(token) if token else None,
            expiration if isinstance(expiration, datetime) else None,
        )


CredentialProvider = Callable[[], "S3Credentials | Awaitable[S3Credentials]"]
"""A callable returning (possibly fresh temporary) credentials; asked again before they expire."""


@dataclass(frozen=True)
class S3Options:
    """How to reach S3: anonymous or signed, which region and endpoint, who pays.

    Unset fields fall back to the usual AWS environment variables and shared config files
    (``AWS_ACCESS_KEY_ID``…, ``AWS_PROFILE``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``), then to
    anonymous access, which public buckets allow.
    """

    region: str | None = None
    """Bucket region; a wrong one is corrected by following S3's region redirect."""
    endpoint_url: str | None = None
    """An S3-compatible endpoint (MinIO, moto, Ceph), addressed path-style."""
    anonymous: bool = False
    """Send unsigned requests even if credentials are configured (public buckets)."""
    profile: str | None = None
    """A profile of ``~/.aws/credentials`` / ``~/.aws/config``."""
    credentials: S3Credentials | CredentialProvider | None = None
    """Explicit keys, or a provider of temporary ones."""
    requester_pays: bool = False
    """Agree to pay for requests and transfer on requester-pays buckets."""
    path_style: bool = False
    """Address AWS buckets as ``s3.<region>.amazonaws.com/<bucket>`` instead of virtual hosts."""


@dataclass(frozen=True)
class TransferConfig:
    """Settings shared by every transfer of one engine."""

    concurrency: int = 16
    """Files transferred at once by :func:`download`."""
    per_host: int | None = None
    """Requests in flight per host at most (default: ``concurrency``); connections are reused."""
    chunk_size: int = 4 * MiB
    """Bytes written to disk at once; an interrupted download re-fetches at most this much."""
    connect_timeout: float = 30.0
    """Seconds to establish a connection before it counts as a failed attempt."""
    stall_timeout: float = 60.0
    """Seconds without a single byte after which a transfer is dropped and retried."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    """Retries of failed requests."""
    headers: tuple[tuple[str, str], ...] | Mapping[str, str] = ()
    """Extra HTTP headers sent with every http(s) request (e.g. an Authorization token);
    a dict is accepted and stored as a tuple of pairs."""
    s3: S3Options = field(default_factory=S3Options)
    """S3 access."""
    large_file: int = 64 * MiB
    """Files at least this big get their own progress bar."""
    processes: int | None = None
    """Worker processes :func:`download` spreads the files over (this one included); each runs its
    own event loop and connection pool with a share of ``concurrency`` and ``per_host``.

    ``None`` decides per run: one process per idle CPU (up to 4) when the plan has many small
    files (at least 250 per process), else 1. Many small files are bound by Python's per-file CPU
    cost on one core; large files are bound by the network and disk, where one process suffices;
    on a busy machine a worker takes CPU from this process instead of adding some."""
    sha256: bool = False
    """Compute every file's SHA-256 while it streams (always done when a manifest is written).

    Verification does not need it: sizes are always checked, and STAC ``file:checksum`` values in
    whatever algorithm they use. Off by default because hashing costs CPU (~0.6 s per GB)."""

    def __post_init__(self) -> None:
        if isinstance(self.headers, Mapping):  # accept a dict, store an immutable tuple
            object.__setattr__(self, "headers", tuple(self.headers.items()))
        for name in ("concurrency", "per_host", "chunk_size", "processes"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.connect_timeout <= 0 or self.stall_timeout <= 0:
            raise InvalidInputError("timeouts must be positive")

    @property
    def host_limit(self) -> int:
        """The effective per-host limit."""
        return self.per_host or self.concurrency
