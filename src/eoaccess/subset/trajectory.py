"""Subsets of along-track (trajectory) HDF5 granules such as ICESat-2 ATL03 (FORMATS.md §2).

Per beam (``gt1l … gt3r``) the photons inside the area and time range are kept:

- ``heights`` (photon rate) keeps exactly the photons inside;
- ``geolocation`` and ``geophys_corr`` (20 m segment rate) keep the segments that hold a kept
  photon or whose reference photon lies inside, with ``ph_index_beg`` (1-based, 0 for a
  segment without photons) and ``segment_ph_cnt`` recomputed for the new photon arrays;
- every other group with a ``delta_time`` (``bckgrd_atlas`` at 50 Hz, …) keeps the records
  that cover the kept time span;
- everything else (``METADATA``, ``ancillary_data``, ``orbit_info``, ``quality_assessment``,
  every attribute) is copied as is, dimension scales are re-attached and the root ``history``
  gets a line. The file is named ``<basename>_subsetted.h5``.

Reads are narrow: the segment-rate reference photon positions locate the candidate segments,
and their ``ph_index_beg``/``segment_ph_cnt`` give the photon ranges to read — photon
positions outside those ranges are never read (HDF5 hyperslabs over the 10,000-photon chunks).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import h5py
import numpy as np
import shapely

from eoaccess._atomic import atomic_path
from eoaccess.errors import InvalidInputError
from eoaccess.subset._grid import format_bounds
from eoaccess.subset._h5copy import chunk_spans, copy_tree, link_scales, read_rows
from eoaccess.subset._request import SubsetRequest, SubsetResult, replace_io
from eoaccess.subset._source import basename, href_text, is_hdf5, open_h5

BEAM = re.compile(r"^gt[1-3][lr]$")
PHOTON_GROUP = "heights"
SEGMENT_GROUPS = ("geolocation", "geophys_corr")
SEGMENT_MARGIN_M = 200.0
"""How far outside the area a segment's reference photon may lie and still hold photons
inside it (a segment is 20 m long and photons scatter a few metres across the track)."""
_SEGMENT_KEYS = ("ph_index_beg", "segment_ph_cnt", "reference_photon_lat", "reference_photon_lon")
_UNITS = re.compile(r"^\s*(\w+)\s+since\s+(.+?)\s*$")
_SECONDS = {
    "seconds": 1.0,
    "second": 1.0,
    "s": 1.0,
    "minutes": 60.0,
    "hours": 3600.0,
    "days": 86400.0,
}


def is_trajectory(href: str | os.PathLike[str]) -> bool:
    """True for an HDF5 file declaring ``featureType=trajectory`` or holding ``gt*/heights``."""
    text = href_text(href).split("?", 1)[0].rstrip("/").lower()
    if text.endswith((".zarr", ".tif", ".tiff", ".json")) or not is_hdf5(href):
        return False
    with open_h5(href) as source:
        f = source.file
        kind = f.attrs.get("featureType", b"")
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        if kind.lower() == "trajectory":
            return True
        return any(BEAM.match(k) and f"{k}/{PHOTON_GROUP}" in f for k in f)


# --------------------------------------------------------------------------------------------
# Time


@dataclass(frozen=True)
class TimeAxis:
    """How a ``delta_time`` maps to UTC: ``epoch`` + value × ``scale`` seconds."""

    epoch: dt.datetime
    scale: float

    def to_value(self, when: dt.datetime) -> float:
        return (when - self.epoch).total_seconds() / self.scale

    def to_datetime(self, value: float) -> dt.datetime:
        return self.epoch + dt.timedelta(seconds=float(value) * self.scale)


def _time_axis(dset: h5py.Dataset) -> TimeAxis:
    """The CF ``units`` of a time dataset (``seconds since 2018-01-01``): ATL03's delta_time
    counts UTC seconds from the SDP epoch (GPS−UTC has stayed 18 s since 2017)."""
    units = dset.attrs.get("units", b"")
    units = units.decode() if isinstance(units, bytes) else str(units)
    match = _UNITS.match(units)
    if not match or match.group(1).lower() not in _SECONDS:
        raise InvalidInputError(f"{dset.name} has no CF time units ({units!r})")
    epoch = dt.datetime.fromisoformat(match.group(2).replace(" ", "T").rstrip("Z"))
    epoch = epoch.replace(tzinfo=dt.UTC) if epoch.tzinfo is None else epoch.astimezone(dt.UTC)
    return TimeAxis(epoch, _SECONDS[match.group(1).lower()])


# --------------------------------------------------------------------------------------------
# Per-beam selection


@dataclass(frozen=True)
class BeamSelection:
    """What one beam keeps."""

    name: str
    photons: np.ndarray
    """Kept photon rows (0-based, sorted) of the photon-rate arrays."""
    segments: np.ndarray
    """Kept segment rows (0-based, sorted) of the segment-rate arrays."""
    n_photons: int
    """Photon-rate length in the source (to recognise photon-rate arrays)."""
    n_segments: int
    """Segment-rate length in the source."""
    ph_index_beg: np.ndarray
    """Recomputed 1-based first photon of each kept segment (0 when it has none)."""
    segment_ph_cnt: np.ndarray
    """Recomputed photon count of each kept segment."""
    time_range: tuple[float, float] | None
    """delta_time span of the kept photons (of the kept segments if no photon is kept)."""
    lon_range: tuple[float, float] | None
    lat_range: tuple[float, float] | None
    scanned: int = 0
    """Photon positions read to decide (the candidate ranges, not the whole beam)."""


class _Area:
    """The request's area and time as fast point tests in lon/lat and delta_time."""

    def __init__(self, request: SubsetRequest, axis: TimeAxis) -> None:
        self.geometry = request.area_lonlat()
        if self.geometry is not None:
            shapely.prepare(self.geometry)
        interval = request.datetime
        self.t0 = axis.to_value(interval.start) if interval and interval.start else -np.inf
        self.t1 = axis.to_value(interval.end) if interval and interval.end else np.inf

    def contains(self, lon: np.ndarray, lat: np.ndarray, t: np.ndarray) -> np.ndarray:
        inside = (t >= self.t0) & (t <= self.t1)
        if self.geometry is not None and inside.any():
            inside &= shapely.intersects_xy(self.geometry, lon, lat)
        return inside

    def near(self, lon: np.ndarray, lat: np.ndarray, t: np.ndarray, slack_s: float) -> np.ndarray:
        """Segments whose reference photon lies within the margin of the area and time."""
        near = (t >= self.t0 - slack_s) & (t <= self.t1 + slack_s)
        if self.geometry is not None and near.any():
            _, miny, _, maxy = self.geometry.bounds
            coslat = np.cos(np.radians(min(max(abs(miny), abs(maxy)), 85.0)))
            margin = SEGMENT_MARGIN_M / (111_195.0 * coslat)
            grown = self.geometry.buffer(margin, quad_segs=2)
            near &= shapely.intersects_xy(grown, lon, lat)
        return near


def _photon_runs(
    beg: np.ndarray, cnt: np.ndarray, candidates: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Photon row ranges [start, stop) of the candidate segments and their neighbours."""
    n = beg.size
    pick = candidates.copy()
    pick[1:] |= candidates[:-1]
    pick[:-1] |= candidates[1:]
    pick &= cnt > 0
    starts = beg[pick].astype(np.int64) - 1
    stops = starts + cnt[pick]
    if starts.size == 0 or n == 0:
        return starts, stops
    # Merge touching ranges into runs (segments are consecutive in photon order).
    new_run = np.r_[True, starts[1:] > stops[:-1]]
    return starts[new_run], np.maximum.reduceat(stops, np.flatnonzero(new_run))


def _rows_of_runs(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    if starts.size == 0:
        return np.empty(0, dtype=np.int64)
    return np.concatenate(
        [np.arange(a, b, dtype=np.int64) for a, b in zip(starts, stops, strict=True)]
    )


@dataclass(frozen=True)
class _Candidates:
    """A beam's segment index and the photon rows worth testing."""

    rows: np.ndarray
    """Photon rows whose positions are read (sorted)."""
    n_photons: int
    segment_index: bool
    """Whether the beam has the ATL03 segment index (else every photon is a candidate)."""
    beg: np.ndarray
    cnt: np.ndarray
    seg_lat: np.ndarray
    seg_lon: np.ndarray
    seg_t: np.ndarray


def segment_index_paths(beam: h5py.Group) -> list[str]:
    """The segment-rate arrays that locate photons (empty without a segment index)."""
    geo = beam.get("geolocation")
    keys = (*_SEGMENT_KEYS, "delta_time")
    if geo is None or not all(k in geo for k in keys):
        return []
    return [f"{geo.name}/{k}" for k in keys]


def _candidates(beam: h5py.Group, area: _Area) -> _Candidates:
    """Photon rows near the area, from the segment index (no photon position read yet)."""
    n_ph = int(beam[PHOTON_GROUP]["delta_time"].shape[0])
    if not segment_index_paths(beam):
        empty = np.empty(0)
        rows = np.arange(n_ph, dtype=np.int64)
        return _Candidates(rows, n_ph, False, empty, empty, empty, empty, empty)
    geo = beam["geolocation"]
    beg = geo["ph_index_beg"][()].astype(np.int64)
    cnt = geo["segment_ph_cnt"][()].astype(np.int64)
    seg_lat = geo["reference_photon_lat"][()]
    seg_lon = geo["reference_photon_lon"][()]
    seg_t = geo["delta_time"][()]
    slack = float(np.median(np.diff(seg_t))) * 2 if seg_t.size > 1 else 1.0
    near = area.near(seg_lon, seg_lat, seg_t, abs(slack))
    rows = _rows_of_runs(*_photon_runs(beg, cnt, near))
    return _Candidates(rows, n_ph, True, beg, cnt, seg_lat, seg_lon, seg_t)


def select_beam(beam: h5py.Group, area: _Area, found: _Candidates | None = None) -> BeamSelection:
    """Decide which photons and segments of one beam to keep, reading as little as possible."""
    c = found or _candidates(beam, area)
    heights = beam[PHOTON_GROUP]
    rows = c.rows
    lat = read_rows(heights["lat_ph"], rows)
    lon = read_rows(heights["lon_ph"], rows)
    t = read_rows(heights["delta_time"], rows)
    inside = area.contains(lon, lat, t)
    photons = rows[inside]
    beg, cnt, seg_lat, seg_lon, seg_t = c.beg, c.cnt, c.seg_lat, c.seg_lon, c.seg_t
    segment_index = c.segment_index
    n_ph, n_seg = c.n_photons, int(beg.size)

    if segment_index:
        nonempty = np.flatnonzero(cnt > 0)
        first = beg[nonempty] - 1
        owner = (
            nonempty[np.searchsorted(first, photons, side="right") - 1] if photons.size else photons
        )
        seg_inside = area.contains(seg_lon, seg_lat, seg_t)
        segments = np.union1d(owner, np.flatnonzero(seg_inside)).astype(np.int64)
        new_cnt = np.zeros(segments.size, dtype=np.int64)
        if photons.size:
            np.add.at(new_cnt, np.searchsorted(segments, owner), 1)
        new_beg = np.where(new_cnt > 0, np.cumsum(new_cnt) - new_cnt + 1, 0)
    else:
        segments = np.empty(0, dtype=np.int64)
        new_cnt = new_beg = np.empty(0, dtype=np.int64)

    # The extent of what is kept: the photons, or the segments of a beam without photons.
    times, lons, lats = t[inside], lon[inside], lat[inside]
    if not times.size and segment_index:
        times, lons, lats = seg_t[segments], seg_lon[segments], seg_lat[segments]
    return BeamSelection(
        name=beam.name.strip("/"),
        photons=photons,
        segments=segments,
        n_photons=n_ph,
        n_segments=n_seg,
        ph_index_beg=new_beg,
        segment_ph_cnt=new_cnt,
        time_range=(float(times.min()), float(times.max())) if times.size else None,
        lon_range=(float(lons.min()), float(lons.max())) if lons.size else None,
        lat_range=(float(lats.min()), float(lats.max())) if lats.size else None,
        scanned=int(rows.size),
    )


def _time_rows(dset: h5py.Dataset, span: tuple[float, float] | None) -> np.ndarray:
    """Records of a time-indexed group covering ``span``: those inside it plus the record just
    before (whose interval covers the span's start)."""
    if span is None:
        return np.empty(0, dtype=np.int64)
    t = dset[()]
    inside = np.flatnonzero((t >= span[0]) & (t <= span[1]))
    before = np.flatnonzero(t < span[0])
    if before.size:
        inside = np.union1d(before[-1:], inside)
    return inside.astype(np.int64)


# --------------------------------------------------------------------------------------------
# The subset


def output_path(output: Path, href: str) -> Path:
    """``output`` itself if it names an .h5 file, else ``output/<basename>_subsetted.h5``."""
    if output.suffix.lower() in (".h5", ".hdf5"):
        return output
    return output / f"{basename(href)}_subsetted.h5"


def _check_request(request: SubsetRequest) -> None:
    if request.crs is not None:
        raise InvalidInputError("trajectory data cannot be reprojected: drop the output crs")
    if request.format not in (None, "hdf5", "h5"):
        raise InvalidInputError(
            f"trajectory subsets are written as HDF5, not {request.format}: drop the format"
        )
    if request.variables is not None:
        raise InvalidInputError(
            "variable subsetting is not offered for trajectory data: drop the variables"
        )


def _append_history(f: h5py.File, line: str) -> None:
    old = f.attrs.get("history", b"")
    old = old.decode() if isinstance(old, bytes) else str(old)
    text = f"{old}\n{line}" if old else line
    raw = text.encode()
    tid = h5py.h5t.C_S1.copy()
    tid.set_size(len(raw) + 1)
    tid.set_strpad(h5py.h5t.STR_NULLTERM)
    if "history" in f.attrs:
        del f.attrs["history"]
    space = h5py.h5s.create(h5py.h5s.SCALAR)
    h5py.h5a.create(f.id, b"history", tid, space).write(
        np.array(raw, dtype=f"S{len(raw) + 1}"), mtype=tid
    )


def subset_trajectory(
    href: str | os.PathLike[str], request: SubsetRequest, output: str | os.PathLike[str]
) -> SubsetResult:
    """Cut a trajectory granule to ``request``; write ``<basename>_subsetted.h5``."""
    _check_request(request)
    text = href_text(href)
    target = output_path(Path(output), text)
    with open_h5(href) as source:
        src = source.file
        beams = [k for k in src if BEAM.match(k) and isinstance(src[k], h5py.Group)]
        beams = [b for b in beams if f"{b}/{PHOTON_GROUP}/delta_time" in src]
        if not beams:
            raise InvalidInputError(f"{text} has no beam groups with {PHOTON_GROUP}/delta_time")
        axis = _time_axis(src[f"{beams[0]}/{PHOTON_GROUP}/delta_time"])
        area = _Area(request, axis)
        # Three rounds of reads, each fetched concurrently before h5py asks for it piece by
        # piece: the segment index of every beam, the candidate photon positions, then the
        # rows of every dataset to copy.
        source.prefetch(
            chunk_spans(src[path], None)
            for b in beams
            for path in (*segment_index_paths(src[b]), *_time_paths(src[b]))
        )
        found = {b: _candidates(src[b], area) for b in beams}
        source.prefetch(
            chunk_spans(src[f"{b}/{PHOTON_GROUP}/{name}"], found[b].rows)
            for b in beams
            for name in ("lat_ph", "lon_ph", "delta_time")
        )
        selections = {b: select_beam(src[b], area, found[b]) for b in beams}
        kept = sum(s.photons.size for s in selections.values())
        if kept == 0 and not any(s.segments.size for s in selections.values()):
            _raise_outside(src, request, text)
        plan_rows = _row_plan(src, selections)
        source.prefetch(chunk_spans(src[path], rows) for path, rows in plan_rows.items())

        def select(path: str, dset: h5py.Dataset) -> np.ndarray | None:
            return plan_rows.get(path)

        def replace(path: str) -> np.ndarray | None:
            parts = path.strip("/").split("/")
            if len(parts) == 3 and parts[1] == "geolocation" and parts[0] in selections:
                sel = selections[parts[0]]
                if parts[2] == "ph_index_beg":
                    return sel.ph_index_beg.astype(src[path].dtype)
                if parts[2] == "segment_ph_cnt":
                    return sel.segment_ph_cnt.astype(src[path].dtype)
            return None

        with atomic_path(target) as tmp, h5py.File(tmp, "w", libver=src.libver) as dst:
            plan = copy_tree(
                src,
                dst,
                select,
                replace=replace,
                untouched=lambda path: path.strip("/").split("/")[0] not in selections,
            )
            link_scales(dst, plan)
            _append_history(dst, _history_line(text, request))
        io = source.io()
    return replace_io(_result(target, text, selections, axis), io.requests, io.bytes_read)


def _time_paths(beam: h5py.Group) -> list[str]:
    """``delta_time`` of the beam's groups trimmed by time (``bckgrd_atlas``, …)."""
    return [
        f"{group.name}/delta_time"
        for name, group in beam.items()
        if isinstance(group, h5py.Group)
        and name != PHOTON_GROUP
        and name not in SEGMENT_GROUPS
        and isinstance(group.get("delta_time"), h5py.Dataset)
    ]


def _row_plan(src: h5py.File, selections: dict[str, BeamSelection]) -> dict[str, np.ndarray]:
    """Rows to keep of every dataset inside the beams, by path."""
    rows: dict[str, np.ndarray] = {}
    for beam, sel in selections.items():
        for group_name, group in src[beam].items():
            if not isinstance(group, h5py.Group):
                continue
            if group_name == PHOTON_GROUP:
                keep, length = sel.photons, sel.n_photons
            elif group_name in SEGMENT_GROUPS and sel.n_segments:
                keep, length = sel.segments, sel.n_segments
            elif "delta_time" in group and group["delta_time"].ndim == 1:
                keep = _time_rows(group["delta_time"], sel.time_range)
                length = group["delta_time"].shape[0]
            else:
                continue
            for name, dset in group.items():
                if isinstance(dset, h5py.Dataset) and dset.ndim >= 1 and dset.shape[0] == length:
                    rows[f"/{beam}/{group_name}/{name}"] = keep
    return rows


def _raise_outside(src: h5py.File, request: SubsetRequest, text: str) -> NoReturn:
    west, south = src.attrs.get("geospatial_lon_min"), src.attrs.get("geospatial_lat_min")
    east, north = src.attrs.get("geospatial_lon_max"), src.attrs.get("geospatial_lat_max")
    extent = (
        format_bounds((float(west), float(south), float(east), float(north)))
        if None not in (west, south, east, north)
        else "unknown"
    )
    start = src.attrs.get("time_coverage_start", b"")
    end = src.attrs.get("time_coverage_end", b"")
    span = "/".join(v.decode() if isinstance(v, bytes) else str(v) for v in (start, end))
    what = []
    if request.bbox is not None:
        what.append(f"bbox {format_bounds(request.bbox)}")
    if request.intersects is not None:
        what.append(f"polygon {format_bounds(request.intersects.bounds)}")
    if request.datetime is not None:
        what.append(f"datetime {request.datetime.to_text()}")
    raise InvalidInputError(
        f"the {' and '.join(what) or 'request'} does not intersect the data of {text.rsplit('/', 1)[-1]} "
        f"(extent {extent}, time {span})"
    )


def _history_line(href: str, request: SubsetRequest) -> str:
    from eoaccess import __version__

    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{stamp};eoaccess {__version__} trajectory subset of {href.rsplit('/', 1)[-1]}: {request.describe()}"


def _result(
    path: Path, href: str, selections: dict[str, BeamSelection], axis: TimeAxis
) -> SubsetResult:
    sels = [s for s in selections.values() if s.time_range is not None]
    bbox = None
    start = end = None
    if sels:
        bbox = (
            min(s.lon_range[0] for s in sels if s.lon_range),
            min(s.lat_range[0] for s in sels if s.lat_range),
            max(s.lon_range[1] for s in sels if s.lon_range),
            max(s.lat_range[1] for s in sels if s.lat_range),
        )
        start = axis.to_datetime(min(s.time_range[0] for s in sels if s.time_range))
        end = axis.to_datetime(max(s.time_range[1] for s in sels if s.time_range))
    return SubsetResult(
        path=path,
        bytes=path.stat().st_size,
        kind="trajectory",
        format="hdf5",
        counts={
            "photons": int(sum(s.photons.size for s in selections.values())),
            "segments": int(sum(s.segments.size for s in selections.values())),
            "beams": int(sum(1 for s in selections.values() if s.photons.size)),
            "photons_scanned": int(sum(s.scanned for s in selections.values())),
        },
        bbox=bbox,
        start=start,
        end=end,
        variables=(),
        source=href,
    )
