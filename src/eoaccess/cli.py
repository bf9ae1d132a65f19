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
from typing import TYPE_CHECKING, Any

import click

from eoaccess import __version__
from eoaccess._progress import make_progress
from eoaccess.catalog._base import KINDS
from eoaccess.catalog._output import OUTPUT_FORMATS
from eoaccess.catalog.cli_options import SearchOptions, search_options
from eoaccess.errors import EOAccessError
from eoaccess.transfer._export import exporters
from eoaccess.transfer._plan import DEFAULT_LAYOUT

if TYPE_CHECKING:
    from eoaccess.transfer import TransferConfig

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
# Hidden: tests run the real command on the tiny archive; users always get the small one.
@click.option("--size", type=click.Choice(["tiny", "small"]), default="small", hidden=True)
@click.pass_context
def quickstart(ctx: click.Context, dest: Path, size: str) -> None:
    """Build the small sample archive in DEST and walk through the seed workflows."""
    from eoaccess.quickstart import run_quickstart

    progress = make_progress(enabled=not ctx.obj["quiet"])
    run_quickstart(dest, progress=progress, size=size)  # type: ignore[arg-type]


# --- search and collections (issue 4): eoaccess.catalog.open_catalog over any SOURCE.


@cli.command("collections")
@click.argument("source", nargs=-1, required=True)
@click.option(
    "--kind",
    type=click.Choice(list(KINDS)),
    help="Kind of SOURCE, when recognising it from its content is not wanted.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the STAC collections as JSON.")
def collections_command(source: tuple[str, ...], kind: str | None, as_json: bool) -> None:
    """List the collections of SOURCE (any catalog `search` takes) with titles and extents."""
    from eoaccess.catalog import open_catalog
    from eoaccess.catalog._output import collections_table

    with open_catalog(list(source), kind) as catalog:
        found = catalog.collections()
    if as_json:
        click.echo(json.dumps(found, indent=2))
    else:
        collections_table(found, sys.stdout)


@cli.command("search")
@click.argument("source", nargs=-1, required=True)
@search_options
@click.option("--fields", metavar="[-]PATH,…", help="Item members to include (or -exclude).")
@click.option("--matched", is_flag=True, help="Print only how many items match.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(OUTPUT_FORMATS)),
    default="table",
    show_default=True,
    help="table for reading; geojson (a FeatureCollection of STAC items), parquet "
    "(stac-geoparquet), csv or urls (asset hrefs) for programs.",
)
@click.option(
    "--output", type=click.Path(path_type=Path), help="Write to FILE (atomically), not stdout."
)
@click.option(
    "--concurrency",
    type=click.IntRange(1),
    metavar="N",
    help="Requests a STAC API gets at once for one long answer (datetime slices, same order); "
    "1 for one after the other [default: automatic, by how slow the first page was].",
)
def search_command(
    source: tuple[str, ...],
    search: SearchOptions,
    fields: str | None,
    matched: bool,
    output_format: str,
    output: Path | None,
    concurrency: int | None,
) -> None:
    """Search SOURCE — a STAC API root URL, a static catalog.json, a stac-geoparquet file, a
    GeoJSON footprint catalog or an archive folder (several are merged) — with one query.

    \b
    eoaccess search https://stac.example/api --collections A,B --bbox 3,4,5,6 --max-items 200
    eoaccess search DIR --enrich caminfo_pvl:Caminfo.Geometry.IncidenceAngle=incidence_angle \\
        --where 'incidence_angle < 70' --format geojson --output hits.geojson
    """
    from eoaccess.catalog._output import write_results

    catalog, result = search.search(source, fields=fields, concurrency=concurrency)
    with catalog:
        if matched:
            click.echo(result.matched())
            return
        count = write_results(result, output_format, output, sys.stdout)
    if output is not None:
        click.echo(
            f"{count} {'urls' if output_format == 'urls' else 'items'} written to {output}",
            err=True,
        )


# --- download (issue 5): any SOURCE through open_catalog and the search options; the rest of
# the command is the Python API's download() and export_list().


@cli.command()
@click.argument("source", nargs=-1, required=True)
@search_options
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
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes sharing the files [default: one per idle CPU, up to 4, for many small files].",
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
    source: tuple[str, ...],
    search: SearchOptions,
    assets: str | None,
    dest: Path,
    layout: str,
    concurrency: int,
    processes: int | None,
    overwrite: bool,
    dry_run: bool,
    manifest: Path | None,
    export_format: str | None,
    output: Path | None,
) -> None:
    """Download the assets of the STAC items SOURCE selects into DEST, resumably and verified.

    SOURCE is anything `search` takes — a STAC API, a static catalog, collection or item, an
    ItemCollection/FeatureCollection file (a saved search), a stac-geoparquet file, a footprint
    catalog or an archive folder — narrowed by the search options. Exits non-zero if any file
    failed.
    """
    from eoaccess._atomic import write_text_atomic
    from eoaccess.transfer import TransferConfig, export_list
    from eoaccess.transfer import download as download_items

    catalog, found = search.search(source)
    ctx.call_on_close(catalog.close)
    items = list(found.items())
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
        config=TransferConfig(concurrency=concurrency, processes=processes),
        overwrite=overwrite,
        dry_run=dry_run,
        manifest=manifest,
        progress=make_progress(enabled=not ctx.obj["quiet"] and not dry_run),
    )
    for planned in result.planned:
        click.echo(f"{planned.url} -> {planned.path}")
    click.echo(result.summary())
    result.raise_for_failures()


@cli.command("stats")
@click.argument("source")
@click.option("--collections", required=True, help="The collection id (byoc-<id> accepted).")
@click.option("--aoi", required=True, help="W,S,E,N in lon/lat, or GeoJSON (text or file).")
@click.option("--datetime", "datetime_", required=True, metavar="A/B", help="Time range.")
@click.option(
    "--interval", default="P1D", show_default=True, help="ISO 8601 duration: P1D, P5D, P1W, P1M."
)
@click.option("--expression", help="Band math, e.g. '(green - nir) / (green + nir)'.")
@click.option("--mask", help="Pixels to count, e.g. 'cloud_mask == 1'.")
@click.option("--percentiles", default="", help="Comma-separated percentiles, e.g. 50,95.")
@click.option("--histogram", type=click.IntRange(1, 10_000), help="Histogram with N bins.")
@click.option("--provenance", metavar="BAND", help="Trace BAND's dominant value to its scene.")
@click.option("--evalscript", type=click.Path(dir_okay=False, path_type=Path),
              help="A Sentinel Hub evalscript V3 file instead of --expression.")  # fmt: skip
@click.option("--resolution", type=float, help="Pixel size in CRS units [default: the data's].")
@click.option("--crs", help="CRS of --aoi and of the grid [default: lon/lat AOI, data grid].")
@click.option("--dask-scheduler", metavar="ADDRESS", help="A Dask distributed scheduler.")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write FILE.csv/.parquet."
)
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="Write FILE.png.")
def stats_command(
    source: str,
    collections: str,
    aoi: str,
    datetime_: str,
    interval: str,
    expression: str | None,
    mask: str | None,
    percentiles: str,
    histogram: int | None,
    provenance: str | None,
    evalscript: Path | None,
    resolution: float | None,
    crs: str | None,
    dask_scheduler: str | None,
    output: Path | None,
    plot: Path | None,
) -> None:
    """Per-interval statistics of band math over an AOI, from an archive or a STAC API.

    Prints CSV unless --output is given. Exits non-zero when an interval failed.
    """
    from eoaccess.stats import plot_series, stats, write_table

    frame = stats(
        source,
        collections,
        aoi,
        datetime_,
        interval,
        expression=expression,
        mask=mask,
        percentiles=percentiles,
        histogram=histogram,
        provenance=provenance,
        resolution=resolution,
        crs=crs,
        dask_scheduler=dask_scheduler,
        evalscript=evalscript,
    )
    if output is None:
        click.echo(frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ"), nl=False)
    else:
        write_table(frame, output)
        click.echo(f"{len(frame)} intervals written to {output}", err=True)
    if plot is not None:
        plot_series(frame, plot, title=expression or (evalscript.name if evalscript else None))
    if "error" in frame and frame["error"].notna().any():
        failed = frame["error"].dropna()
        raise EOAccessError(f"{len(failed)} of {len(frame)} intervals failed: {failed.iloc[0]}")


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
@click.option(
    "--oauth-client",
    "oauth_client",
    metavar="ID:SECRET",
    multiple=True,
    envvar="EOACCESS_OAUTH_CLIENTS",
    help="OAuth2 client of the Sentinel Hub APIs (repeatable; also EOACCESS_OAUTH_CLIENTS, "
    "pairs separated by spaces). With any client, those APIs require a Bearer token.",
)
@click.option(
    "--oauth-clients-file",
    metavar="FILE",
    multiple=True,
    envvar="EOACCESS_OAUTH_CLIENTS_FILE",
    help="File of ID:SECRET lines (# comments), so that secrets stay off the command line.",
)
@click.option(
    "--results",
    metavar="DIR|s3://BUCKET/PREFIX",
    help="Harmony job outputs [default: DIR/.eoaccess/harmony-results].",
)
@click.option(
    "--dask-scheduler", metavar="ADDR", help="Run Harmony jobs on this Dask scheduler (tcp://…)."
)
@click.option(
    "--user",
    "users",
    multiple=True,
    metavar="NAME:PASSWORD",
    help="Harmony user (HTTP Basic); repeatable. Without users or tokens the service is open.",
)
@click.option(
    "--token",
    "tokens",
    multiple=True,
    metavar="TOKEN:NAME",
    help="Harmony bearer token and the user it stands for; repeatable.",
)
@click.option(
    "--credentials",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='Harmony users and tokens from JSON {"users": {NAME: PW}, "tokens": {TOKEN: NAME}}.',
)
@click.option(
    "--preview-threshold",
    type=click.IntRange(1),
    default=300,
    show_default=True,
    help="Harmony jobs over this many granules process a preview batch, then pause.",
)
@click.option(
    "--expiration-days",
    type=click.IntRange(0),
    default=30,
    show_default=True,
    help="Days Harmony job outputs are kept (dataExpiration); then they are deleted.",
)
def serve(
    archive: str | None,
    catalog: str | None,
    host: str,
    port: int,
    oauth_client: tuple[str, ...],
    oauth_clients_file: tuple[str, ...],
    **harmony: Any,
) -> None:
    """Serve DIR's catalog as a STAC API and its files over HTTP (with Range requests)."""
    from eoaccess.harmony._auth import harmony_settings
    from eoaccess.server.app import ServerSettings
    from eoaccess.server.run import serve_archive
    from eoaccess.server.sentinelhub.clients import oauth_clients

    settings = ServerSettings(
        oauth_clients=oauth_clients(oauth_client, oauth_clients_file),
        harmony=harmony_settings(**harmony),
    )
    serve_archive(archive, catalog, host=host, port=port, settings=settings)


# --- subset and timeseries (issue 6): thin wrappers over eoaccess.subset / eoaccess.timeseries.


_SERVICE_ONLY = {
    "collections": "--collections",
    "granule_id": "--granule-id",
    "max_results": "--max-results",
    "label": "--label",
    "skip_preview": "--skip-preview",
    "as_url": "--as-url",
    "as_curl": "--as-curl",
    "user": "--user",
    "token": "--token",
    "no_wait": "--no-wait",
    "overwrite": "--overwrite",
}
_LOCAL_ONLY = {
    "bbox_crs": "--bbox-crs",
    "intersects": "--intersects",
    "resolution": "--resolution",
    "as_json": "--json",
}


@cli.command("subset")
@click.argument("href", metavar="[HREF|SOURCE]", required=False)
@click.option("--bbox", metavar="W,S,E,N", help="Area in lon/lat (or in --bbox-crs).")
@click.option("--bbox-crs", metavar="CRS", help="CRS of --bbox, e.g. EPSG:3413 [default: lon/lat].")
@click.option(
    "--intersects",
    metavar="GEOJSON|FILE|WKT",
    help="Polygon in lon/lat: gridded cells outside are set to the fill value, photons dropped.",
)
@click.option("--datetime", metavar="START/END", help="Time range (RFC 3339, .. for open).")
@click.option("--variables", metavar="A,B", help="Variables to keep (gridded data).")
@click.option("--crs", metavar="CRS", help="Reproject gridded output to this CRS.")
@click.option("--resolution", metavar="RES[,RES]", help="Output cell size in --crs units.")
@click.option("--resampling", default="nearest", show_default=True, help="Reprojection method.")
@click.option(
    "--format",
    "output_format",
    metavar="netcdf|zarr|geotiff",
    help="Output format [default: from the --output suffix, else netcdf; HDF5 for trajectories]. "
    "With --service: the output media type sent to the service.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Output file (.nc, .zarr, .tif, .h5) or directory for <name>_subsetted.<ext>; with "
    "--service the directory the job's results are downloaded into.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result record as JSON.")
@click.option(
    "--service",
    metavar="URL|harmony",
    help="Run the subset as a job of a transformation service: its root URL, or the dialect "
    "name when SOURCE is the root.",
)
@click.option("--collections", metavar="ID", help="[--service] Collection id or short name.")
@click.option(
    "--granule-id", multiple=True, metavar="ID[,ID]", help="[--service] Only these granules."
)
@click.option(
    "--max-results", type=click.IntRange(min=1), help="[--service] At most N input granules."
)
@click.option("--label", multiple=True, help="[--service] Label the job (repeatable).")
@click.option(
    "--skip-preview",
    is_flag=True,
    help="[--service] Run a large job without pausing after a preview.",
)
@click.option(
    "--as-url", is_flag=True, help="[--service] Print the request as a URL; send nothing."
)
@click.option(
    "--as-curl", is_flag=True, help="[--service] Print the request as curl (credentials masked)."
)
@click.option("--user", metavar="USER[:PASSWORD]", help="[--service] Basic credentials.")
@click.option(
    "--token",
    metavar="TOKEN",
    help="[--service] Bearer token [default: $EOACCESS_TOKEN, $EDL_USERNAME/$EDL_PASSWORD, "
    "then ~/.netrc].",
)
@click.option("--no-wait", is_flag=True, help="[--service] Submit, print the job id and exit.")
@click.option("--overwrite", is_flag=True, help="[--service] Replace files already in --output.")
@click.pass_context
def subset_command(
    ctx: click.Context,
    href: str | None,
    bbox: str | None,
    bbox_crs: str | None,
    intersects: str | None,
    datetime: str | None,
    variables: str | None,
    crs: str | None,
    resolution: str | None,
    resampling: str,
    output_format: str | None,
    output: Path | None,
    as_json: bool,
    service: str | None,
    **service_options: Any,
) -> None:
    """Cut HREF (a Zarr cube, NetCDF/HDF5 grid, GeoTIFF or ATL03-like granule) to an area,
    a time range and variables, reading only the chunks needed.

    With --service the subset runs as an asynchronous job of a Harmony service (NASA Harmony or
    `eoaccess serve`): the request is submitted, a progress bar follows the job, and the
    results are downloaded into the --output directory (existing files are kept), one line per
    file. Name the service by its root URL either as SOURCE or as --service:

    \b
    eoaccess subset http://127.0.0.1:8000/ --service harmony --collections ATL03 \\
        --bbox -105.5,40,-105,41 --datetime 2020-04-27/2020-05-28 --output DIR
    eoaccess subset --service http://127.0.0.1:8000/ --collections ATL03 --as-curl
    """
    given = {name: value for name, value in ctx.params.items() if value not in (None, False, ())}
    if service is None:
        wrong = [flag for name, flag in _SERVICE_ONLY.items() if name in given]
        if wrong:
            raise click.UsageError(f"{', '.join(wrong)} need(s) --service")
        if href is None or output is None:
            raise click.UsageError("give HREF and --output (or --service URL for a service job)")
        from eoaccess.subset import subset

        result = subset(
            href,
            output=output,
            bbox=bbox,
            bbox_crs=bbox_crs,
            intersects=intersects,
            datetime=datetime,
            variables=variables,
            crs=crs,
            resolution=resolution,
            resampling=resampling,
            format=output_format,
        )
        click.echo(json.dumps(result.to_dict(), indent=2) if as_json else result.summary())
        return
    wrong = [flag for name, flag in _LOCAL_ONLY.items() if name in given]
    if resampling != "nearest":
        wrong.append("--resampling")
    if wrong:
        raise click.UsageError(f"{', '.join(wrong)} cannot be used with --service")
    _subset_with_service(
        ctx, href, service, bbox, datetime, variables, crs, output_format, output, service_options
    )


def _subset_with_service(
    ctx: click.Context,
    source: str | None,
    service: str,
    bbox: str | None,
    datetime: str | None,
    variables: str | None,
    crs: str | None,
    output_format: str | None,
    output: Path | None,
    options: dict[str, Any],
) -> None:
    """Submit a subset job, follow it and download its results (or just show the request)."""
    from eoaccess.services import SubsetJobRequest, open_service
    from eoaccess.services._cli import finish_job, service_target

    if not options["collections"]:
        raise click.UsageError("--service needs --collections")
    if "," in options["collections"]:
        raise click.UsageError("--collections: one collection per service job")
    only_show = options["as_url"] or options["as_curl"]
    if output is None and not (only_show or options["no_wait"]):
        raise click.UsageError("--service needs --output DIR for the results")
    request = SubsetJobRequest.of(
        options["collections"],
        bbox=bbox,
        datetime=datetime,
        variables=variables,
        granule_ids=[g for value in options["granule_id"] for g in value.split(",")],
        labels=list(options["label"]),
        max_results=options["max_results"],
        skip_preview=True if options["skip_preview"] else None,
        crs=crs,
        format=output_format,
    )
    target = service_target(source, service)
    with open_service(
        target.url, target.dialect, token=options["token"], user=options["user"]
    ) as client:
        if only_show:
            if options["as_url"]:
                click.echo(client.request_as_url(request))
            if options["as_curl"]:
                click.echo(client.request_as_curl(request))
            return
        job = client.submit(request)
        if options["no_wait"]:
            click.echo(job.id)
            return
        if not ctx.obj["quiet"]:
            n = job.num_input_granules
            click.echo(f"job {job.id} submitted ({n} granule{'s' * (n != 1)})", err=True)
        assert output is not None
        finish_job(
            client,
            job,
            output,
            overwrite=options["overwrite"],
            progress=make_progress(enabled=not ctx.obj["quiet"]),
            echo=click.echo,
        )


@cli.command("jobs")
@click.argument("service", metavar="SERVICE")
@click.argument("action", type=click.Choice(["list", "status", "pause", "resume", "cancel"]))
@click.argument("job_id", metavar="[ID]", required=False)
@click.option("--label", help="list: only jobs with this label.")
@click.option("--limit", type=click.IntRange(min=1), help="list: at most N jobs.")
@click.option("--user", metavar="USER[:PASSWORD]", help="Basic credentials.")
@click.option(
    "--token",
    metavar="TOKEN",
    help="Bearer token [default: $EOACCESS_TOKEN, $EDL_USERNAME/$EDL_PASSWORD, then ~/.netrc].",
)
def jobs_command(
    service: str,
    action: str,
    job_id: str | None,
    label: str | None,
    limit: int | None,
    user: str | None,
    token: str | None,
) -> None:
    """List the jobs of the Harmony service at SERVICE (its root URL), show one, or pause,
    resume or cancel it.

    \b
    eoaccess jobs http://127.0.0.1:8000/ list --label nightly
    eoaccess jobs http://127.0.0.1:8000/ status 4e07cf87-…
    """
    from eoaccess.services import open_service
    from eoaccess.services._cli import JOB_ACTIONS, job_details, job_line, jobs_table

    if action == "list" and job_id is not None:
        raise click.UsageError("list takes no job ID (use status ID)")
    if action != "list" and job_id is None:
        raise click.UsageError(f"{action} needs a job ID")
    with open_service(service, token=token, user=user) as client:
        if action == "list":
            for line in jobs_table(client.jobs(label=label, limit=limit)):
                click.echo(line)
            return
        assert job_id is not None
        job = JOB_ACTIONS[action](client, job_id)
        lines = job_details(job) if action == "status" else [job_line(job)]
        for line in lines:
            click.echo(line)


@cli.command("timeseries")
@click.argument("href")
@click.option(
    "--point",
    "points",
    multiple=True,
    required=True,
    metavar="LON,LAT",
    help="Point of interest (repeat for several).",
)
@click.option("--variables", metavar="A,B", help="Variables [default: all on the time/y/x grid].")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Write FILE.csv or FILE.parquet [default: CSV on stdout].",
)
@click.option(
    "--plot", type=click.Path(path_type=Path), help="Plot the first variable with error bars (PNG)."
)
def timeseries_command(
    href: str,
    points: tuple[str, ...],
    variables: str | None,
    output: Path | None,
    plot: Path | None,
) -> None:
    """Time series of a datacube's variables at the nearest cell of each point."""
    from eoaccess.timeseries import plot_timeseries, timeseries, to_csv_text, write_timeseries

    frame = timeseries(href, list(points), variables, include_errors=plot is not None)
    if output is not None:
        write_timeseries(frame, output)
        click.echo(f"{output}: {len(frame)} rows, {frame['point'].nunique()} point(s)")
    else:
        click.echo(to_csv_text(frame), nl=False)
    if plot is not None:
        plot_timeseries(frame, plot)
        click.echo(f"{plot}: plot of {frame.attrs['variables'][0]}")


# --- open and footprint (issue 6): thin wrappers over eoaccess.readers and eoaccess.footprints.


def _transfer_config(endpoint_url: str | None) -> TransferConfig | None:
    """Transfer settings for an explicit S3 endpoint (else the AWS_* environment applies)."""
    if not endpoint_url:
        return None
    from eoaccess.transfer import S3Options, TransferConfig

    return TransferConfig(s3=S3Options(endpoint_url=endpoint_url))


_ENDPOINT_OPTION = click.option(
    "--endpoint-url",
    metavar="URL",
    help="S3 endpoint for s3:// hrefs [default: $AWS_ENDPOINT_URL].",
)


@cli.command("open")
@click.argument("href")
@click.option("--group", "-g", help="Group inside a NetCDF/HDF5 file or Zarr store (gt1l/heights).")
@click.option(
    "--engine", help="Force a reader (zarr, hdf5, netcdf3, geotiff) instead of detecting."
)
@click.option("--stats", is_flag=True, help="Also print the requests and bytes read vs the size.")
@_ENDPOINT_OPTION
def open_command(
    href: str, group: str | None, engine: str | None, stats: bool, endpoint_url: str | None
) -> None:
    """Open HREF (a file, Zarr store or STAC item; path, http(s) or s3) lazily and summarise it:
    dimensions, variables, CRS, time range, footprint in lon/lat and size."""
    from eoaccess.readers import open_dataset
    from eoaccess.readers._summary import summarize

    ds = open_dataset(href, group, engine=engine, config=_transfer_config(endpoint_url))
    click.echo(summarize(ds).text(stats=stats))


@cli.command("footprint")
@click.argument("href")
@click.option("--group", "-g", help="Group inside a NetCDF/HDF5 file or Zarr store.")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Write the footprint to FILE.geojson (lon/lat).",
)
@click.option(
    "--map",
    "map_path",
    type=click.Path(path_type=Path),
    help="Draw it to FILE.html (self-contained, works offline) or FILE.png/.svg/.pdf.",
)
@click.option(
    "--basemap",
    type=click.Choice(["osm"]),
    help="HTML map as a Leaflet map with OpenStreetMap tiles (needs internet to view).",
)
@_ENDPOINT_OPTION
def footprint_command(
    href: str,
    group: str | None,
    output: Path | None,
    map_path: Path | None,
    basemap: str | None,
    endpoint_url: str | None,
) -> None:
    """Print the footprint of HREF in its own CRS and in lon/lat (edges densified, antimeridian
    and poles handled); optionally write it as GeoJSON and draw it on a map."""
    from eoaccess._atomic import write_text_atomic
    from eoaccess.footprints import LONLAT, footprint, write_map
    from eoaccess.readers import open_dataset

    ds = open_dataset(href, group, config=_transfer_config(endpoint_url))
    lonlat = footprint(ds, crs=LONLAT)
    try:
        native = footprint(ds)
        click.echo(f"native   {native.crs.name if native.crs else '?'}: {native.geometry[0].wkt}")
    except EOAccessError as exc:  # no grid (points): the lon/lat hull is all there is
        click.echo(f"native   none ({exc})")
    w, s, e, n = (float(v) for v in lonlat.total_bounds)
    click.echo(f"lon/lat  {lonlat.crs.name}: bbox {w:.6f},{s:.6f},{e:.6f},{n:.6f}")
    if output is not None:
        write_text_atomic(output, lonlat.to_json(drop_id=True))
        click.echo(f"wrote {output}")
    if map_path is not None:
        write_map(lonlat, map_path, title=str(lonlat["name"][0]), basemap=basemap)
        click.echo(f"wrote {map_path}")


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
