"""Credentials for a service: a Bearer token or a user and password, from wherever the user keeps
them. Secrets never appear in ``repr`` and are masked wherever a request is shown.

Resolution order (first found wins): an explicit token, an explicit ``USER[:PASSWORD]``, the
``EOACCESS_TOKEN`` environment variable, ``EDL_USERNAME``/``EDL_PASSWORD`` (what harmony-py
reads), then the ``~/.netrc`` entry (or ``$NETRC``) of the service host.
"""

from __future__ import annotations

import base64
import netrc
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from eoaccess.errors import InvalidInputError


@dataclass(frozen=True)
class BearerToken:
    """A token sent as ``Authorization: Bearer …``."""

    token: str = field(repr=False)
    """The token; never printed."""

    def authorization(self) -> str:
        """The Authorization header value."""
        return f"Bearer {self.token}"


@dataclass(frozen=True)
class BasicAuth:
    """A user and password sent as ``Authorization: Basic …``."""

    user: str
    """User name."""
    password: str = field(repr=False)
    """Password; never printed."""

    def authorization(self) -> str:
        """The Authorization header value."""
        raw = f"{self.user}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


Credentials = BearerToken | BasicAuth


def resolve_credentials(
    url: str,
    *,
    token: str | None = None,
    user: str | None = None,
    env: Mapping[str, str] | None = None,
    netrc_file: str | os.PathLike[str] | None = None,
) -> Credentials | None:
    """The credentials to use for the service at ``url``, or None for an open service.

    ``user`` is ``USER:PASSWORD`` or ``USER`` alone, whose password then comes from
    ``EOACCESS_PASSWORD`` or the netrc entry of the host for that login.
    """
    env = os.environ if env is None else env
    if token:
        return BearerToken(token)
    host = urlsplit(url).hostname or ""
    if user:
        name, sep, password = user.partition(":")
        if sep:
            return BasicAuth(name, password)
        password = env.get("EOACCESS_PASSWORD") or ""
        if not password:
            entry = _netrc_entry(host, env, netrc_file)
            if entry is None or entry[0] != name:
                raise InvalidInputError(
                    f"no password for user {name!r}: give --user {name}:PASSWORD, set "
                    f"EOACCESS_PASSWORD or add a netrc entry for {host}"
                )
            password = entry[1]
        return BasicAuth(name, password)
    if env.get("EOACCESS_TOKEN"):
        return BearerToken(env["EOACCESS_TOKEN"])
    if env.get("EDL_USERNAME") and env.get("EDL_PASSWORD"):
        return BasicAuth(env["EDL_USERNAME"], env["EDL_PASSWORD"])
    entry = _netrc_entry(host, env, netrc_file)
    return None if entry is None else BasicAuth(*entry)


def _netrc_entry(
    host: str, env: Mapping[str, str], netrc_file: str | os.PathLike[str] | None
) -> tuple[str, str] | None:
    """(login, password) of ``host`` in the netrc file, if there is one."""
    path = Path(netrc_file or env.get("NETRC") or Path.home() / ".netrc")
    if not path.is_file():
        return None
    try:
        found = netrc.netrc(str(path)).authenticators(host)
    except (netrc.NetrcParseError, OSError) as exc:
        raise InvalidInputError(f"cannot read netrc file {path}: {exc}") from None
    if found is None or not found[0] or found[2] is None:
        return None
    return found[0], found[2]
