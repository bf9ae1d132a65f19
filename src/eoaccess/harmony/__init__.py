"""Harmony-compatible asynchronous subsetting jobs over the catalog, run on Dask.

The service core (no web framework): :class:`JobService` creates jobs from Harmony's OGC
Coverages requests, runs each granule through :func:`eoaccess.subset.run_subset` as a Dask
task, persists job and granule states beside the catalog, and writes results atomically into a
local folder or an S3 bucket. :mod:`eoaccess.server.harmony` exposes it over HTTP in the shapes
harmony-py expects.
"""

from __future__ import annotations

from eoaccess.harmony._auth import ANONYMOUS, Auth
from eoaccess.harmony._capabilities import concept_id
from eoaccess.harmony._model import (
    AuthenticationError,
    ConflictError,
    GranuleRecord,
    HarmonySettings,
    HarmonyUnavailable,
    JobRecord,
)
from eoaccess.harmony._params import JobRequest, parse_job_request, parse_subset
from eoaccess.harmony._state import JobState, open_state
from eoaccess.harmony.service import JobService

__all__ = [
    "ANONYMOUS",
    "Auth",
    "AuthenticationError",
    "ConflictError",
    "GranuleRecord",
    "HarmonySettings",
    "HarmonyUnavailable",
    "JobRecord",
    "JobRequest",
    "JobService",
    "JobState",
    "concept_id",
    "open_state",
    "parse_job_request",
    "parse_subset",
]
