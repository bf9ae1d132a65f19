"""The ``eoaccess`` command line: a thin layer over the Python API.

Every command parses its options, calls the same function the Python API exposes and prints the
result. Any error ends the run with one line on stderr and a non-zero exit; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from eoaccess import __version__
from eoaccess._progress import make_progress
from eoaccess.errors import EOAccessError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="eoaccess")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Discover, query, subset, analyse and download Earth and planetary observation data,
    and serve your own archive through the same APIs."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["quiet"] = quiet


@cli.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.option(
    "--size",
    type=click.Choice(["tiny", "small", "default", "large"]),
    default="small",
    show_default=True,
    help="tiny: seconds, for tests; small: quickstart; large: benchmarks.",
)
@click.option(
    "--products",
    default="itslive,kaguya,atl03,arps",
    show_default=True,
    help="Comma-separated product families to write.",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed."
)
@click.pass_context
def sample(ctx: click.Context, dest: Path, size: str, products: str, seed: int) -> None:
    """Write a deterministic sample archive of the seed products into DEST."""
    from eoaccess.sample import generate_sample
    from eoaccess.summary import print_sample_summary

    progress = make_progress(enabled=not ctx.obj["quiet"] and size != "tiny")
    result = generate_sample(dest, size=size, products=products, seed=seed, progress=progress)  # type: ignore[arg-type]
    print_sample_summary(result)


@cli.command()
@click.argument("dest", type=click.Path(path_type=Path), default="eoaccess-quickstart")
@click.pass_context
def quickstart(ctx: click.Context, dest: Path) -> None:
    """Build the small sample archive in DEST and walk through the seed workflows."""
    from eoaccess.quickstart import run_quickstart

    run_quickstart(dest, progress=make_progress(enabled=not ctx.obj["quiet"]))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and turn every failure into one line on stderr and a non-zero exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="eoaccess", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        print("eoaccess: aborted", file=sys.stderr)
        return 130
    except click.ClickException as exc:
        where = f"{exc.ctx.command_path}: " if getattr(exc, "ctx", None) else "eoaccess: "
        print(f"{where}error: {_one_line(exc.format_message())}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("eoaccess: interrupted", file=sys.stderr)
        return 130
    except EOAccessError as exc:
        if debug:
            traceback.print_exc()
        print(f"eoaccess: error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(
            f"eoaccess: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
