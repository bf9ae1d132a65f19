"""Who is asking: configured users (HTTP Basic) and tokens (Bearer), or open mode.

With no users and no tokens configured the service is open (local use) and every request acts
as the owner ``anonymous``. Otherwise each request must authenticate; jobs belong to the user
that submitted them. Secrets are compared in constant time and never logged or echoed: error
messages name the scheme, not the value.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from eoaccess.errors import InvalidInputError
from eoaccess.harmony._model import AuthenticationError, HarmonySettings

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Auth:
    """The configured credentials."""

    users: Mapping[str, str] = field(default_factory=dict)
    """User name -> password."""
    tokens: Mapping[str, str] = field(default_factory=dict)
    """Bearer token -> user name."""

    @property
    def open(self) -> bool:
        """True when no credentials are configured: everyone is ``anonymous``."""
        return not self.users and not self.tokens

    def owner(self, authorization: str | None) -> str:
        """The user an ``Authorization`` header authenticates (AuthenticationError if none)."""
        if self.open:
            return ANONYMOUS
        if not authorization:
            raise AuthenticationError(
                "authentication required: send a configured user (Basic) or token (Bearer)"
            )
        scheme, _, value = authorization.strip().partition(" ")
        check = _SCHEMES.get(scheme.lower())
        if check is None:
            raise AuthenticationError(
                f"unsupported authorization scheme {scheme!r}; use Basic or Bearer"
            )
        user = check(self, value.strip())
        if user is None:
            raise AuthenticationError(f"the {scheme.capitalize()} credentials were not accepted")
        return user


def _basic(auth: Auth, value: str) -> str | None:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, sep, password = decoded.partition(":")
    expected = auth.users.get(name)
    if not sep or expected is None:
        return None
    return name if hmac.compare_digest(expected.encode(), password.encode()) else None


def _bearer(auth: Auth, value: str) -> str | None:
    for token, user in auth.tokens.items():
        if hmac.compare_digest(token.encode(), value.encode()):
            return user
    return None


# Registry: lower-case Authorization scheme -> checker returning the user or None.
_SCHEMES: dict[str, Callable[[Auth, str], str | None]] = {"basic": _basic, "bearer": _bearer}


def parse_user(text: str) -> tuple[str, str]:
    """``NAME:PASSWORD`` -> (name, password) (for ``--user``)."""
    name, sep, password = text.partition(":")
    if not sep or not name or not password:
        raise ValueError("give --user as NAME:PASSWORD")
    return name, password


def parse_token(text: str) -> tuple[str, str]:
    """``TOKEN:NAME`` -> (token, name) (for ``--token``; the name follows the last colon)."""
    token, sep, name = text.rpartition(":")
    if not sep or not token or not name:
        raise ValueError("give --token as TOKEN:NAME")
    return token, name


def load_credentials(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Users and tokens from a JSON file ``{"users": {name: password}, "tokens": {token: name}}``."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"cannot read the credentials file {path}: {exc}") from None
    users = data.get("users", {}) if isinstance(data, dict) else None
    tokens = data.get("tokens", {}) if isinstance(data, dict) else None
    for what, table in (("users", users), ("tokens", tokens)):
        if not isinstance(table, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in table.items()
        ):
            raise InvalidInputError(f'{path}: "{what}" must map non-empty strings to strings')
    return dict(users or {}), dict(tokens or {})


def harmony_settings(
    results: str | None = None,
    dask_scheduler: str | None = None,
    users: Iterable[str] = (),
    tokens: Iterable[str] = (),
    credentials: Path | None = None,
    preview_threshold: int = 300,
    expiration_days: int = 30,
) -> HarmonySettings:
    """The service settings of ``eoaccess serve``'s options (InvalidInputError on bad ones)."""
    user_map, token_map = load_credentials(credentials) if credentials else ({}, {})
    try:
        user_map.update(parse_user(u) for u in users)
        token_map.update(parse_token(t) for t in tokens)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None
    return HarmonySettings(
        results=results,
        dask_scheduler=dask_scheduler,
        users=user_map,
        tokens=token_map,
        preview_threshold=preview_threshold,
        expiration_days=expiration_days,
    )
