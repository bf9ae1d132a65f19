"""The eoaccess side of the download benchmark, as its own process (like rclone, aria2c, curl).

``python -m benchmarks.download.run_eoaccess LIST DEST CONCURRENCY``: LIST has ``url<TAB>path``
lines. Prints one JSON line: files, bytes and the seconds spent inside ``download`` (the process
time around it, interpreter start and imports, is measured by the caller).
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    from eoaccess.transfer import download

    imported = time.perf_counter()
    listing, dest, concurrency = argv[0], argv[1], int(argv[2])
    with open(listing, encoding="utf-8") as handle:
        pairs = [tuple(line.rstrip("\n").split("\t")) for line in handle if line.strip()]
    result = download(pairs, dest, concurrency=concurrency)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "files": len(result.downloaded),
                "failed": len(result.failed),
                "bytes": sum(f.bytes for f in result.downloaded),
                "import_seconds": imported - started,
                "download_seconds": done - imported,
            }
        )
    )
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
