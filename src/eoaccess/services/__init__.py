"""Client adapters for transformation services, one module per API dialect.

``harmony`` speaks NASA Harmony (and ``eoaccess serve``'s Harmony endpoints). Dialects are
registered by name in :data:`SERVICE_DIALECTS`, so ``eoaccess subset --service NAME`` finds them
without an if-chain; :func:`open_service` opens one with credentials resolved the usual way.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from eoaccess.errors import InvalidInputError
from eoaccess.services._auth import BasicAuth, BearerToken, Credentials, resolve_credentials
from eoaccess.services._harmony_jobs import (
    TERMINAL_STATUSES,
    Job,
    JobError,
    JobLink,
    ServiceResponseError,
)
from eoaccess.services._harmony_request import CapabilitiesQuery, DimensionRange, SubsetJobRequest
from eoaccess.services.harmony import (
    HarmonyService,
    JobStateError,
    ServiceAuthError,
    ServiceError,
)

SERVICE_DIALECTS: Mapping[str, type[HarmonyService]] = MappingProxyType({"harmony": HarmonyService})
"""Service dialects by the name ``--service`` takes."""
DEFAULT_DIALECT = "harmony"
"""The dialect a bare service URL speaks."""


def open_service(
    url: str,
    dialect: str = DEFAULT_DIALECT,
    *,
    token: str | None = None,
    user: str | None = None,
) -> HarmonyService:
    """Open the ``dialect`` service at ``url`` with credentials from the arguments, the
    environment or ~/.netrc (see :func:`resolve_credentials`)."""
    try:
        kind = SERVICE_DIALECTS[dialect]
    except KeyError:
        raise InvalidInputError(
            f"unknown service dialect {dialect!r}; known: {', '.join(sorted(SERVICE_DIALECTS))}"
        ) from None
    return kind(url, auth=resolve_credentials(url, token=token, user=user))


__all__ = [
    "DEFAULT_DIALECT",
    "SERVICE_DIALECTS",
    "TERMINAL_STATUSES",
    "BasicAuth",
    "BearerToken",
    "CapabilitiesQuery",
    "Credentials",
    "DimensionRange",
    "HarmonyService",
    "Job",
    "JobError",
    "JobLink",
    "JobStateError",
    "ServiceAuthError",
    "ServiceError",
    "ServiceResponseError",
    "SubsetJobRequest",
    "open_service",
    "resolve_credentials",
]
