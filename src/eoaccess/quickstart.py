"""``eoaccess quickstart``: the seed workflows end to end on a freshly generated sample archive.

At this stage it builds the ``small`` archive and summarises it; each workflow (STAC search,
Harmony subsetting, statistics, …) is added here as it lands.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from eoaccess._progress import Progress
from eoaccess.sample import SampleSummary, generate_sample
from eoaccess.summary import print_sample_summary


def run_quickstart(
    dest: str | Path, progress: Progress | None = None, console: Console | None = None
) -> SampleSummary:
    """Generate the small sample archive under ``dest/archive`` and print what it holds."""
    console = console or Console()
    root = Path(dest) / "archive"
    console.print(f"[bold]eoaccess quickstart[/bold]: writing the small sample archive to {root}")
    summary = generate_sample(root, size="small", seed=0, progress=progress)
    print_sample_summary(summary, console)
    return summary
