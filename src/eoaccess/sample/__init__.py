"""Deterministic sample archive shaped exactly like the real products of the five seeds.

``generate_sample(dest, size, products, seed)`` writes ``dest/<product>/`` for each product
family (see ../shared/FORMATS.md). Each product directory is written under a temporary name and
renamed into place when complete, so an interrupted run never leaves a half product behind.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from eoaccess._atomic import atomic_directory, ensure_writable_dir
from eoaccess._progress import NullProgress, Progress
from eoaccess.errors import InvalidInputError
from eoaccess.sample._common import SIZES, Generator, ProductSummary, Size

__all__ = ["PRODUCTS", "SIZES", "ProductSummary", "SampleSummary", "Size", "generate_sample"]

# Registry: product name -> module implementing ``generate`` (imported only when asked for).
_GENERATOR_MODULES: dict[str, str] = {
    "itslive": "eoaccess.sample.itslive",
    "kaguya": "eoaccess.sample.kaguya",
    "atl03": "eoaccess.sample.atl03",
    "arps": "eoaccess.sample.arps",
}
PRODUCTS: tuple[str, ...] = tuple(_GENERATOR_MODULES)


@dataclass(frozen=True)
class SampleSummary:
    """The archive written by :func:`generate_sample`."""

    root: Path
    size: Size
    seed: int
    products: tuple[ProductSummary, ...]
    seconds: float

    @property
    def files(self) -> int:
        return sum(p.files for p in self.products)

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.products)


def parse_products(products: str | Iterable[str] | None) -> tuple[str, ...]:
    """Normalise a product selection (comma-separated string or names) and reject unknown names."""
    if products is None:
        return PRODUCTS
    names = products.split(",") if isinstance(products, str) else list(products)
    names = [n.strip().lower() for n in names if n.strip()]
    if not names:
        raise InvalidInputError(f"no product given; choose from {', '.join(PRODUCTS)}")
    unknown = [n for n in names if n not in _GENERATOR_MODULES]
    if unknown:
        raise InvalidInputError(
            f"unknown product {', '.join(repr(n) for n in unknown)}; choose from {', '.join(PRODUCTS)}"
        )
    return tuple(dict.fromkeys(names))


def _generator(product: str) -> Generator:
    module = importlib.import_module(_GENERATOR_MODULES[product])
    return module.generate  # type: ignore[no-any-return]


def _default_workers(products: int) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(products, cores))


def generate_sample(
    dest: str | Path,
    size: Size = "small",
    products: str | Sequence[str] | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    workers: int | None = None,
) -> SampleSummary:
    """Write the sample archive under ``dest`` and return what was written.

    The same ``size``, ``products`` and ``seed`` always give the same files, whatever the number
    of ``workers`` (processes; default one per core, at most one per product). Product
    directories are written under temporary names and renamed into place only when every
    product succeeded; existing ones are replaced, other content of ``dest`` is left alone.
    """
    if size not in SIZES:
        raise InvalidInputError(f"unknown size {size!r}; choose from {', '.join(SIZES)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError(f"seed must be a non-negative integer, not {seed!r}")
    names = parse_products(products)
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise InvalidInputError(f"workers must be a positive integer, not {workers!r}")
    workers = min(workers or _default_workers(len(names)), len(names))
    root = ensure_writable_dir(Path(dest))
    progress = progress or NullProgress()
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        temporary = [stack.enter_context(atomic_directory(root / name)) for name in names]
        if workers > 1:
            from eoaccess.sample._parallel import generate_parallel

            jobs = [
                (_GENERATOR_MODULES[n], n, tmp) for n, tmp in zip(names, temporary, strict=True)
            ]
            results = generate_parallel(jobs, size, seed, progress, workers)
        else:
            results = [
                _generator(n)(tmp, size, seed, progress)
                for n, tmp in zip(names, temporary, strict=True)
            ]
    summaries = tuple(
        replace(summary, root=root / name) for name, summary in zip(names, results, strict=True)
    )
    return SampleSummary(root, size, seed, summaries, time.perf_counter() - start)
