"""``python -m eoaccess`` runs the CLI."""

import sys

from eoaccess.cli import main

sys.exit(main())
