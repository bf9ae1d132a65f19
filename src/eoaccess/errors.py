"""The one error hierarchy of eoaccess.

Every error a user can cause or meet derives from :class:`EOAccessError`. The CLI prints
``str(error)`` as one line on stderr and exits with :attr:`EOAccessError.exit_code`; the server
(later) maps :attr:`EOAccessError.http_status` to the response code in one place.
"""

from __future__ import annotations


class EOAccessError(Exception):
    """Base class of every eoaccess error; its message says what went wrong and what to do."""

    exit_code: int = 1
    http_status: int = 400


class InvalidInputError(EOAccessError, ValueError):
    """An argument or request is malformed: fix the value named in the message."""

    exit_code = 2
    http_status = 400


class NotFoundError(EOAccessError, LookupError):
    """A named collection, item, file or job does not exist: check the name or the source."""

    http_status = 404


class GoneError(NotFoundError):
    """The thing existed but is gone for good (expired results): HTTP 410."""

    http_status = 410


class OutputError(EOAccessError, OSError):
    """A result cannot be written where asked: choose a writable destination."""

    http_status = 500


class DependencyError(EOAccessError):
    """A system program or service eoaccess needs is missing: install it as the message says."""

    http_status = 503
