"""TIFF structure without GDAL: walk IFDs and read tags from a file or from its first bytes.

Two users: the ARPS sample computes how many leading bytes hold every tag (``headerSize`` of a
BYOC tile), and sidecar enrichment reads the tags of a remote GeoTIFF from a header-only range
read (seed 004's ``SCENE_IDS[LAYER_2_VALUE]``). Both walk the same structure through a
``read(offset, size)`` callable, so the bytes may come from an open file or from a prefix of
the file held in memory; a prefix that ends too early raises :class:`TiffTruncatedError`
saying how many bytes are needed, and the caller fetches that much and tries again.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from eoaccess.errors import InvalidInputError

# Bytes per value of each TIFF field type (TIFF 6.0 and BigTIFF).
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_TYPE_SIZES |= {16: 8, 17: 8, 18: 8}
_INT_FORMATS = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "l", 16: "Q", 17: "q", 13: "I", 18: "Q"}
_FLOAT_FORMATS = {11: "f", 12: "d"}
_ASCII = 2
_STRIP_OFFSETS, _STRIP_BYTE_COUNTS = 273, 279
_TILE_OFFSETS, _TILE_BYTE_COUNTS = 324, 325
_GDAL_METADATA = 42112
_GEO_KEY_DIRECTORY = 34735
_RASTER_TYPE_GEO_KEY = 1025
_MAX_IFDS = 4096  # guards against IFD cycles in corrupt files

# Baseline ASCII tags GDAL reports as ``TIFFTAG_*`` metadata (rasterio's ``dataset.tags()``).
_BASELINE_TEXT_TAGS = {
    269: "TIFFTAG_DOCUMENTNAME",
    270: "TIFFTAG_IMAGEDESCRIPTION",
    305: "TIFFTAG_SOFTWARE",
    306: "TIFFTAG_DATETIME",
    315: "TIFFTAG_ARTIST",
    316: "TIFFTAG_HOSTCOMPUTER",
    33432: "TIFFTAG_COPYRIGHT",
}

Reader = Callable[[int, int], bytes]
"""``read(offset, size)``: exactly ``size`` bytes at ``offset`` (raises when it cannot)."""


class TiffTruncatedError(InvalidInputError):
    """The bytes at hand end before the TIFF structure does: read at least ``needed`` bytes."""

    def __init__(self, message: str, needed: int) -> None:
        super().__init__(message)
        self.needed = needed


@dataclass(frozen=True)
class TiffEntry:
    """One IFD entry: a tag, its field type and count, and where its value lies."""

    tag: int
    ftype: int
    count: int
    inline: bytes | None
    """The value bytes when they fit in the entry, else None."""
    offset: int | None
    """File offset of the value when it does not fit in the entry, else None."""

    @property
    def size(self) -> int:
        """Bytes of the value."""
        return self.count * _TYPE_SIZES.get(self.ftype, 1)


@dataclass(frozen=True)
class Ifd:
    """One image file directory."""

    offset: int
    entries: dict[int, TiffEntry]
    end: int
    """One past the last byte of the directory itself (its next-IFD pointer included)."""
    next_offset: int


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


class TiffStructure:
    """A TIFF read through ``read``: byte order, format and its IFDs."""

    def __init__(self, read: Reader, size: int | None = None) -> None:
        self._read = read
        head = read(0, 8)
        self.order = {b"II": "<", b"MM": ">"}.get(head[:2], "")
        if not self.order:
            raise InvalidInputError("not a TIFF file (no II/MM byte-order mark)")
        magic = struct.unpack(self.order + "H", head[2:4])[0]
        if magic == 42:
            self.bigtiff = False
            self._count_fmt, self._entry_size, self._off_fmt = "H", 12, "I"
            self.first_ifd = struct.unpack(self.order + "I", head[4:8])[0]
            self.header_end = 8
        elif magic == 43:
            if size is not None and size < 16:
                raise InvalidInputError("not a TIFF file (BigTIFF header is cut short)")
            head = read(0, 16)
            self.bigtiff = True
            self._count_fmt, self._entry_size, self._off_fmt = "Q", 20, "Q"
            self.first_ifd = struct.unpack(self.order + "Q", head[8:16])[0]
            self.header_end = 16
        else:
            raise InvalidInputError(f"not a TIFF file (magic number {magic})")
        self._inline = struct.calcsize(self._off_fmt)

    def ifds(self) -> Iterator[Ifd]:
        """Every IFD in file order; raises InvalidInputError on a cycle."""
        order, count_fmt, off_fmt = self.order, self._count_fmt, self._off_fmt
        count_size, off_size = struct.calcsize(count_fmt), struct.calcsize(off_fmt)
        seen: set[int] = set()
        next_ifd = self.first_ifd
        while next_ifd and len(seen) < _MAX_IFDS:
            if next_ifd in seen:
                raise InvalidInputError(f"corrupt TIFF: IFD cycle at offset {next_ifd}")
            seen.add(next_ifd)
            (n_entries,) = struct.unpack(order + count_fmt, self._read(next_ifd, count_size))
            table_size = n_entries * self._entry_size
            table = self._read(next_ifd + count_size, table_size + off_size)
            entries: dict[int, TiffEntry] = {}
            for i in range(n_entries):
                raw = table[i * self._entry_size : (i + 1) * self._entry_size]
                tag, ftype = struct.unpack(order + "HH", raw[:4])
                (count,) = struct.unpack(order + off_fmt, raw[4 : 4 + off_size])
                value = raw[4 + off_size :]
                size = count * _TYPE_SIZES.get(ftype, 1)
                if size > self._inline:
                    (offset,) = struct.unpack(order + off_fmt, value)
                    entries[tag] = TiffEntry(tag, ftype, count, None, offset)
                else:
                    entries[tag] = TiffEntry(tag, ftype, count, value[:size], None)
            end = next_ifd + count_size + table_size + off_size
            (following,) = struct.unpack(order + off_fmt, table[table_size:])
            yield Ifd(next_ifd, entries, end, following)
            next_ifd = following

    def raw_value(self, entry: TiffEntry) -> bytes:
        """The bytes of an entry's value."""
        if entry.inline is not None:
            return entry.inline
        assert entry.offset is not None
        return self._read(entry.offset, entry.size)

    def values(self, entry: TiffEntry) -> tuple[Any, ...]:
        """The numbers of a numeric entry (rationals as floats)."""
        raw = self.raw_value(entry)
        if entry.ftype in _INT_FORMATS:
            return struct.unpack(f"{self.order}{entry.count}{_INT_FORMATS[entry.ftype]}", raw)
        if entry.ftype in _FLOAT_FORMATS:
            return struct.unpack(f"{self.order}{entry.count}{_FLOAT_FORMATS[entry.ftype]}", raw)
        if entry.ftype in (5, 10):
            code = "I" if entry.ftype == 5 else "i"
            pairs = struct.unpack(f"{self.order}{2 * entry.count}{code}", raw)
            return tuple(
                a / b if b else float("nan") for a, b in zip(pairs[::2], pairs[1::2], strict=True)
            )
        raise InvalidInputError(f"TIFF tag {entry.tag} has field type {entry.ftype}, not numbers")

    def text(self, entry: TiffEntry) -> str:
        """An ASCII entry's text, without the trailing NUL."""
        return self.raw_value(entry).split(b"\0", 1)[0].decode("utf-8", "replace")


def _bytes_reader(data: bytes) -> Reader:
    def read(offset: int, size: int) -> bytes:
        if offset + size > len(data):
            raise TiffTruncatedError(
                f"TIFF structure continues past the {len(data)} bytes read "
                f"(needs bytes up to {offset + size})",
                needed=offset + size,
            )
        return data[offset : offset + size]

    return read


def _file_reader(fh: BinaryIO) -> Reader:
    def read(offset: int, size: int) -> bytes:
        fh.seek(offset)
        data = fh.read(size)
        if len(data) != size:
            raise InvalidInputError(f"truncated TIFF: wanted {size} bytes at offset {offset}")
        return data

    return read


def tiff_layout(fh: BinaryIO) -> TiffLayout:
    """Walk every IFD of an open TIFF file and return where its metadata and data lie."""
    file_size = fh.seek(0, 2)
    if file_size < 8:
        raise InvalidInputError("not a TIFF file (shorter than a TIFF header)")
    read = _file_reader(fh)
    tiff = TiffStructure(read, file_size)
    metadata_end = tiff.header_end
    data_offsets: list[int] = []
    count = 0
    for ifd in tiff.ifds():
        count += 1
        metadata_end = max(metadata_end, ifd.end)
        arrays: dict[int, tuple[int, ...]] = {}
        for entry in ifd.entries.values():
            if entry.offset is not None:
                metadata_end = max(metadata_end, entry.offset + entry.size)
            if entry.tag in (_STRIP_OFFSETS, _STRIP_BYTE_COUNTS, _TILE_OFFSETS, _TILE_BYTE_COUNTS):
                if entry.ftype not in (1, 3, 4, 16):
                    raise InvalidInputError(
                        f"corrupt TIFF: tag {entry.tag} has field type {entry.ftype}"
                    )
                arrays[entry.tag] = tiff.values(entry)
        for offsets_tag, counts_tag in (
            (_STRIP_OFFSETS, _STRIP_BYTE_COUNTS),
            (_TILE_OFFSETS, _TILE_BYTE_COUNTS),
        ):
            offsets = arrays.get(offsets_tag, ())
            counts = arrays.get(counts_tag, (1,) * len(offsets))
            # Sparse blocks have offset and byte count 0: they hold no data.
            data_offsets.extend(o for o, c in zip(offsets, counts, strict=False) if o and c)
    if not data_offsets:
        raise InvalidInputError("TIFF file has no image data")
    return TiffLayout(metadata_end, min(data_offsets), count, tiff.bigtiff)


def header_tags(data: bytes) -> dict[str, str]:
    """The dataset tags of a GeoTIFF (what rasterio's ``dataset.tags()`` gives) from its first
    bytes: GDAL metadata items of the default domain, baseline text tags and ``AREA_OR_POINT``.

    Raises :class:`TiffTruncatedError` (with ``needed``) when ``data`` ends before the first
    IFD or one of its values does.
    """
    tiff = TiffStructure(_bytes_reader(data))
    first = next(tiff.ifds(), None)
    if first is None:
        raise InvalidInputError("TIFF file has no image directory")
    tags: dict[str, str] = {}
    for tag, name in _BASELINE_TEXT_TAGS.items():
        entry = first.entries.get(tag)
        if entry is not None and entry.ftype == _ASCII:
            tags[name] = tiff.text(entry)
    metadata = first.entries.get(_GDAL_METADATA)
    if metadata is not None:
        tags.update(_gdal_metadata_items(tiff.text(metadata)))
    geokeys = first.entries.get(_GEO_KEY_DIRECTORY)
    if geokeys is not None:
        raster_type = _geo_key(tiff.values(geokeys), _RASTER_TYPE_GEO_KEY)
        if raster_type in (1, 2):
            tags["AREA_OR_POINT"] = "Area" if raster_type == 1 else "Point"
    return tags


def _gdal_metadata_items(text: str) -> dict[str, str]:
    """Dataset-level items (no band, default domain) of GDAL's ``<GDALMetadata>`` XML."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InvalidInputError(f"GDAL metadata tag is not valid XML: {exc}") from None
    items = {}
    for item in root.iter("Item"):
        if item.get("sample") is not None or item.get("domain") or item.get("role"):
            continue
        name = item.get("name")
        if name:
            items[name] = item.text or ""
    return items


def _geo_key(directory: tuple[int, ...], key: int) -> int | None:
    """The SHORT value of ``key`` in a GeoKeyDirectory (header of 4, then 4 per key)."""
    if len(directory) < 4:
        return None
    for i in range(directory[3]):
        start = 4 + 4 * i
        entry = directory[start : start + 4]
        if len(entry) == 4 and entry[0] == key and entry[1] == 0:
            return int(entry[3])
    return None
