"""The OAuth2 clients ``eoaccess serve`` accepts, from ``--oauth-client``, a variable or a file.

A secret on the command line is visible to every local user (``ps``) and lands in shell history,
so the same ``ID:SECRET`` pairs can come from the ``EOACCESS_OAUTH_CLIENTS`` variable (pairs
separated by white space) or from a file (``--oauth-clients-file`` or
``EOACCESS_OAUTH_CLIENTS_FILE``: one pair a line, blank lines and ``#`` comments ignored). All
sources add up; the same id with two different secrets is an error rather than a silent choice.
No client at all keeps the server open (``ServerSettings.oauth_clients`` None: local use).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from eoaccess.errors import InvalidInputError, NotFoundError

CLIENTS_ENV = "EOACCESS_OAUTH_CLIENTS"
CLIENTS_FILE_ENV = "EOACCESS_OAUTH_CLIENTS_FILE"


def parse_client(text: str, where: str = "--oauth-client") -> tuple[str, str]:
    """``ID:SECRET`` as (id, secret); the secret may itself contain ``:``."""
    client_id, colon, secret = text.strip().partition(":")
    if not colon or not client_id or not secret:
        # never echo the value: it may be a secret typed in the wrong place
        raise InvalidInputError(f"{where}: expected ID:SECRET with a non-empty id and secret")
    return client_id, secret


def read_clients_file(path: str | Path) -> list[tuple[str, str]]:
    """The ``ID:SECRET`` lines of ``path`` (blank lines and ``#`` comments skipped)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"OAuth clients file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read OAuth clients file {path}: {exc}") from None
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            pairs.append(parse_client(line, f"{path} line {number}"))
    return pairs


def oauth_clients(
    pairs: Iterable[str] = (), files: Iterable[str | Path] = ()
) -> Mapping[str, str] | None:
    """Client id -> secret from ``ID:SECRET`` texts and clients files; None when there is none."""
    found: list[tuple[str, str]] = [parse_client(pair) for pair in pairs]
    for path in files:
        found.extend(read_clients_file(path))
    clients: dict[str, str] = {}
    for client_id, secret in found:
        if clients.setdefault(client_id, secret) != secret:
            raise InvalidInputError(
                f"OAuth client {client_id!r} is given with two different secrets"
            )
    return clients or None
