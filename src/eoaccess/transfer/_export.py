"""Download lists for other tools: ``rclone --files-from``, ``aria2c -i`` and plain URLs.

Formats live in a registry; each turns planned jobs into the text of one list file. The first
lines are comments (both tools skip ``#`` lines) that give the command to run.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from eoaccess.errors import InvalidInputError
from eoaccess.transfer._config import S3Options
from eoaccess.transfer._engine import url_scheme
from eoaccess.transfer._plan import DEFAULT_LAYOUT, DownloadJob, plan_downloads

Exporter = Callable[[Sequence[DownloadJob], Path, S3Options], str]
"""Jobs, destination directory, S3 settings -> the list file's text."""

_EXPORTERS: dict[str, Exporter] = {}

# aria2's names for the hash algorithms it verifies
_ARIA2_CHECKSUMS = {"sha1": "sha-1", "sha256": "sha-256", "sha512": "sha-512", "md5": "md5"}


def register_exporter(name: str, exporter: Exporter) -> None:
    """Make ``exporter`` available as ``export=name`` (and ``--export name`` in the CLI)."""
    _EXPORTERS[name] = exporter


def exporters() -> tuple[str, ...]:
    """Names of the registered list formats."""
    return tuple(sorted(_EXPORTERS))


def _http_url(url: str, s3: S3Options) -> str:
    if url_scheme(url) == "s3":
        from eoaccess.transfer._s3 import aws_https_url

        return aws_https_url(url, s3)
    return url


def export_urls(jobs: Sequence[DownloadJob], dest: Path, s3: S3Options) -> str:
    """One URL per line, as found (``s3://`` kept)."""
    return "".join(f"{job.url}\n" for job in jobs)


def export_aria2(jobs: Sequence[DownloadJob], dest: Path, s3: S3Options) -> str:
    """An ``aria2c -i`` input file: each URL with ``out=`` (the layout path) and a checksum."""
    lines = [f"# aria2c --input-file=THIS_FILE --dir={dest} (written by eoaccess)"]
    for job in jobs:
        if url_scheme(job.url) not in ("http", "https", "s3"):
            raise InvalidInputError(f"aria2 cannot fetch {job.url}: only http(s) and s3 URLs")
        lines.append(_http_url(job.url, s3))
        lines.append(f"  out={job.path}")
        if job.checksum is not None and job.checksum.algorithm in _ARIA2_CHECKSUMS:
            name = _ARIA2_CHECKSUMS[job.checksum.algorithm]
            lines.append(f"  checksum={name}={job.checksum.digest.hex()}")
    return "\n".join(lines) + "\n"


def _rclone_root(url: str, s3: S3Options) -> tuple[str, str, str]:
    """(remote for the command, directory the list is relative to, path of the file)."""
    scheme = url_scheme(url)
    if scheme in ("http", "https"):
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        return base, f"{base}/", unquote(parts.path).lstrip("/")
    if scheme == "s3":
        from eoaccess.transfer._s3 import parse_s3_url, resolve_endpoint, resolve_region

        bucket, key = parse_s3_url(url)
        settings = f"provider=AWS,region={resolve_region(s3)}"
        endpoint = resolve_endpoint(s3)
        if endpoint:
            settings = f"provider=Other,endpoint='{endpoint}',force_path_style=true"
        return f":s3,{settings}:{bucket}", f":s3:{bucket}/", key
    if scheme in ("", "file"):
        from eoaccess.transfer._local import local_path

        path = local_path(url).resolve().as_posix()
        return "/", "/", path.lstrip("/")
    raise InvalidInputError(f"rclone lists cannot include {url}")


def export_rclone(jobs: Sequence[DownloadJob], dest: Path, s3: S3Options) -> str:
    """An ``rclone copy --files-from`` list: paths relative to the one remote root of all URLs.

    rclone keeps the remote directory structure below that root (the layout template does not
    apply); the header comment gives the exact command.
    """
    if not jobs:
        return "# nothing to download\n"
    roots: dict[str, list[str]] = {}
    for job in jobs:
        remote, _, path = _rclone_root(job.url, s3)
        roots.setdefault(remote, []).append(path)
    if len(roots) > 1:
        raise InvalidInputError(
            f"an rclone list needs one remote root but these files come from {len(roots)} "
            f"({', '.join(sorted(roots)[:3])}…): export 'aria2' or 'urls' instead"
        )
    remote, paths = next(iter(roots.items()))
    # the deepest directory shared by every file becomes the remote root
    common = posixpath.dirname(paths[0]) if len(paths) == 1 else posixpath.commonpath(paths)
    if common in paths:
        common = posixpath.dirname(common)
    relative = [posixpath.relpath(p, common) if common else p for p in paths]
    if remote.startswith("http"):
        root_url = f"{remote}/{quote(common)}/" if common else f"{remote}/"
        command = f"rclone copy --files-from THIS_FILE --http-url {root_url} :http: {dest}"
    elif remote == "/":
        command = f"rclone copy --files-from THIS_FILE /{common} {dest}"
    else:
        command = f'rclone copy --files-from THIS_FILE "{remote}/{common}" {dest}'.replace(
            '/"', '"'
        )
    header = [
        f"# {command}",
        "# (written by eoaccess; rclone keeps the remote paths below the root)",
    ]
    return "\n".join(header + relative) + "\n"


register_exporter("urls", export_urls)
register_exporter("aria2", export_aria2)
register_exporter("rclone", export_rclone)


def export_jobs(
    jobs: Sequence[DownloadJob],
    format: str,
    dest: str | Path = ".",
    s3: S3Options | None = None,
) -> str:
    """The text of a ``format`` list for ``jobs`` (see :func:`exporters`)."""
    if format not in _EXPORTERS:
        raise InvalidInputError(
            f"unknown export format {format!r}: use one of {', '.join(exporters())}"
        )
    return _EXPORTERS[format](jobs, Path(dest), s3 or S3Options())


def export_list(
    source: Any,
    format: str,
    *,
    dest: str | Path = ".",
    assets: str | Iterable[str] | None = None,
    roles: str | Iterable[str] | None = None,
    media_types: str | Iterable[str] | None = None,
    layout: str = DEFAULT_LAYOUT,
    s3: S3Options | None = None,
) -> str:
    """A download list of ``source`` (same inputs and selection as ``download``) for another tool."""
    jobs = plan_downloads(
        source, assets=assets, roles=roles, media_types=media_types, layout=layout
    )
    return export_jobs(jobs, format, dest, s3)
