"""The download manifest: one JSON object per line (url, path, bytes, sha256, status, seconds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eoaccess._atomic import write_text_atomic
from eoaccess.errors import InvalidInputError
from eoaccess.transfer._result import DownloadResult


def write_manifest(path: str | Path, result: DownloadResult) -> Path:
    """Write ``result`` as JSON lines to ``path`` atomically; return the path."""
    path = Path(path)
    text = "".join(json.dumps(f.manifest_row(), ensure_ascii=False) + "\n" for f in result.files)
    write_text_atomic(path, text)
    return path


def read_manifest(path: str | Path) -> list[dict[str, Any]]:
    """The records of a manifest written by :func:`write_manifest`."""
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path}:{number} is not a JSON line: {exc.msg}") from None
    return rows
