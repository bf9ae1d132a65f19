"""Smoke test of the search benchmark: the whole harness on a tiny catalog, so it cannot rot.

It asserts what a run produces (systems, samples, agreement, paging, the report), never timings.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from benchmarks.search.__main__ import portable_command
from benchmarks.search.harness import (
    PAGING_COLLECTION,
    QUERY_KINDS,
    SEED,
    BenchConfig,
    check_agreement,
    run_benchmark,
)
from benchmarks.search.report import render_section, write_section
from benchmarks.search.systems import BenchmarkError, Page, next_request

from eoaccess.query import make_query
from eoaccess.stores._synthetic import synthetic_items
from tests.harness.postgres import PostgresCluster

SYSTEM_KEYS = ["embedded", "pgstac", "peer", "peer-count", "embedded-direct", "pgstac-direct"]


def _fresh_database(cluster: PostgresCluster, name: str) -> str:
    import psycopg
    from psycopg import sql

    admin = cluster.dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return cluster.dsn.rsplit("/", 1)[0] + "/" + name


@pytest.mark.postgres
def test_benchmark_runs_every_system_on_a_tiny_catalog(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    config = BenchConfig(
        items=2_000,
        repeat=3,
        warmup=1,
        paging_seconds=60,
        paging_limit=200,
        writer_items=500,  # the rest through pypgstac's COPY loader: both paths run
        workdir=tmp_path,
    )
    result = run_benchmark(config, _fresh_database(postgres, "eo_search_bench"))

    assert [s.key for s in result.systems] == SYSTEM_KEYS
    assert [k.kind for k in result.kinds] == list(QUERY_KINDS)
    for kind in result.kinds:
        assert list(kind.timings) == SYSTEM_KEYS
        assert [len(t.samples) for t in kind.timings.values()] == [3] * len(SYSTEM_KEYS)
        assert len(kind.matched) == 3  # the counting systems agreed on every query
        # stac-fastapi-pgstac counts only when pgstac.context=on reached its connections.
        assert kind.counted_by == tuple(k for k in SYSTEM_KEYS if k != "peer")
    assert list(result.filter_parse_ms) == [k for k in QUERY_KINDS if k.startswith("CQL2")]
    assert set(result.loads) == {"embedded", "pgstac"}
    assert all(seconds is not None and seconds > 0 for seconds in result.loads.values())

    # Every system paged through the whole collection, page by page, following next links.
    expected = sum(
        item["collection"] == PAGING_COLLECTION for item in synthetic_items(2_000, seed=SEED)
    )
    pages = math.ceil(expected / 200)
    assert {k: (p.items, p.pages, p.complete) for k, p in result.paging.items()} == {
        k: (expected, pages, True) for k in SYSTEM_KEYS
    }

    section = render_section(result, "python -m benchmarks.search --items 2000 --repeat 3")
    assert section.startswith(
        "## Search\n\nReproduce: `python -m benchmarks.search --items 2000 --repeat 3`"
    )
    for kind in QUERY_KINDS:  # a row in the latency table and one in the ratio table
        assert section.count(f"| {kind} |") == 2
    for system in result.systems:  # described, and a row in the paging table
        assert f"- **{system.label}**: " in section
        assert f"| {system.label} | {expected:,} | {pages} |" in section
    assert section.count("- Target: ") == 3


def test_write_section_replaces_only_the_search_section(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text(
        "# Benchmark results\n\n## Download\n\nkept\n## Search\n\nold\n\n## Other\n\nkept too\n"
    )
    write_section(results, "## Search\n\nnew")
    assert results.read_text() == (
        "# Benchmark results\n\n## Download\n\nkept\n\n## Search\n\nnew\n\n## Other\n\nkept too\n"
    )
    write_section(results, "## Search\n\nnewer")
    assert results.read_text().count("## Search") == 1
    assert "newer\n\n## Other" in results.read_text()


def test_write_section_appends_when_missing(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Download\n\nkept\n")
    write_section(results, "## Search\n\nnew")
    assert results.read_text() == "# Benchmark results\n\n## Download\n\nkept\n\n## Search\n\nnew\n"


def test_disagreeing_answers_stop_the_run() -> None:
    query = make_query(bbox=[0, 0, 1, 1], limit=2)
    check_agreement(query, {"a": Page(("x", "y"), 5), "b": Page(("x", "y"), None)})
    with pytest.raises(BenchmarkError, match="systems disagree"):
        check_agreement(query, {"a": Page(("x", "y"), 5), "b": Page(("y", "x"), 5)})
    with pytest.raises(BenchmarkError, match="systems disagree"):
        check_agreement(query, {"a": Page(("x", "y"), 5), "b": Page(("x", "y"), 6)})


def test_next_request_follows_post_links_with_or_without_merge() -> None:
    body = {"limit": 10, "collections": ["c"]}
    merged = {
        "links": [
            {"rel": "next", "method": "POST", "href": "u", "body": {"token": "t"}, "merge": True}
        ]
    }
    whole = {"links": [{"rel": "next", "method": "POST", "href": "v", "body": {"token": "s"}}]}
    assert next_request(merged, body) == ("u", {"limit": 10, "collections": ["c"], "token": "t"})
    assert next_request(whole, body) == ("v", {"token": "s"})
    assert next_request({"links": [{"rel": "self", "href": "w"}]}, body) is None
    with pytest.raises(BenchmarkError, match="POST next link"):
        next_request({"links": [{"rel": "next", "href": "x?token=1"}]}, body)


def test_portable_command_drops_local_places() -> None:
    assert (
        portable_command(
            ["--items", "5", "--pg-dsn", "postgresql://h/db", "--workdir=/tmp/w", "--no-results"]
        )
        == "python -m benchmarks.search --items 5"
    )
