"""TIFF header layout and S3-style ETags for the ARPS sample (the BYOC ``filesMetadata`` values).

Sentinel Hub's BYOC tile info lists, per file, the ``headerSize`` a client must fetch with one HTTP
Range request to read every tag (seed 004 reads ``SCENE_IDS[LAYER_2_VALUE]`` that way), and the
object's ``etag``. Both are computed here from the file itself, without GDAL, so that a reader can
trust them independently of how the file was written. The IFD walker is shared with sidecar
enrichment, which reads tags from header bytes (:mod:`eoaccess._tiff`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from eoaccess._tiff import TiffLayout, tiff_layout
from eoaccess.errors import InvalidInputError

__all__ = ["S3_MULTIPART_CHUNK", "TiffLayout", "header_size", "s3_etag", "tiff_layout"]

# boto3's defaults: objects from 8 MiB up are uploaded in 8 MiB parts, which shapes the ETag.
S3_MULTIPART_CHUNK = 8 * 1024 * 1024


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
