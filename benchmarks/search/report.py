"""The ``## Search`` section of benchmarks/RESULTS.md from a :class:`BenchResult`.

Everything in the section is derived from the result (numbers, met/missed, the systems' own
descriptions) or states how the run was made, so a re-run rewrites it truthfully.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from benchmarks.search.harness import (
    PAGE,
    PAGING_COLLECTION,
    BenchResult,
    KindResult,
    Timings,
)
from eoaccess.stores._synthetic import KINDS

OURS = ("embedded", "pgstac")
PEERS = ("peer", "peer-count")
PAGING_TARGET = 3_000.0


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _latency_table(result: BenchResult) -> list[str]:
    systems = result.systems
    header = "| query | median matches | " + " | ".join(s.label for s in systems) + " |"
    rows = [header, "|---|---:|" + "---:|" * len(systems)]
    for kind in result.kinds:
        cells = [
            f"{_ms(kind.timings[s.key].p50)} / {_ms(kind.timings[s.key].p95)}" for s in systems
        ]
        rows.append(f"| {kind.kind} | {kind.median_matched:,.0f} | " + " | ".join(cells) + " |")
    return rows


def _ratio(kind: KindResult, ours: str, peer: str) -> float:
    return kind.timings[ours].p50 / kind.timings[peer].p50


def _ratio_table(result: BenchResult) -> list[str]:
    labels = {s.key: s.label for s in result.systems}
    pairs = [(o, p) for o in OURS for p in PEERS]
    rows = [
        "| query | " + " | ".join(f"{labels[o]} ÷ {labels[p]}" for o, p in pairs) + " |",
        "|---|" + "---:|" * len(pairs),
    ]
    for kind in result.kinds:
        cells = []
        for ours, peer in pairs:
            ratio = _ratio(kind, ours, peer)
            cells.append(f"**{ratio:.2f}**" if ours == "embedded" else f"{ratio:.2f}")
        rows.append(f"| {kind.kind} | " + " | ".join(cells) + " |")
    return rows


def _paging_table(result: BenchResult) -> list[str]:
    rows = [
        "| system | items | pages | seconds | items/s | reached the last page |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for system in result.systems:
        paged = result.paging[system.key]
        rows.append(
            f"| {system.label} | {paged.items:,} | {paged.pages:,} | {paged.seconds:,.1f} "
            f"| {paged.items_per_second:,.0f} | {'yes' if paged.complete else 'no (time budget)'} |"
        )
    return rows


def _targets(result: BenchResult) -> list[str]:
    labels = {s.key: s.label for s in result.systems}
    lines = []
    for peer in PEERS:
        slower = [k.kind for k in result.kinds if _ratio(k, "embedded", peer) > 1.0]
        verdict = "**met**" if not slower else f"**missed** on {', '.join(slower)}"
        lines.append(
            f"- Target: embedded p50 ≤ peer p50 on every selective query, against "
            f"{labels[peer]}: {verdict}."
        )
    rate = result.paging["embedded"].items_per_second
    lines.append(
        f"- Target: paging ≥ {PAGING_TARGET:,.0f} items/s (eoaccess · embedded over HTTP): "
        f"{rate:,.0f} items/s, **{'met' if rate >= PAGING_TARGET else 'missed'}**."
    )
    return lines


def _http_overhead(result: BenchResult) -> list[str]:
    """What the server adds to its store: per kind, the median over queries of (HTTP latency −
    in-process latency) of the same query."""
    lines = []
    for http, direct in (("embedded", "embedded-direct"), ("pgstac", "pgstac-direct")):
        if not all(direct in k.timings for k in result.kinds):
            continue
        parts = [
            f"{k.kind} {_ms(_paired_median(k.timings[http], k.timings[direct]))} ms"
            for k in result.kinds
        ]
        label = {s.key: s.label for s in result.systems}[http]
        lines.append(f"  - {label}: " + "; ".join(parts) + ".")
    if not lines:
        return []
    if result.filter_parse_ms:
        parsing = "; ".join(f"{kind} {_ms(ms)} ms" for kind, ms in result.filter_parse_ms.items())
        lines.append(
            "  - Of this, parsing and validating a CQL2 filter (`eoaccess.query.parse_filter`, "
            f"which calls cql2's `Expr.validate()`), timed alone in the benchmark process: {parsing}."
            " The server remembers recently validated filters (a client paging sends the same "
            "filter with every page), but every query here is a new one."
        )
    return [
        "- Time the eoaccess server adds to its store (median over the queries of a kind of "
        "HTTP latency − in-process latency for the same query): request parsing and validation "
        "(CQL2 included), serialisation and the loopback round trip:",
        *lines,
    ]


def _paired_median(first: Timings, second: Timings) -> float:
    return statistics.median(a - b for a, b in zip(first.samples, second.samples, strict=True))


def _loads(result: BenchResult) -> str:
    count = result.config.items
    if any(seconds is None for seconds in result.loads.values()):
        reused = [name for name, s in result.loads.items() if s is None]
        timed = [
            f"{name} {seconds / 60:,.1f} min ({count / seconds:,.0f} items/s)"
            for name, seconds in result.loads.items()
            if seconds is not None
        ]
        return (
            f"- Loading: {', '.join(reused)} reused from an earlier run of the same command"
            + (f"; {', '.join(timed)}" if timed else "")
            + "."
        )
    return (
        "- Loading: "
        + ", ".join(
            f"{name} {seconds / 60:,.1f} min ({count / seconds:,.0f} items/s)"
            for name, seconds in result.loads.items()
            if seconds is not None
        )
        + " (embedded: store writer; pgstac: mostly pypgstac's COPY loader)."
    )


def render_section(result: BenchResult, command: str) -> str:
    """The Markdown of the ``## Search`` section (no trailing newline)."""
    config, env = result.config, result.environment
    collections = ", ".join(f"`{k.collection}`" for k in KINDS)
    systems = [f"- **{s.label}**: {s.describe}." for s in result.systems]
    http_count = sum(1 for s in result.systems if s.http)
    section = [
        "## Search",
        "",
        f"Reproduce: `{command}` (after `scripts/install-system-deps.sh`, which provides "
        "PostgreSQL + PostGIS; the benchmark starts its own throwaway cluster on loopback with the "
        "test harness's settings — fsync off, default memory). "
        f"Run finished {env.finished}.",
        "",
        f"One run on one machine. Both catalogs hold the same {config.items:,} synthetic items "
        f"(`eoaccess.stores._synthetic`: {collections}: Sentinel-2/Landsat-like footprints, "
        "MODIS-like swaths, polar mosaics with time ranges, some cut at the antimeridian). The "
        f"pgstac database is loaded once (the first {min(config.writer_items, config.items):,} "
        "items through our store writer, which registers numeric queryables with indexes as an "
        "eoaccess ingest would; the rest with pypgstac's COPY loader) and read by all three "
        "pgstac-backed systems. The systems:",
        "",
        *systems,
        "",
        f"The {http_count} servers run in their own processes, each with uvicorn's defaults "
        "(asyncio + h11, one worker, access log to a file). Per query kind, "
        f"{config.repeat} random queries (after {config.warmup} unmeasured) each go to every "
        "system in turn, rotating which goes first; each asks for the first page of "
        f"{PAGE} items with `POST /search` and the same JSON body (`Query.to_stac_json()`), over "
        "one keep-alive httpx connection per server with `Accept-Encoding: identity` (the peer "
        "would otherwise spend the measurement compressing). Latency is the client's: request "
        "sent to response parsed. For every query all systems returned the same item ids in the "
        "same order, and all counting systems the same `numberMatched` (checked; a disagreement "
        "stops the run).",
        "",
        f"Machine: {env.machine}, {env.cpus} CPUs (client, servers and PostgreSQL share them), "
        f"Python {env.python}, SQLite {env.sqlite}, {env.postgres}, stac-fastapi-pgstac "
        f"{env.peer}; embedded catalog {env.embedded_mib:,.0f} MiB. Load average "
        f"{env.load_before:.1f} before the measurements, {env.load_after:.1f} after (other jobs "
        "may share this VM: absolute numbers are noisy, the ratios less so).",
        "",
        f"### Latency, first page of {PAGE} (p50 / p95 ms)",
        "",
        *_latency_table(result),
        "",
        "### Ratios of p50 (ours ÷ peer; below 1 means eoaccess is faster)",
        "",
        *_ratio_table(result),
        "",
        f"### Paging `collections={PAGING_COLLECTION}` at limit {config.paging_limit:,}",
        "",
        "Following `next` links (each server's own POST link with its token) for up to "
        f"{config.paging_seconds:,.0f} s per system; items/s include the client parsing every "
        "page.",
        "",
        *_paging_table(result),
        "",
        *_targets(result),
        *_http_overhead(result),
        _loads(result),
        "- stac-fastapi-pgstac as shipped does not count (`numberMatched` absent); the counting "
        "column is the like-for-like comparison, since eoaccess always returns an exact "
        "`numberMatched` (the embedded store counts a selective result in the same pass that "
        "sorts it and carries the count in its paging token; our pgstac store asks pgstac to count "
        "every page).",
        "- stac-fastapi-pgstac as shipped also records every search in pgstac's `searches` "
        "table (one write per query, pgstac's `readonly` off); eoaccess's pgstac store searches "
        "with `pgstac.readonly` on.",
        "- The CQL2 spatial query uses a `POLYGON` literal: pgstac refuses CQL2-JSON's "
        '`{"bbox": […]}` literal, and stac-fastapi-pgstac answers such a filter with a 500. '
        "eoaccess accepts both.",
    ]
    return "\n".join(section)


def write_section(results: Path, section: str) -> None:
    """Replace (or append) the ``## Search`` section of ``results``; other sections stay."""
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## Search\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n\n", text)
        # A blank line before the heading, even if the previous section did not end with one.
        text = re.sub(r"(?<=[^\n])\n(?=## Search\n)", "\n\n", text).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    results.write_text(text)
