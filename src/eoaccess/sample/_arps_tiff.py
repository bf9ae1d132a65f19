"""TIFF header layout and S3-style ETags for the ARPS sample (the BYOC ``filesMetadata`` values).

Sentinel Hub's BYOC tile info lists, per file, the ``headerSize`` a client must fetch with one HTTP
Range request to read every tag (seed 004 reads ``SCENE_IDS[LAYER_2_VALUE]`` that way), and the
object's ``etag``. Both are computed here from the file itself, without GDAL, so that a reader can
trust them independently of how the file was written.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from eoaccess.errors import InvalidInputError

# Bytes per value of each TIFF field type (TIFF 6.0 and BigTIFF).
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_TYPE_SIZES |= {16: 8, 17: 8, 18: 8}
_INT_FORMATS = {1: "B", 3: "H", 4: "I", 16: "Q"}
_STRIP_OFFSETS, _STRIP_BYTE_COUNTS = 273, 279
_TILE_OFFSETS, _TILE_BYTE_COUNTS = 324, 325
_MAX_IFDS = 4096  # guards against IFD cycles in corrupt files

# boto3's defaults: objects from 8 MiB up are uploaded in 8 MiB parts, which shapes the ETag.
S3_MULTIPART_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class TiffLayout:
    """Where the metadata and the image data of a TIFF file lie."""

    metadata_end: int
    """One past the last byte of any IFD or out-of-line tag value."""
    first_data_offset: int
    """Offset of the first strip or tile of image data (of any IFD)."""
    ifd_count: int
    """Number of IFDs (full resolution, overviews, masks)."""
    bigtiff: bool
    """True for BigTIFF (64-bit offsets)."""


def _read_exact(fh: BinaryIO, offset: int, size: int) -> bytes:
    fh.seek(offset)
    data = fh.read(size)
    if len(data) != size:
        raise InvalidInputError(f"truncated TIFF: wanted {size} bytes at offset {offset}")
    return data


def tiff_layout(fh: BinaryIO) -> TiffLayout:
    """Walk every IFD of an open TIFF file and return where its metadata and data lie."""
    file_size = fh.seek(0, 2)
    if file_size < 8:
        raise InvalidInputError("not a TIFF file (shorter than a TIFF header)")
    head = _read_exact(fh, 0, min(file_size, 16))
    order = {b"II": "<", b"MM": ">"}.get(head[:2])
    if order is None:
        raise InvalidInputError("not a TIFF file (no II/MM byte-order mark)")
    magic = struct.unpack(order + "H", head[2:4])[0]
    if magic == 42:
        bigtiff, count_fmt, entry_size, off_fmt, inline = False, "H", 12, "I", 4
        next_ifd = struct.unpack(order + "I", head[4:8])[0]
        metadata_end = 8
    elif magic == 43 and len(head) == 16:
        bigtiff, count_fmt, entry_size, off_fmt, inline = True, "Q", 20, "Q", 8
        next_ifd = struct.unpack(order + "Q", head[8:16])[0]
        metadata_end = 16
    else:
        raise InvalidInputError(f"not a TIFF file (magic number {magic})")
    count_size, off_size = struct.calcsize(count_fmt), struct.calcsize(off_fmt)

    data_offsets: list[int] = []
    seen: set[int] = set()
    while next_ifd and len(seen) < _MAX_IFDS:
        if next_ifd in seen:
            raise InvalidInputError(f"corrupt TIFF: IFD cycle at offset {next_ifd}")
        seen.add(next_ifd)
        (n_entries,) = struct.unpack(order + count_fmt, _read_exact(fh, next_ifd, count_size))
        table_size = n_entries * entry_size
        table = _read_exact(fh, next_ifd + count_size, table_size + off_size)
        metadata_end = max(metadata_end, next_ifd + count_size + table_size + off_size)
        arrays: dict[int, list[int]] = {}
        for i in range(n_entries):
            entry = table[i * entry_size : (i + 1) * entry_size]
            tag, ftype = struct.unpack(order + "HH", entry[:4])
            (count,) = struct.unpack(order + off_fmt, entry[4 : 4 + off_size])
            size = count * _TYPE_SIZES.get(ftype, 1)
            raw = entry[4 + off_size :]
            if size > inline:
                (value_offset,) = struct.unpack(order + off_fmt, raw)
                metadata_end = max(metadata_end, value_offset + size)
            if tag in (_STRIP_OFFSETS, _STRIP_BYTE_COUNTS, _TILE_OFFSETS, _TILE_BYTE_COUNTS):
                if ftype not in _INT_FORMATS:
                    raise InvalidInputError(f"corrupt TIFF: tag {tag} has field type {ftype}")
                values = raw[:size] if size <= inline else _read_exact(fh, value_offset, size)
                arrays[tag] = list(struct.unpack(f"{order}{count}{_INT_FORMATS[ftype]}", values))
        for offsets_tag, counts_tag in (
            (_STRIP_OFFSETS, _STRIP_BYTE_COUNTS),
            (_TILE_OFFSETS, _TILE_BYTE_COUNTS),
        ):
            offsets = arrays.get(offsets_tag, [])
            counts = arrays.get(counts_tag, [1] * len(offsets))
            # Sparse blocks have offset and byte count 0: they hold no data.
            data_offsets.extend(o for o, c in zip(offsets, counts, strict=False) if o and c)
        (next_ifd,) = struct.unpack(order + off_fmt, table[table_size:])
    if not data_offsets:
        raise InvalidInputError("TIFF file has no image data")
    return TiffLayout(metadata_end, min(data_offsets), len(seen), bigtiff)


def header_size(path: str | Path) -> int:
    """Bytes from the start of a TIFF up to its first image data: what a header-only read fetches.

    Fetching ``range(0, header_size(path))`` gives every IFD and tag (GDAL metadata included) of a
    cloud-optimized GeoTIFF. Raises :class:`InvalidInputError` when some metadata lies after the
    image data, since then no prefix of the file holds the whole header.
    """
    with open(path, "rb") as fh:
        layout = tiff_layout(fh)
    if layout.metadata_end > layout.first_data_offset:
        raise InvalidInputError(
            f"{Path(path).name}: TIFF metadata ends at byte {layout.metadata_end}, after image data "
            f"at byte {layout.first_data_offset}; rewrite it as a cloud-optimized GeoTIFF"
        )
    return layout.first_data_offset


def s3_etag(path: str | Path, chunk: int = S3_MULTIPART_CHUNK) -> str:
    """The ETag S3 gives an object uploaded with boto3's defaults (quoted, multipart for big files)."""
    if Path(path).stat().st_size < chunk:
        return '"' + hashlib.md5(Path(path).read_bytes()).hexdigest() + '"'
    digests = []
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digests.append(hashlib.md5(block).digest())
    return f'"{hashlib.md5(b"".join(digests)).hexdigest()}-{len(digests)}"'
