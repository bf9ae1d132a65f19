"""``outputs/index.html``: one self-contained page showing everything a quickstart run produced.

No network at view time: CSS is inline, there are no scripts or web fonts, and every link is
relative to ``outputs/`` so the folder can be moved or zipped. Each finished seed gets its
"what happened" paragraph, the example script that reproduces it (copied into
``outputs/examples/``), and its files, shown by kind (a registry keyed by suffix): images
inline, maps and other HTML as links, CSV tables with their first rows, everything else as a
file list. Only finished seeds appear; a run that stopped says where.
"""

from __future__ import annotations

import csv
import html
import platform
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from eoaccess import __version__
from eoaccess._atomic import write_text_atomic
from eoaccess._units import human_bytes

if TYPE_CHECKING:
    from eoaccess.quickstart import FinishedSeed, QuickstartReport

INDEX_NAME = "index.html"
EXAMPLES_DIRNAME = "examples"
TABLE_PREVIEW_ROWS = 5
FILE_LIST_LIMIT = 12

# The packages whose versions make a run reproducible (the ones doing the real work).
VERSION_PACKAGES = (
    "pystac-client",
    "fastapi",
    "uvicorn",
    "xarray",
    "zarr",
    "rasterio",
    "geopandas",
    "aiohttp",
    "sentinelhub",
)

_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em;
       color: #1d2733; background: #fbfcfd; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 2px solid #d5dde6; }
.status { padding: 0.6em 1em; border-radius: 6px; font-weight: 600; }
.complete { background: #e3f4e6; color: #185c2a; } .stopped { background: #fde8e4; color: #8a2414; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #d5dde6; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #eef2f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #1d2733; color: #e8eef4; padding: 1em; overflow-x: auto; border-radius: 6px;
      font-size: 0.86em; }
figure { display: inline-block; vertical-align: top; margin: 0.5em 1em 0.5em 0; }
figure img { max-width: 100%; width: 34em; border: 1px solid #d5dde6; background: #fff; }
figcaption { font-size: 0.85em; color: #52606d; }
.muted { color: #52606d; font-size: 0.9em; }
.wide { overflow-x: auto; } li { overflow-wrap: anywhere; }
"""


def examples_dir() -> Path | None:
    """The repository's ``examples/`` folder (src layout: two levels above the package), or
    ``None`` when eoaccess runs from an installed wheel without it."""
    candidate = Path(__file__).resolve().parents[2] / EXAMPLES_DIRNAME
    return candidate if candidate.is_dir() else None


def _href(path: Path, base: Path) -> str:
    """A relative, URL-quoted link from ``base`` to ``path``."""
    return quote(path.relative_to(base).as_posix())


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# --- how each kind of file is shown: renderers keyed by kind, kinds keyed by suffix.

FileRenderer = Callable[[Sequence[Path], Path], str]


def _render_images(paths: Sequence[Path], base: Path) -> str:
    return "\n".join(
        f'<figure><img src="{_href(p, base)}" alt="{_esc(p.name)}">'
        f'<figcaption><a href="{_href(p, base)}">{_esc(p.name)}</a></figcaption></figure>'
        for p in paths
    )


def _render_pages(paths: Sequence[Path], base: Path) -> str:
    items = "".join(
        f'<li><a href="{_href(p, base)}">{_esc(p.name)}</a> (interactive map, offline)</li>'
        for p in paths
    )
    return f"<ul>{items}</ul>"


def _render_tables(paths: Sequence[Path], base: Path) -> str:
    return "\n".join(_table_preview(p, base) for p in paths)


def _table_preview(path: Path, base: Path) -> str:
    """The header and first rows of a CSV as an HTML table, with a link to the whole file."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    head = "".join(f"<th>{_esc(c)}</th>" for c in header)
    lines = "".join(
        "<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>"
        for row in body[:TABLE_PREVIEW_ROWS]
    )
    shown = min(len(body), TABLE_PREVIEW_ROWS)
    return (
        f'<p><a href="{_href(path, base)}">{_esc(path.name)}</a>: {len(body)} rows '
        f'(first {shown} shown)</p><div class="wide"><table><tr>{head}</tr>{lines}</table></div>'
    )


def _render_files(paths: Sequence[Path], base: Path) -> str:
    total = sum(p.stat().st_size for p in paths)
    items = "".join(
        f'<li><a href="{_href(p, base)}">{_esc(p.relative_to(base).as_posix())}</a> '
        f'<span class="muted">{human_bytes(p.stat().st_size)}</span></li>'
        for p in paths[:FILE_LIST_LIMIT]
    )
    more = len(paths) - FILE_LIST_LIMIT
    tail = f'<li class="muted">… and {more} more</li>' if more > 0 else ""
    return f"<p>{len(paths)} files, {human_bytes(total)}:</p><ul>{items}{tail}</ul>"


FILE_KINDS: dict[str, str] = {
    ".png": "plots and maps",
    ".svg": "plots and maps",
    ".html": "interactive maps",
    ".csv": "tables",
}
"""File suffix → the kind it is shown as; anything else is listed under "files"."""

RENDERERS: dict[str, FileRenderer] = {
    "plots and maps": _render_images,
    "interactive maps": _render_pages,
    "tables": _render_tables,
    "files": _render_files,
}


def _group_files(folder: Path) -> dict[str, list[Path]]:
    """Every file under ``folder`` (sorted) grouped by kind, kinds in RENDERERS order."""
    groups: dict[str, list[Path]] = {kind: [] for kind in RENDERERS}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        # Downloaded data keeps its place in the file list even when it is a PNG or CSV.
        top_level = path.parent == folder
        kind = FILE_KINDS.get(path.suffix.lower(), "files") if top_level else "files"
        groups[kind].append(path)
    return {kind: paths for kind, paths in groups.items() if paths}


# --- the page


def _versions() -> list[tuple[str, str]]:
    found = [("eoaccess", __version__), ("Python", platform.python_version())]
    for name in VERSION_PACKAGES:
        try:
            found.append((name, version(name)))
        except PackageNotFoundError:
            continue
    return found


def _status(report: QuickstartReport) -> str:
    if report.stopped is None:
        return '<p class="status complete">Complete: every step finished.</p>'
    return (
        f'<p class="status stopped">Not complete: {_esc(report.stopped)}. Only the steps '
        "and seeds that finished are listed.</p>"
    )


def _steps_table(report: QuickstartReport) -> str:
    rows = "".join(
        f'<tr class="step" data-step="{_esc(name)}"><td>{_esc(name)}</td>'
        f'<td class="num">{seconds:.1f}</td><td>{_esc(result)}</td></tr>'
        for name, seconds, result in report.steps
    )
    return f"<table><tr><th>step</th><th>seconds</th><th>result</th></tr>{rows}</table>"


def _seed_section(seed: FinishedSeed, base: Path, example: Path | None) -> str:
    workflow = seed.workflow
    parts = [
        f'<section class="seed" id="{_esc(workflow.key)}" data-seed="{_esc(workflow.key)}">',
        f"<h2>{_esc(workflow.name)}</h2>",
        f'<p class="muted">{seed.seconds:.1f} s · {_esc(seed.outcome.summary)} · folder '
        f'<a href="{_href(seed.folder, base)}/">{_esc(workflow.key)}/</a></p>',
        f"<h3>What happened</h3><p>{_esc(seed.outcome.story)}</p>",
    ]
    if example is not None:
        parts.append(
            f'<h3>Reproduce it</h3><p><a href="{_href(example, base)}">{_esc(example.name)}</a>'
            " does the same with the public Python API: <code>python "
            f"{_esc(example.name)} SOURCE OUT_DIR</code> (SOURCE: the server URL or the "
            "ingested archive folder)</p>"
            f"<pre><code>{_esc(example.read_text(encoding='utf-8'))}</code></pre>"
        )
    for kind, paths in _group_files(seed.folder).items():
        parts.append(f"<h3>{_esc(kind.capitalize())}</h3>{RENDERERS[kind](paths, base)}")
    parts.append("</section>")
    return "\n".join(parts)


def render_index(report: QuickstartReport, examples: dict[str, Path]) -> str:
    """The page for ``report``; ``examples`` maps seed keys to their script under outputs/."""
    base = report.outputs
    seeds = "\n".join(
        _seed_section(seed, base, examples.get(seed.workflow.key)) for seed in report.seeds
    )
    versions = "".join(f"<tr><td>{_esc(n)}</td><td>{_esc(v)}</td></tr>" for n, v in _versions())
    server = _esc(report.server_url or "not started")
    contents = "".join(
        f'<li><a href="#{_esc(s.workflow.key)}">{_esc(s.workflow.name)}</a></li>'
        for s in report.seeds
    )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>eoaccess quickstart</title>
<style>{_CSS}</style>
</head>
<body>
<h1>eoaccess quickstart</h1>
<p class="muted">Run in {_esc(report.root)} on {when}. Server used:
<code>{server}</code> (stopped when the run ended; start it again with
<code>eoaccess serve {_esc(report.root / "archive")}</code>).</p>
{_status(report)}
<h2>Summary</h2>
{_steps_table(report)}
<ul>{contents}</ul>
{seeds}
<h2>Versions</h2>
<table><tr><th>package</th><th>version</th></tr>{versions}</table>
</body>
</html>
"""


def _copy_examples(report: QuickstartReport, source: Path | None) -> dict[str, Path]:
    """Copy the finished seeds' example scripts into ``outputs/examples/`` (atomically)."""
    copied: dict[str, Path] = {}
    if source is None:
        return copied
    for seed in report.seeds:
        script = source / seed.workflow.example
        if script.is_file():
            target = report.outputs / EXAMPLES_DIRNAME / script.name
            write_text_atomic(target, script.read_text(encoding="utf-8"))
            copied[seed.workflow.key] = target
    return copied


def write_index(report: QuickstartReport, examples: Path | None = None) -> Path:
    """Write ``outputs/index.html`` for ``report`` atomically and return its path.

    ``examples`` is the folder holding the seeds' scripts (default: the repository's).
    """
    copied = _copy_examples(report, examples if examples is not None else examples_dir())
    target = report.outputs / INDEX_NAME
    write_text_atomic(target, render_index(report, copied))
    return target
