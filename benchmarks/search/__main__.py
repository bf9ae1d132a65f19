"""Search benchmark: eoaccess's STAC API over its embedded catalog and over pgstac, side by side
with stac-fastapi-pgstac, on the same synthetic catalog, over HTTP on loopback.

    python -m benchmarks.search [--items 1000000] [--repeat 60] [--pg-dsn postgresql://…]

Both catalogs are loaded with the same synthetic items (``eoaccess.stores._synthetic``). Four
servers are started as processes — ``eoaccess serve`` over the embedded catalog, ``eoaccess
serve --catalog postgresql://…``, and stac-fastapi-pgstac twice (as shipped, and counting
``numberMatched`` as eoaccess does) — and asked the same ``POST /search`` queries by one httpx
client; the two stores are also called in-process (``--no-direct`` skips that). Reported: p50/p95
latency per query kind and system, ours ÷ peer ratios, and paging throughput (items/s at the
largest page size, 10,000). Results go to stdout and to the ``## Search`` section of
benchmarks/RESULTS.md. The harness is :mod:`benchmarks.search.harness`.

Without ``--pg-dsn`` a throwaway PostgreSQL cluster is started on loopback (the test harness's:
fsync off, default memory settings) and pgstac is loaded into it; the embedded catalog is kept in
``--workdir`` and reused by the next run with the same ``--items``, as is a ``--pg-dsn`` database.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.search.harness import BenchConfig, run_benchmark
from benchmarks.search.report import render_section, write_section

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"


@contextlib.contextmanager
def pg_cluster(dsn: str | None) -> Iterator[str]:
    """``dsn``, or the DSN of a throwaway loopback cluster stopped afterwards."""
    if dsn:
        yield dsn
        return
    from tests.harness.postgres import start_postgres

    cluster = start_postgres()
    try:
        yield cluster.dsn
    finally:
        cluster.stop()


def portable_command(args: list[str]) -> str:
    """The command line without options that name local places or only affect this run's
    output, as someone reproducing the run would type it."""
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--pg-dsn", "--workdir"):
            skip = True
        elif not arg.startswith(("--pg-dsn=", "--workdir=", "--no-results")):
            kept.append(arg)
    return " ".join(["python -m benchmarks.search", *kept])


def main(argv: list[str] | None = None) -> None:
    args_list = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.search",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = BenchConfig()
    parser.add_argument("--items", type=int, default=defaults.items, help="catalog size")
    parser.add_argument("--repeat", type=int, default=defaults.repeat, help="queries per kind")
    parser.add_argument(
        "--warmup", type=int, default=defaults.warmup, help="unmeasured queries per kind"
    )
    parser.add_argument(
        "--paging-seconds", type=float, default=defaults.paging_seconds, help="budget per system"
    )
    parser.add_argument(
        "--writer-items",
        type=int,
        default=defaults.writer_items,
        help="items loaded into pgstac through the store writer before the COPY loader",
    )
    parser.add_argument("--no-direct", action="store_true", help="skip the in-process stores")
    parser.add_argument("--pg-dsn", help="an existing PostgreSQL database (pgstac is installed)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "work" / "search")
    parser.add_argument("--no-results", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args(args_list)
    config = BenchConfig(
        items=args.items,
        repeat=args.repeat,
        warmup=args.warmup,
        paging_seconds=args.paging_seconds,
        writer_items=args.writer_items,
        direct=not args.no_direct,
        workdir=args.workdir,
    )
    started = time.monotonic()
    with pg_cluster(args.pg_dsn) as dsn:
        result = run_benchmark(config, dsn)
    print(f"benchmark took {(time.monotonic() - started) / 60:.1f} min", flush=True)
    section = render_section(result, portable_command(args_list))
    print(section)
    if not args.no_results:
        write_section(RESULTS, section)
        print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
