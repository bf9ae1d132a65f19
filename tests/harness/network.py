"""A guard that records (and refuses) every connection outside loopback.

Tests must pass with the network cut, so any attempt to reach another host is a bug even when a
library swallows the resulting error: attempts are recorded and the test that made one fails.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


class NetworkAccessBlocked(OSError):
    """A test tried to reach a host outside loopback."""


def is_loopback(host: str) -> bool:
    """True for loopback addresses and names."""
    host = host.strip("[]").lower()
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class NetworkGuard:
    """Patches socket connect and name resolution; keeps the list of refused destinations."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._saved: dict[str, Callable[..., Any]] = {}

    def _check(self, address: Any, family: int) -> None:
        if family not in (socket.AF_INET, socket.AF_INET6):
            return
        host = str(address[0]) if isinstance(address, tuple) else str(address)
        if not is_loopback(host):
            self.attempts.append(host)
            raise NetworkAccessBlocked(f"network access outside loopback blocked in tests: {host}")

    def install(self) -> None:
        guard = self
        connect = socket.socket.connect
        connect_ex = socket.socket.connect_ex
        getaddrinfo = socket.getaddrinfo

        def guarded_connect(sock: socket.socket, address: Any) -> Any:
            guard._check(address, sock.family)
            return connect(sock, address)

        def guarded_connect_ex(sock: socket.socket, address: Any) -> Any:
            guard._check(address, sock.family)
            return connect_ex(sock, address)

        def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host is not None:
                name = host.decode() if isinstance(host, bytes) else str(host)
                if not is_loopback(name):
                    guard.attempts.append(name)
                    raise NetworkAccessBlocked(f"name resolution outside loopback blocked: {name}")
            return getaddrinfo(host, *args, **kwargs)

        self._saved = {"connect": connect, "connect_ex": connect_ex, "getaddrinfo": getaddrinfo}
        socket.socket.connect = guarded_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = guarded_getaddrinfo

    def uninstall(self) -> None:
        if self._saved:
            socket.socket.connect = self._saved["connect"]  # type: ignore[method-assign]
            socket.socket.connect_ex = self._saved["connect_ex"]  # type: ignore[method-assign]
            socket.getaddrinfo = self._saved["getaddrinfo"]
            self._saved = {}

    def take(self) -> list[str]:
        """Return and clear the attempts recorded so far."""
        attempts, self.attempts = self.attempts, []
        return attempts
