"""The eoaccess side of the download benchmark, as its own process (like rclone, aria2c, curl).

``python -m benchmarks.download.run_eoaccess LIST DEST CONCURRENCY [PROCESSES]``: LIST has
``url<TAB>path`` lines; PROCESSES defaults to eoaccess's own choice. Prints one JSON line: files,
bytes, processes used and the seconds spent inside ``download`` (the process time around it,
interpreter start and imports, is measured by the caller).
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    from eoaccess.transfer import TransferConfig, download

    imported = time.perf_counter()
    listing, dest, concurrency = argv[0], argv[1], int(argv[2])
    processes = int(argv[3]) if len(argv) > 3 else None
    with open(listing, encoding="utf-8") as handle:
        pairs = [tuple(line.rstrip("\n").split("\t")) for line in handle if line.strip()]
    config = TransferConfig(concurrency=concurrency, processes=processes)
    result = download(pairs, dest, config=config)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "files": len(result.downloaded),
                "failed": len(result.failed),
                "bytes": sum(f.bytes for f in result.downloaded),
                "processes": result.processes,
                "import_seconds": imported - started,
                "download_seconds": done - imported,
            }
        )
    )
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
