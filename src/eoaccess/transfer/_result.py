"""What a download did, file by file, and the summary a person reads at the end."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from eoaccess.transfer._errors import DownloadFailedError

Status = Literal["downloaded", "skipped", "failed", "planned"]


@dataclass(frozen=True)
class FileResult:
    """The outcome of one file."""

    url: str
    """Where it came from."""
    path: Path
    """Where it is (or would be, for failures and dry runs)."""
    status: Status
    """downloaded, skipped (already present and verified), failed, or planned (dry run)."""
    bytes: int = 0
    """Size of the file on disk (expected size for planned files, when known)."""
    fetched: int = 0
    """Bytes received over the network in this run."""
    seconds: float = 0.0
    """Time spent on this file."""
    sha256: str | None = None
    """Hex SHA-256 of the content, when it was computed."""
    error: str | None = None
    """Why it failed."""
    resumed_from: int = 0
    """Bytes already present in a ``.part`` file from an earlier run."""
    attempts: int = 0
    """Requests made for it."""

    def manifest_row(self) -> dict[str, Any]:
        """The JSON-lines manifest record (url, path, bytes, sha256, status, seconds[, error])."""
        row: dict[str, Any] = {
            "url": self.url,
            "path": str(self.path),
            "bytes": self.bytes,
            "sha256": self.sha256,
            "status": self.status,
            "seconds": round(self.seconds, 6),
        }
        if self.error:
            row["error"] = self.error
        return row


@dataclass(frozen=True)
class DownloadResult:
    """Every file of one :func:`~eoaccess.transfer.download` call, in input order."""

    dest: Path
    """The download directory."""
    files: tuple[FileResult, ...]
    """One result per file."""
    seconds: float
    """Wall time of the whole run."""
    dry_run: bool = False
    """True when nothing was transferred."""
    processes: int = 1
    """Processes that downloaded (this one included; more for many small files)."""

    def _with(self, status: Status) -> tuple[FileResult, ...]:
        return tuple(f for f in self.files if f.status == status)

    @property
    def downloaded(self) -> tuple[FileResult, ...]:
        """Files transferred in this run."""
        return self._with("downloaded")

    @property
    def skipped(self) -> tuple[FileResult, ...]:
        """Files already present and verified."""
        return self._with("skipped")

    @property
    def failed(self) -> tuple[FileResult, ...]:
        """Files that did not arrive (no file exists under their final name)."""
        return self._with("failed")

    @property
    def planned(self) -> tuple[FileResult, ...]:
        """Files a dry run would transfer."""
        return self._with("planned")

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not self.failed

    @property
    def fetched(self) -> int:
        """Bytes received over the network."""
        return sum(f.fetched for f in self.files)

    @property
    def rate(self) -> float:
        """Bytes per second received over the whole run."""
        return self.fetched / self.seconds if self.seconds > 0 else 0.0

    def raise_for_failures(self) -> None:
        """Raise DownloadFailedError naming the failed files, if any."""
        if self.failed:
            names = ", ".join(str(f.path) for f in self.failed[:3])
            more = f" and {len(self.failed) - 3} more" if len(self.failed) > 3 else ""
            raise DownloadFailedError(
                f"{len(self.failed)} of {len(self.files)} files failed: {names}{more}; "
                "run again to retry (finished files are skipped, partial ones resume)"
            )

    def summary(self) -> str:
        """A few lines for people: counts, bytes, rate, skipped, and each failure with its reason."""
        from eoaccess._units import human_bytes

        if self.dry_run:
            size = sum(f.bytes for f in self.planned)
            unknown = sum(1 for f in self.planned if not f.bytes)
            extra = f" ({unknown} of unknown size)" if unknown else ""
            return (
                f"Dry run: would download {len(self.planned)} files, "
                f"{human_bytes(size)}{extra}, to {self.dest}"
            )
        done = self.downloaded
        size = sum(f.bytes for f in done)
        resumed = sum(1 for f in done if f.resumed_from)
        lines = [
            f"Downloaded {len(done)} files, {human_bytes(size)} in {self.seconds:.1f} s "
            f"({human_bytes(self.rate)}/s) to {self.dest}"
            + (f"; {resumed} resumed" if resumed else "")
            + (f"; {self.processes} processes" if self.processes > 1 else "")
        ]
        if self.skipped:
            lines.append(f"Skipped {len(self.skipped)} files already present and verified")
        if self.failed:
            lines.append(f"Failed {len(self.failed)} files:")
            lines.extend(f"  {f.path}: {f.error}" for f in self.failed)
        return "\n".join(lines)
