"""The Zarr store's request path: reads on zarr's own loop, concurrent and coalesced ranges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from zarr.abc.store import RangeByteRequest, SuffixByteRequest
from zarr.core import sync as zarr_sync
from zarr.core.buffer import default_buffer_prototype

from eoaccess.readers import open_dataset
from eoaccess.readers._io import IO, Resource, coalesce_spans
from eoaccess.readers._zarrstore import COALESCE_GAP, ResourceStore
from eoaccess.transfer import TransferConfig
from tests.harness.http import RangeHTTPServer
from tests.readers.conftest import ITSLIVE_CUBE


def test_coalesce_spans_merges_close_and_overlapping_spans() -> None:
    spans = [(5000, 6000), (0, 100), (150, 300), (200, 250), (10_000, 10_010)]
    assert coalesce_spans(spans, gap=100) == [
        (0, 300, [1, 2, 3]),  # 50 bytes apart, and a span inside another
        (5000, 6000, [0]),
        (10_000, 10_010, [4]),
    ]
    assert coalesce_spans(spans, gap=5000) == [(0, 10_010, [1, 2, 3, 0, 4])]
    assert coalesce_spans([], gap=100) == []


def _largest_chunk(tiny_archive: Path) -> tuple[str, bytes]:
    """Key and bytes of the largest chunk object of the sample cube."""
    root = tiny_archive / ITSLIVE_CUBE
    path = max(
        (p for p in root.rglob("*") if p.is_file() and "." not in p.name[:1]),
        key=lambda p: p.stat().st_size,
    )
    return path.relative_to(root).as_posix(), path.read_bytes()


def test_partial_values_coalesce_close_ranges_and_count_exactly(
    tiny_archive: Path, http_server: RangeHTTPServer
) -> None:
    key, data = _largest_chunk(tiny_archive)
    assert len(data) > 300
    store = ResourceStore(Resource(f"{http_server.url}/{ITSLIVE_CUBE}"))
    wanted = [
        (key, RangeByteRequest(0, 10)),
        (key, RangeByteRequest(100, 200)),  # 90 bytes after the first: one request with it
        (key, RangeByteRequest(150, 160)),  # inside the second
        (key, SuffixByteRequest(7)),  # needs the whole object: its own request
        ("missing/0.0.0", RangeByteRequest(0, 4)),
    ]
    start = len(http_server.log)
    got = zarr_sync.sync(store.get_partial_values(default_buffer_prototype(), wanted))
    assert [None if g is None else g.to_bytes() for g in got] == [
        data[0:10],
        data[100:200],
        data[150:160],
        data[-7:],
        None,
    ]
    ranges = sorted((r.path.rsplit("/", 1)[-1], r.range) for r in http_server.log[start:])
    name = key.rsplit("/", 1)[-1]
    assert ranges == sorted(
        [(name, "bytes=0-199"), (name, f"bytes=0-{(1 << 60) - 1}"), ("0.0.0", "bytes=0-3")]
    )
    report = store.resource.stats.report()
    assert (report.requests, report.bytes_read) == (3, 200 + len(data))
    assert COALESCE_GAP >= 90


def test_chunk_reads_run_on_zarrs_loop_without_a_hop(http_server: RangeHTTPServer) -> None:
    """Over http the store's chunk reads get an engine on zarr's own loop (no thread hop)."""
    ds = open_dataset(f"{http_server.url}/{ITSLIVE_CUBE}")
    values = ds["v"].isel(x=slice(0, 3), y=slice(0, 3)).values
    assert values.shape[-2:] == (3, 3) and np.isfinite(values).any()
    loop = zarr_sync.loop[0]
    assert loop is not None and IO.is_local(loop)
    # One engine on the readers' loop (metadata, read synchronously), one on zarr's (chunks).
    assert len(IO.engines(TransferConfig())) == 2


@pytest.mark.parametrize("gap", [0, 1])
def test_coalesce_spans_touching_spans(gap: int) -> None:
    """Touching spans are one request only when the gap allows any distance."""
    merged = coalesce_spans([(0, 10), (10, 20)], gap=gap)
    assert merged == ([(0, 10, [0]), (10, 20, [1])] if gap == 0 else [(0, 20, [0, 1])])
