"""``python -m eoaccess`` runs the CLI."""

import sys

from eoaccess.cli import main

# Guarded: Dask's local cluster spawns worker processes that re-import the main module.
if __name__ == "__main__":
    sys.exit(main())
