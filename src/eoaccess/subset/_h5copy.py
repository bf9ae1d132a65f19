"""Copy an HDF5 hierarchy with some datasets cut to a selection, exactly as it was otherwise.

Groups keep their creation properties and attributes; datasets keep their type (fixed-length
NUL-terminated strings stay so), chunking, filters and fill value, and get only the selected
rows along their first axis. Dimension scales cannot be copied as attributes (they are object
references into the source file), so the links between datasets and scales are recorded while
copying and re-made in the new file at the end.
"""

from __future__ import annotations

import itertools
import os
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

_SCALE_ATTRS = frozenset({"DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME"})
"""Attributes the dimension-scale API owns: re-created by make_scale/attach_scale."""
_MERGE_GAP = 4096
"""Rows between two selected runs that are read anyway to save a request (HDF5 reads whole
chunks, so nearby runs usually share them)."""

_POOL: ThreadPoolExecutor | None = None
"""Threads compressing output chunks (zlib releases the GIL), made on first use."""

Selector = Callable[[str, h5py.Dataset], np.ndarray | None]
"""Rows (sorted indices along axis 0) to keep of a dataset at a path, or None for all."""


@dataclass
class CopyPlan:
    """What the copy recorded to re-link dimension scales afterwards."""

    scales: dict[str, str] = field(default_factory=dict)
    """Path of each dimension scale dataset -> its scale name."""
    attachments: list[tuple[str, int, Any]] = field(default_factory=list)
    """(dataset path, axis, scale object id) links to re-make."""
    paths: dict[Any, str] = field(default_factory=dict)
    """Source object id -> path of every copied dataset (h5py's ``.name`` of a dereferenced
    scale searches the whole file: ids compare by file and address instead)."""


def copy_attrs(src: h5py.HLObject, dst: h5py.HLObject, skip: frozenset[str] = frozenset()) -> None:
    """Copy attributes with their exact HDF5 types (low-level, so string padding survives)."""
    for name in src.attrs:
        if name in skip:
            continue
        aid = src.attrs.get_id(name)
        tid = aid.get_type()
        space = aid.get_space()
        if tid.get_class() == h5py.h5t.REFERENCE:
            continue  # references point into the source file
        if space.get_simple_extent_type() == h5py.h5s.NULL:
            dst.attrs[name] = h5py.Empty(aid.dtype)
            continue
        variable = tid.get_class() == h5py.h5t.VLEN or (
            tid.get_class() == h5py.h5t.STRING and tid.is_variable_str()
        )
        if variable:
            dst.attrs.create(name, src.attrs[name], dtype=aid.dtype)
            continue
        data = np.empty(aid.shape, dtype=aid.dtype)
        aid.read(data, mtype=tid)
        new = h5py.h5a.create(dst.id, name.encode(), tid, space)
        new.write(data, mtype=tid)


def read_rows(dset: h5py.Dataset, rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` (sorted, unique) of a dataset, read as a few contiguous hyperslabs."""
    if rows.size == 0:
        return np.empty((0, *dset.shape[1:]), dtype=dset.dtype)
    breaks = np.flatnonzero(np.diff(rows) > _MERGE_GAP) + 1
    starts = rows[np.r_[0, breaks]]
    stops = rows[np.r_[breaks - 1, rows.size - 1]] + 1
    parts = []
    for start, stop, chunk in zip(starts, stops, np.split(rows, breaks), strict=True):
        block = dset[int(start) : int(stop)]
        parts.append(block[chunk - start])
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def chunk_spans(dset: h5py.Dataset, rows: np.ndarray | None) -> list[tuple[int, int]]:
    """File byte spans (offset, size) of the chunks holding ``rows`` (None: every chunk), so
    they can be fetched together before h5py reads them one by one."""
    if dset.chunks is None or dset.shape is None or dset.size == 0:
        return []
    dsid = dset.id
    if rows is None:
        infos = (dsid.get_chunk_info(i) for i in range(dsid.get_num_chunks()))
        return [(int(i.byte_offset), int(i.size)) for i in infos if i.byte_offset is not None]
    if rows.size == 0:
        return []
    first = np.unique(rows // dset.chunks[0]) * dset.chunks[0]
    trailing = [range(0, n, c) for n, c in zip(dset.shape[1:], dset.chunks[1:], strict=True)]
    spans = []
    for start in first:
        for rest in itertools.product(*trailing):
            info = dsid.get_chunk_info_by_coord((int(start), *rest))
            if info.byte_offset is not None and info.size:
                spans.append((int(info.byte_offset), int(info.size)))
    return spans


def _create_dataset(
    parent: h5py.Group, name: str, src: h5py.Dataset, data: np.ndarray | None
) -> h5py.Dataset:
    """A dataset like ``src`` (type, layout, filters, fill) holding ``data`` (None: src's)."""
    if src.shape is None:  # a null dataspace
        parent.create_dataset(name, data=h5py.Empty(src.dtype))
        return parent[name]
    values = src[()] if data is None else data
    shape = src.shape if data is None else data.shape
    dcpl = src.id.get_create_plist()
    maxshape = src.maxshape
    if data is not None and shape != src.shape:
        unlimited = maxshape[0] is None or shape[0] == 0
        maxshape = (None if unlimited else shape[0], *maxshape[1:])
        if dcpl.get_layout() == h5py.h5d.CHUNKED and not unlimited:
            chunks = dcpl.get_chunk()
            dcpl = dcpl.copy()
            dcpl.set_chunk((max(1, min(chunks[0], shape[0])), *chunks[1:]))
    h5max = tuple(h5py.h5s.UNLIMITED if m is None else m for m in maxshape)
    space = (
        h5py.h5s.create(h5py.h5s.SCALAR) if shape == () else h5py.h5s.create_simple(shape, h5max)
    )
    dsid = h5py.h5d.create(parent.id, name.encode(), src.id.get_type(), space, dcpl=dcpl)
    dset = h5py.Dataset(dsid)
    if np.size(values) and not write_deflated(dset, np.asarray(values), dcpl):
        dset[...] = values
    return dset


def _deflate_level(dcpl: Any) -> tuple[int, bool] | None:
    """(gzip level, shuffled) when a dataset's only filters are [shuffle,] deflate, else None."""
    filters = [dcpl.get_filter(i) for i in range(dcpl.get_nfilters())]
    codes = [f[0] for f in filters]
    if codes not in ([h5py.h5z.FILTER_DEFLATE], [h5py.h5z.FILTER_SHUFFLE, h5py.h5z.FILTER_DEFLATE]):
        return None
    options = filters[-1][2]
    return (int(options[0]) if options else 6), len(codes) == 2


def _deflate(block: np.ndarray, level: int, shuffled: bool) -> bytes:
    """One chunk as HDF5's shuffle + deflate filters store it (byte-identical)."""
    raw = block.view(np.uint8).reshape(-1, block.itemsize).T.tobytes() if shuffled else block
    return zlib.compress(raw, level)


def write_deflated(dset: h5py.Dataset, values: np.ndarray, dcpl: Any) -> bool:
    """Write a gzip'd chunked dataset chunk by chunk, compressed in threads; False if not able.

    Why: HDF5 compresses chunks one at a time under h5py's lock when the dataset closes; for a
    subset's kept photons that recompression was most of the time. zlib run by Python releases
    the GIL, and its output is what the deflate (and shuffle) filters write, so the chunks go
    in as stored bytes (``write_direct_chunk``). Only numeric data already in the file's type,
    chunked along the first axis only, with [shuffle,] deflate and nothing else, takes this way.
    """
    global _POOL
    if dcpl.get_layout() != h5py.h5d.CHUNKED or values.dtype != dset.dtype:
        return False
    if values.dtype.kind not in "iuf" or values.shape != dset.shape or not values.ndim:
        return False
    chunks = dcpl.get_chunk()
    setting = _deflate_level(dcpl)
    if setting is None or tuple(chunks[1:]) != values.shape[1:]:
        return False
    level, shuffled = setting
    rows = chunks[0]
    values = np.ascontiguousarray(values)
    blocks = []
    for start in range(0, values.shape[0], rows):
        block = values[start : start + rows]
        if block.shape[0] < rows:  # edge chunks are stored whole; the padding is never read
            pad = np.zeros((rows - block.shape[0], *block.shape[1:]), dtype=block.dtype)
            block = np.concatenate([block, pad])
        blocks.append(block)
    if len(blocks) > 1:
        _POOL = _POOL or ThreadPoolExecutor(os.cpu_count() or 2, "eoaccess-deflate")
        data = list(_POOL.map(lambda b: _deflate(b, level, shuffled), blocks))
    else:
        data = [_deflate(blocks[0], level, shuffled)]
    for k, payload in enumerate(data):
        offset = (k * rows, *(0 for _ in chunks[1:]))
        dset.id.write_direct_chunk(offset, payload, filter_mask=0)
    return True


def copy_tree(
    src: h5py.Group,
    dst: h5py.Group,
    select: Selector,
    *,
    keep: Callable[[str], bool] = lambda path: True,
    replace: Callable[[str], np.ndarray | None] = lambda path: None,
    untouched: Callable[[str], bool] = lambda path: False,
    plan: CopyPlan | None = None,
) -> CopyPlan:
    """Copy ``src`` into ``dst`` recursively; rows of each dataset as ``select`` says.

    ``keep(path)`` drops objects (and their subtrees) when False; ``replace(path)`` gives new
    values for a dataset (recomputed indices). A group for which ``untouched(path)`` is true
    (nothing in it is cut) is copied by HDF5 itself in one call when it holds no dimension
    scales. Dimension scales are re-linked at the end by :func:`link_scales`.
    """
    plan = plan or CopyPlan()
    copy_attrs(src, dst, skip=_SCALE_ATTRS)
    for name in src:
        link = src.get(name, getlink=True)
        path = f"{src.name.rstrip('/')}/{name}"
        if not keep(path):
            continue
        if isinstance(link, h5py.SoftLink):
            dst[name] = h5py.SoftLink(link.path)
            continue
        if isinstance(link, h5py.ExternalLink):
            dst[name] = h5py.ExternalLink(link.filename, link.path)
            continue
        obj = src[name]
        if isinstance(obj, h5py.Group):
            if untouched(path) and _without_scales(obj):
                # H5Ocopy: the whole subtree, attributes and layouts as they are, in C.
                src.copy(obj, dst, name)
                continue
            gid = h5py.h5g.create(dst.id, name.encode(), gcpl=obj.id.get_create_plist())
            copy_tree(
                obj,
                h5py.Group(gid),
                select,
                keep=keep,
                replace=replace,
                untouched=untouched,
                plan=plan,
            )
        elif isinstance(obj, h5py.Dataset):
            data = replace(path)
            if data is None:
                rows = select(path, obj)
                data = None if rows is None else read_rows(obj, rows)
            new = _create_dataset(dst, name, obj, data)
            copy_attrs(obj, new, skip=_SCALE_ATTRS)
            _record_scales(obj, path, plan)
        elif isinstance(obj, h5py.Datatype):
            src.file.copy(obj, dst, name)
    return plan


def _without_scales(group: h5py.Group) -> bool:
    """True if no dataset below ``group`` is or uses a dimension scale (object references
    into the source file, which a plain HDF5 copy would leave dangling)."""
    found: list[str] = []

    def visit(name: str, obj: h5py.HLObject) -> None:
        if isinstance(obj, h5py.Dataset) and any(k in obj.attrs for k in _SCALE_ATTRS - {"NAME"}):
            found.append(name)

    group.visititems(visit)
    return not found


def _record_scales(obj: h5py.Dataset, path: str, plan: CopyPlan) -> None:
    plan.paths[obj.id] = path
    if h5py.h5ds.is_scale(obj.id):
        label = obj.attrs.get("NAME", path.rsplit("/", 1)[-1].encode())
        plan.scales[path] = label.decode() if isinstance(label, bytes) else str(label)
    if "DIMENSION_LIST" not in obj.attrs or obj.shape is None:
        return
    for axis in range(len(obj.shape)):
        for scale in obj.dims[axis].values():
            plan.attachments.append((path, axis, scale.id))


def link_scales(dst: h5py.File, plan: CopyPlan) -> None:
    """Make the recorded dimension scales and attach them as they were in the source."""
    opened: dict[str, h5py.Dataset | None] = {}

    def dataset(path: str) -> h5py.Dataset | None:
        # One lookup per path: a scale (delta_time) is attached to every dataset of its group,
        # and resolving a path walks the file's groups each time.
        if path not in opened:
            found = dst.get(path)
            opened[path] = found if isinstance(found, h5py.Dataset) else None
        return opened[path]

    for path, label in plan.scales.items():
        if (made := dataset(path)) is not None:
            made.make_scale(label)
    for path, axis, scale_id in plan.attachments:
        scale = plan.paths.get(scale_id)
        target = dataset(path)
        source = dataset(scale) if scale is not None else None
        if target is not None and source is not None:
            target.dims[axis].attach_scale(source)
