"""Where the project's shared documents and real data are: ``shared/`` beside the repository
checkout, else ``$EOACCESS_SHARED``, else /work/shared. Tests needing them skip when absent."""

from __future__ import annotations

import os
from pathlib import Path


def _find_shared() -> Path:
    beside = Path(__file__).resolve().parents[2] / "shared"
    if beside.is_dir():
        return beside
    return Path(os.environ.get("EOACCESS_SHARED", "/work/shared"))


SHARED = _find_shared()
REALDATA = Path(os.environ.get("EOACCESS_REALDATA", SHARED / "realdata"))
SEEDS = SHARED / "seeds"
SCHEMAS = SHARED / "schemas"
