"""Readable summaries of what eoaccess wrote, for the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from eoaccess._units import human_bytes
from eoaccess.sample import SampleSummary


def sample_table(summary: SampleSummary) -> Table:
    """One row per product: where, how many files and bytes, what is inside."""
    table = Table(
        title=f"Sample archive {summary.root} (size {summary.size}, seed {summary.seed})",
        title_justify="left",
    )
    table.add_column("product", style="bold")
    table.add_column("items", justify="right")
    table.add_column("files", justify="right")
    table.add_column("size", justify="right")
    table.add_column("contents")
    for product in summary.products:
        table.add_row(
            product.product,
            str(product.items),
            str(product.files),
            human_bytes(product.bytes),
            "\n".join(product.notes),
        )
    table.add_row(
        "total",
        "",
        str(summary.files),
        human_bytes(summary.bytes),
        f"written in {summary.seconds:.1f} s",
    )
    return table


def make_console(stderr: bool = False) -> Console:
    """A console for tables: the terminal's width, or 120 columns when output is redirected
    (rich would otherwise wrap logs and pipes at 80)."""
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=120)
    return console


def print_sample_summary(summary: SampleSummary, console: Console | None = None) -> None:
    """Print the sample archive table to stdout."""
    (console or make_console()).print(sample_table(summary))
