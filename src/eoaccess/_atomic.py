"""Atomic writes: a final name only ever holds a complete file or directory.

Work is written under a hidden temporary name in the same directory (so the final
``os.replace``/``rename`` stays on one filesystem and is atomic), and only renamed into
place once complete. A crash leaves at most a ``.*.tmp-*`` entry, never a partial result.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from eoaccess.errors import OutputError


def ensure_writable_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and check it is a writable directory, else raise OutputError."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{path} exists and is not a directory") from None
    except OSError as exc:
        raise OutputError(f"cannot create directory {path}: {exc.strerror or exc}") from None
    if not path.is_dir():
        raise OutputError(f"{path} is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputError(f"directory {path} is not writable")
    return path


@contextlib.contextmanager
def atomic_directory(final: Path) -> Iterator[Path]:
    """Yield a temporary sibling directory that replaces ``final`` when the block succeeds.

    An existing ``final`` is moved aside and removed only after the new one is in place.
    """
    parent = ensure_writable_dir(final.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old: Path | None = None
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=parent))
        os.replace(final, old / final.name)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, racing other threads)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary sibling file path that is renamed onto ``final`` when the block succeeds."""
    parent = ensure_writable_dir(final.parent)
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.tmp-", dir=parent)
    # mkstemp creates 0600; a finished file gets the permissions any new file would get.
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))
