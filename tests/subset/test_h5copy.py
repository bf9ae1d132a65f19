"""Output chunks compressed in threads are the bytes HDF5's own filters would have stored."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from eoaccess.subset._h5copy import write_deflated

CASES = {
    "deflate 1-D, edge chunk": (np.arange(25_000, dtype="<f4") * 0.5, (10_000,), False),
    "shuffle+deflate 1-D": (np.arange(20_000, dtype="<i4"), (10_000,), True),
    "shuffle+deflate 2-D, edge chunk": (
        np.arange(7_000 * 3, dtype="<f8").reshape(7_000, 3),
        (2_000, 3),
        True,
    ),
    "big-endian, one chunk": (np.arange(100, dtype=">i2"), (100,), False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_direct_chunks_equal_hdf5s_own_filters(name: str, tmp_path: Path) -> None:
    values, chunks, shuffle = CASES[name]
    with h5py.File(tmp_path / "out.h5", "w") as f:
        kwargs = {"chunks": chunks, "compression": "gzip", "compression_opts": 6}
        ours = f.create_dataset("ours", values.shape, values.dtype, shuffle=shuffle, **kwargs)
        f.create_dataset("theirs", data=values, shuffle=shuffle, **kwargs)
        assert write_deflated(ours, values, ours.id.get_create_plist()) is True
    with h5py.File(tmp_path / "out.h5") as f:
        np.testing.assert_array_equal(f["ours"][()], values)
        assert f["ours"].dtype == values.dtype
        nchunks = f["theirs"].id.get_num_chunks()
        assert f["ours"].id.get_num_chunks() == nchunks
        for k in range(nchunks):
            offset = f["theirs"].id.get_chunk_info(k).chunk_offset
            assert f["ours"].id.read_direct_chunk(offset) == f["theirs"].id.read_direct_chunk(
                offset
            )


def test_other_filters_and_types_are_left_to_hdf5(tmp_path: Path) -> None:
    """Fletcher32, strings and chunks split across a trailing axis keep HDF5's own path."""
    with h5py.File(tmp_path / "out.h5", "w") as f:
        checked = f.create_dataset(
            "checked", (100,), "f4", chunks=(10,), compression="gzip", fletcher32=True
        )
        names = f.create_dataset("names", (4,), "S3", chunks=(2,), compression="gzip")
        split = f.create_dataset("split", (10, 4), "f4", chunks=(5, 2), compression="gzip")
        plain = f.create_dataset("plain", (10,), "f4", chunks=(5,))
        for dset, values in (
            (checked, np.zeros(100, "f4")),
            (names, np.array([b"a", b"b", b"c", b"d"], "S3")),
            (split, np.zeros((10, 4), "f4")),
            (plain, np.zeros(10, "f4")),
        ):
            assert write_deflated(dset, values, dset.id.get_create_plist()) is False
            assert dset.id.get_num_chunks() == 0  # nothing written
