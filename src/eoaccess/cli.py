"""The ``eoaccess`` command line: a thin layer over the Python API.

Every command parses its options, calls the same function the Python API exposes and prints the
result. Any error ends the run with one line on stderr and a non-zero exit; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import json
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


@cli.command("ingest")
@click.argument("source")
@click.option(
    "--catalog",
    default=None,
    metavar="URI",
    help="Catalog to write: postgresql://… or a directory/.sqlite file "
    "[default: the embedded catalog in SOURCE/.eoaccess/].",
)
@click.option(
    "--endpoint-url",
    default=None,
    metavar="URL",
    help="S3 endpoint for s3:// sources [default: $AWS_ENDPOINT_URL].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def ingest_command(
    ctx: click.Context, source: str, catalog: str | None, endpoint_url: str | None, as_json: bool
) -> None:
    """Catalogue the archive SOURCE (a directory or s3://bucket/prefix) as STAC for `serve`.

    Runs are incremental: only new or changed files are read; items of deleted files are
    removed. Corrupt files are skipped and listed in the report.
    """
    from eoaccess.ingest import ingest

    report = ingest(
        source,
        catalog,
        progress=make_progress(enabled=not ctx.obj["quiet"]),
        endpoint_url=endpoint_url,
    )
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.table())


@cli.command()
@click.argument("dest", type=click.Path(path_type=Path), default="eoaccess-quickstart")
@click.pass_context
def quickstart(ctx: click.Context, dest: Path) -> None:
    """Build the small sample archive in DEST and walk through the seed workflows."""
    from eoaccess.quickstart import run_quickstart

    run_quickstart(dest, progress=make_progress(enabled=not ctx.obj["quiet"]))


# --- download (issue 5). Only the item source changes when open_catalog lands: the rest of the
# command is the Python API's download() and export_list().
from eoaccess.transfer._export import exporters  # noqa: E402 - light: no network library
from eoaccess.transfer._plan import DEFAULT_LAYOUT  # noqa: E402


@cli.command()
@click.argument("source")
@click.option("--assets", help="Comma-separated asset keys to download (default: every asset).")
@click.option(
    "--dest",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Download directory.",
)
@click.option(
    "--layout",
    default=DEFAULT_LAYOUT,
    show_default=True,
    help="Path of each file below DEST: {collection} {item} {asset} {filename} {stem} {ext}.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=16,
    show_default=True,
    help="Files transferred at once.",
)
@click.option("--overwrite", is_flag=True, help="Replace files already present and verified.")
@click.option("--dry-run", is_flag=True, help="Show what would be downloaded; transfer nothing.")
@click.option(
    "--manifest", type=click.Path(path_type=Path), help="Write a JSON-lines manifest to FILE."
)
@click.option(
    "--export",
    "export_format",
    type=click.Choice(exporters()),
    help="Write a download list for rclone --files-from, aria2c -i or plain URLs instead.",
)
@click.option(
    "--output", type=click.Path(path_type=Path), help="File for the --export list (default stdout)."
)
@click.pass_context
def download(
    ctx: click.Context,
    source: str,
    assets: str | None,
    dest: Path,
    layout: str,
    concurrency: int,
    overwrite: bool,
    dry_run: bool,
    manifest: Path | None,
    export_format: str | None,
    output: Path | None,
) -> None:
    """Download the assets of the STAC items in SOURCE into DEST, resumably and verified.

    SOURCE is an ItemCollection/FeatureCollection GeoJSON file or a static STAC catalog,
    collection or item (path or http URL). Exits non-zero if any file failed.
    """
    from eoaccess._atomic import write_text_atomic
    from eoaccess.transfer import download as download_items
    from eoaccess.transfer import export_list
    from eoaccess.transfer._sources import read_stac_items

    items = read_stac_items(source)
    if export_format:
        text = export_list(items, export_format, dest=dest, assets=assets, layout=layout)
        if output is None:
            click.echo(text, nl=False)
        else:
            write_text_atomic(output, text)
        return
    result = download_items(
        items,
        dest,
        assets=assets,
        layout=layout,
        concurrency=concurrency,
        overwrite=overwrite,
        dry_run=dry_run,
        manifest=manifest,
        progress=make_progress(enabled=not ctx.obj["quiet"] and not dry_run),
    )
    for planned in result.planned:
        click.echo(f"{planned.url} -> {planned.path}")
    click.echo(result.summary())
    result.raise_for_failures()


@cli.command()
@click.argument("archive", metavar="[DIR]", required=False)
@click.option(
    "--catalog",
    metavar="URI",
    help="Catalog to serve: postgresql://… or a catalog path (default: DIR/.eoaccess).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
def serve(archive: str | None, catalog: str | None, host: str, port: int) -> None:
    """Serve DIR's catalog as a STAC API and its files over HTTP (with Range requests)."""
    from eoaccess.server.run import serve_archive

    serve_archive(archive, catalog, host=host, port=port)


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
