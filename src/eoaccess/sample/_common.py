"""What every product generator of the sample archive shares: sizes, seeds, the report."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from eoaccess._progress import Progress

Size = Literal["tiny", "small", "default", "large"]
SIZES: tuple[Size, ...] = ("tiny", "small", "default", "large")


@dataclass(frozen=True)
class ProductSummary:
    """What a generator wrote, for the quickstart summary and for tests."""

    product: str
    """Product family name (``itslive``, ``kaguya``, ``atl03``, ``arps``)."""
    root: Path
    """Directory of this product inside the archive."""
    files: int
    """Number of files written."""
    bytes: int
    """Total size on disk in bytes."""
    collections: tuple[str, ...] = ()
    """Collection ids or names this product provides."""
    items: int = 0
    """Number of catalog entries (cubes, scenes, granules, tiles)."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """A few human-readable lines, e.g. grid sizes and CRSs."""


class Generator(Protocol):
    """Writes one product family under ``root`` (an empty directory) and reports on it."""

    def __call__(self, root: Path, size: Size, seed: int, progress: Progress) -> ProductSummary: ...


def rng_for(seed: int, *names: str | int) -> np.random.Generator:
    """A random generator that depends only on ``seed`` and the given names (stable across runs)."""
    keys = [seed] + [zlib.crc32(str(n).encode()) for n in names]
    return np.random.default_rng(keys)


def tree_size(root: Path) -> tuple[int, int]:
    """Return (number of files, total bytes) under ``root``."""
    files = 0
    total = 0
    for path in root.rglob("*"):
        if path.is_file():
            files += 1
            total += path.stat().st_size
    return files, total
