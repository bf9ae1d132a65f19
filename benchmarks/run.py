"""Run every benchmark suite in turn (``make bench``); each writes its section of RESULTS.md.

Suites are the sub-packages of ``benchmarks/`` with a ``__main__`` module; pass names to run
only some (``python -m benchmarks.run download search``). Extra options go to the suites
through their own ``python -m benchmarks.<name> --help``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def suites() -> list[str]:
    """Benchmark suites found next to this file, in name order."""
    return sorted(p.parent.name for p in HERE.glob("*/__main__.py"))


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or suites()
    unknown = sorted(set(names) - set(suites()))
    if unknown:
        print(
            f"benchmarks: unknown suite(s) {', '.join(unknown)}; have {', '.join(suites())}",
            file=sys.stderr,
        )
        return 2
    failed = []
    for name in names:
        print(f"== benchmarks.{name}", flush=True)
        done = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{name}"], cwd=HERE.parent, check=False
        )
        if done.returncode != 0:
            failed.append(name)
    if failed:
        print(f"benchmarks: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
