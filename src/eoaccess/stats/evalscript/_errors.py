"""Errors of evalscripts: a bad script (the request is wrong) or a failing run (one interval)."""

from __future__ import annotations

from eoaccess.errors import EOAccessError, InvalidInputError


class EvalscriptError(InvalidInputError):
    """The evalscript cannot be used (syntax, setup(), outputs): fix the script as the message says."""


class EvalscriptExecutionError(EOAccessError):
    """evaluatePixel failed on some pixels (the JavaScript error is in the message): fix the script."""

    http_status = 400
    error_type = "EXECUTION_ERROR"
    """The Sentinel Hub Statistical API error type of an interval that failed this way."""


class EvalscriptTimeoutError(EvalscriptExecutionError):
    """The evalscript ran longer than its time limit: simplify it or ask for fewer pixels."""

    error_type = "TIMEOUT"
