"""ICESat-2 ATL03 v006 granules (seed 001: NASA Harmony subsetting of ATL03 over Colorado).

Files are laid out as in the NSIDC cloud bucket::

    ATLAS/ATL03/006/YYYY/MM/DD/ATL03_YYYYMMDDhhmmss_ttttccss_006_rr.h5

(granule start, reference ground track, cycle, region, version, revision). Each granule holds
the real hierarchy: root attributes, ``METADATA``, ``ancillary_data``, ``orbit_info``,
``quality_assessment``, the ``ds_surf_type``/``ds_xyz`` dimension scales and the six beam
groups ``gt1l … gt3r`` with ``heights`` (photon rate), ``geolocation`` and ``geophys_corr``
(20 m segment rate) and ``bckgrd_atlas`` (200 Hz). ``xr.open_dataset(path,
group="gt1l/heights")`` gives ``delta_time`` as datetimes with ``lat_ph``/``lon_ph`` as
coordinates, exactly as in the tutorial.

The passes are those of an ideal repeat orbit calibrated on the tutorial's granule
(RGT 493, cycle 7, 2020-04-27); several cross the Colorado Front Range box of the tutorial
(-105.5, 40, -105, 41) within 2020-04-27 … 2020-05-28, others miss it in space or in time.
Smaller sizes cover a shorter latitude span of each pass and thin the photon rates.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from eoaccess._progress import Progress
from eoaccess.sample import _atl03_geo as geo
from eoaccess.sample import _atl03_schema as schema
from eoaccess.sample._atl03_beam import (
    BeamData,
    Density,
    Segments,
    make_conditions,
    make_segments,
    simulate_beam,
)
from eoaccess.sample._atl03_write import (
    iso_dataset_xml,
    set_attrs,
    write_scale,
    write_series,
    write_small,
)
from eoaccess.sample._common import ProductSummary, Size, rng_for, tree_size

PRODUCT = "atl03"
LIBVER = ("v110", "v110")
"""HDF5 format bounds: the 1.10 chunk indexes keep the ~900 small chunked datasets of a granule
~1.6 KB smaller each than the 1.8 B-trees (readable by HDF5 >= 1.10, netCDF-C >= 4.5)."""
SHORT_NAME = "ATL03"
VERSION = "006"
CONCEPT_ID = "C2596864127-NSIDC_CPRD"
"""CMR collection of ATL03 version 6 (used by the tutorial's Harmony request)."""

SEED_BBOX = (-105.5, 40.0, -105.0, 41.0)
"""The northern Colorado Front Range box of the tutorial (west, south, east, north)."""
SEED_TIME = (dt.datetime(2020, 4, 27, tzinfo=dt.UTC), dt.datetime(2020, 5, 28, tzinfo=dt.UTC))
"""The tutorial's temporal range."""

# Passes over Colorado of the ideal orbit, (rgt, cycle): 493/7 and 935/7 cross the box within
# the tutorial's dates (935 with its eastern beams only), 470/7 and 28/7 cross it outside
# them, 912/7 flies in the dates but east of the box, 493/8 repeats 493/7 three months later.
_CORE = ((493, 7), (470, 7), (935, 7), (912, 7), (28, 7), (493, 8))
_MORE = ((51, 7), (973, 7), (996, 7), (1354, 7), (493, 6), (470, 8))


@dataclass(frozen=True)
class _Plan:
    """What a sample size writes."""

    passes: tuple[tuple[int, int], ...]
    lat_range: tuple[float, float]
    """Latitudes (south, north) covered by every granule."""
    density: Density


_PLANS: dict[Size, _Plan] = {
    "tiny": _Plan(_CORE[:2], (39.9, 40.1), Density(signal=0.12, noise=0.008)),
    "small": _Plan(_CORE, (39.85, 41.15), Density(signal=0.04, noise=0.003)),
    "default": _Plan(_CORE + _MORE, (36.95, 41.05), Density(signal=0.15, noise=0.015)),
    "large": _Plan(_CORE, (27.0, 59.5), Density(signal=0.5, noise=0.05)),
}

_REGIONS = {True: (2, 27.0, 59.5), False: (6, 59.5, 27.0)}
"""Granule region of an ascending / descending pass over Colorado and its latitude bounds."""


@dataclass(frozen=True)
class Granule:
    """One ATL03 granule: a pass and the part of its region the sample covers."""

    orbit: geo.Pass
    ascending: bool
    region: int
    revision: int
    segments: Segments
    requested: tuple[float, float]
    """delta_time of the region boundaries (the granule's requested start and end)."""

    @property
    def start(self) -> dt.datetime:
        return geo.to_datetime(self.requested[0])

    @property
    def name(self) -> str:
        return (
            f"ATL03_{self.start:%Y%m%d%H%M%S}_{self.orbit.rgt:04d}{self.orbit.cycle:02d}"
            f"{self.region:02d}_{VERSION}_{self.revision:02d}.h5"
        )

    @property
    def path(self) -> Path:
        return Path(
            "ATLAS",
            SHORT_NAME,
            VERSION,
            f"{self.start:%Y}",
            f"{self.start:%m}",
            f"{self.start:%d}",
            self.name,
        )


def _crosses_colorado_ascending(p: geo.Pass) -> bool:
    """Whether the pass flies over Colorado northwards (else southwards)."""
    lons = []
    for ascending in (True, False):
        x = geo.along_track_at_latitude(40.5, ascending)
        lons.append(float(geo.ground_track(p, np.array([x])).lon[0]))
    return abs(lons[0] + 105.3) < abs(lons[1] + 105.3)


def plan_granules(size: Size) -> list[Granule]:
    """The granules of a sample size, in acquisition order."""
    plan = _PLANS[size]
    granules = []
    for rgt, cycle in plan.passes:
        p = geo.orbit_pass(rgt, cycle)
        ascending = _crosses_colorado_ascending(p)
        region, lat_first, lat_last = _REGIONS[ascending]
        south, north = plan.lat_range
        first, last = (south, north) if ascending else (north, south)
        segments = make_segments(
            geo.along_track_at_latitude(first, ascending),
            geo.along_track_at_latitude(last, ascending),
        )
        # The requested granule spans the whole region, its bounds rounded up to the second.
        bounds = [
            p.t_node + geo.along_track_at_latitude(lat, ascending) / geo.GROUND_SPEED
            for lat in (lat_first, lat_last)
        ]
        requested = (float(np.ceil(bounds[0])), float(np.ceil(bounds[1])))
        revision = 1 if (rgt + cycle) % 3 == 0 else 2
        granules.append(Granule(p, ascending, region, revision, segments, requested))
    return sorted(granules, key=lambda g: g.requested[0])


@dataclass(frozen=True)
class _Written:
    """What one granule file holds, for the summary."""

    photons: int
    segments: int
    start: float
    end: float
    bounds: tuple[float, float, float, float]
    crosses_seed_box: bool


def generate(root: Path, size: Size, seed: int, progress: Progress) -> ProductSummary:
    """Write the ATL03 granules of ``size`` under ``root`` (see the module docstring)."""
    plan = _PLANS[size]
    granules = plan_granules(size)
    written = []
    with progress.task(f"{PRODUCT}: granule beams", total=len(granules) * len(geo.BEAMS)) as task:
        for granule in granules:
            path = root / granule.path
            path.parent.mkdir(parents=True, exist_ok=True)
            written.append(_write_granule(path, granule, plan.density, seed, task.advance))
    files, nbytes = tree_size(root)
    first = geo.to_datetime(min(w.start for w in written))
    last = geo.to_datetime(max(w.end for w in written))
    crossing = sum(w.crosses_seed_box for w in written)
    west = min(w.bounds[0] for w in written)
    east = max(w.bounds[2] for w in written)
    notes = (
        f"{len(granules)} ATL03 v{VERSION} granules (HDF5), 6 beams each: "
        + ", ".join(f"RGT {g.orbit.rgt:04d} cycle {g.orbit.cycle:02d}" for g in granules),
        f"{sum(w.photons for w in written):,} photons, {sum(w.segments for w in written):,} "
        f"20 m segments per beam; latitudes {plan.lat_range[0]}..{plan.lat_range[1]}, "
        f"longitudes {west:.2f}..{east:.2f}",
        f"acquired {first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} UTC; geodetic lat/lon and "
        "heights above the WGS84 ellipsoid (ITRF2014, EPSG:7912)",
        f"{crossing} granules cross the seed-001 box {SEED_BBOX} in 2020-04-27..2020-05-28",
    )
    return ProductSummary(
        product=PRODUCT,
        root=root,
        files=files,
        bytes=nbytes,
        collections=(SHORT_NAME,),
        items=len(granules),
        notes=notes,
    )


def _write_granule(
    path: Path, granule: Granule, density: Density, seed: int, advance: Callable[[int], None]
) -> _Written:
    """Simulate the six beams of a granule and write its HDF5 file."""
    p = granule.orbit
    sc_orient, sc_orient_time = geo.orientation(granule.requested[0])
    beams = geo.beams(forward=sc_orient == 1)
    segments = granule.segments
    conditions = make_conditions(
        rng_for(seed, PRODUCT, p.rgt, p.cycle, "conditions"),
        segments.bounds[0],
        segments.bounds[-1],
    )
    data: dict[str, BeamData] = {}
    for beam in beams:
        rng = rng_for(seed, PRODUCT, p.rgt, p.cycle, beam.name)
        data[beam.name] = simulate_beam(p, beam, segments, conditions, density, rng)

    lat = np.concatenate(
        [d.heights["lat_ph"] for d in data.values()]
        + [d.geolocation["reference_photon_lat"] for d in data.values()]
    )
    lon = np.concatenate(
        [d.heights["lon_ph"] for d in data.values()]
        + [d.geolocation["reference_photon_lon"] for d in data.values()]
    )
    times = np.concatenate(
        [d.geolocation["delta_time"] for d in data.values()]
        + [d.heights["delta_time"] for d in data.values()]
    )
    start, end = float(times.min()), float(times.max())
    bounds = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    polygon = _bounding_polygon(data[beams[0].name], data[beams[-1].name])

    info = _GranuleInfo(granule, start, end, bounds, polygon, sc_orient, sc_orient_time)
    with h5py.File(path, "w", libver=LIBVER) as f:
        set_attrs(f, {**schema.ROOT_STATIC_ATTRS, **info.root_attrs()})
        _write_metadata(f, info)
        _write_ancillary(f, info)
        scales = {
            name: write_scale(f, name, var, n) for name, (n, var) in schema.DIMENSION_SCALES.items()
        }
        for beam in beams:
            _write_beam(f, beam, data[beam.name], sc_orient, scales)
            advance(1)
        _write_orbit_info(f, info)
        _write_quality(f, data)
    photons = sum(len(d.heights["delta_time"]) for d in data.values())
    return _Written(photons, segments.count, start, end, bounds, _crosses_seed_box(data))


def _crosses_seed_box(data: dict[str, BeamData]) -> bool:
    west, south, east, north = SEED_BBOX
    t0, t1 = (geo.to_delta_time(t) for t in SEED_TIME)
    for beam in data.values():
        h = beam.heights
        inside = (
            (h["lon_ph"] >= west)
            & (h["lon_ph"] <= east)
            & (h["lat_ph"] >= south)
            & (h["lat_ph"] <= north)
            & (h["delta_time"] >= t0)
            & (h["delta_time"] <= t1)
        )
        if inside.any():
            return True
    return False


def _bounding_polygon(left: BeamData, right: BeamData) -> tuple[np.ndarray, np.ndarray]:
    """Counter-clockwise closed ring around the six tracks: the right-most beam forward, then
    the left-most beam backward, a vertex every ~10 km, 100 m outside the photons."""
    n = left.geolocation["delta_time"].size
    keep = np.unique(np.r_[np.arange(0, n, 500), n - 1])
    sides = []
    for beam in (left, right):
        lat = beam.geolocation["reference_photon_lat"][keep]
        lon = beam.geolocation["reference_photon_lon"][keep]
        # Stretch the ends 100 m beyond the first and last segments along the track.
        for end, inner in ((0, 1), (-1, -2)):
            if len(keep) > 1:
                d_lat = lat[end] - lat[inner]
                d_lon = lon[end] - lon[inner]
                metres = np.hypot(d_lat, d_lon * np.cos(np.radians(lat[end]))) * 111_195.0
                lat[end] += d_lat * 100.0 / metres
                lon[end] += d_lon * 100.0 / metres
        sides.append((lat, lon))
    (lat_l, lon_l), (lat_r, lon_r) = sides
    # Segments are aligned across beams, so the same rows face each other; near-polar tracks
    # need only an east-west push.
    east = np.sign(lon_r - lon_l)
    pad = east * np.degrees(100.0 / (geo.EARTH_RADIUS * np.cos(np.radians(lat_l))))
    ring_lat = np.concatenate([lat_r, lat_l[::-1]])
    ring_lon = np.concatenate([lon_r + pad, (lon_l - pad)[::-1]])
    return np.r_[ring_lat, ring_lat[0]], np.r_[ring_lon, ring_lon[0]]


@dataclass(frozen=True)
class _GranuleInfo:
    """Granule-level values shared by the root attributes, METADATA and ancillary_data."""

    granule: Granule
    start: float
    end: float
    bounds: tuple[float, float, float, float]
    polygon: tuple[np.ndarray, np.ndarray]
    sc_orient: int
    sc_orient_time: float

    @property
    def created(self) -> str:
        # Reprocessing for release 006 ran in early 2023; spread granules over a few weeks.
        minutes = (self.granule.orbit.orbit_number * 7919) % (40 * 24 * 60)
        when = dt.datetime(2023, 2, 20, 3, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
        return f"{when:%Y-%m-%dT%H:%M:%S}.000000Z"

    @property
    def uuid(self) -> str:
        return str(
            uuid.uuid3(uuid.NAMESPACE_URL, f"https://n5eil01u.ecs.nsidc.org/{self.granule.name}")
        )

    @property
    def history(self) -> str:
        return f"{self.created};{self.uuid};Created by PGE atlas_l2a_alt Version 4.0.1"

    def root_attrs(self) -> dict[str, str | float]:
        west, south, east, north = self.bounds
        t0, t1 = self.granule.requested
        return {
            "date_created": self.created,
            "geospatial_lat_max": north,
            "geospatial_lat_min": south,
            "geospatial_lon_max": east,
            "geospatial_lon_min": west,
            "history": self.history,
            "identifier_file_uuid": self.uuid,
            "time_coverage_duration": t1 - t0,
            "time_coverage_end": geo.ccsds(t1),
            "time_coverage_start": geo.ccsds(t0),
        }


def _write_metadata(f: h5py.File, info: _GranuleInfo) -> None:
    """The ISO 19115 structured ``METADATA`` group (a representative subset of it)."""
    g = info.granule
    name = g.name
    west, south, east, north = info.bounds
    begin, end = geo.ccsds(info.start), geo.ccsds(info.end)
    day = g.start
    anc_stamp = f"{day:%Y%j}00000"
    atl02 = [
        f"ATL02_{geo.to_datetime(g.requested[0] + k * 600):%Y%m%d%H%M%S}_{g.orbit.rgt:04d}{g.orbit.cycle:02d}"
        f"{g.region:02d}_{VERSION}_01.h5"
        for k in range(2)
    ]
    meta = f.create_group("METADATA", track_order=False)
    set_attrs(
        meta,
        {
            "Description": "ISO19115 Structured Metadata Represented within HDF5",
            "iso_19139_dataset_xml": iso_dataset_xml(
                name, info.created, info.history, info.polygon, begin, end
            ),
        },
    )
    groups: dict[str, dict[str, schema.AttrValue | list[str] | list[int]]] = {
        "AcquisitionInformation/lidar": {
            "description": (
                "ATLAS on ICESat-2 determines the range between the satellite and the Earth's "
                "surface by measuring the two-way time delay of short pulses of laser light that "
                "it transmits in six beams."
            ),
            "identifier": "ATLAS",
            "pulse_rate": "10000 pps",
            "type": "Laser Altimeter",
            "wavelength": "532 nm",
        },
        "AcquisitionInformation/platform": {
            "description": "Ice, Cloud, and land Elevation Satellite-2",
            "identifier": "ICESat-2",
            "type": "Spacecraft",
        },
        "DataQuality": {"scope": "NOT_SET"},
        "DataQuality/CompletenessOmission": {
            "evaluationMethodType": "directInternal",
            "measureDescription": "TBD",
            "nameOfMeasure": "TBD",
            "unitofMeasure": "TBD",
            "value": "NOT_SET",
        },
        "DatasetIdentification": {
            "VersionID": VERSION,
            "abstract": schema.SERIES_ABSTRACT,
            "characterSet": "utf8",
            "creationDate": info.created,
            "credit": schema.CREDIT,
            "fileName": name,
            "language": "eng",
            "originatorOrganizationName": "GSFC I-SIPS > ICESat-2 Science Investigator-led Processing System",
            "purpose": schema.ROOT_STATIC_ATTRS["summary"],
            "shortName": SHORT_NAME,
            "spatialRepresentationType": "along-track",
            "status": "onGoing",
            "topicCategory": "geoscientificInformation",
            "uuid": info.uuid,
        },
        "Extent": {
            "eastBoundLongitude": east,
            "northBoundLatitude": north,
            "rangeBeginningDateTime": begin,
            "rangeEndingDateTime": end,
            "southBoundLatitude": south,
            "westBoundLongitude": west,
        },
        "Lineage/ANC04": {
            "description": "Ephemeris file created by the ICESat-2 POD/PPD facility",
            "fileName": f"ANC04_f_{anc_stamp}_006_rpy_v01.h5",
            "shortName": "ANC04",
            "uuid": str(uuid.uuid3(uuid.NAMESPACE_URL, f"ANC04/{anc_stamp}")),
            "version": "009",
        },
        "Lineage/ANC06-01": {
            "description": (
                "MERIT 3 arcsec Digital Elevation Model reformatted into HDF5 and re-referenced "
                "to the WGS-84 ellipsoid."
            ),
            "fileName": "merit_3as_20200617_001_01.h5",
            "shortName": "ANC06-01",
            "uuid": "3db8ab65-d2ac-37c7-86db-17c762268673",
            "version": "20200617",
        },
        "Lineage/ANC07": {
            "description": "EGM2008 geoid file, reformatted into HDF5.",
            "fileName": "egm2008_20140217_001_01.h5",
            "shortName": "ANC07",
            "uuid": "ed3b6888-0974-34bc-be2d-39e9c6fc1172",
            "version": "20140217",
        },
        "Lineage/ATL02": {
            "description": "ATLAS/ICESat-2 L1B Converted Telemetry Data",
            "end_cycle": [g.orbit.cycle] * 2,
            "end_orbit": [g.orbit.orbit_number] * 2,
            "end_region": [g.region] * 2,
            "end_rgt": [g.orbit.rgt] * 2,
            "fileName": atl02,
            "shortName": ["ATL02"] * 2,
            "start_cycle": [g.orbit.cycle] * 2,
            "start_orbit": [g.orbit.orbit_number] * 2,
            "start_region": [g.region] * 2,
            "start_rgt": [g.orbit.rgt] * 2,
            "uuid": [str(uuid.uuid3(uuid.NAMESPACE_URL, a)) for a in atl02],
            "version": [VERSION] * 2,
        },
        "Lineage/Control": {
            "description": (
                "Text-based keyword=value file generated automatically within the ICESat-2 data "
                "system that specifies all of the conditions required for each individual run "
                "of the software."
            ),
            "fileName": f"CTL_atlas_l2a_alt_{g.orbit.orbit_number:09d}.ctl",
            "shortName": "CNTL",
            "version": "1",
        },
        "ProcessStep/PGE": {
            "ATBDDate": "12/20/2019",
            "ATBDTitle": (
                "Algorithm Theoretical Basis Document (ATBD) for Global Geolocated Photons ATL03"
            ),
            "ATBDVersion": "v.2",
            "identifier": "atlas_l2a_alt",
            "processDescription": (
                "The atlas_l2a_alt PGE geolocates individual photon returns, performs signal "
                "classification and applies geophysical corrections to individual photon heights."
            ),
            "runTimeParameters": f"CTL_atlas_l2a_alt_{g.orbit.orbit_number:09d}.ctl",
            "softwareDate": "Mar  3 2023",
            "softwareTitle": "ASAS L2A ALT PGE",
            "softwareVersion": "Version 4.0.1",
            "stepDateTime": info.created,
        },
        "ProductSpecificationDocument": {
            "ShortName": "ATL03_SDP",
            "characterSet": "utf8",
            "edition": "v3.3",
            "language": "eng",
            "publicationDate": "Feb 2020",
            "title": (
                "ICESat-2-SIPS-SPEC-4258 - ATLAS Science Algorithm Standard Data Product (SDP) "
                "Volume 3 (ATL03)"
            ),
        },
        "QADatasetIdentification": {
            "abstract": (
                "An ASCII product that contains statistical information on data product results. "
                "These statistics enable data producers and users to assess the quality of the "
                "data in the data product granule"
            ),
            "creationDate": info.created,
            "fileName": name.replace(".h5", ".qa"),
        },
        "SeriesIdentification": {
            "VersionID": VERSION,
            "abstract": schema.SERIES_ABSTRACT,
            "characterSet": "utf8",
            "format": "HDF",
            "formatVersion": "5",
            "identifier_product_DOI": "doi:10.5067/ATLAS/ATL03.006",
            "language": "eng",
            "longName": "ATLAS/ICESat-2 L2A Global Geolocated Photon Data",
            "maintenanceAndUpdateFrequency": "asNeeded",
            "mission": "ICESat-2 > Ice, Cloud, and land Elevation Satellite-2",
            "pointOfContact": schema.ROOT_STATIC_ATTRS["publisher_name"],
            "shortName": SHORT_NAME,
            "status": "onGoing",
            "topicCategory": "geoscientificInformation",
        },
    }
    for group_path, attrs in groups.items():
        set_attrs(meta.require_group(group_path), attrs)


def _write_ancillary(f: h5py.File, info: _GranuleInfo) -> None:
    g = info.granule
    o = g.orbit
    week0, sow0 = geo.gps_week_sow(info.start)
    week1, sow1 = geo.gps_week_sow(info.end)
    values: dict[str, object] = {
        "atlas_sdp_gps_epoch": geo.ATLAS_SDP_GPS_EPOCH,
        "data_end_utc": geo.ccsds(info.end),
        "data_start_utc": geo.ccsds(info.start),
        "end_cycle": o.cycle,
        "end_delta_time": info.end,
        "end_geoseg": g.segments.first_id + g.segments.count - 1,
        "end_gpssow": sow1,
        "end_gpsweek": week1,
        "end_orbit": o.orbit_number,
        "end_region": g.region,
        "end_rgt": o.rgt,
        "granule_end_utc": geo.ccsds(g.requested[1]),
        "granule_start_utc": geo.ccsds(g.requested[0]),
        "release": VERSION,
        "start_cycle": o.cycle,
        "start_delta_time": info.start,
        "start_geoseg": g.segments.first_id,
        "start_gpssow": sow0,
        "start_gpsweek": week0,
        "start_orbit": o.orbit_number,
        "start_region": g.region,
        "start_rgt": o.rgt,
        "version": f"{g.revision:02d}",
    }
    group = f.create_group("ancillary_data")
    set_attrs(
        group,
        {
            "Description": (
                "Contains information ancillary to the data product. This may include product "
                "characteristics, instrument characteristics and/or processing constants."
            ),
            "data_rate": "Data within this group pertain to the granule in its entirety.",
        },
    )
    for name, var in schema.ANCILLARY.items():
        write_small(group, name, var, [values[name]])


def _write_orbit_info(f: h5py.File, info: _GranuleInfo) -> None:
    o = info.granule.orbit
    group = f.create_group("orbit_info")
    set_attrs(
        group,
        {
            "Description": "Contains orbit information.",
            "data_rate": "Varies. Data are only provided when one of the stored values (besides time) changes.",
        },
    )
    values: dict[str, object] = {
        "bounding_polygon_lat1": info.polygon[0],
        "bounding_polygon_lon1": info.polygon[1],
        "crossing_time": o.t_node,
        "cycle_number": o.cycle,
        "lan": o.lan,
        "orbit_number": o.orbit_number,
        "rgt": o.rgt,
        "sc_orient": info.sc_orient,
        "sc_orient_time": info.sc_orient_time,
    }
    for name, var in schema.ORBIT_INFO.items():
        write_small(group, name, var, values[name])


def _write_beam(
    f: h5py.File, beam: geo.Beam, data: BeamData, sc_orient: int, scales: dict[str, h5py.Dataset]
) -> None:
    group = f.create_group(beam.name)
    set_attrs(
        group,
        {
            "Description": schema.BEAM_DESCRIPTION,
            "atlas_beam_type": "strong" if beam.strong else "weak",
            "atlas_pce": f"pce{beam.pce}",
            "atlas_spot_number": str(beam.spot),
            "atmosphere_profile": f"profile_{beam.name[2]}",
            "groundtrack_id": beam.name,
            "sc_orientation": "Forward" if sc_orient == 1 else "Backward",
        },
    )
    tables = {
        "bckgrd_atlas": (schema.BCKGRD_ATLAS, data.bckgrd_atlas),
        "geolocation": (schema.GEOLOCATION, data.geolocation),
        "geophys_corr": (schema.GEOPHYS_CORR, data.geophys_corr),
        "heights": (schema.HEIGHTS, data.heights),
    }
    for sub, (variables, columns) in tables.items():
        if set(variables) != set(columns):  # the simulation and the schema must agree
            raise AssertionError(f"{sub}: {sorted(set(variables) ^ set(columns))}")
        sg = group.create_group(sub)
        set_attrs(sg, schema.GROUP_ATTRS[sub])
        time = write_series(
            sg,
            "delta_time",
            variables["delta_time"],
            columns["delta_time"],
            scale=None,
            root_scales=scales,
        )
        for name, var in variables.items():
            if name != "delta_time":
                write_series(
                    sg,
                    name,
                    var,
                    columns[name],
                    scale=time,
                    root_scales=scales,
                    open_trailing=sub == "heights",
                )


def _write_quality(f: h5py.File, data: dict[str, BeamData]) -> None:
    """Granule QA flags and, per beam, the share of photons of each signal confidence."""
    group = f.create_group("quality_assessment")
    for name, var in schema.QUALITY_GRANULE.items():
        write_small(group, name, var, [0])
    for beam_name in geo.BEAMS:
        beam = data[beam_name]
        conf = beam.heights["signal_conf_ph"]
        total = max(len(conf), 1)
        surf = beam.geolocation["surf_type"]
        bg = group.create_group(beam_name)
        for level, value in (("high", 4), ("med", 3), ("low", 2)):
            counts = (conf == value).sum(axis=0)[None, :]
            write_small(
                bg,
                f"qa_perc_signal_conf_ph_{level}",
                schema.QUALITY_BEAM[f"qa_perc_signal_conf_ph_{level}"],
                100.0 * counts / total,
            )
            write_small(
                bg,
                f"qa_total_signal_conf_ph_{level}",
                schema.QUALITY_BEAM[f"qa_total_signal_conf_ph_{level}"],
                counts,
            )
        share = 100.0 * np.asarray(surf, dtype=np.float64).sum(axis=0)[None, :] / max(len(surf), 1)
        write_small(bg, "qa_perc_surf_type", schema.QUALITY_BEAM["qa_perc_surf_type"], share)
