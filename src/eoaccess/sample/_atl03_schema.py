"""Names, dtypes and attributes of the ATL03 v006 variables written by the sample generator.

The tables mirror a real granule (``ATL03_20181014002445_02350104_006_02.h5``) variable by
variable: dtype, ``contentType``, ``long_name``, ``units``, ``source``, ``description``,
``coordinates``, ``_FillValue`` and flag/valid-range attributes, spelled exactly as NSIDC ships
them (quirks included, e.g. the comma in ``geolocation/delta_time@coordinates``), so that
readers developed on the sample also work on real granules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

F4_MAX = float(np.finfo(np.float32).max)
"""The float32 fill value of ATL03 (3.4028235e+38)."""
F8_MAX = float(np.finfo(np.float64).max)
"""The float64 fill value of ATL03 (1.7976931348623157e+308)."""

AttrValue = str | float | int | tuple[int, ...] | tuple[float, ...]


@dataclass(frozen=True)
class Var:
    """One ATL03 variable: its on-disk dtype and the attributes NSIDC attaches to it."""

    dtype: str
    """numpy dtype code (``f8``, ``i1``, ``u4`` ...)."""
    attrs: Mapping[str, AttrValue]
    """Attributes other than ``_FillValue``; numbers are cast to ``dtype`` when written."""
    fill: float | int | None = None
    """``_FillValue`` (also the HDF5 fill value) or None when the real variable has none."""
    extra_dims: tuple[str, ...] = field(default=())
    """Names of the root dimension scales of the trailing axes (``ds_surf_type``, ``ds_xyz``)."""


def _v(
    dtype: str,
    content_type: str,
    long_name: str,
    units: str,
    source: str,
    description: str,
    *,
    fill: float | None = None,
    coordinates: str | None = "",
    extra_dims: tuple[str, ...] = (),
    **extra: AttrValue,
) -> Var:
    attrs: dict[str, AttrValue] = {
        "contentType": content_type,
        "description": description,
        "long_name": long_name,
        "source": source,
        "units": units,
        **extra,
    }
    if coordinates is not None:  # "" stands for the group's usual value, see _group
        attrs["coordinates"] = coordinates
    return Var(dtype, attrs, fill, extra_dims)


def _group(default_coordinates: str, variables: dict[str, Var]) -> dict[str, Var]:
    """Fill in the group's usual ``coordinates`` attribute and sort attributes by name."""
    out = {}
    for name, var in variables.items():
        attrs = dict(var.attrs)
        if attrs.get("coordinates") == "":
            attrs["coordinates"] = default_coordinates
        out[name] = Var(var.dtype, dict(sorted(attrs.items())), var.fill, var.extra_dims)
    return out


HEIGHTS: dict[str, Var] = _group(
    "delta_time lat_ph lon_ph",
    {
        "delta_time": _v(
            "f8",
            "referenceInformation",
            "Elapsed GPS seconds",
            "seconds since 2018-01-01",
            "Operations",
            (
                "The transmit time of a given photon, measured in seconds from the ATLAS Standard"
                " Data Product Epoch. Note that multiple received photons associated with a "
                "single transmit pulse will have the same delta_time. The ATLAS Standard Data "
                "Products (SDP) epoch offset is defined within "
                "/ancillary_data/atlas_sdp_gps_epoch as the number of GPS seconds between the GPS"
                " epoch (1980-01-06T00:00:00.000000Z UTC) and the ATLAS SDP epoch. By adding the "
                "offset contained within atlas_sdp_gps_epoch to delta time parameters, the time "
                "in gps_seconds relative to the GPS epoch can be computed."
            ),
            coordinates="lat_ph lon_ph",
            standard_name="time",
        ),
        "dist_ph_across": _v(
            "f4",
            "modelResult",
            "Distance off RGT.",
            "meters",
            "ATL03 ATBD, Section 3.1",
            (
                "Across-track distance projected to the ellipsoid of the received photon from the"
                " reference ground track.  This is based on the Along-Track Segment algorithm "
                "described in Section 3.1."
            ),
        ),
        "dist_ph_along": _v(
            "f4",
            "modelResult",
            "Distance from equator crossing.",
            "meters",
            "ATL03 ATBD, Section 3.1",
            (
                "Along-track distance in a segment projected to the ellipsoid of the received "
                "photon, based on the Along-Track Segment algorithm.  Total along track distance "
                "can be found by adding this value to the sum of segment lengths measured from "
                "the start of the most recent reference groundtrack."
            ),
        ),
        "h_ph": _v(
            "f4",
            "physicalMeasurement",
            "Photon WGS84 Height",
            "meters",
            "ATL03g ATBD, Section 3.4",
            (
                "Height of each received photon, relative to the WGS-84 ellipsoid including the "
                "geophysical corrections noted in Section 6. Please note that neither the geoid, "
                "ocean tide nor the dynamic atmosphere (DAC) corrections are applied to the "
                "ellipsoidal heights."
            ),
            standard_name="height",
        ),
        "lat_ph": _v(
            "f8",
            "modelResult",
            "Latitude",
            "degrees_north",
            "ATL03g ATBD, Section 3.4",
            (
                "Latitude of each received photon. Computed from the ECF Cartesian coordinates of"
                " the bounce point."
            ),
            coordinates="delta_time lon_ph",
            standard_name="latitude",
            valid_max=90.0,
            valid_min=-90.0,
        ),
        "lon_ph": _v(
            "f8",
            "modelResult",
            "Longitude",
            "degrees_east",
            "ATL03g ATBD, Section 3.4",
            (
                "Longitude of each received photon. Computed from the ECF Cartesian coordinates "
                "of the bounce point."
            ),
            coordinates="delta_time lat_ph",
            standard_name="longitude",
            valid_max=180.0,
            valid_min=-180.0,
        ),
        "pce_mframe_cnt": _v(
            "u4",
            "referenceInformation",
            "PCE Major frame counter",
            "counts",
            "Retained from prior a_alt_science_ph packet",
            (
                "The major frame counter is read from the digital flow controller in a given PCE "
                "card.  The counter identifies individual major frames across diag and science "
                "packets. Used as part of the photon ID."
            ),
        ),
        "ph_id_channel": _v(
            "u1",
            "referenceInformation",
            "Receive channel id",
            "1",
            "Derived as part of Photon ID",
            (
                "Channel number assigned for each received photon event. This is part of the "
                "photon ID. Values range from 1 to 120 to span all channels and rise/fall edges. "
                "Values 1 to 60 are for falling edge; PCE1 (1 to 20), PCE 2 (21 to 40) and PCE3 "
                "(41 to 60). Values 61 to 120 are for rising edge; PCE1 (61 to 80), PCE 2 (81 to "
                "100) and PC3 (101 to 120)."
            ),
            valid_max=120,
            valid_min=1,
        ),
        "ph_id_count": _v(
            "u1",
            "referenceInformation",
            "photon event counter",
            "counts",
            "Derived as part of Photon ID",
            (
                "The photon event counter is part of photon ID and counts from 1 for each channel"
                " until reset by laser pulse counter."
            ),
        ),
        "ph_id_pulse": _v(
            "u1",
            "referenceInformation",
            "laser pulse counter",
            "counts",
            "Derived as part of Photon ID",
            (
                "The laser pulse counter is part of photon ID and counts from 1 to 200 and is "
                "reset for each new major frame."
            ),
        ),
        "quality_ph": _v(
            "i1",
            "qualityInformation",
            "Photon Quality",
            "1",
            "ATL03 ATBD",
            (
                "Indicates the quality of the associated photon. 0=nominal, "
                "1=possible_afterpulse, 2=possible_impulse_response_effect, 3=possible_tep. Use "
                "this flag in conjunction with signal_conf_ph to identify those photons that are "
                "likely noise or likely signal."
            ),
            flag_meanings="nominal possible_afterpulse possible_impulse_response_effect possible_tep",
            flag_values=(0, 1, 2, 3),
            valid_max=3,
            valid_min=0,
        ),
        "signal_conf_ph": _v(
            "i1",
            "qualityInformation",
            "Photon Signal Confidence",
            "1",
            "ATL03 ATBD, Section 5, Conf",
            (
                "Confidence level associated with each photon event selected as signal. 0=noise. "
                "1=added to allow for buffer but algorithm classifies as background; 2=low; "
                "3=med; 4=high).  This parameter is a 5xN array where N is the number of photons "
                "in the granule, and the 5 rows indicate signal finding for each surface type (in"
                " order: land, ocean, sea ice, land ice and inland water). Events not associated "
                "with a specific surface type have a confidence level of -1. Events evaluated as "
                "TEP returns have a confidence level of -2."
            ),
            flag_meanings="possible_tep not_considered noise buffer low medium high",
            flag_values=(-2, -1, 0, 1, 2, 3, 4),
            valid_max=4,
            valid_min=-2,
            extra_dims=("ds_surf_type",),
        ),
        "weight_ph": _v(
            "u1",
            "modelResult",
            "Photon weight",
            "1",
            "ATBD Section 5",
            (
                "Computed weight of each photon. The weight is calculated by a windowed KNN "
                "algorithm using the distances between each photon and its K nearest neighbors. "
                "Values range from 0 to 255 where 255 is the most heavily weighted photon and "
                "would be considered likely signal."
            ),
            valid_max=255,
            valid_min=0,
        ),
    },
)

GEOLOCATION: dict[str, Var] = _group(
    "delta_time reference_photon_lat reference_photon_lon",
    {
        "altitude_sc": _v(
            "f8",
            "physicalMeasurement",
            "Altitude",
            "meters",
            "ATL03g ATBD, Section 3.4",
            "Height of the spacecraft above the WGS84 ellipsoid.",
            fill=F8_MAX,
        ),
        "bounce_time_offset": _v(
            "f4",
            "modelResult",
            "ground bounce time offset",
            "seconds",
            "ATL03 ATBD, Section 3.3",
            (
                "The difference between the transmit time and the ground bounce time of the "
                "reference photons."
            ),
            fill=F4_MAX,
        ),
        "delta_time": _v(
            "f8",
            "physicalMeasurement",
            "Delta Time",
            "seconds since 2018-01-01",
            "Derived",
            (
                "Transmit time of the reference photon, measured in seconds from the "
                "atlas_sdp_gps_epoch. If there is no reference photon, this time corresponds to "
                "the approximate mid-point time associated with the along-track geolocation "
                "segment edge. The ATLAS Standard Data Products (SDP) epoch offset is defined "
                "within /ancillary_data/atlas_sdp_gps_epoch as the number of GPS seconds between "
                "the GPS epoch (1980-01-06T00:00:00.000000Z UTC) and the ATLAS SDP epoch. By "
                "adding the offset contained within atlas_sdp_gps_epoch to delta time parameters,"
                " the time in gps_seconds relative to the GPS epoch can be computed."
            ),
            coordinates="reference_photon_lat, reference_photon_lon",
            standard_name="time",
        ),
        "full_sat_fract": _v(
            "f4",
            "qualityInformation",
            "Full Saturation Fraction",
            "1",
            "ATL03 ATBD",
            "The fraction of pulses within the segment determined to be fully saturated.",
            fill=F4_MAX,
            valid_max=1.0,
            valid_min=0.0,
        ),
        "knn": _v(
            "i4",
            "referenceInformation",
            "K Nearest Neighbors",
            "counts",
            "ATL03 ATBD, Section 5.1",
            (
                "The number of photons used in the computation of photon weights within each "
                "segment. In high photon rate cases, this is the square root of the number of "
                "photons found within the weighting selection box about the photon with the "
                "highest number of neighbors. In low photon rate cases, the is the minimum KNN "
                "value or half the number of photons found within the weighting selection box "
                "about the photon with the highest number of neighbors."
            ),
        ),
        "near_sat_fract": _v(
            "f4",
            "qualityInformation",
            "Near Saturation Fraction",
            "1",
            "ATL03 ATBD",
            "The fraction of pulses within the segment determined to be nearly saturated.",
            fill=F4_MAX,
            valid_max=1.0,
            valid_min=0.0,
        ),
        "neutat_delay_derivative": _v(
            "f4",
            "modelResult",
            "(Neutral Atmosphere delay)/dh",
            "meters/meters",
            "ATL03a ATBD",
            "Change in neutral atmospheric delay per height change",
            fill=F4_MAX,
        ),
        "neutat_delay_total": _v(
            "f4",
            "modelResult",
            "Total Neutral Atmospheric Delay",
            "meters",
            "ATL03a ATBD",
            "Total neutral atmosphere delay correction (wet+dry).",
            fill=F4_MAX,
        ),
        "neutat_ht": _v(
            "f4",
            "modelResult",
            "Neutral atmosphere ref height",
            "meters",
            "ATL03a ATBD",
            "Reference height of the neutral atmosphere range correction",
            fill=F4_MAX,
        ),
        "ph_index_beg": _v(
            "i8",
            "referenceInformation",
            "Photon Index Begin",
            "counts",
            "Derived",
            (
                "Index (1-based) within the photon-rate data of the first photon within this "
                "segment. Use in conjunction with segment_ph_cnt."
            ),
            fill=0,
        ),
        "pitch": _v(
            "f4",
            "modelResult",
            "Pitch",
            "degrees",
            "ANC04",
            (
                "Spacecraft pitch, roll, and yaw angles, are computed using 3, 2, 1 Euler angle "
                "sequence, posted at the geolocation segment rate, and the units are degrees. "
                "Angles represent the deviation from a coordinate system whose z-axis is "
                "perpendicular to the reference ellipsoid of the Earth (pointing nadir), y-axis "
                "is perpendicular to the orbit plane, and x-axis completes the triad in the "
                "direction of spacecraft velocity. Note: yaw angle is near 0deg when ICESat-2 is "
                "flying forward (positive beta angle), near 180deg when ICESat-2 is flying "
                "backward (negative beta angle)."
            ),
            fill=F4_MAX,
        ),
        "podppd_flag": _v(
            "i1",
            "referenceInformation",
            "POD_PPD Flag",
            "1",
            "ATL02, ANC04, ANC05",
            (
                "Composite POD/PPD flag that indicates the quality of input geolocation products "
                "for the specific ATL03 segment. A non-zero value may indicate that geolocation "
                "solutions are degraded or that ATLAS is within a calibration scan period (CAL). "
                "The ATL03 sigma values should indicate the degree of uncertainty associated with"
                " the degradation. Possible non-CAL values are: 0=NOMINAL; 1=POD_DEGRADE; "
                "2=PPD_DEGRADE; 3=PODPPD_DEGRADE; possible CAL values are: 4=CAL_NOMINAL; "
                "5=CAL_POD_DEGRADE; 6=CAL_PPD_DEGRADE; 7=CAL_PODPPD_DEGRADE;"
            ),
            coordinates="delta_time",
            flag_meanings="nominal pod_degrade ppd_degrade podppd_degrade cal_nominal cal_pod_degrade cal_ppd_degrade cal_podppd_degrade",
            flag_values=(0, 1, 2, 3, 4, 5, 6, 7),
            valid_max=7,
            valid_min=0,
        ),
        "range_bias_corr": _v(
            "f4",
            "modelResult",
            "range bias correction",
            "meters",
            "ATL03G ATBD, Section 3.6",
            "The range_bias estimated from geolocation analysis.",
            fill=F4_MAX,
        ),
        "ref_azimuth": _v(
            "f4",
            "modelResult",
            "Azimuth",
            "radians",
            "ATL03G ATBD, Section 3.3",
            (
                "Azimuth of the unit pointing vector for the reference photon in the local ENU "
                "frame in radians.  The angle is measured from North and positive towards East."
            ),
            fill=F4_MAX,
            standard_name="azimuth",
        ),
        "ref_elev": _v(
            "f4",
            "modelResult",
            "elevation",
            "radians",
            "ATL03G ATBD, Section 3.3",
            (
                "Elevation of the unit pointing vector for the reference photon in the local ENU "
                "frame in radians.  The angle is measured from East-North plane and positive "
                "towards Up"
            ),
            fill=F4_MAX,
            standard_name="elevation",
        ),
        "reference_photon_index": _v(
            "i4",
            "referenceInformation",
            "Reference Photon Index",
            "counts",
            "ATL03 ATBD, Section 3.2",
            (
                "Index of the reference photon within the set of photons grouped within in "
                "segment. To recover the position of the reference photon within the photon-rate "
                "arrays, add ref_ph_ndx to the corresponding ph_ndx_beg and subtract 1. If no "
                "reference photon was selected, this value will indicate that the reference "
                "photon defaulted to the first photon. In the case of no photons within the "
                "segment (segment_ph_cnt=0), the value should be 0."
            ),
            fill=0,
        ),
        "reference_photon_lat": _v(
            "f8",
            "modelResult",
            "Segment Latitude",
            "degrees_north",
            "ATL03G ATBD, Section 3.4",
            (
                "Latitude of each reference photon. Computed from the ECF Cartesian coordinates "
                "of the bounce point. In the case of no photons within the segment "
                "(segment_ph_cnt=0), the coordinates are the midpoint of the geolocation segment "
                "on the reference ground track."
            ),
            coordinates="delta_time",
            standard_name="latitude",
            valid_max=90.0,
            valid_min=-90.0,
        ),
        "reference_photon_lon": _v(
            "f8",
            "modelResult",
            "Segment Longitude",
            "degrees_east",
            "ATL03G ATBD, Section 3.4",
            (
                "Longitude of each reference photon. Computed from the ECF Cartesian coordinates "
                "of the bounce point. In the case of no photons within the segment "
                "(segment_ph_cnt=0), the coordinates are the midpoint of the geolocation segment "
                "on the reference ground track."
            ),
            coordinates="delta_time",
            standard_name="longitude",
            valid_max=180.0,
            valid_min=-180.0,
        ),
        "roll": _v(
            "f4",
            "modelResult",
            "roll",
            "degrees",
            "ANC04",
            (
                "Spacecraft pitch, roll, and yaw angles, are computed using 3, 2, 1 Euler angle "
                "sequence, posted at the geolocation segment rate, and the units are degrees. "
                "Angles represent the deviation from a coordinate system whose z-axis is "
                "perpendicular to the reference ellipsoid of the Earth (pointing nadir), y-axis "
                "is perpendicular to the orbit plane, and x-axis completes the triad in the "
                "direction of spacecraft velocity. Note: yaw angle is near 0deg when ICESat-2 is "
                "flying forward (positive beta angle), near 180deg when ICESat-2 is flying "
                "backward (negative beta angle)."
            ),
            fill=F4_MAX,
        ),
        "segment_dist_x": _v(
            "f8",
            "modelResult",
            "Segment Distance from EQC",
            "meters",
            "Derived",
            (
                "Along-track distance from the equator crossing to the start of the 20 meter "
                "geolocation segment."
            ),
        ),
        "segment_id": _v(
            "i4",
            "referenceInformation",
            "along-track segment ID number.",
            "1",
            "ATL03 ATBD, Section 3.1",
            (
                "A 7 digit number identifiying the along-track geolocation segment number.  These"
                " are sequential, starting with 1 for the first segment after an ascending "
                "equatorial crossing node."
            ),
        ),
        "segment_length": _v(
            "f8",
            "modelResult",
            "along-track segment length",
            "meters",
            "ATL03 ATBD, Section 3.1",
            (
                "The along-track length of the along-track segment.  Nominally these are 20m, but"
                " they vary from 19.8m to 20.2m."
            ),
        ),
        "segment_ph_cnt": _v(
            "i4",
            "referenceInformation",
            "Number of photons",
            "counts",
            "Derived",
            (
                "Number of photons in a given along-track segment. In the case of no photons "
                "within the segment (segment_ph_cnt=0), most other parameters are filled with "
                "invalid or best-estimate values. Maintaining geolocation segments with no "
                "photons allows for the geolocation segment arrays to be directly aligned across "
                "the gtx groups."
            ),
            fill=0,
        ),
        "sigma_across": _v(
            "f4",
            "qualityInformation",
            "across-track geolocation uncertainty",
            "meters",
            "ATL03G ATBD",
            "Estimated Cartesian across-track uncertainty (1-sigma) for the reference photon",
            fill=F4_MAX,
        ),
        "sigma_along": _v(
            "f4",
            "qualityInformation",
            "along-track geolocation uncertainity",
            "meters",
            "ATL03G ATBD",
            "Estimated cartesian along-track uncertainty (1-sigma) for the reference photon",
            fill=F4_MAX,
        ),
        "sigma_h": _v(
            "f4",
            "qualityInformation",
            "height uncertainty",
            "meters",
            "ATL03G ATBD, Section 3.6",
            "Estimated height uncertainty (1-sigma) for the reference photon bounce point.",
            fill=F4_MAX,
        ),
        "sigma_lat": _v(
            "f4",
            "qualityInformation",
            "latitude uncertainty",
            "degrees",
            "ATL03G ATBD, Section 3.6",
            (
                "Estimated geodetic Latitude uncertainty (1-sigma), for the reference photon "
                "bounce point."
            ),
            fill=F4_MAX,
        ),
        "sigma_lon": _v(
            "f4",
            "qualityInformation",
            "longitude uncertainty",
            "degrees",
            "ATL03G ATBD, Section 3.6",
            (
                "Estimated geodetic east Longitude uncertainty (1-sigma), for the reference "
                "photon bounce point."
            ),
            fill=F4_MAX,
        ),
        "solar_azimuth": _v(
            "f4",
            "modelResult",
            "solar azimuth",
            "degrees_east",
            "ATL03G ATBD, Section 3.3",
            (
                "The azimuth of the sun position vector from the reference photon bounce point "
                "position in the local ENU frame.  The angle is measured from North and is "
                "positive towards East.  ATL03g provides this value in radians; it is converted "
                "to degrees for ATL03 output."
            ),
            fill=F4_MAX,
        ),
        "solar_elevation": _v(
            "f4",
            "modelResult",
            "solar elevation",
            "degrees",
            "ATL03G ATBD, Section 3.3",
            (
                "The elevation of the sun position vector from the reference photon bounce point "
                "position in the local ENU frame.  The angle is measured from the East-North "
                "plane and is positive Up.  ATL03g provides this value in radians; it is "
                "converted to degress for ATL03 output."
            ),
            fill=F4_MAX,
        ),
        "surf_type": _v(
            "i1",
            "referenceInformation",
            "Surface Type",
            "1",
            "ATL03 ATBD, Section 4",
            (
                "Flags describing which surface types this interval is associated with. 0=not "
                "type, 1=is type. Order of array is land, ocean, sea ice, land ice, inland water."
            ),
            flag_meanings="not_type is_type",
            flag_values=(0, 1),
            valid_max=1,
            valid_min=0,
            extra_dims=("ds_surf_type",),
        ),
        "tx_pulse_energy": _v(
            "f4",
            "physicalMeasurement",
            "Transmit Pulse Energy",
            "Joules",
            "ATL02 ATBD, Section 7.2",
            (
                "The average transmit pulse energy, measured by the internal laser energy "
                "monitor, split into per-beam measurements."
            ),
            fill=F4_MAX,
        ),
        "tx_pulse_skew_est": _v(
            "f4",
            "modelResult",
            "Transmit Pulse Skew Estimate",
            "seconds",
            "ATL02 ATBD, Section 7.2",
            (
                "The difference between the averages of the lower and upper threshold crossing "
                "times.  This is an estimate of the transmit pulse skew."
            ),
            fill=F4_MAX,
        ),
        "tx_pulse_width_lower": _v(
            "f4",
            "modelResult",
            "Transmit Pulse Energy Lower Width",
            "seconds",
            "ATL02 ATBD, Section 7.2",
            (
                "The average distance between the lower threshold crossing times measured by the "
                "Start Pulse Detector."
            ),
            fill=F4_MAX,
        ),
        "tx_pulse_width_upper": _v(
            "f4",
            "modelResult",
            "Transmit Pulse Energy Upper Width",
            "seconds",
            "ATL02 ATBD, Section 7.2",
            (
                "The average distance between the upper threshold crossing times measured by the "
                "Start Pulse Detector."
            ),
            fill=F4_MAX,
        ),
        "velocity_sc": _v(
            "f4",
            "modelResult",
            "spacecraft velocity",
            "meters/second",
            "ATL03G ATBD",
            (
                "Spacecraft velocity components (east component, north component, up component) "
                "an observer on the ground would measure. While values are common to all beams, "
                "this parameter is naturally produced as part of geolocation."
            ),
            fill=F4_MAX,
            extra_dims=("ds_xyz",),
        ),
        "yaw": _v(
            "f4",
            "modelResult",
            "Yaw",
            "degrees",
            "ANC04",
            (
                "Spacecraft pitch, roll, and yaw angles, are computed using 3, 2, 1 Euler angle "
                "sequence, posted at the geolocation segment rate, and the units are degrees. "
                "Angles represent the deviation from a coordinate system whose z-axis is "
                "perpendicular to the reference ellipsoid of the Earth (pointing nadir), y-axis "
                "is perpendicular to the orbit plane, and x-axis completes the triad in the "
                "direction of spacecraft velocity. Note: yaw angle is near 0deg when ICESat-2 is "
                "flying forward (positive beta angle), near 180deg when ICESat-2 is flying "
                "backward (negative beta angle)."
            ),
            fill=F4_MAX,
        ),
    },
)

GEOPHYS_CORR: dict[str, Var] = _group(
    "delta_time",
    {
        "dac": _v(
            "f4",
            "modelResult",
            "Dynamic Atmosphere Correction",
            "meters",
            "ATL03 ATBD, Section 6.3.2",
            (
                "Dynamic Atmospheric Correction (DAC) includes inverted barometer (IB) effect. "
                "This correction is not applied to the photon heights and provided only as "
                "supplemental information."
            ),
            fill=F4_MAX,
        ),
        "delta_time": _v(
            "f8",
            "referenceInformation",
            "Elapsed GPS seconds",
            "seconds since 2018-01-01",
            "Operations",
            (
                "Elapsed seconds from the ATLAS SDP GPS Epoch, corresponding to the transmit time"
                " of the reference photon. The ATLAS Standard Data Products (SDP) epoch offset is"
                " defined within /ancillary_data/atlas_sdp_gps_epoch as the number of GPS seconds"
                " between the GPS epoch (1980-01-06T00:00:00.000000Z UTC) and the ATLAS SDP "
                "epoch. By adding the offset contained within atlas_sdp_gps_epoch to delta time "
                "parameters, the time in gps_seconds relative to the GPS epoch can be computed."
            ),
            coordinates=None,
            standard_name="time",
        ),
        "dem_flag": _v(
            "i1",
            "referenceInformation",
            "dem source flag",
            "1",
            "ATL03 ATBD Section 6.3",
            (
                "Indicates source of the DEM height. Values: 0=None, 1=Arctic, 2=Global, 3=MSS, "
                "4=Antarctic."
            ),
            fill=127,
            flag_meanings="none arctic global mss antarctic",
            flag_values=(0, 1, 2, 3, 4),
            valid_max=4,
            valid_min=0,
        ),
        "dem_h": _v(
            "f4",
            "referenceInformation",
            "DEM Height",
            "meters",
            "ATL03 ATBD Section 6.3",
            (
                "Best available DEM height (in priority of Arctic/Antarctic/Global/MSS) "
                "interpolated to the location of the reference photon."
            ),
            fill=F4_MAX,
        ),
        "geoid": _v(
            "f4",
            "referenceInformation",
            "Geoid",
            "meters",
            "ATL03 ATBD, Section 6.3.8",
            (
                "Geoid height above WGS-84 reference ellipsoid (range -107 to 86m) in the tide-"
                "free system.  Not applied on the product; requested by higher-level products. "
                "(see geoid_free2mean to convert to the mean-tide system)"
            ),
            fill=F4_MAX,
        ),
        "geoid_free2mean": _v(
            "f4",
            "modelResult",
            "Geoid Free-to-Mean conversion",
            "meters",
            "ATL03 ATBD, Section 6.3.8",
            (
                "Additive value to convert geoid heights from the tide-free system to the mean-"
                "tide system. (Add to geoid to get the geoid heights in the mean-tide system.)"
            ),
            fill=F4_MAX,
        ),
        "tide_earth": _v(
            "f4",
            "modelResult",
            "Earth Tide",
            "meters",
            "ATL03 ATBD, Section 6.3.3",
            (
                "Solid earth tide  in the tide-free system.  (see tide_earth_free2mean to convert"
                " to the mean-tide system)"
            ),
            fill=F4_MAX,
        ),
        "tide_earth_free2mean": _v(
            "f4",
            "referenceInformation",
            "Earth Tide Free-to-Mean conversion",
            "meters",
            "ATL03 ATBD, Section 6.3.8",
            (
                "Additive value to convert solid earth tide from the tide-free system to the mean"
                " tide system. (Add to tide_earth to get solid earth tides in the mean-tide "
                "system.)"
            ),
            fill=F4_MAX,
        ),
        "tide_equilibrium": _v(
            "f4",
            "referenceInformation",
            "Long Period Equilibrium Tide",
            "meters",
            "ATL03 ATBD, Section 6.3.1",
            (
                "Long period equilibrium tide self-consistent with ocean tide model (+-0.04m). "
                "This correction is not applied to the photon heights and is provided only as a "
                "supplemental information."
            ),
            fill=F4_MAX,
        ),
        "tide_load": _v(
            "f4",
            "referenceInformation",
            "Load Tide",
            "meters",
            "ATL03 ATBD, Section 6.3.4",
            "Load Tide - Local displacement due to Ocean Loading (-6 to 0 cm).",
            fill=F4_MAX,
        ),
        "tide_oc_pole": _v(
            "f4",
            "referenceInformation",
            "Ocean Pole Tide",
            "meters",
            "ATL03 ATBD, Section 6.3.6",
            (
                "Surface deformation of the Earth due to loading from the centrifugal effect of "
                "polar motion upon the oceans (-2 to 2 mm)."
            ),
            fill=F4_MAX,
        ),
        "tide_ocean": _v(
            "f4",
            "referenceInformation",
            "Ocean Tide",
            "meters",
            "ATL03 ATBD, Section 6.3.1",
            (
                "Ocean Tides including diurnal and semi-diurnal (harmonic analysis), and longer "
                "period tides (dynamic and self-consistent equilibrium). This correction is not "
                "applied to the photon heights and provided only as supplemental information."
            ),
            fill=F4_MAX,
        ),
        "tide_pole": _v(
            "f4",
            "referenceInformation",
            "Solid Earth Pole Tide",
            "meters",
            "ATL03 ATBD, Section 6.3.5",
            (
                "Solid Earth Pole Tide -Rotational deformation due to polar motion  (-1.5 to 1.5 "
                "cm)."
            ),
            fill=F4_MAX,
        ),
    },
)

BCKGRD_ATLAS: dict[str, Var] = _group(
    "delta_time",
    {
        "bckgrd_counts": _v(
            "i4",
            "modelResult",
            "ATLAS 50-shot background count",
            "counts",
            "ATL03 ATBD Section 7.3",
            (
                "Onboard 50 shot background (200 Hz) sum of photon events within the altimetric "
                "range window."
            ),
        ),
        "bckgrd_counts_reduced": _v(
            "i4",
            "modelResult",
            "ATLAS 50-shot background count - reduced",
            "counts",
            "ATL03 ATBD Section 7.3",
            (
                "Number of photon counts in the 50-shot sum after subtracting the number of "
                "signal photon events, defined as in ATBD Section 5, in that span."
            ),
        ),
        "bckgrd_hist_top": _v(
            "f4",
            "modelResult",
            "Top of the altimetric range window",
            "meters",
            "ATL03 ATBD Section 7.3",
            (
                "The height of the top of the altimetric histogram, in meters above the WGS-84 "
                "ellipsoid, with all geophysical corrections applied. Parameter is ingested at "
                "50-Hz, and values are repeated to form a 200-Hz array."
            ),
        ),
        "bckgrd_int_height": _v(
            "f4",
            "modelResult",
            "Altimetric range window width",
            "meters",
            "ATL03 ATBD Section 7.3",
            (
                "The height of the altimetric range window.  This is the height over which the "
                "50-shot sum is generated.  Parameter is ingested at 50-Hz, and values are "
                "repeated to form a 200-Hz array."
            ),
        ),
        "bckgrd_int_height_reduced": _v(
            "f4",
            "modelResult",
            "Altimetric range window height - reduced",
            "meters",
            "ATL03 ATBD Section 7.3",
            (
                "The height of the altimetric range window after subtracting the height span of "
                "the signal photon events in the 50-shot span."
            ),
        ),
        "bckgrd_rate": _v(
            "f4",
            "modelResult",
            "Background count rate based on the ATLAS 50-shot sum",
            "counts / second",
            "ATL03 ATBD Section 7.3",
            (
                "The background count rate from the 50-shot altimetric histogram after removing "
                "the number of likely signal photons based on Section 5."
            ),
        ),
        "delta_time": _v(
            "f8",
            "referenceInformation",
            "Time at the start of ATLAS 50-shot sum",
            "seconds since 2018-01-01",
            "ATL02",
            (
                "Elapsed GPS Seconds from the ATLAS SDP GPS Epoch, referenced to the start of the"
                " 50-shot sum. This is based on every fiftieth laser fire time, which leads to a "
                "very close alignment with major frame boundaries (+/- 1 shot). The ATLAS "
                "Standard Data Products (SDP) epoch offset is defined within "
                "/ancillary_data/atlas_sdp_gps_epoch as the number of GPS seconds between the GPS"
                " epoch (1980-01-06T00:00:00.000000Z UTC) and the ATLAS SDP epoch. By adding the "
                "offset contained within atlas_sdp_gps_epoch to delta time parameters, the time "
                "in gps_seconds relative to the GPS epoch can be computed."
            ),
            coordinates=None,
            standard_name="time",
        ),
        "pce_mframe_cnt": _v(
            "i8",
            "referenceInformation",
            "PCE Major frame counter",
            "counts",
            "ATL02",
            (
                "Major Frame ID - The major frame ID is read from the DFC and starts counting at "
                "DFC POR. The counter is used to identify individual major frames across diag and"
                " science packets. This counter can go for about 2.7 years before rolling over. "
                "It is in the first time tag science packet. Used as part of the photon ID and "
                "the safest way to align data within different APIDs or at different rates."
            ),
        ),
        "tlm_height_band1": _v(
            "f4",
            "referenceInformation",
            "Height of the telemetry band 1",
            "meters",
            "ATL03 ATBD, Section 7.3.2",
            "The height in meters of the telemetry band 1.",
        ),
        "tlm_height_band2": _v(
            "f4",
            "referenceInformation",
            "Height of the telemetry band 2",
            "meters",
            "ATL03 ATBD, Section 7.3.2",
            ("The height in meters of the telemetry band 2. (if 0, second band is not present)."),
        ),
        "tlm_top_band1": _v(
            "f4",
            "referenceInformation",
            "Ellipsoidal height of the top of the telemetry band 1.",
            "meters",
            "ATL03 ATBD, Section 3.2, 7.3.2",
            (
                "The ellipsoidal heights with respect to WGS-84 of the top of the telemetry band "
                "1, with all geophysical corrections applied."
            ),
        ),
        "tlm_top_band2": _v(
            "f4",
            "referenceInformation",
            "Ellipsoidal height of the top of the telemetry band 2.",
            "meters",
            "ATL03 ATBD, Section 3.2, 7.3.2",
            (
                "The ellipsoidal heights with respect to WGS-84 of the top of the telemetry band "
                "2, with all geophysical corrections applied."
            ),
        ),
    },
)

_EPOCH_NOTE = (
    " The ATLAS Standard Data Products (SDP) epoch offset is defined within "
    "/ancillary_data/atlas_sdp_gps_epoch as the number of GPS seconds between the GPS epoch "
    "(1980-01-06T00:00:00.000000Z UTC) and the ATLAS SDP epoch. By adding the offset contained "
    "within atlas_sdp_gps_epoch to delta time parameters, the time in gps_seconds relative to "
    "the GPS epoch can be computed."
)

GROUP_ATTRS: dict[str, dict[str, str]] = {
    "heights": {
        "Description": "Contains arrays of the parameters for each received photon.",
        "data_rate": "Data are stored at the photon detection rate.",
    },
    "geolocation": {
        "Description": (
            "Contains parameters related to geolocation.  The rate of all of these parameters "
            "is at the rate corresponding to the ICESat-2 Geolocation Along Track Segment "
            "interval (nominally 20 m along-track). In the case of no photons within the "
            "segment (segment_ph_cnt=0), most parameters are filled with invalid or "
            "best-estimate values. Maintaining geolocation segments with no photons allows for "
            "the geolocation segment arrays to be directly aligned across the gtx groups."
        ),
        "data_rate": "Data within this group are stored at the ICESat-2 20m segment rate.",
    },
    "geophys_corr": {
        "Description": (
            "Contains parameters used to correct photon heights for selected geophysical "
            "effects. Additional geophysical parameters (dac and tide_ocean) are not applied "
            "and provided for informational purposes only. All parameters are posted at the "
            "same interval as the ICESat-2 Geolocation Along-Track Segment interval (nominally "
            "20m along-track). In the case of no photons within the segment "
            "(../geolocation/segment_ph_cnt=0), most parameters are filled with invalid or "
            "best-estimate values. Maintaining geolocation segments with no photons allows for "
            "the geolocation segment arrays to be directly aligned across the gtx groups."
        ),
        "data_rate": (
            "These parameters are stored at the ICESat-2 Geolocation Along Track Segment rate "
            "(nominally every 20 m along-track)."
        ),
    },
    "bckgrd_atlas": {
        "Description": (
            "Contains parameters related to the background photon rate, derived from the "
            "onboard 50-shot altimetric histograms and the telemetry band."
        ),
        "data_rate": "Data within this group are stored at the 200 Hz (50-shot) rate.",
    },
}

BEAM_DESCRIPTION = (
    "Each group contains the segments for one Ground Track. As ICESat-2 orbits the earth, "
    "sequential transmit pulses illuminate six ground tracks on the surface of the earth.  The "
    "track width is approximately 14m.  Each ground track is numbered, according to the laser "
    "spot number that generates a given ground track.  Ground tracks are numbered from the left "
    "to the right in the direction of spacecraft travel as: 1L, 1R in the left-most pair of "
    "beams; 2L, 2R for the center pair of beams; and 3L, 3R for the right-most pair of beams."
)

ROOT_STATIC_ATTRS: dict[str, str] = {
    "Conventions": "CF-1.6",
    "citation": (
        "Cite these data in publications as follows: The data used in this study were produced "
        "by the ICESat-2 Science Project Office at NASA/GSFC. The data archive site is the NASA "
        "National Snow and Ice Data Center Distributed Active Archive Center."
    ),
    "contributor_name": (
        "Thomas A Neumann (thomas.neumann@nasa.gov), Thorsten Markus "
        "(thorsten.markus@nasa.gov), Suneel Bhardwaj (suneel.bhardwaj@nasa.gov) David W "
        "Hancock III (david.w.hancock@nasa.gov)"
    ),
    "contributor_role": (
        "Instrument Engineer, Investigator, Principle Investigator, Data Producer, Data Producer"
    ),
    "creator_name": "GSFC I-SIPS > ICESat-2 Science Investigator-led Processing System",
    "date_type": "UTC",
    "description": (
        "This data set (ATL03) contains height above the WGS 84 ellipsoid (ITRF2014 reference "
        "frame), latitude, longitude, and time for all photons downlinked by the Advanced "
        "Topographic Laser Altimeter System (ATLAS) instrument on board the Ice, Cloud and land "
        "Elevation Satellite-2 (ICESat-2)."
    ),
    "featureType": "trajectory",
    "geospatial_lat_units": "degrees_north",
    "geospatial_lon_units": "degrees_east",
    "granule_type": "ATL03",
    "hdfversion": "HDF5 1.10.7",
    "identifier_product_doi": "doi:10.5067/ATLAS/ATL03.006",
    "identifier_product_doi_authority": "http://dx.doi.org",
    "identifier_product_format_version": "4.0",
    "identifier_product_type": "ATL03",
    "institution": "National Aeronautics and Space Administration (NASA)",
    "instrument": "ATLAS > Advanced Topographic Laser Altimeter System",
    "keywords": "EARTH SCIENCE > LAND SURFACE > TOPOGRAPHY > TERRAIN ELEVATION",
    "keywords_vocabulary": "NASA/GCMD Science Keywords",
    "level": "L2",
    "license": (
        "Data may not be reproduced or distributed without including the citation for this "
        "product included in this metadata. Data may not be distributed in an altered form "
        "without the written permission of the ICESat-2 Science Project Office at NASA/GSFC."
    ),
    "naming_authority": "http://dx.doi.org",
    "platform": "ICESat-2 > Ice, Cloud, and land Elevation Satellite-2",
    "processing_level": "2A",
    "project": "ICESat-2 > Ice, Cloud, and land Elevation Satellite-2",
    "publisher_email": "nsidc@nsidc.org",
    "publisher_name": (
        "NSIDC DAAC > NASA National Snow and Ice Data Center Distributed Active Archive Center"
    ),
    "publisher_url": "http://nsidc.org/daac/",
    "references": "http://nsidc.org/data/icesat2/data.html",
    "short_name": "ATL03",
    "source": "Spacecraft",
    "spatial_coverage_type": "Horizontal",
    "standard_name_vocabulary": "CF-1.6",
    "summary": (
        "The purpose of ATL03 is to provide along-track photon data for all 6 ATLAS beams and "
        "associated statistics."
    ),
    "time_type": "CCSDS UTC-A",
    "title": "SET_BY_META",
}


def _aux(
    dtype: str, long_name: str, units: str, source: str, description: str, **kw: AttrValue
) -> Var:
    """An ancillary or orbit parameter: a (1,) dataset without coordinates."""
    return _v(
        dtype, "auxiliaryInformation", long_name, units, source, description, coordinates=None, **kw
    )


def _start_end(
    what: str, long_name: str, description: str, dtype: str = "i4", units: str = "1"
) -> dict[str, Var]:
    return {
        f"end_{what}": _aux(
            dtype, f"Ending {long_name}", units, "Derived", description.format(which="ending")
        ),
        f"start_{what}": _aux(
            dtype, f"Starting {long_name}", units, "Derived", description.format(which="starting")
        ),
    }


ANCILLARY: dict[str, Var] = {
    "atlas_sdp_gps_epoch": _aux(
        "f8",
        "ATLAS Epoch Offset",
        "seconds since 1980-01-06T00:00:00.000000Z",
        "Operations",
        "Number of GPS seconds between the GPS epoch (1980-01-06T00:00:00.000000Z UTC) and the "
        "ATLAS Standard Data Product (SDP) epoch (2018-01-01:T00.00.00.000000 UTC). Add this "
        "value to delta time parameters to compute full gps_seconds (relative to the GPS epoch) "
        "for each data point.",
    ),
    "data_end_utc": _aux(
        "S27",
        "End UTC Time of Granule (CCSDS-A, Actual)",
        "1",
        "Derived",
        "UTC (in CCSDS-A format) of the last data point within the granule.",
    ),
    "data_start_utc": _aux(
        "S27",
        "Start UTC Time of Granule (CCSDS-A, Actual)",
        "1",
        "Derived",
        "UTC (in CCSDS-A format) of the first data point within the granule.",
    ),
    "end_delta_time": _aux(
        "f8",
        "ATLAS End Time (Actual)",
        "seconds since 2018-01-01",
        "Derived",
        "Number of GPS seconds since the ATLAS SDP epoch at the last data point in the file."
        + _EPOCH_NOTE,
        standard_name="time",
    ),
    "start_delta_time": _aux(
        "f8",
        "ATLAS Start Time (Actual)",
        "seconds since 2018-01-01",
        "Derived",
        "Number of GPS seconds since the ATLAS SDP epoch at the first data point in the file."
        + _EPOCH_NOTE,
        standard_name="time",
    ),
    "end_gpssow": _aux(
        "f8",
        "Ending GPS SOW of Granule (Actual)",
        "seconds",
        "Derived",
        "GPS seconds-of-week of the last data point in the granule.",
    ),
    "start_gpssow": _aux(
        "f8",
        "Start GPS SOW of Granule (Actual)",
        "seconds",
        "Derived",
        "GPS seconds-of-week of the first data point in the granule.",
    ),
    "end_gpsweek": _aux(
        "i4",
        "Ending GPSWeek of Granule (Actual)",
        "weeks from 1980-01-06",
        "Derived",
        "GPS week number of the last data point in the granule.",
    ),
    "start_gpsweek": _aux(
        "i4",
        "Start GPSWeek of Granule (Actual)",
        "weeks from 1980-01-06",
        "Derived",
        "GPS week number of the first data point in the granule.",
    ),
    "granule_end_utc": _aux(
        "S27",
        "End UTC Time of Granule (CCSDS-A, Requested)",
        "1",
        "Derived",
        "Requested end time (in UTC CCSDS-A) of this granule.",
    ),
    "granule_start_utc": _aux(
        "S27",
        "Start UTC Time of Granule (CCSDS-A, Requested)",
        "1",
        "Derived",
        "Requested start time (in UTC CCSDS-A) of this granule.",
    ),
    **_start_end(
        "cycle",
        "Cycle",
        "The {which} cycle number associated with the data contained within this granule. The "
        "cycle number is the counter of the number of 91-day repeat cycles completed by the "
        "mission.",
    ),
    **_start_end(
        "geoseg",
        "Geolocation Segment",
        "The {which} geolocation segment number associated with the data contained within this "
        "granule. ICESat granule geographic regions are further refined by geolocation "
        "segments. During the geolocation process, a geolocation segment is created "
        "approximately every 20m from the start of the orbit to the end.",
    ),
    **_start_end(
        "orbit",
        "Orbit Number",
        "The {which} orbit number associated with the data contained within this granule. The "
        "orbit number increments each time the spacecraft completes a full orbit of the Earth.",
    ),
    **_start_end(
        "region",
        "Region",
        "The {which} product-specific region number associated with the data contained within "
        "this granule. ICESat-2 data products are separated by geographic regions.",
    ),
    **_start_end(
        "rgt",
        "Reference Groundtrack",
        "The {which} reference groundtrack (RGT) number associated with the data contained "
        "within this granule. There are 1387 reference groundtrack in the ICESat-2 repeat "
        "orbit. The reference groundtrack increments each time the spacecraft completes a full "
        "orbit of the Earth and resets to 1 each time the spacecraft completes a full cycle.",
    ),
    "release": _aux(
        "S3",
        "Release Number",
        "1",
        "Operations",
        "Release number of the granule. The release number is incremented when the software or "
        "ancillary data used to create the granule has been changed.",
    ),
    "version": _aux(
        "S2",
        "Version",
        "1",
        "Operations",
        "Version number of this granule within the release. It is a sequential number "
        "corresponding to the number of times the granule has been reprocessed for the current "
        "release.",
    ),
}


def _orbit(
    dtype: str, long_name: str, units: str, source: str, description: str, **kw: AttrValue
) -> Var:
    return _v(
        dtype, "referenceInformation", long_name, units, source, description, coordinates=None, **kw
    )


ORBIT_INFO: dict[str, Var] = {
    "bounding_polygon_lat1": _orbit(
        "f8",
        "Bounding Polygon Latitude",
        "degrees_north",
        "Derived",
        "Latitudes of the vertices of a polygon bounding the data of all six ground tracks, "
        "listed counter-clockwise and closed.",
        standard_name="latitude",
    ),
    "bounding_polygon_lon1": _orbit(
        "f8",
        "Bounding Polygon Longitude",
        "degrees_east",
        "Derived",
        "Longitudes of the vertices of a polygon bounding the data of all six ground tracks, "
        "listed counter-clockwise and closed.",
        standard_name="longitude",
    ),
    "crossing_time": _orbit(
        "f8",
        "Ascending Node Crossing Time",
        "seconds since 2018-01-01",
        "POD/PPD",
        "The time, in seconds since the ATLAS SDP GPS Epoch, at which the ascending node "
        "crosses the equator." + _EPOCH_NOTE,
        standard_name="time",
    ),
    "cycle_number": _orbit(
        "i1",
        "Cycle Number",
        "counts",
        "POD/PPD",
        "Tracks the number of 91-day cycles in the mission, beginning with 01.  A unique orbit "
        "number can be determined by subtracting 1 from the cycle_number, multiplying by 1387 "
        "and adding the rgt value.",
    ),
    "lan": _orbit(
        "f8",
        "Ascending Node Longitude",
        "degrees_east",
        "POD/PPD",
        "Longitude at the ascending node crossing.",
    ),
    "orbit_number": _orbit(
        "u2",
        "Orbit Number",
        "1",
        "Operations",
        "Unique identifying number for each planned ICESat-2 orbit.",
    ),
    "rgt": _orbit(
        "i2",
        "Reference Ground Track",
        "counts",
        "POD/PPD",
        "The reference ground track (RGT) is the track on the earth at which a specified unit "
        "vector within the observatory is pointed. Under nominal operating conditions, there "
        "will be no data collected along the RGT, as the RGT is spanned by GT2L and GT2R.  "
        "During slews or off-pointing, it is possible that ground tracks may intersect the RGT. "
        "The ICESat-2 mission has 1387 RGTs.",
    ),
    "sc_orient": _orbit(
        "i1",
        "Spacecraft Orientation",
        "1",
        "POD/PPD",
        "This parameter tracks the spacecraft orientation between forward, backward and "
        "transitional flight modes. ICESat-2 is considered to be flying forward when the weak "
        "beams are leading the strong beams; and backward when the strong beams are leading the "
        "weak beams. ICESat-2 is considered to be in transition while it is maneuvering between "
        "the two orientations. Science quality is potentially degraded while in transition mode.",
        flag_meanings="backward forward transition",
        flag_values=(0, 1, 2),
    ),
    "sc_orient_time": _orbit(
        "f8",
        "Time of Last Spacecraft Orientation Change",
        "seconds since 2018-01-01",
        "POD/PPD",
        "The time of the last spacecraft orientation change between forward, backward and "
        "transitional flight modes, expressed in seconds since the ATLAS SDP GPS Epoch."
        + _EPOCH_NOTE,
        standard_name="time",
    ),
}

_QA_SURF = " Five values, one per surface type: land, ocean, sea ice, land ice and inland water."

QUALITY_BEAM: dict[str, Var] = {
    f"qa_{kind}_signal_conf_ph_{level}": _v(
        "f4" if kind == "perc" else "i4",
        "qualityInformation",
        f"{'Percent' if kind == 'perc' else 'Total'} of {level} confidence photons",
        "percent" if kind == "perc" else "counts",
        "ATL03 QA",
        (
            f"{'Percentage' if kind == 'perc' else 'Number'} of photons with a signal "
            f"confidence of {level} (signal_conf_ph = {value})." + _QA_SURF
        ),
        coordinates=None,
    )
    for kind in ("perc", "total")
    for level, value in (("high", 4), ("med", 3), ("low", 2))
} | {
    "qa_perc_surf_type": _v(
        "f4",
        "qualityInformation",
        "Percent of segments of each surface type",
        "percent",
        "ATL03 QA",
        "Percentage of geolocation segments flagged for each surface type." + _QA_SURF,
        coordinates=None,
    ),
}

QUALITY_GRANULE: dict[str, Var] = {
    "qa_granule_fail_reason": _v(
        "i4",
        "qualityInformation",
        "Granule Failure Reason",
        "1",
        "ATL03 QA",
        "Flag indicating the reason of a granule failure; 0 when the granule passes.",
        coordinates=None,
    ),
    "qa_granule_pass_fail": _v(
        "i4",
        "qualityInformation",
        "Granule Pass Flag",
        "1",
        "ATL03 QA",
        "Flag indicating granule quality. 0=granule passes automatic QA. 1=granule fails "
        "automatic QA.",
        coordinates=None,
        flag_meanings="PASS FAIL",
        flag_values=(0, 1),
    ),
}

DIMENSION_SCALES: dict[str, tuple[int, Var]] = {
    "ds_surf_type": (
        5,
        _v(
            "i4",
            "auxiliaryInformation",
            "Surface Type Dimension Scale",
            "1",
            "Operations",
            "Dimension scale indexing the surface type array (gtx/geolocation/surf_type, "
            "gtx/heights/signal_conf_ph): 1=land, 2=ocean, 3=sea ice, 4=land ice, 5=inland "
            "water.",
            coordinates=None,
        ),
    ),
    "ds_xyz": (
        3,
        _v(
            "i4",
            "auxiliaryInformation",
            "XYZ Dimension Scale",
            "1",
            "Operations",
            "Dimension scale indexing the X-Y-Z components of the spacecraft velocity (east "
            "component, north component, up component) an observer on the ground would "
            "measure (gtx/geolocation/velocity_sc).",
            coordinates=None,
        ),
    ),
}

SERIES_ABSTRACT = (
    "The ICESat-2 ATL03 standard data product contains precise latitude, longitude and height "
    "above ellipsoid for all received photons. Geophysical corrections are applied to the photon "
    "height values and each photon is classified as signal vs. background. Includes segmented "
    "data at a 20-meter along-track length. Geophysical corrections, atmosphere corrections and   "
    "the surface types (land ice, sea ice, ocean, land, inland water) are provided for each "
    "20-meter segment."
)

CREDIT = (
    "The software that generates the ATL03 product was designed and implemented within the "
    "ICESat-2 Science Investigator-led Processing System at the NASA Goddard Space Flight Center "
    "in Greenbelt, Maryland."
)
