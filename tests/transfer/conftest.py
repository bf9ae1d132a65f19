"""Fixtures of the transfer tests: a fault-injecting server, fast retry settings, payloads."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import pytest

from eoaccess.transfer import RetryPolicy, TransferConfig
from tests.harness.faults import FaultServer, start_fault_server

CHUNK = 64 * 1024


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A fresh fault server per test (faults are per path and consumed in order)."""
    server = start_fault_server()
    yield server
    server.stop()


@pytest.fixture
def fast_config() -> TransferConfig:
    """Short timeouts and near-zero backoff, so fault tests stay fast; 64 KiB chunks."""
    return TransferConfig(
        concurrency=4,
        chunk_size=CHUNK,
        connect_timeout=5.0,
        stall_timeout=1.0,
        retry=RetryPolicy(attempts=4, backoff=0.001, max_backoff=0.002, jitter=0.0),
    )


class SleepRecorder:
    """An engine ``sleep`` that records the requested delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def payload(size: int, seed: int = 1) -> bytes:
    """Deterministic incompressible bytes."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}-{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(root: os.PathLike[str]) -> list[str]:
    """Every .part or sidecar file under ``root`` (a failed download must not leave partial names)."""
    found = []
    for dirpath, _, names in os.walk(root):
        found += [os.path.join(dirpath, n) for n in names if ".part" in n]
    return sorted(found)
