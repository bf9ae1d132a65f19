"""The ATL03 sample granules: layout, HDF5 structure and content as in the real NSIDC product.

Reference structure: the real v006 granule ``ATL03_20181014002445_02350104_006_02.h5`` (group
``gt1l`` as shipped in nasa/harmony-trajectory-subsetter's test data) and the ATL03 user
guide; the tutorial of seed 001 opens ``gt1l/heights`` with xarray and subsets the box
(-105.5, 40, -105, 41) over 2020-04-27 .. 2020-05-28.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr

from eoaccess.sample import SampleSummary, generate_sample
from eoaccess.sample import _atl03_geo as geo
from eoaccess.sample.atl03 import plan_granules

BEAMS = ("gt1l", "gt1r", "gt2l", "gt2r", "gt3l", "gt3r")
SEED_GRANULE = "ATL03_20200427193622_04930702_006_02.h5"
"""The granule the tutorial of seed 001 downloads (subsetted) from Harmony."""
OTHER_GRANULE = "ATL03_20200426074754_04700706_006_01.h5"
SDP_EPOCH = np.datetime64("2018-01-01T00:00:00", "ns")

# Variables of the real granule, "name:dtype[xcolumns][!]" ("!" = has a _FillValue).
REAL_VARIABLES = {
    "heights": "delta_time:f8 dist_ph_across:f4 dist_ph_along:f4 h_ph:f4 lat_ph:f8 lon_ph:f8 "
    "pce_mframe_cnt:u4 ph_id_channel:u1 ph_id_count:u1 ph_id_pulse:u1 quality_ph:i1 "
    "signal_conf_ph:i1x5 weight_ph:u1",
    "geolocation": "altitude_sc:f8! bounce_time_offset:f4! delta_time:f8 full_sat_fract:f4! "
    "knn:i4 near_sat_fract:f4! neutat_delay_derivative:f4! neutat_delay_total:f4! "
    "neutat_ht:f4! ph_index_beg:i8! pitch:f4! podppd_flag:i1 range_bias_corr:f4! "
    "ref_azimuth:f4! ref_elev:f4! reference_photon_index:i4! reference_photon_lat:f8 "
    "reference_photon_lon:f8 roll:f4! segment_dist_x:f8 segment_id:i4 segment_length:f8 "
    "segment_ph_cnt:i4! sigma_across:f4! sigma_along:f4! sigma_h:f4! sigma_lat:f4! "
    "sigma_lon:f4! solar_azimuth:f4! solar_elevation:f4! surf_type:i1x5 tx_pulse_energy:f4! "
    "tx_pulse_skew_est:f4! tx_pulse_width_lower:f4! tx_pulse_width_upper:f4! "
    "velocity_sc:f4x3! yaw:f4!",
    "geophys_corr": "dac:f4! delta_time:f8 dem_flag:i1! dem_h:f4! geoid:f4! geoid_free2mean:f4! "
    "tide_earth:f4! tide_earth_free2mean:f4! tide_equilibrium:f4! tide_load:f4! "
    "tide_oc_pole:f4! tide_ocean:f4! tide_pole:f4!",
    "bckgrd_atlas": "bckgrd_counts:i4 bckgrd_counts_reduced:i4 bckgrd_hist_top:f4 "
    "bckgrd_int_height:f4 bckgrd_int_height_reduced:f4 bckgrd_rate:f4 delta_time:f8 "
    "pce_mframe_cnt:i8 tlm_height_band1:f4 tlm_height_band2:f4 tlm_top_band1:f4 "
    "tlm_top_band2:f4",
}

REAL_ROOT_ATTRIBUTES = {
    "Conventions", "citation", "contributor_name", "contributor_role", "creator_name",
    "date_created", "date_type", "description", "featureType", "geospatial_lat_max",
    "geospatial_lat_min", "geospatial_lat_units", "geospatial_lon_max", "geospatial_lon_min",
    "geospatial_lon_units", "granule_type", "hdfversion", "history", "identifier_file_uuid",
    "identifier_product_doi", "identifier_product_doi_authority",
    "identifier_product_format_version", "identifier_product_type", "institution",
    "instrument", "keywords", "keywords_vocabulary", "level", "license", "naming_authority",
    "platform", "processing_level", "project", "publisher_email", "publisher_name",
    "publisher_url", "references", "short_name", "source", "spatial_coverage_type",
    "standard_name_vocabulary", "summary", "time_coverage_duration", "time_coverage_end",
    "time_coverage_start", "time_type", "title",
}  # fmt: skip

NAME = re.compile(
    r"ATLAS/ATL03/006/(\d{4})/(\d{2})/(\d{2})/"
    r"ATL03_(\d{4})(\d{2})(\d{2})(\d{6})_(\d{4})(\d{2})(\d{2})_006_(\d{2})\.h5"
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    """The tiny ATL03 sample (seed 0)."""
    return generate_sample(tmp_path_factory.mktemp("atl03"), "tiny", products=["atl03"])


@pytest.fixture(scope="module")
def product(tiny: SampleSummary) -> Path:
    return tiny.root / "atl03"


@pytest.fixture(scope="module")
def granules(product: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(product.rglob("*.h5"))}


@pytest.fixture(scope="module")
def seed_file(granules: dict[str, Path]) -> Iterator[h5py.File]:
    with h5py.File(granules[SEED_GRANULE], "r") as f:
        yield f


def text(value: object) -> str:
    assert isinstance(value, bytes), f"expected a fixed-length byte string, got {value!r}"
    return value.decode()


def all_files(granules: dict[str, Path]) -> Iterator[tuple[str, h5py.File]]:
    for name, path in granules.items():
        with h5py.File(path, "r") as f:
            yield name, f


# --- layout ------------------------------------------------------------------------------------


def test_layout_is_the_nsidc_bucket_layout(product: Path, granules: dict[str, Path]) -> None:
    files = sorted(p.relative_to(product).as_posix() for p in product.rglob("*") if p.is_file())
    assert files == [
        f"ATLAS/ATL03/006/2020/04/26/{OTHER_GRANULE}",
        f"ATLAS/ATL03/006/2020/04/27/{SEED_GRANULE}",
    ]
    for rel in files:
        m = NAME.fullmatch(rel)
        assert m is not None, rel
        year, month, day = m.group(1, 2, 3)
        assert (year, month, day) == m.group(4, 5, 6)
        path = product / rel
        with h5py.File(path, "r") as f:
            rgt, cycle, region, revision = (int(v) for v in m.group(8, 9, 10, 11))
            assert f["orbit_info/rgt"][0] == rgt
            assert f["orbit_info/cycle_number"][0] == cycle
            assert f["ancillary_data/start_rgt"][0] == rgt
            assert f["ancillary_data/start_region"][0] == region
            assert text(f["ancillary_data/version"][0]) == f"{revision:02d}"
            assert text(f["ancillary_data/release"][0]) == "006"
            start = text(f["ancillary_data/granule_start_utc"][0])
            stamp = f"{year}-{month}-{day}T{m.group(7)[:2]}:{m.group(7)[2:4]}:{m.group(7)[4:]}"
            assert start == f"{stamp}.000000Z"
            assert text(f.attrs["time_coverage_start"]) == start
            # Region 02 is flown northwards (27°N -> 59.5°N), region 06 southwards.
            lat = f["gt2r/geolocation/reference_photon_lat"][:]
            assert (lat[-1] > lat[0]) == (region == 2)
            assert region in (2, 6)


def test_summary_reports_what_was_written(tiny: SampleSummary, product: Path) -> None:
    (atl03,) = tiny.products
    files = [p for p in product.rglob("*") if p.is_file()]
    assert atl03.product == "atl03"
    assert atl03.root == product
    assert atl03.files == len(files) == 2
    assert atl03.items == 2
    assert atl03.bytes == sum(p.stat().st_size for p in files)
    assert atl03.bytes <= 5_000_000  # the tiny budget of one product
    assert atl03.collections == ("ATL03",)
    assert any("1 granules cross the seed-001 box" in note for note in atl03.notes)
    assert any("RGT 0493 cycle 07" in note for note in atl03.notes)


# --- root, metadata, ancillary data ------------------------------------------------------------


def test_root_attributes_match_the_real_product(granules: dict[str, Path]) -> None:
    for name, f in all_files(granules):
        attrs = f.attrs
        assert set(attrs) == REAL_ROOT_ATTRIBUTES
        assert text(attrs["short_name"]) == "ATL03"
        assert text(attrs["level"]) == "L2"
        assert text(attrs["Conventions"]) == "CF-1.6"
        assert text(attrs["featureType"]) == "trajectory"
        assert text(attrs["identifier_product_doi"]) == "doi:10.5067/ATLAS/ATL03.006"
        # Text attributes are fixed-length, NUL-terminated strings as written by the C library.
        tid = f.id and h5py.h5a.open(f.id, b"short_name").get_type()
        assert tid.get_class() == h5py.h5t.STRING and not tid.is_variable_str()
        assert tid.get_strpad() == h5py.h5t.STR_NULLTERM and tid.get_size() == 6
        # The geographic extent is that of the photons and segments of all six beams.
        lats = np.concatenate([f[f"{b}/heights/lat_ph"][:] for b in BEAMS])
        lons = np.concatenate([f[f"{b}/heights/lon_ph"][:] for b in BEAMS])
        assert (
            attrs["geospatial_lat_min"] <= lats.min() and attrs["geospatial_lat_max"] >= lats.max()
        )
        assert (
            attrs["geospatial_lon_min"] <= lons.min() and attrs["geospatial_lon_max"] >= lons.max()
        )
        assert attrs["geospatial_lat_max"] - attrs["geospatial_lat_min"] == pytest.approx(
            0.2, abs=0.01
        )
        uuid = text(attrs["identifier_file_uuid"])
        assert text(attrs["history"]) == (
            f"{text(attrs['date_created'])};{uuid};Created by PGE atlas_l2a_alt Version 4.0.1"
        )
        start = dt.datetime.fromisoformat(text(attrs["time_coverage_start"]))
        end = dt.datetime.fromisoformat(text(attrs["time_coverage_end"]))
        assert (end - start).total_seconds() == attrs["time_coverage_duration"]
        # Region 02/06 span 27°N..59.5°N: a bit more than 8.5 minutes of flight.
        assert 500 < attrs["time_coverage_duration"] < 530, name


def test_metadata_group(granules: dict[str, Path]) -> None:
    for name, f in all_files(granules):
        meta = f["METADATA"]
        assert {"AcquisitionInformation", "DataQuality", "DatasetIdentification", "Extent",
                "Lineage", "ProcessStep", "ProductSpecificationDocument",
                "QADatasetIdentification", "SeriesIdentification"} <= set(meta)  # fmt: skip
        ident = meta["DatasetIdentification"].attrs
        assert text(ident["fileName"]) == name
        assert text(ident["shortName"]) == "ATL03"
        assert text(ident["VersionID"]) == "006"
        assert text(ident["uuid"]) == text(f.attrs["identifier_file_uuid"])
        extent = meta["Extent"].attrs
        assert extent["northBoundLatitude"] == f.attrs["geospatial_lat_max"]
        assert extent["westBoundLongitude"] == f.attrs["geospatial_lon_min"]
        begin = text(extent["rangeBeginningDateTime"])
        assert begin == text(f["ancillary_data/data_start_utc"][0])
        xml = ET.fromstring(text(meta.attrs["iso_19139_dataset_xml"]))
        ns = {"gmd": "http://www.isotc211.org/2005/gmd", "gml": "http://www.opengis.net/gml/3.2",
              "gmx": "http://www.isotc211.org/2005/gmx"}  # fmt: skip
        assert xml.find(".//gmd:fileIdentifier/gmx:FileName", ns).text == name  # type: ignore[union-attr]
        assert xml.find(".//gml:beginPosition", ns).text == begin  # type: ignore[union-attr]
        pos = np.array(xml.find(".//gml:posList", ns).text.split(), float).reshape(-1, 2)  # type: ignore[union-attr]
        np.testing.assert_allclose(pos[:, 0], f["orbit_info/bounding_polygon_lat1"][:], atol=1e-5)
        np.testing.assert_allclose(pos[:, 1], f["orbit_info/bounding_polygon_lon1"][:], atol=1e-5)
        atl02 = [text(v) for v in meta["Lineage/ATL02"].attrs["fileName"]]
        assert all(v.startswith("ATL02_") and name[20:29] in v for v in atl02)


def test_ancillary_data_and_orbit_info(seed_file: h5py.File) -> None:
    anc = seed_file["ancillary_data"]
    assert anc["atlas_sdp_gps_epoch"].shape == (1,)
    assert anc["atlas_sdp_gps_epoch"][0] == 1198800018.0
    assert (
        text(anc["atlas_sdp_gps_epoch"].attrs["units"])
        == "seconds since 1980-01-06T00:00:00.000000Z"
    )
    first = min(seed_file[f"{b}/heights/delta_time"][0] for b in BEAMS)
    first = min(first, min(seed_file[f"{b}/geolocation/delta_time"][0] for b in BEAMS))
    assert anc["start_delta_time"][0] == first
    start = SDP_EPOCH + np.timedelta64(round(first * 1e6), "us")
    assert text(anc["data_start_utc"][0]) == np.datetime_as_string(start, unit="us") + "Z"
    assert text(anc["granule_start_utc"][0]) == "2020-04-27T19:36:22.000000Z"
    gps = anc["atlas_sdp_gps_epoch"][0] + first
    assert anc["start_gpsweek"][0] == gps // 604800 == 2103
    assert anc["start_gpssow"][0] == pytest.approx(gps % 604800)
    assert (anc["start_rgt"][0], anc["start_cycle"][0], anc["start_region"][0]) == (493, 7, 2)
    assert anc["start_geoseg"][0] == seed_file["gt1l/geolocation/segment_id"][0]
    assert anc["end_geoseg"][0] == seed_file["gt1l/geolocation/segment_id"][-1]
    orbit = seed_file["orbit_info"]
    assert orbit["rgt"].dtype == np.int16 and orbit["rgt"][0] == 493
    assert orbit["cycle_number"].dtype == np.int8 and orbit["cycle_number"][0] == 7
    assert orbit["orbit_number"].dtype == np.uint16
    assert orbit["orbit_number"][0] == (7 - 1) * 1387 + 493 + 201
    assert orbit["sc_orient"][0] == 1  # forward
    assert list(orbit["sc_orient"].attrs["flag_values"]) == [0, 1, 2]
    # The ascending node precedes the granule by the flight time from the equator to 27°N.
    granule_start = np.datetime64(text(anc["granule_start_utc"][0])[:-1], "ns")
    node = SDP_EPOCH + np.timedelta64(round(orbit["crossing_time"][0] * 1e9), "ns")
    assert (granule_start - node) / np.timedelta64(1, "s") == pytest.approx(425.4, abs=1.0)


def test_bounding_polygon_encloses_the_six_tracks(granules: dict[str, Path]) -> None:
    for name, f in all_files(granules):
        lat = f["orbit_info/bounding_polygon_lat1"][:]
        lon = f["orbit_info/bounding_polygon_lon1"][:]
        assert (lat[0], lon[0]) == (lat[-1], lon[-1])
        area2 = np.sum(lon[:-1] * lat[1:] - lon[1:] * lat[:-1])
        assert area2 > 0, f"{name}: the ring must be counter-clockwise"
        # Every photon lies inside: test with a ray-casting point-in-polygon.
        for beam in ("gt1l", "gt3r"):
            py = f[f"{beam}/heights/lat_ph"][::7]
            px = f[f"{beam}/heights/lon_ph"][::7]
            inside = np.zeros(len(px), bool)
            for x0, y0, x1, y1 in zip(lon[:-1], lat[:-1], lon[1:], lat[1:], strict=True):
                crosses = (y0 > py) != (y1 > py)
                with np.errstate(divide="ignore", invalid="ignore"):
                    x_cross = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
                inside ^= crosses & (px < x_cross)
            assert inside.all(), (name, beam)


# --- beam groups ---------------------------------------------------------------------------------


def test_hierarchy_variables_and_dtypes_match_the_real_product(granules: dict[str, Path]) -> None:
    for _, f in all_files(granules):
        assert set(f) == {"METADATA", "ancillary_data", "ds_surf_type", "ds_xyz", *BEAMS,
                          "orbit_info", "quality_assessment"}  # fmt: skip
        assert list(f["ds_surf_type"][:]) == [1, 2, 3, 4, 5] and list(f["ds_xyz"][:]) == [1, 2, 3]
        for beam in BEAMS:
            assert set(f[beam]) == set(REAL_VARIABLES)
            for group, spec in REAL_VARIABLES.items():
                variables = f[f"{beam}/{group}"]
                expected = {item.split(":")[0]: item.split(":")[1] for item in spec.split()}
                assert set(variables) == set(expected), (beam, group)
                n = variables["delta_time"].shape[0]
                for name, code in expected.items():
                    dset = variables[name]
                    dtype, _, columns = code.rstrip("!").partition("x")
                    assert dset.dtype == np.dtype(dtype), (beam, group, name)
                    assert dset.shape == ((n, int(columns)) if columns else (n,)), name
                    assert ("_FillValue" in dset.attrs) == code.endswith("!"), name


def test_storage_is_chunked_and_compressed_like_the_real_product(seed_file: h5py.File) -> None:
    for group in REAL_VARIABLES:
        for name, dset in seed_file[f"gt2r/{group}"].items():
            assert dset.chunks == (10000, *dset.shape[1:]), name
            assert dset.compression == "gzip" and dset.compression_opts == 6, name
            assert dset.shuffle == (dset.dtype.kind in "iu"), name
            assert dset.maxshape[0] is None, name
            if "_FillValue" in dset.attrs:
                assert dset.attrs["_FillValue"].dtype == dset.dtype
                assert dset.fillvalue == dset.attrs["_FillValue"]
    assert seed_file["gt2r/heights/signal_conf_ph"].maxshape == (None, None)
    assert seed_file["gt2r/geolocation/surf_type"].maxshape == (None, 5)
    assert seed_file["gt2r/geolocation/altitude_sc"].fillvalue == np.finfo(np.float64).max
    assert seed_file["gt2r/geophys_corr/dem_h"].fillvalue == np.finfo(np.float32).max
    assert seed_file["gt2r/geophys_corr/dem_flag"].fillvalue == 127


def test_variable_attributes_are_the_real_ones(seed_file: h5py.File) -> None:
    heights = seed_file["gt1l/heights"]
    h = heights["h_ph"].attrs
    assert text(h["units"]) == "meters"
    assert text(h["long_name"]) == "Photon WGS84 Height"
    assert text(h["contentType"]) == "physicalMeasurement"
    assert text(h["coordinates"]) == "delta_time lat_ph lon_ph"
    assert text(h["standard_name"]) == "height"
    t = heights["delta_time"].attrs
    assert text(t["units"]) == "seconds since 2018-01-01"
    assert text(t["standard_name"]) == "time"
    assert text(t["CLASS"]) == "DIMENSION_SCALE" and text(t["NAME"]) == "delta_time"
    assert text(t["coordinates"]) == "lat_ph lon_ph"
    assert text(heights["lat_ph"].attrs["coordinates"]) == "delta_time lon_ph"
    assert heights["lat_ph"].attrs["valid_max"] == 90.0
    conf = heights["signal_conf_ph"].attrs
    assert conf["flag_values"].dtype == np.int8
    assert list(conf["flag_values"]) == [-2, -1, 0, 1, 2, 3, 4]
    assert text(conf["flag_meanings"]) == "possible_tep not_considered noise buffer low medium high"
    assert list(heights["quality_ph"].attrs["flag_values"]) == [0, 1, 2, 3]
    geoloc = seed_file["gt1l/geolocation"]
    # The real product has a comma in this one; readers must cope.
    assert (
        text(geoloc["delta_time"].attrs["coordinates"])
        == "reference_photon_lat, reference_photon_lon"
    )
    assert text(geoloc["ph_index_beg"].attrs["description"]).startswith("Index (1-based)")
    assert geoloc["ph_index_beg"].attrs["_FillValue"] == 0
    assert text(geoloc["velocity_sc"].attrs["units"]) == "meters/second"
    assert text(seed_file["gt1l/geophys_corr/geoid"].attrs["long_name"]) == "Geoid"
    # Every array is attached to its group's delta_time scale (and the root scales).
    for name, dset in heights.items():
        if name != "delta_time":
            assert dset.dims[0][0] == heights["delta_time"], name
    assert heights["signal_conf_ph"].dims[1][0] == seed_file["ds_surf_type"]
    assert geoloc["velocity_sc"].dims[1][0] == seed_file["ds_xyz"]


def test_beam_attributes_follow_the_spacecraft_orientation(granules: dict[str, Path]) -> None:
    for _, f in all_files(granules):
        forward = f["orbit_info/sc_orient"][0] == 1
        for i, beam in enumerate(BEAMS):
            attrs = f[beam].attrs
            spot = 6 - i if forward else i + 1
            assert text(attrs["groundtrack_id"]) == beam
            assert text(attrs["atlas_spot_number"]) == str(spot)
            assert text(attrs["atlas_beam_type"]) == ("strong" if spot % 2 else "weak")
            assert text(attrs["atlas_pce"]) == f"pce{(spot + 1) // 2}"
            assert text(attrs["sc_orientation"]) == ("Forward" if forward else "Backward")
            # Each PCE card has 16 strong and 4 weak detector channels, falling and rising edge.
            channel = f[f"{beam}/heights/ph_id_channel"][:].astype(int)
            falling = np.where(channel > 60, channel - 60, channel) - 20 * ((spot - 1) // 2)
            assert falling.min() >= (1 if spot % 2 else 17) and falling.max() <= (
                16 if spot % 2 else 20
            )
    with h5py.File(granules[SEED_GRANULE], "r") as f:
        assert text(f["gt1l"].attrs["atlas_beam_type"]) == "weak"  # ICESat-2 flew forward


# --- photons and segments ------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["h5netcdf", "netcdf4"])
def test_xarray_opens_the_heights_group_as_in_the_tutorial(
    granules: dict[str, Path], engine: str
) -> None:
    if engine == "netcdf4" and importlib.util.find_spec("netCDF4") is None:
        pytest.skip("netCDF4 is not installed")
    path = granules[SEED_GRANULE]
    with xr.open_dataset(path, group="gt1l/heights", engine=engine) as ds:
        assert ds["delta_time"].dtype == np.dtype("datetime64[ns]")
        assert set(ds.coords) == {"delta_time", "lat_ph", "lon_ph"}
        assert ds["lat_ph"].dims == ("delta_time",)
        assert set(ds.data_vars) == {
            "dist_ph_across", "dist_ph_along", "h_ph", "pce_mframe_cnt", "ph_id_channel",
            "ph_id_count", "ph_id_pulse", "quality_ph", "signal_conf_ph", "weight_ph",
        }  # fmt: skip
        assert ds["signal_conf_ph"].dims == ("delta_time", "ds_surf_type")
        assert ds.sizes["ds_surf_type"] == 5
        assert ds["pce_mframe_cnt"].dtype == np.uint32
        assert (
            ds.attrs["Description"] == "Contains arrays of the parameters for each received photon."
        )
        with h5py.File(path, "r") as f:
            raw = f["gt1l/heights/delta_time"][:]
        expected = SDP_EPOCH + np.round(raw * 1e9).astype("timedelta64[ns]")
        assert np.all(np.abs(ds["delta_time"].values - expected) <= np.timedelta64(1, "us"))
        # The tutorial's subset of this granule starts at 40°N with 2020-04-27T19:39:45.8497.
        north = ds["delta_time"].values[ds["lat_ph"].values >= 40.0]
        first = north[0] - np.datetime64("2020-04-27T19:39:45.849700")
        assert np.timedelta64(0) <= first < np.timedelta64(50, "ms")
    with xr.open_dataset(path, group="gt1r/geophys_corr", engine=engine) as corr:
        assert corr["dem_h"].dtype == np.float32
        assert bool(corr["tide_ocean"].isnull().all())  # ocean tides are invalid over land


def test_segments_index_the_photons(granules: dict[str, Path]) -> None:
    for name, f in all_files(granules):
        for beam in BEAMS:
            heights, geoloc = f[f"{beam}/heights"], f[f"{beam}/geolocation"]
            t = heights["delta_time"][:]
            along = heights["dist_ph_along"][:]
            lat, lon = heights["lat_ph"][:], heights["lon_ph"][:]
            beg = geoloc["ph_index_beg"][:]
            cnt = geoloc["segment_ph_cnt"][:]
            ref = geoloc["reference_photon_index"][:]
            seg_t = geoloc["delta_time"][:]
            assert cnt.sum() == len(t) > 0, (name, beam)
            assert np.all(np.diff(t) >= 0), "photons are sorted by transmit time"
            assert np.all(np.diff(seg_t) > 0)
            assert np.array_equal(np.diff(geoloc["segment_id"][:]), np.ones(len(cnt) - 1))
            full = cnt > 0
            assert np.array_equal(beg[full], (np.cumsum(cnt) - cnt + 1)[full])
            assert not beg[~full].any() and not ref[~full].any()
            assert np.all((ref[full] >= 1) & (ref[full] <= cnt[full]))
            row = beg[full] + ref[full] - 2  # 0-based row of the reference photon
            assert np.array_equal(geoloc["reference_photon_lat"][:][full], lat[row])
            assert np.array_equal(geoloc["reference_photon_lon"][:][full], lon[row])
            assert np.array_equal(seg_t[full], t[row])
            np.testing.assert_array_equal(f[f"{beam}/geophys_corr/delta_time"][:], seg_t)
            # Photons of segment k lie inside it: 0 <= dist_ph_along < segment_length.
            owner = np.repeat(np.arange(len(cnt)), cnt)
            length = geoloc["segment_length"][:]
            assert np.all(along >= 0) and np.all(along < length[owner] + 1e-3)
            dist_x = geoloc["segment_dist_x"][:]
            np.testing.assert_allclose(np.diff(dist_x), length[:-1], atol=1e-6)
            # Photons of one shot share the transmit time and pulse number.
            pulse = heights["ph_id_pulse"][:]
            same_shot = np.diff(t) == 0
            assert np.all(np.diff(pulse.astype(int))[same_shot] == 0)
            assert pulse.min() >= 1 and pulse.max() <= 200


def test_tracks_have_icesat2_geometry(seed_file: h5py.File) -> None:
    f = seed_file
    dist = {b: np.median(f[f"{b}/heights/dist_ph_across"][:]) for b in BEAMS}
    for pair in ("gt1", "gt2", "gt3"):
        assert dist[f"{pair}l"] - dist[f"{pair}r"] == pytest.approx(90.0, abs=10.0)
    assert dist["gt1l"] - dist["gt2l"] == pytest.approx(3300.0, abs=30.0)
    assert dist["gt2r"] - dist["gt3r"] == pytest.approx(3300.0, abs=30.0)
    counts = {b: f[f"{b}/heights/delta_time"].shape[0] for b in BEAMS}
    for pair in ("gt1", "gt2", "gt3"):
        assert 2.5 < counts[f"{pair}r"] / counts[f"{pair}l"] < 6.0  # strong right beams
    geoloc = f["gt2r/geolocation"]
    seg_t, dist_x = geoloc["delta_time"][:], geoloc["segment_dist_x"][:]
    speed = (dist_x[-1] - dist_x[0]) / (seg_t[-1] - seg_t[0])
    assert speed == pytest.approx(7060.0, rel=0.01)  # ~7 km/s along track
    velocity = geoloc["velocity_sc"][:]
    assert np.hypot(velocity[:, 0], velocity[:, 1]) == pytest.approx(7090.0, rel=0.01)
    # Inclination 92°: ascending tracks head slightly west of north at 40°N.
    heading = np.degrees(np.arctan2(velocity[:, 0], velocity[:, 1]))
    assert np.all((heading > -7.0) & (heading < -4.0))
    lat = geoloc["reference_photon_lat"][:]
    lon = geoloc["reference_photon_lon"][:]
    km_north = (lat[-1] - lat[0]) * 111.2
    km_east = (lon[-1] - lon[0]) * 111.2 * np.cos(np.radians(40.0))
    assert np.degrees(np.arctan2(km_east, km_north)) == pytest.approx(-5.5, abs=1.0)


def test_photon_heights_follow_the_terrain(granules: dict[str, Path]) -> None:
    for _, f in all_files(granules):
        for beam in BEAMS:
            heights, geoloc = f[f"{beam}/heights"], f[f"{beam}/geolocation"]
            h = heights["h_ph"][:]
            conf = heights["signal_conf_ph"][:]
            quality = heights["quality_ph"][:]
            owner = np.repeat(
                np.arange(geoloc["segment_ph_cnt"].shape[0]), geoloc["segment_ph_cnt"][:]
            )
            dem = f[f"{beam}/geophys_corr/dem_h"][:][owner]
            # Colorado only: land everywhere, no ocean, sea ice or land ice.
            assert np.all(conf[:, 1:4] == -1)
            surf = geoloc["surf_type"][:]
            assert np.all(surf[:, 0] == 1) and not surf[:, 1:4].any()
            assert np.array_equal(conf[:, 4] >= 0, surf[owner, 4] == 1)
            signal = (conf[:, 0] >= 3) & (quality == 0)
            assert signal.mean() > 0.4
            ground = np.abs(h[signal] - dem[signal])
            assert np.median(ground) < 3.0  # DEM error, slope spread and some canopy
            assert np.all((h[signal] > 1400.0) & (h[signal] < 4400.0))
            # Background photons fill the telemetry band of their 50-shot record.
            noise = conf[:, 0] == 0
            if noise.sum() >= 20:
                assert np.std(h[noise] - dem[noise]) > 10.0
            bck = f[f"{beam}/bckgrd_atlas"]
            record = (
                np.searchsorted(bck["delta_time"][:], heights["delta_time"][:], side="right") - 1
            )
            assert record.min() >= 0
            top = bck["tlm_top_band1"][:][record]
            bottom = top - bck["tlm_height_band1"][:][record]
            assert np.all((h >= bottom - 5.0) & (h <= top + 0.01))
            # ATLAS background: a sum over 50 shots of the altimetric window.
            counts = bck["bckgrd_counts_reduced"][:]
            window = 50 * 2 * bck["bckgrd_int_height_reduced"][:] / 299792458.0
            np.testing.assert_allclose(bck["bckgrd_rate"][:], counts / window, rtol=1e-5)
            # 200 Hz records: 5 ms apart, four per 50 Hz major frame.
            np.testing.assert_allclose(np.diff(bck["delta_time"][:]), 0.005, atol=1e-6)
            frames = bck["pce_mframe_cnt"][:]
            assert set(np.diff(frames)) <= {0, 1}
            assert np.bincount(frames - frames.min()).max() == 4


def test_day_and_night_passes(granules: dict[str, Path]) -> None:
    with (
        h5py.File(granules[SEED_GRANULE], "r") as day,
        h5py.File(granules[OTHER_GRANULE], "r") as night,
    ):
        assert np.all(day["gt2r/geolocation/solar_elevation"][:] > 55.0)  # 13:40 local time
        assert np.all(night["gt2r/geolocation/solar_elevation"][:] < -25.0)  # 01:53
        day_rate = np.median(day["gt2r/bckgrd_atlas/bckgrd_rate"][:])
        night_rate = np.median(night["gt2r/bckgrd_atlas/bckgrd_rate"][:])
        assert day_rate > 1e6 and night_rate < 1e5
        # Daylight adds solar background photons to the signal.
        share = [np.mean(f["gt2r/heights/signal_conf_ph"][:, 0] >= 3) for f in (day, night)]
        assert share[0] < share[1]


def test_one_granule_crosses_the_tutorial_box_in_its_dates(granules: dict[str, Path]) -> None:
    west, south, east, north = -105.5, 40.0, -105.0, 41.0
    start = (np.datetime64("2020-04-27") - SDP_EPOCH) / np.timedelta64(1, "s")
    stop = (np.datetime64("2020-05-28") - SDP_EPOCH) / np.timedelta64(1, "s")
    in_space, in_both = {}, {}
    for name, f in all_files(granules):
        space = time = 0
        for beam in BEAMS:
            h = f[f"{beam}/heights"]
            lat, lon, t = h["lat_ph"][:], h["lon_ph"][:], h["delta_time"][:]
            inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
            space += int(inside.sum())
            time += int((inside & (t >= start) & (t <= stop)).sum())
        in_space[name], in_both[name] = space, time
    assert in_space[SEED_GRANULE] > 1000 and in_both[SEED_GRANULE] == in_space[SEED_GRANULE]
    assert in_space[OTHER_GRANULE] > 1000 and in_both[OTHER_GRANULE] == 0  # a day too early


def test_quality_assessment_counts_the_photons(seed_file: h5py.File) -> None:
    qa = seed_file["quality_assessment"]
    assert qa["qa_granule_pass_fail"][0] == 0
    for beam in BEAMS:
        conf = seed_file[f"{beam}/heights/signal_conf_ph"][:]
        for level, value in (("high", 4), ("med", 3), ("low", 2)):
            total = qa[f"{beam}/qa_total_signal_conf_ph_{level}"][:]
            assert total.shape == (1, 5)
            assert np.array_equal(total[0], (conf == value).sum(axis=0))
            perc = qa[f"{beam}/qa_perc_signal_conf_ph_{level}"][0]
            np.testing.assert_allclose(perc, 100.0 * total[0] / len(conf), rtol=1e-6)


# --- determinism ---------------------------------------------------------------------------------


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files(product: Path, tmp_path: Path) -> None:
    generate_sample(tmp_path, "tiny", products=["atl03"], seed=0)
    again = _digests(tmp_path / "atl03")
    assert again == _digests(product)
    for path in (tmp_path / "atl03").rglob("*.h5"):
        assert str(tmp_path).encode() not in path.read_bytes()  # no absolute paths inside


def test_another_seed_changes_photons_not_granules(product: Path, tmp_path: Path) -> None:
    generate_sample(tmp_path, "tiny", products=["atl03"], seed=1)
    other = _digests(tmp_path / "atl03")
    mine = _digests(product)
    assert set(other) == set(mine)
    rel = f"ATLAS/ATL03/006/2020/04/27/{SEED_GRANULE}"
    assert other[rel] != mine[rel]
    with h5py.File(tmp_path / "atl03" / rel, "r") as a, h5py.File(product / rel, "r") as b:
        assert a["orbit_info/rgt"][0] == b["orbit_info/rgt"][0]
        assert not np.array_equal(a["gt1r/heights/h_ph"][:10], b["gt1r/heights/h_ph"][:10])


# --- the larger sizes (planned only: writing them is too slow for unit tests) -------------------


def test_larger_sizes_mix_granules_in_and_out_of_the_tutorial_request() -> None:
    start, stop = (
        geo.to_delta_time(dt.datetime(*d, tzinfo=dt.UTC)) for d in ((2020, 4, 27), (2020, 5, 28))
    )
    for size, count in (("small", 6), ("default", 12), ("large", 6)):
        granules = plan_granules(size)  # type: ignore[arg-type]
        assert len(granules) == len({g.name for g in granules}) == count
        assert [g.requested[0] for g in granules] == sorted(g.requested[0] for g in granules)
        assert SEED_GRANULE in {g.name for g in granules}
        crossing = set()
        for g in granules:
            assert g.region == (2 if g.ascending else 6)
            x = geo.along_track_at_latitude(40.5, g.ascending)
            track = geo.ground_track(g.orbit, np.array([x]))
            lons = [geo.offset_track(track, b.across)[1][0] for b in geo.beams(True)]
            when = g.orbit.t_node + x / geo.GROUND_SPEED
            if start <= when <= stop and any(-105.5 <= lon <= -105.0 for lon in lons):
                crossing.add((g.orbit.rgt, g.orbit.cycle))
        assert crossing == {(493, 7), (935, 7)}, size
    large = plan_granules("large")
    # Large granules cover their whole region, 27°N to 59.5°N: ~3600 km of 20 m segments.
    assert all(170_000 < g.segments.count < 190_000 for g in large)
