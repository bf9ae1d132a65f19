"""``python -m eoaccess.transfer._worker``: one worker process of a multi-process download.

Started by :mod:`eoaccess.transfer._processes`, which it talks to over stdin/stdout.
"""

from __future__ import annotations

import sys

from eoaccess.transfer._processes import worker_main

if __name__ == "__main__":
    sys.exit(worker_main())
