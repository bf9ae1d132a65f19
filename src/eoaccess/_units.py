"""Numbers as people read them; no dependencies, so any module may import it."""

from __future__ import annotations


def human_bytes(n: float) -> str:
    """Format a byte count the way people read it (``812 B``, ``1.2 MB``)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")
