"""Errors of the transfer engine, each a subclass of :class:`eoaccess.errors.EOAccessError`.

A backend raises :class:`RemoteError` (with ``retryable`` and ``retry_after``) or
:class:`ConnectionLostError`; the engine decides from those fields alone whether to retry, so the
retry loop never inspects a backend library's exception types.
"""

from __future__ import annotations

from eoaccess.errors import EOAccessError, InvalidInputError, NotFoundError, OutputError


class TransferError(EOAccessError):
    """A transfer failed: the message names the URL and the cause; retry later or check the source."""

    retryable: bool = False
    retry_after: float | None = None


class RemoteError(TransferError):
    """The server answered with an error status: the message has the status and the server's reason."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class RemoteNotFoundError(RemoteError, NotFoundError):
    """The remote object does not exist (HTTP 404, S3 NoSuchKey): check the URL or the asset href."""

    http_status = 404


class RangeNotSatisfiableError(RemoteError):
    """The requested byte range starts beyond the end of the object (HTTP 416)."""


class ConnectionLostError(TransferError):
    """The connection failed, dropped or delivered a short body: retried, and resumed where possible."""

    retryable = True


class ConnectError(ConnectionLostError):
    """No connection could be made (refused, DNS, connect timeout): retried, then the host is
    given up for the rest of the run so the other files fail fast."""


class StallError(ConnectionLostError):
    """No byte arrived for the stall timeout: the connection is dropped and the transfer retried."""


class RemoteChangedError(TransferError):
    """The remote object changed since a partial download started: the download restarts from zero."""

    retryable = True


class VerificationError(TransferError):
    """Downloaded bytes do not match the expected size or checksum: the file is not kept."""


class LocalWriteError(OutputError):
    """A file cannot be written (disk full, permissions): free space or choose another destination."""


class DownloadFailedError(TransferError):
    """Some files of a download failed: the summary lists each with its reason; re-run to resume."""


__all__ = [
    "ConnectError",
    "ConnectionLostError",
    "DownloadFailedError",
    "InvalidInputError",
    "LocalWriteError",
    "RangeNotSatisfiableError",
    "RemoteChangedError",
    "RemoteError",
    "RemoteNotFoundError",
    "StallError",
    "TransferError",
    "VerificationError",
]
