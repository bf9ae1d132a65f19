"""Zarr v2 layout of an ITS_LIVE datacube: variables, attributes, encodings, chunk writing.

The metadata documents (``.zgroup``, ``.zarray``, ``.zattrs``) are serialised by zarr-python's
own v2 metadata classes and ``.zmetadata`` by ``zarr.consolidate_metadata``, with the encodings
the producer gives ``xarray.to_zarr``. Chunks are encoded with the numcodecs Blosc codec named in
``.zarray`` and stored under their v2 keys (``v/0.12.34``) directly: the real ``(N, 10, 10)``
chunking makes tens of thousands of small chunks per cube, and zarr's per-call machinery would
cost an order of magnitude more time. As zarr does by default (``write_empty_chunks=False``),
chunks holding only the fill value are not stored.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import zarr
from zarr.core.buffer import default_buffer_prototype
from zarr.core.dtype import parse_data_type
from zarr.core.group import GroupMetadata
from zarr.core.metadata.v2 import ArrayV2Metadata

from eoaccess.sample._itslive_layers import I16_FILL, M_SCALE

ZLIB = numcodecs.Blosc(cname="zlib", clevel=2, shuffle=numcodecs.Blosc.SHUFFLE)
"""The producer's compressor for x, y, the velocity family and the masks."""
LZ4 = numcodecs.Blosc()
"""numcodecs' default Blosc (lz4, clevel 5, byte shuffle), used for everything else."""
TIME_CHUNK = 20_000
XY_CHUNK = 10
TIME_CHUNK_1D = 200_000
DATE_UNITS = "days since 1970-01-01"
_PROTOTYPE = default_buffer_prototype()

DIMS_3D = ("mid_date", "y", "x")
DIMS_1D = ("mid_date",)
VELOCITY_3D = ("v", "vx", "vy", "v_error", "va", "vr", "M11", "M12")
OTHER_3D = ("interp_mask", "chip_size_height", "chip_size_width")
COMPONENT_SUFFIXES = (
    "error",
    "error_modeled",
    "error_slow",
    "error_stationary",
    "stable_shift",
    "stable_shift_slow",
    "stable_shift_stationary",
)


@dataclass(frozen=True)
class VarSpec:
    """One stored array: dimensions, storage dtype, codec, zarr fill value and attributes."""

    name: str
    dims: tuple[str, ...]
    dtype: str
    codec: numcodecs.Blosc
    fill: Any
    attrs: Mapping[str, Any]


_FLAG_DESCRIPTION = (
    "flag for applying velocity bias correction: 0 = no correction; 1 = correction from "
    "overlapping stable surface mask (stationary or slow-flowing surfaces with velocity < 15 m/yr)"
    "(top priority); 2 = correction from slowest 25% of overlapping velocities (second priority)"
)
_COMPONENT_NAMES = {
    "vx": ("x_velocity", "velocity component in x direction"),
    "vy": ("y_velocity", "velocity component in y direction"),
    "va": ("azimuth_velocity", "velocity in radar azimuth direction"),
    "vr": ("range_velocity", "velocity in radar range direction"),
}


def _component_attrs(comp: str, suffix: str) -> dict[str, Any]:
    """Attributes of the per-layer error and shift variables of one velocity component."""
    name = f"{comp}_{suffix}"
    long = _COMPONENT_NAMES[comp][0]
    descriptions = {
        "error": f"best estimate of {long} error: {name} is populated according to the approach "
        'used for the velocity bias correction as indicated in "stable_shift_flag"',
        "error_modeled": "1-sigma error calculated using a modeled error-dt relationship",
        "error_slow": "RMSE over slowest 25% of retrieved velocities",
        "error_stationary": "RMSE over stable surfaces, stationary or slow-flowing surfaces with "
        "velocity < 15 m/yr identified from an external mask",
        "stable_shift": f"applied {comp} shift calibrated using pixels over stable or slow surfaces",
        "stable_shift_slow": f"{comp} shift calibrated using valid pixels over slowest 25% of "
        "retrieved velocities",
        "stable_shift_stationary": f"{comp} shift calibrated using valid pixels over stable "
        "surfaces,  stationary or slow-flowing surfaces with velocity < 15 m/yr identified from "
        "an external mask",
    }
    return {"description": descriptions[suffix], "standard_name": name, "units": "meter/year"}


def _img_attrs(std: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "standard_name": std, **extra}


def variable_specs(mapping: Mapping[str, Any], mask_urls: tuple[str, str]) -> list[VarSpec]:
    """Every array of a v2 datacube (coordinates first), with the producer's encodings."""
    grid = {"grid_mapping": "mapping"}
    specs = [
        VarSpec(
            "mid_date",
            DIMS_1D,
            "<f8",
            LZ4,
            "NaN",
            {
                "description": "midpoint of image 1 and image 2 acquisition date and time with "
                "granule's centroid longitude and latitude as microseconds",
                "standard_name": "image_pair_center_date_with_time_separation",
                "units": DATE_UNITS,
                "calendar": "proleptic_gregorian",
            },
        ),
        VarSpec(
            "x",
            ("x",),
            "<f8",
            ZLIB,
            "NaN",
            {
                "description": "x coordinate of projection",
                "standard_name": "projection_x_coordinate",
                "units": "m",
            },
        ),
        VarSpec(
            "y",
            ("y",),
            "<f8",
            ZLIB,
            "NaN",
            {
                "description": "y coordinate of projection",
                "standard_name": "projection_y_coordinate",
                "units": "m",
            },
        ),
        VarSpec("mapping", (), "<U1", LZ4, None, dict(mapping)),
    ]
    velocity = {
        "v": ("land_ice_surface_velocity", "velocity magnitude"),
        "vx": ("land_ice_surface_x_velocity", "velocity component in x direction"),
        "vy": ("land_ice_surface_y_velocity", "velocity component in y direction"),
        "v_error": ("velocity_error", "velocity magnitude error"),
        "va": ("azimuth_velocity", "velocity in radar azimuth direction"),
        "vr": ("range_velocity", "velocity in radar range direction"),
    }
    for name, (std, desc) in velocity.items():
        attrs = {
            "description": desc,
            **grid,
            "missing_value": I16_FILL,
            "standard_name": std,
            "units": "meter/year",
        }
        specs.append(VarSpec(name, DIMS_3D, "<i2", ZLIB, I16_FILL, attrs))
    for name, row in (("M11", "1st row, 1st column"), ("M12", "1st row, 2nd column")):
        factor = "vx" if name == "M11" else "vy"
        attrs = {
            "description": f"conversion matrix element ({row}) that can be multiplied with {factor} "
            "to give range pixel displacement dr (see Eq. A18 in https://www.mdpi.com/2072-4292/13/4/749)",
            **grid,
            "missing_value": I16_FILL,
            "scale_factor": M_SCALE,
            "standard_name": f"conversion_matrix_element_{name[1:]}",
            "units": "pixel/(meter/year)",
        }
        specs.append(VarSpec(name, DIMS_3D, "<i2", ZLIB, I16_FILL, attrs))
    chip_coords = (
        "Optical data: chip_size_coordinates = 'image projection geometry: width = x, height = y'. "
        "Radar data: chip_size_coordinates = 'radar geometry: width = range, height = azimuth'"
    )
    specs += [
        VarSpec(
            "interp_mask",
            DIMS_3D,
            "|u1",
            LZ4,
            0,
            {
                "description": "light interpolation mask",
                "flag_meanings": "measured interpolated",
                "flag_values": [0, 1],
                **grid,
                "missing_value": 0,
                "standard_name": "interpolated_value_mask",
            },
        ),
        VarSpec(
            "chip_size_height",
            DIMS_3D,
            "<u2",
            LZ4,
            0,
            {
                "chip_size_coordinates": chip_coords,
                "description": "height of search template (chip)",
                **grid,
                "missing_value": 0,
                "units": "m",
            },
        ),
        VarSpec(
            "chip_size_width",
            DIMS_3D,
            "<u2",
            LZ4,
            0,
            {
                "chip_size_coordinates": chip_coords,
                "description": "width of search template (chip)",
                **grid,
                "missing_value": 0,
                "units": "m",
            },
        ),
    ]
    for comp in ("vx", "vy", "va", "vr"):
        for suffix in COMPONENT_SUFFIXES:
            specs.append(
                VarSpec(
                    f"{comp}_{suffix}",
                    DIMS_1D,
                    "<f4",
                    ZLIB,
                    float(I16_FILL),
                    _component_attrs(comp, suffix),
                )
            )
    for name in ("M11", "M12"):
        attrs = {
            "description": "multiplicative factor that converts slant range pixel displacement dr "
            "to slant range velocity vr",
            "standard_name": f"{name}_dr_to_vr_factor",
            "units": "meter/(year*pixel)",
        }
        specs.append(VarSpec(f"{name}_dr_to_vr_factor", DIMS_1D, "<f4", ZLIB, 0.0, attrs))
    specs += [
        VarSpec(
            "stable_shift_flag",
            DIMS_1D,
            "|u1",
            LZ4,
            None,
            _img_attrs("stable_shift_flag", _FLAG_DESCRIPTION),
        ),
        VarSpec(
            "stable_count_slow",
            DIMS_1D,
            "<u2",
            LZ4,
            None,
            _img_attrs(
                "stable_count_slow", "number of valid pixels over slowest 25% of ice", units="count"
            ),
        ),
        VarSpec(
            "stable_count_stationary",
            DIMS_1D,
            "<u2",
            LZ4,
            None,
            _img_attrs(
                "stable_count_stationary",
                "number of valid pixels over stationary or slow-flowing surfaces",
                units="count",
            ),
        ),
    ]
    for k in (1, 2):
        specs += [
            VarSpec(
                f"acquisition_date_img{k}",
                DIMS_1D,
                "<f8",
                LZ4,
                "NaN",
                _img_attrs(
                    f"image{k}_acquition_date",
                    f"acquisition date and time of image {k}",
                    units=DATE_UNITS,
                    calendar="proleptic_gregorian",
                ),
            ),
            VarSpec(
                f"mission_img{k}",
                DIMS_1D,
                "<U1",
                LZ4,
                None,
                _img_attrs(f"image{k}_mission", f"id of the mission that acquired image {k}"),
            ),
            VarSpec(
                f"satellite_img{k}",
                DIMS_1D,
                "<U2",
                LZ4,
                None,
                _img_attrs(f"image{k}_satellite", f"id of the satellite that acquired image {k}"),
            ),
            VarSpec(
                f"sensor_img{k}",
                DIMS_1D,
                "<U3",
                LZ4,
                None,
                _img_attrs(f"image{k}_sensor", f"id of the sensor that acquired image {k}"),
            ),
        ]
    specs += [
        VarSpec(
            "date_center",
            DIMS_1D,
            "<f8",
            LZ4,
            "NaN",
            _img_attrs(
                "image_pair_center_date",
                "midpoint of image 1 and image 2 acquisition date",
                units=DATE_UNITS,
                calendar="proleptic_gregorian",
            ),
        ),
        VarSpec(
            "date_dt",
            DIMS_1D,
            "<f4",
            LZ4,
            "NaN",
            _img_attrs(
                "image_pair_time_separation",
                "time separation between acquisition of image 1 and image 2",
                units="days",
            ),
        ),
        VarSpec(
            "roi_valid_percentage",
            DIMS_1D,
            "<f4",
            LZ4,
            "NaN",
            _img_attrs(
                "region_of_interest_valid_pixel_percentage",
                "percentage of pixels with a valid velocity estimate determined for the "
                "intersection of the full image pair footprint and the region of interest (roi) "
                "that defines where autoRIFT tried to estimate a velocity",
            ),
        ),
        VarSpec(
            "autoRIFT_software_version",
            DIMS_1D,
            "<U5",
            LZ4,
            None,
            _img_attrs("autoRIFT_software_version", "version of autoRIFT software"),
        ),
        VarSpec(
            "granule_url",
            DIMS_1D,
            "<U1024",
            LZ4,
            None,
            _img_attrs("granule_url", "original granule URL"),
        ),
    ]
    for name, label, url in (
        ("landice", "land", mask_urls[0]),
        ("floatingice", "floating", mask_urls[1]),
    ):
        hyphen = "land-ice" if name == "landice" else "floating-ice"
        attrs = {
            "description": f"{label} ice mask, 0 = non-{hyphen}, 1 = {hyphen}",
            "flag_meanings": "non-ice ice",
            "flag_values": [0, 1],
            **grid,
            "missing_value": 255,
            "standard_name": f"{label}_ice_mask",
            "url": url,
        }
        specs.append(VarSpec(name, ("y", "x"), "|u1", ZLIB, 255, attrs))
    return specs


class CubeStore:
    """A datacube being written: zarr v2 metadata and Blosc-encoded chunk files."""

    def __init__(self, path: Path, n: int, ny: int, nx: int, attrs: Mapping[str, Any]) -> None:
        if n > TIME_CHUNK:
            raise ValueError(f"{n} layers exceed one time chunk ({TIME_CHUNK})")
        self.path = path
        self.n, self.ny, self.nx = n, ny, nx
        self.specs: dict[str, VarSpec] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.fills: dict[str, np.ndarray] = {}
        path.mkdir(parents=True, exist_ok=False)
        self._put(
            path, GroupMetadata(attributes=dict(attrs), zarr_format=2).to_buffer_dict(_PROTOTYPE)
        )

    @staticmethod
    def _put(directory: Path, documents: Mapping[str, Any]) -> None:
        """Write zarr's serialised metadata documents (``.zarray``, ``.zattrs``, ...)."""
        for key, buffer in documents.items():
            (directory / key).write_bytes(buffer.to_bytes())

    def _chunks(self, dims: tuple[str, ...]) -> tuple[int, ...]:
        sizes = {"x": self.nx, "y": self.ny}
        if dims == DIMS_3D:
            return (min(self.n, TIME_CHUNK), XY_CHUNK, XY_CHUNK)
        if dims == DIMS_1D:
            return (min(self.n, TIME_CHUNK_1D),)
        return tuple(sizes[d] for d in dims)

    def create(self, spec: VarSpec) -> None:
        """Write the array's ``.zarray``/``.zattrs`` (with ``_ARRAY_DIMENSIONS``) as zarr does."""
        sizes = {"mid_date": self.n, "x": self.nx, "y": self.ny}
        shape = tuple(sizes[d] for d in spec.dims)
        metadata = ArrayV2Metadata(
            shape=shape,
            dtype=parse_data_type(spec.dtype, zarr_format=2),
            chunks=self._chunks(spec.dims),
            fill_value=float("nan") if spec.fill == "NaN" else spec.fill,
            order="C",
            compressor=spec.codec,
            filters=None,
            attributes={**spec.attrs, "_ARRAY_DIMENSIONS": list(spec.dims)},
        )
        directory = self.path / spec.name
        directory.mkdir()
        self._put(directory, metadata.to_buffer_dict(_PROTOTYPE))
        self.specs[spec.name] = spec
        self.shapes[spec.name] = shape
        # What an absent chunk reads as (zarr's dtype default when the fill value is null).
        if spec.fill is None:
            self.fills[spec.name] = np.zeros((), dtype=spec.dtype)  # '' for strings
        else:
            fill = np.nan if spec.fill == "NaN" else spec.fill
            self.fills[spec.name] = np.array(fill, dtype=spec.dtype)

    def _is_fill(self, name: str, values: np.ndarray, axes: tuple[int, ...] | None = None) -> Any:
        """Whether ``values`` hold only the fill value (per leading index when ``axes`` given)."""
        fill = self.fills[name]
        same = np.isnan(values) if fill.dtype.kind == "f" and np.isnan(fill) else values == fill
        return np.all(same, axis=axes)

    def put(self, chunks: list[tuple[str, bytes]]) -> None:
        """Store encoded chunks under their keys (``"v/0.3.7"``); plain syscalls keep this cheap."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
        prefix = os.fspath(self.path) + os.sep
        for key, payload in chunks:
            fd = os.open(prefix + key, flags, 0o644)
            try:
                os.write(fd, payload)
            finally:
                os.close(fd)

    def write(self, name: str, data: Any) -> None:
        """Write a whole single-chunk array (1-D per layer, coordinates, 2-D masks, scalar)."""
        shape = self.shapes[name]
        values = np.ascontiguousarray(np.asarray(data, dtype=self.specs[name].dtype).reshape(shape))
        if not self._is_fill(name, values):
            key = ".".join("0" * len(shape)) or "0"
            self.put([(f"{name}/{key}", self.specs[name].codec.encode(values))])

    def encode_block(
        self, name: str, row_chunk: int, col0: int, block: np.ndarray
    ) -> list[tuple[str, bytes]]:
        """Encode one block ``(N, <=10 rows, cols)`` of a 3-D array into ``(key, chunk)`` pairs.

        Chunks holding only the fill value are left out, as zarr's ``write_empty_chunks=False``.
        """
        fill = self.fills[name]
        n, rows, cols = block.shape
        width = math.ceil(cols / XY_CHUNK) * XY_CHUNK
        if rows != XY_CHUNK or width != cols:
            # Edge chunks are stored whole, padded with the fill value (as zarr does).
            padded = np.full((n, XY_CHUNK, width), fill, dtype=block.dtype)
            padded[:, :rows, :cols] = block
            block = padded
        chunks = block.reshape(n, XY_CHUNK, width // XY_CHUNK, XY_CHUNK).transpose(2, 0, 1, 3)
        empty = self._is_fill(name, chunks, axes=(1, 2, 3))
        codec = self.specs[name].codec
        first = col0 // XY_CHUNK
        return [
            (f"{name}/0.{row_chunk}.{first + k}", codec.encode(np.ascontiguousarray(chunks[k])))
            for k in np.flatnonzero(~empty)
        ]

    def close(self) -> None:
        """Write the consolidated ``.zmetadata`` (what xarray and the real cubes rely on)."""
        zarr.consolidate_metadata(str(self.path))
