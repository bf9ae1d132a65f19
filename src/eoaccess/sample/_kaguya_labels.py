"""Sidecar files of a Kaguya TC ARD item: caminfo PVL, ISIS label, JAXA PDS3 label, ISD, provenance.

Each builder takes a :class:`~eoaccess.sample._kaguya_scene.Scene` (the observation geometry),
the statistics of the image actually written and a :class:`Production` record (processing dates
and file names), and returns the file text. Object/Group/keyword structure, keyword order and
value formats follow the real USGS ARD files in ``realdata/kaguya`` (caminfo.pvl, isis.lbl), the
JAXA ``SLN-L-TC-3`` PDS3 labels and the ALE/USGSCSM line-scanner ISD schema.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from eoaccess.sample._kaguya_pvl import (
    Block,
    Keyword,
    isis_double,
    isis_list,
    isis_time,
    render_isis,
    render_pds3,
)
from eoaccess.sample._kaguya_scene import (
    EXTENDED_MISSION,
    FOCAL_LENGTH_MM,
    MOON_RADIUS_M,
    NOMINAL_PHASE,
    NOMINAL_SCENE_LINES,
    PIXEL_PITCH_MM,
    SCENE_LINES,
    Scene,
    destination,
    ephemeris_time,
    moon_rotation,
    quaternion,
    solar_longitude,
    spacecraft_clock,
)

SCALING_FACTOR = 0.013  # radiance per DN (W/m**2/micron/sr)
ISIS_VERSION = '"7.2.0  | 2023-03-14"'
SENSOR_DESCRIPTION = (
    "Imagery type:Pushbroom. ImageryMode:Mono,Stereo. ExposureTimeMode:Long,Middle,Short. "
    "CompressionMode:NonComp,DCT. Q-table:32 patterns. H-table:4 patterns. "
    "SwathMode:F(Full),N(Nominal),H(Half). First pixel number:1(F),297(N),1172(H)."
)
SENSOR_DESCRIPTION2 = (
    "Pixel size:7x7[micron^2](TC1/TC2). Wavelength range:430-850[nm](TC1/TC2). "
    "A/D rate:10[bit](TC1/TC2). Slant angle:+/-15[degree] (from nadir to +x of S/C)(TC1/TC2). "
    "Focal length:72.45/72.63[mm](TC1/TC2). F number:3.97/3.98(TC1/TC2)."
)
EXPOSURE_MS = {"LONG": 6.5, "MIDDLE": 3.25, "SHORT": 1.625}
# Per-camera NAIF/ISIS constants (TC1 values from the real labels; TC2 mirrors the slant).
NAIF_FRAME = {1: -131351, 2: -131371}
NAIF_CK = {1: -131350, 2: -131370}
DISTORTION_X = {
    1: (-9.6499e-04, 9.8441e-04, 8.5773e-06, -3.7438e-06),
    2: (9.9694e-04, 1.1206e-03, -1.9433e-06, -3.6012e-06),
}
DISTORTION_Y = {
    1: (-0.0013796, 1.3502e-05, 2.7251e-06, -6.1938e-06),
    2: (-0.0013624, -1.2347e-05, 2.2011e-06, 6.4526e-06),
}
BORESIGHT = {1: (-0.0725, 0.0214), 2: (0.0833, 0.0259)}
_TC1_CONSTANT_ROTATION = (
    0.96621809368586,
    -9.13008670889038e-04,
    -0.25772419725208,
    7.985363329953e-04,
    0.99999953055997,
    -5.4883472482896e-04,
    0.25772457735688,
    3.24491906175013e-04,
    0.96621836917501,
)
_BODY_CONSTANT_ROTATION = (
    0.99999987325471,
    -3.29285422375571e-04,
    3.80869618671387e-04,
    3.29286000210947e-04,
    0.99999994578431,
    -1.45444093783627e-06,
    -3.80869119096078e-04,
    1.57985578682691e-06,
    0.99999992746811,
)
_KERNEL_SHAPE = "/mount/efs/Lunar_LRO_LOLAKaguya_DEMmerge_Global_512ppd_radius.cub"
_SPK_EXTENDED = "$kaguya/kernels/spk//SELMAINGRGM900CL660DIRALT2008103020090610.bsp"
_SPK_PRIMARY = "$kaguya/kernels/spk/SEL_M_071020_081226_SGMH_02.BSP"


@dataclass(frozen=True)
class Production:
    """When and how a scene was processed: JAXA L2B0 product, USGS ISIS run and STAC record."""

    jaxa_created: datetime  # PRODUCT_CREATION_TIME
    jaxa_started: datetime  # PROGRAM_START_TIME
    isis_run: datetime  # caminfo RunDate
    stac_created: datetime
    stac_updated: datetime
    time_digit: int  # 7th fractional digit ISIS prints on caminfo times
    telescope_temperature: float  # degC
    dpu_temperature: float
    original_label_bytes: int


def constant_rotation(camera: int) -> np.ndarray:
    """Spacecraft -> camera rotation (3x3): TC1 slanted ~15 deg forward, TC2 backward.

    TC1 is the calibrated matrix of the real labels; TC2 mirrors its slant about the y axis.
    """
    matrix = np.array(_TC1_CONSTANT_ROTATION).reshape(3, 3)
    if camera == 2:
        matrix = matrix * np.array([[1.0, 1.0, -1.0], [1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]])
    return matrix


def _deg(value: float) -> str:
    return f"{value:.6f} <deg>"


def _tile(size: int) -> int:
    """ISIS tile edge for a cube dimension: the largest divisor not above 1024 (>= 128 if any)."""
    for tile in range(min(size, 1024), 0, -1):
        if size % tile == 0 and (tile >= 128 or size < 128):
            return tile
    return min(size, 1024)


def mission_phase(t: datetime) -> str:
    if t >= EXTENDED_MISSION:
        return "Extended"
    return "Nominal" if t >= NOMINAL_PHASE else "InitialCheckout"


@dataclass(frozen=True)
class _Mode:
    """Per-collection JAXA product conventions."""

    letter: str  # S or W in product ids and L2A names
    product_set: str
    data_set_id: str
    data_set_name: str
    observation_mode: str
    swath: str
    first_pixel: int


_MODES = {
    "monoscopic": _Mode(
        "S",
        "TC_s_Level2B0",
        "SLN-L-TC-3-S-LEVEL2B0-V1.0",
        "SELENE MOON TC 3 MONO LEVEL2B0 V1.0",
        "NORMAL",
        "FULL",
        1,
    ),
    "stereoscopic": _Mode(
        "W",
        "TC_w_Level2B0",
        "SLN-L-TC-3-W-LEVEL2B0-V1.0",
        "SELENE MOON TC 3 STEREO LEVEL2B0 V1.0",
        "NORMAL",
        "FULL",
        1,
    ),
    "spsupport": _Mode(
        "S",
        "TC_SPsupport_Level2B0",
        "SLN-L-TC-3-SP-SUPPORT-LEVEL2B0-V1.0",
        "SELENE MOON TC 3 SP SUPPORT LEVEL2B0 V1.0",
        "SUPPORT",
        "HALF",
        1172,
    ),
}


def _level2a_name(scene: Scene) -> str:
    mode = _MODES[scene.mode]
    kind = "S" if scene.mode == "spsupport" else "T"
    return (
        f"TC{scene.camera}{mode.letter}2A0_02{kind}{scene.exposure[0]}{mode.swath[0]}"
        f"{scene.orbit:05d}_{scene.strip:03d}_{scene.scene_number:04d}.img"
    )


def _calibration_files(scene: Scene) -> tuple[str, str]:
    orbits = "04740_07536" if scene.start >= EXTENDED_MISSION else "00293_04739"
    comp = "C" if scene.mode == "spsupport" else "N"
    dark = f"TC{scene.camera}_DRK_{orbits}_{scene.exposure[0]}_{comp}_b05.csv"
    flat = f"TC{scene.camera}_FLT_{orbits}_N_{comp}_b05.csv"
    return dark, flat


def _metakernel(scene: Scene) -> str:
    rise = "RISE100i_05" if scene.start >= EXTENDED_MISSION else "RISE100h_02"
    return f"RGC_INF_TCv401IK_MIv200IK_SPv105IK_{rise}_LongCK_D_V02_de421_110706.mk"


def ring_wkt(lon: np.ndarray, lat: np.ndarray) -> str:
    """ISIS GisFootprint: MULTIPOLYGON with 16-decimal 0-360 longitudes."""
    pairs = ", ".join(f"{x:.16f} {y:.16f}" for x, y in zip(lon, lat, strict=True))
    return f"MULTIPOLYGON ((({pairs})))"


def polygon_area_km2(lon: np.ndarray, lat: np.ndarray) -> float:
    """Area of a small lon/lat ring on the sphere (local equal-area projection), km^2."""
    k = MOON_RADIUS_M * math.pi / 180.0 / 1000.0
    x = lon * k * np.cos(np.radians(lat))
    y = lat * k
    return float(abs(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])) / 2.0)


def ring_centroid(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float]:
    """Planar centroid (lon, lat) of a closed ring, as GIS libraries compute it."""
    cross = lon[:-1] * lat[1:] - lon[1:] * lat[:-1]
    area = cross.sum() / 2.0
    cx = ((lon[:-1] + lon[1:]) * cross).sum() / (6.0 * area)
    cy = ((lat[:-1] + lat[1:]) * cross).sum() / (6.0 * area)
    return float(cx), float(cy)


def caminfo_text(
    scene: Scene,
    stats: dict[str, float],
    map_gsd: float,
    ring: tuple[np.ndarray, np.ndarray],
    production: Production,
) -> str:
    """``<id>.caminfo.pvl``: ISIS caminfo output (Parameters, Statistics, Geometry, Polygon)."""
    fp = scene.footprint
    d = isis_double
    digit = str(production.time_digit)
    total = float(scene.lines * scene.samples)
    parameters = Block("Object", "Parameters")
    parameters.add("Program", "caminfo").add("IsisVersion", ISIS_VERSION)
    parameters.add("RunDate", isis_time(production.isis_run, 0))
    parameters.add("IsisId", f"KAGUYA/TC{scene.camera}/{isis_time(scene.sclk_start_time)}")
    parameters.add("From", f"{scene.product_id}.l1.cub")
    parameters.add("Lines", str(scene.lines)).add("Samples", str(scene.samples)).add("Bands", "1")

    statistics = Block("Object", "Statistics")
    statistics.add("MeanValue", d(stats["mean"] * SCALING_FACTOR))
    statistics.add("StandardDeviation", d(stats["stddev"] * SCALING_FACTOR))
    statistics.add("MinimumValue", d(round(stats["minimum"] * SCALING_FACTOR, 6)))
    statistics.add("MaximumValue", d(round(stats["maximum"] * SCALING_FACTOR, 6)))
    for special in ("PercentHIS", "PercentHRS", "PercentLIS", "PercentLRS", "PercentNull"):
        statistics.add(special, "0.0")
    statistics.add("TotalPixels", d(total))

    corners = {
        "UpperLeft": fp.ground(np.array(0.5), np.array(0.5)),
        "LowerLeft": fp.ground(np.array(0.5), np.array(scene.lines - 0.5)),
        "LowerRight": fp.ground(np.array(scene.samples - 0.5), np.array(scene.lines - 0.5)),
        "UpperRight": fp.ground(np.array(scene.samples - 0.5), np.array(0.5)),
    }
    ss_lat, ss_lon = scene.subsolar
    sc_lat, sc_lon = scene.subspacecraft
    et = ephemeris_time(scene.center_time)
    look = moon_rotation(et).T @ (scene.target_vector - scene.spacecraft_vector)
    look /= np.linalg.norm(look)
    resolution = scene.pixel_resolution
    tan_e = math.tan(math.radians(scene.emission))
    tan_i = math.tan(math.radians(scene.incidence))
    sc_az = math.radians(scene.spacecraft_azimuth)
    sun_az = math.radians(scene.sun_azimuth)
    geometry = Block("Object", "Geometry")
    geometry.add("BandsUsed", "1").add("ReferenceBand", "1").add("OriginalBand", "1")
    geometry.add("Target", "MOON")
    geometry.add("StartTime", isis_time(scene.start) + digit)
    geometry.add("EndTime", isis_time(scene.end) + digit)
    geometry.add("CenterLine", d(scene.lines / 2)).add("CenterSample", d(scene.samples / 2))
    geometry.add("CenterLatitude", d(fp.lat)).add("CenterLongitude", d(fp.lon))
    geometry.add("CenterRadius", d(scene.center_radius_m))
    geometry.add("RightAscension", d(math.degrees(math.atan2(look[1], look[0])) % 360.0))
    geometry.add("Declination", d(math.degrees(math.asin(look[2]))))
    for name, (lon, lat) in corners.items():
        geometry.add(f"{name}Longitude", d(float(lon))).add(f"{name}Latitude", d(float(lat)))
    geometry.add("PhaseAngle", d(scene.phase)).add("EmissionAngle", d(scene.emission))
    geometry.add("IncidenceAngle", d(scene.incidence)).add("NorthAzimuth", d(scene.north_azimuth))
    geometry.add("OffNadir", d(scene.off_nadir))
    geometry.add("SolarLongitude", d(solar_longitude(scene.center_time)))
    geometry.add("LocalTime", d(scene.local_time))
    geometry.add("TargetCenterDistance", d(float(np.linalg.norm(scene.spacecraft_vector))))
    geometry.add("SlantDistance", d(scene.slant_distance_km))
    for name in ("SampleResolution", "LineResolution", "PixelResolution"):
        geometry.add(name, d(resolution))
    geometry.add("MeanGroundResolution", d(resolution * (1.0 + 0.5 * tan_e * tan_e * 0.09)))
    geometry.add("SubSolarAzimuth", d((scene.north_azimuth + scene.sun_azimuth) % 360.0))
    geometry.add("SubSolarGroundAzimuth", d(scene.sun_azimuth))
    geometry.add("SubSolarLatitude", d(ss_lat)).add("SubSolarLongitude", d(ss_lon))
    geometry.add(
        "SubSpacecraftAzimuth", d((scene.north_azimuth + scene.spacecraft_azimuth) % 360.0)
    )
    geometry.add("SubSpacecraftGroundAzimuth", d(scene.spacecraft_azimuth))
    geometry.add("SubSpacecraftLatitude", d(sc_lat)).add("SubSpacecraftLongitude", d(sc_lon))
    geometry.add("ParallaxX", d(-tan_e * math.cos(sc_az))).add(
        "ParallaxY", d(tan_e * math.sin(sc_az))
    )
    geometry.add("ShadowX", d(-tan_i * math.cos(sun_az))).add(
        "ShadowY", d(tan_i * math.sin(sun_az))
    )
    for flag in ("HasLongitudeBoundary", "HasNorthPole", "HasSouthPole"):
        geometry.add(flag, "FALSE")
    oblique = resolution / math.cos(math.radians(scene.emission))
    for name in ("Sample", "Line", "Pixel", "Detector"):
        geometry.add(f"Oblique{name}Resolution", d(oblique))

    lon, lat = ring
    c_lon, c_lat = ring_centroid(lon, lat)
    area = polygon_area_km2(lon, lat)
    inc = fp.increment()
    polygon = Block("Object", "Polygon")
    polygon.add("CentroidLine", d(scene.lines / 2 + 0.3236)).add(
        "CentroidSample", d(scene.samples / 2 - 0.3764)
    )
    polygon.add("CentroidLatitude", d(c_lat)).add("CentroidLongitude", d(c_lon))
    polygon.add("CentroidRadius", d(scene.center_radius_m - 0.18) + " <meters>")
    polygon.add("SurfaceArea", d(area) + " <km^2>")
    coverage = 100.0 * area / (4.0 * math.pi * (MOON_RADIUS_M / 1000.0) ** 2)
    polygon.add("GlobalCoverage", d(round(coverage, 6)) + " <percent>")
    polygon.add("SampleIncrement", str(inc)).add("LineIncrement", str(inc))
    polygon.add("GisFootprint", f'"{ring_wkt(lon, lat)}"')
    mapping = Block("Group", "Mapping")
    mapping.add("TargetName", "MOON")
    mapping.add("EquatorialRadius", "1737400.0 <meters>").add("PolarRadius", "1737400.0 <meters>")
    mapping.add("LatitudeType", "Planetocentric").add("LongitudeDirection", "PositiveEast")
    mapping.add("LongitudeDomain", "360")
    mapping.add("MinimumLatitude", d(float(lat.min()) - 1.2e-6))
    mapping.add("MaximumLatitude", d(float(lat.max()) + 1.3e-6))
    mapping.add("MinimumLongitude", d(float(lon.min()) - 4.9e-6))
    mapping.add("MaximumLongitude", d(float(lon.max()) + 1.3e-6))
    mapping.add("PixelResolution", d(map_gsd))
    mapping.add("ProjectionName", "Sinusoidal").add("CenterLongitude", d(fp.lon))
    polygon.children.append(mapping)

    caminfo = Block("Object", "Caminfo", [parameters, statistics, geometry, polygon])
    return render_isis([caminfo])


def _field_group(names: list[str]) -> list[Keyword | Block]:
    return [
        Block("Group", "Field", [("Name", n), ("Type", "Double"), ("Size", "1")]) for n in names
    ]


def isis_label_text(scene: Scene, stats: dict[str, float], production: Production) -> str:
    """``<id>.isis.lbl``: the label of the spiceinit'ed ISIS level-1 cube."""
    mode = _MODES[scene.mode]
    cam = scene.camera
    start, stop = scene.sclk_start_time, scene.sclk_stop_time
    orig_start = start + timedelta(microseconds=3192)
    orig_stop = orig_start + timedelta(seconds=(scene.lines - 1) * 0.0065)
    sclk0, sclk1 = spacecraft_clock(start), spacecraft_clock(stop)
    exposure = EXPOSURE_MS[scene.exposure]

    core = Block("Object", "Core")
    core.add("StartByte", "65537").add("Format", "Tile")
    core.add("TileSamples", str(_tile(scene.samples))).add("TileLines", str(_tile(scene.lines)))
    core.children.append(
        Block(
            "Group",
            "Dimensions",
            [("Samples", str(scene.samples)), ("Lines", str(scene.lines)), ("Bands", "1")],
        )
    )
    core.children.append(
        Block(
            "Group",
            "Pixels",
            [
                ("Type", "SignedWord"),
                ("ByteOrder", "Lsb"),
                ("Base", "0.0"),
                ("Multiplier", "0.013"),
            ],
        )
    )
    instrument = Block("Group", "Instrument")
    instrument.add("MissionName", "SELENE").add("SpacecraftName", "KAGUYA")
    instrument.add("InstrumentName", f'"TERRAIN CAMERA {cam}"').add("InstrumentId", f"TC{cam}")
    instrument.add("TargetName", "MOON").add("ObservationModeId", mode.observation_mode)
    instrument.add("SensorDescription", f'"{SENSOR_DESCRIPTION}"')
    instrument.add("SensorDescription2", f'"{SENSOR_DESCRIPTION2}"')
    instrument.add("StartTime", isis_time(start)).add("StopTime", isis_time(stop))
    instrument.add("OriginalStartTime", isis_time(orig_start))
    instrument.add("OriginalStopTime", isis_time(orig_stop))
    instrument.add("ExposureModeId", scene.exposure)
    instrument.add("ExposureDuration", f"{exposure:.6f} <ms>")
    instrument.add("OriginalSpacecraftClockStartCount", f'"{sclk0 + 0.0032:.4f} <s>"')
    instrument.add("OriginalSpacecraftClockStopCount", f'"{sclk1 + 0.0033:.4f} <s>"')
    instrument.add("SpacecraftClockStartCount", f"{sclk0:.6f} <s>")
    instrument.add("SpacecraftClockStopCount", f"{sclk1:.6f} <s>")
    instrument.add("OriginalLineSamplingInterval", "6.500000 <ms>")
    instrument.add("LineSamplingInterval", f"{scene.line_interval * 1000:.6f} <ms>")
    instrument.add("SwathModeId", mode.swath).add("IlluminationCondition", scene.illumination)

    dark, flat = _calibration_files(scene)
    archive = Block("Group", "Archive")
    archive.add("ProductId", scene.product_id)
    archive.add("SoftwareName", f"RGC_{mode.product_set}").add("SoftwareVersion", "1.0.0")
    archive.add("ProcessVersionId", "L2B")
    archive.add("ProductCreationTime", isis_time(production.jaxa_created, 0))
    archive.add("ProgramStartTime", isis_time(production.jaxa_started, 0))
    archive.add("ProducerId", "LISM").add("ProductSetId", mode.product_set)
    archive.add("ProductVersionId", "01").add("RegisteredProduct", "Y")
    archive.add("Level2AFileName", _level2a_name(scene))
    archive.add("SpiceMetakernelFileName", _metakernel(scene))
    archive.add("DataSetId", mode.data_set_id).add("ImageValueType", "RADIANCE")
    archive.add("ImageUnit", "W/m**2/micron/sr")
    archive.add("MinForStatisticalEvaluation", "0").add("MaxForStatisticalEvaluation", "32767")
    archive.add("SceneMaximumDn", str(int(stats["maximum"]) - 2))
    archive.add("SceneMinimumDn", str(int(stats["minimum"]) + 1))
    archive.add("SceneAverageDn", f"{stats['mean']:.1f}")
    archive.add("SceneStdevDn", f"{stats['stddev'] * 0.995:.1f}")
    archive.add("SceneModeDn", str(int(stats["mode"])))
    archive.add("ShadowedAreaMinimum", "0").add("ShadowedAreaMaximum", "0")
    archive.add("ShadowedAreaPercentage", "0")
    archive.add("InvalidType", "(SATURATION, MINUS, DUMMY_DEFECT, OTHER)")
    archive.add("InvalidValue", "(-20000, -21000, -22000, -23000)")
    archive.add("InvalidPixels", "(0, 0, 0, 0)")
    archive.add("DarkFileName", dark).add("FlatFileName", flat)
    archive.add("EfficFileName", f"TC{cam}_EFF_PRFLT_N_N_v01.csv")
    archive.add("NonlinFileName", f"TC{cam}_NLT_PRFLT_N_N_v01.csv")
    archive.add("RadCnvCoef", "3.790009 <W/m**2/micron/sr>")
    archive.add("L2aDeadPixelThreshold", "30").add("L2aSaturationThreshold", "1023")
    archive.add("DarkValidMinimum", "-5")
    archive.add("RadianceSaturationThreshold", "425.971000 <W/m**2/micron/sr>")
    (ul, ur, ll, lr) = scene.jaxa_corners
    for name, (lat, lon) in (
        ("UpperLeft", ul),
        ("UpperRight", ur),
        ("LowerLeft", ll),
        ("LowerRight", lr),
    ):
        archive.add(f"{name}Latitude", _deg(lat)).add(f"{name}Longitude", _deg(lon))

    bandbin = Block(
        "Group", "BandBin", [("FilterName", "BroadBand"), ("Center", "640nm"), ("Width", "420nm")]
    )
    extended = scene.start >= EXTENDED_MISSION
    spk = _SPK_EXTENDED if extended else _SPK_PRIMARY
    kernels = Block("Group", "Kernels")
    kernels.add("NaifCkCode", str(NAIF_CK[cam])).add("NaifFrameCode", str(NAIF_FRAME[cam]))
    kernels.add("LeapSecond", "$base/kernels/lsk/naif0012.tls")
    kernels.add(
        "TargetAttitudeShape",
        isis_list(
            [
                "$base/kernels/pck/pck00009.tpc",
                "$kaguya/kernels/pck/moon_080317.tf",
                "$kaguya/kernels/pck/moon_assoc_me.tf",
            ]
        ),
    )
    kernels.add(
        "TargetPosition",
        isis_list(
            [
                "Table",
                "$kaguya/kernels/tspk/moon_pa_de421_1900-2050.bpc",
                "$kaguya/kernels/tspk/de421.bsp",
            ]
        ),
    )
    kernels.add(
        "InstrumentPointing",
        isis_list(
            ["Table", "$kaguya/kernels/ck/SEL_M_ALL_D_V02.BC", "$kaguya/kernels/fk/SEL_V01.TF"]
        ),
    )
    kernels.add("Instrument", "$kaguya/kernels/ik/SEL_TC_V01.TI")
    kernels.add("SpacecraftClock", "$kaguya/kernels/sclk/SEL_M_V01.TSC")
    kernels.add("InstrumentPosition", isis_list(["Table", spk]))
    kernels.add("InstrumentAddendum", "$kaguya/kernels/iak/kaguyaTcAddendum007.ti")
    kernels.add("ShapeModel", _KERNEL_SHAPE)
    kernels.add("InstrumentPositionQuality", "Smithed" if extended else "Reconstructed")
    kernels.add("InstrumentPointingQuality", "Reconstructed")
    kernels.add("CameraVersion", "2").add("Source", "isis")
    cube = Block("Object", "IsisCube", [core, instrument, archive, bandbin, kernels])

    et0 = ephemeris_time(scene.start)
    et1 = ephemeris_time(scene.end)
    ck_records = 3 + round(scene.lines / 330)
    cube_end = 65536 + scene.lines * scene.samples * 2
    original_label = cube_end + 674
    pointing_start = original_label + production.original_label_bytes
    sizes = {"InstrumentPointing": 64 * ck_records, "InstrumentPosition": 168, "BodyRotation": 128}
    position_start = pointing_start + sizes["InstrumentPointing"]
    body_start = position_start + sizes["InstrumentPosition"]
    sun_start = body_start + sizes["BodyRotation"]
    history_start = sun_start + 112
    rotation = constant_rotation(cam).ravel()
    quat_fields = ["J2000Q0", "J2000Q1", "J2000Q2", "J2000Q3", "AV1", "AV2", "AV3", "ET"]
    pos_fields = ["J2000X", "J2000Y", "J2000Z", "J2000XV", "J2000YV", "J2000ZV", "ET"]
    d = isis_double

    pointing = Block("Object", "Table")
    pointing.add("Name", "InstrumentPointing").add("StartByte", str(pointing_start))
    pointing.add("Bytes", str(sizes["InstrumentPointing"])).add("Records", str(ck_records))
    pointing.add("ByteOrder", "Lsb").add("TimeDependentFrames", "(-131000, 1)")
    pointing.add("ConstantFrames", f"({NAIF_CK[cam]}, -131320, -131000)")
    pointing.add("ConstantRotation", isis_list([d(v) for v in rotation]))
    pointing.add("CkTableStartTime", d(et0)).add("CkTableEndTime", d(et1))
    pointing.add("CkTableOriginalSize", str(scene.lines + 1)).add("FrameTypeCode", "3")
    pointing.add("Description", '"Created by spiceinit"')
    pointing.add(
        "Kernels",
        isis_list(["$kaguya/kernels/ck/SEL_M_ALL_D_V02.BC", "$kaguya/kernels/fk/SEL_V01.TF"]),
    )
    pointing.children.extend(_field_group(quat_fields))

    position = Block("Object", "Table")
    position.add("Name", "InstrumentPosition").add("StartByte", str(position_start))
    position.add("Bytes", "168").add("Records", "3").add("ByteOrder", "Lsb")
    position.add("CacheType", "HermiteSpline")
    position.add("SpkTableStartTime", d(et0)).add("SpkTableEndTime", d(et1))
    position.add("SpkTableOriginalSize", d(float(scene.lines + 1)))
    position.add("Description", '"Created by spiceinit"').add("Kernels", spk)
    position.children.extend(_field_group(pos_fields))

    body = Block("Object", "Table")
    body.add("Name", "BodyRotation").add("StartByte", str(body_start)).add("Bytes", "128")
    body.add("Records", "2").add("ByteOrder", "Lsb").add("TimeDependentFrames", "(31006, 1)")
    body.add("ConstantFrames", "(31001, 31007, 31006)")
    body.add("ConstantRotation", isis_list([d(v) for v in _BODY_CONSTANT_ROTATION]))
    body.add("CkTableStartTime", d(et0)).add("CkTableEndTime", d(et1))
    body.add("CkTableOriginalSize", "2").add("FrameTypeCode", "6")
    body.add("Description", '"Created by spiceinit"')
    body.add(
        "Kernels",
        isis_list(
            [
                "$kaguya/kernels/tspk/moon_pa_de421_1900-2050.bpc",
                "$kaguya/kernels/tspk/de421.bsp",
                "$base/kernels/pck/pck00009.tpc",
                "$kaguya/kernels/pck/moon_080317.tf",
                "$kaguya/kernels/pck/moon_assoc_me.tf",
            ]
        ),
    )
    body.add("SolarLongitude", d(solar_longitude(scene.start)))
    body.children.extend(_field_group(quat_fields))

    sun = Block("Object", "Table")
    sun.add("Name", "SunPosition").add("StartByte", str(sun_start)).add("Bytes", "112")
    sun.add("Records", "2").add("ByteOrder", "Lsb").add("CacheType", "Linear")
    sun.add("SpkTableStartTime", d(et0)).add("SpkTableEndTime", d(et1))
    sun.add("SpkTableOriginalSize", "2.0").add("Description", '"Created by spiceinit"')
    sun.add(
        "Kernels",
        isis_list(
            ["$kaguya/kernels/tspk/moon_pa_de421_1900-2050.bpc", "$kaguya/kernels/tspk/de421.bsp"]
        ),
    )
    sun.children.extend(_field_group(pos_fields))

    history = Block(
        "Object",
        "History",
        [("Name", "IsisCube"), ("StartByte", str(history_start)), ("Bytes", "1673")],
    )
    original = Block(
        "Object",
        "OriginalLabel",
        [
            ("Name", "IsisCube"),
            ("StartByte", str(original_label)),
            ("Bytes", str(production.original_label_bytes)),
        ],
    )
    naif = Block("Object", "NaifKeywords")
    ins = f"INS{NAIF_FRAME[cam]}"
    clock = f"CLOCK_ET_-131_{spacecraft_clock(start):.6f}_COMPUTED"
    naif.add("BODY_CODE", "301").add("BODY301_RADII", "(1737.4, 1737.4, 1737.4)")
    naif.add("BODY_FRAME_CODE", "31001")
    naif.add(f"{ins}_SWAP_OBSERVER_TARGET", "TRUE").add(f"{ins}_LIGHTTIME_CORRECTION", "NONE")
    naif.add(f"{ins}_LT_SURFACE_CORRECT", "FALSE")
    naif.add(f"{ins}_FOCAL_LENGTH", str(FOCAL_LENGTH_MM[cam]))
    naif.add(f"{ins}_PIXEL_PITCH", str(PIXEL_PITCH_MM))
    # ISIS caches the computed ET of the start clock count as the hex of a little-endian double.
    naif.add(clock, struct.pack("<d", ephemeris_time(scene.start)).hex())
    naif.add(f"{ins}_TRANSX", "(0.0, 0.0, -0.007)").add(f"{ins}_TRANSY", "(0.0, -0.007, 0.0)")
    naif.add(f"{ins}_ITRANSS", "(0.0, 0.0, -142.857142857)")
    naif.add(f"{ins}_ITRANSL", "(0.0, -142.857142857, 0.0)")
    naif.add(f"{ins}_BORESIGHT_SAMPLE", "2048.0").add(f"{ins}_BORESIGHT_LINE", "0.5")
    naif.add(f"{ins}_DISTORTION_COEF_X", isis_list([_naif_float(v) for v in DISTORTION_X[cam]]))
    naif.add(f"{ins}_DISTORTION_COEF_Y", isis_list([_naif_float(v) for v in DISTORTION_Y[cam]]))
    naif.add(f"{ins}_BORESIGHT", isis_list([str(v) for v in BORESIGHT[cam]]))

    return render_isis(
        [
            cube,
            Block("Object", "Label", [("Bytes", "65536")]),
            pointing,
            position,
            body,
            sun,
            history,
            original,
            naif,
        ]
    )


def _naif_float(value: float) -> str:
    """NAIF kernel numbers as ISIS copies them (``-9.6499e-04`` style for small magnitudes)."""
    if value != 0 and abs(value) < 1e-3:
        mantissa, exponent = f"{value:.4e}".split("e")
        return f"{mantissa}e{exponent[0]}{exponent[1:].zfill(2)}"
    return repr(value)


def _q(text: str) -> str:
    """A PDS3 quoted string (JAXA quotes every text value, which keeps the label strict PDS3)."""
    return f'"{text}"'


def _pds_time(value: datetime) -> str:
    return isis_time(value) + "Z"


def pds_label_text(scene: Scene, stats: dict[str, float], production: Production) -> str:
    """``<id>.lbl``: the JAXA PDS3 label of the Level-2B0 product (SLN-L-TC-3 archive)."""
    mode = _MODES[scene.mode]
    cam = scene.camera
    start, stop = scene.sclk_start_time, scene.sclk_stop_time
    orig_start = start + timedelta(microseconds=1938)
    sclk0, sclk1 = spacecraft_clock(start), spacecraft_clock(stop)
    ul, ur, ll, lr = scene.jaxa_corners
    mean_lat = sum(c[0] for c in scene.jaxa_corners) / 4
    mean_lon = sum(c[1] for c in scene.jaxa_corners) / 4
    dark, flat = _calibration_files(scene)
    other = "OFF" if scene.mode != "stereoscopic" else "ON"
    on = {1: "ON" if cam == 1 else other, 2: "ON" if cam == 2 else other}
    status = f'{{"TC1:{on[1]}", "TC2:{on[2]}", "MV:OFF", "MN:OFF", "SP:ON"}}'
    half = scene.mode == "spsupport"
    first = mode.first_pixel
    temp = production.telescope_temperature
    top: list[Keyword | Block] = [
        ("PDS_VERSION_ID", "PDS3"),
        ("RECORD_TYPE", "UNDEFINED"),
        ("FILE_NAME", _q(f"{scene.product_id}.img")),
        ("^IMAGE", f'("{scene.product_id}.img", 1 <BYTES>)'),
        ("MISSION_NAME", _q("SELENE")),
        ("DATA_SET_ID", _q(mode.data_set_id)),
        ("DATA_SET_NAME", _q(mode.data_set_name)),
        ("L2DB_ORIGINAL_ID", _q(mode.product_set)),
        ("PRODUCT_ID", _q(scene.product_id)),
        ("INSTRUMENT_TYPE", _q("IMAGER")),
        ("INSTRUMENT_ID", _q(f"TC{cam}")),
        ("INSTRUMENT_NAME", _q(f"TERRAIN CAMERA {cam}")),
        ("INSTRUMENT_HOST_NAME", _q("SELENE MAIN ORBITER")),
        ("TARGET_TYPE", _q("SATELLITE")),
        ("TARGET_NAME", _q("MOON")),
        ("START_TIME", _pds_time(orig_start)),
        ("STOP_TIME", _pds_time(orig_start + timedelta(seconds=(scene.lines - 1) * 0.0065))),
        ("SOFTWARE_NAME", _q(f"RGC_{mode.product_set}")),
        ("SOFTWARE_VERSION", _q("1.0.0")),
        ("PROCESS_VERSION_ID", _q("L2B")),
        ("PRODUCT_CREATION_TIME", isis_time(production.jaxa_created, 0) + "Z"),
        ("PROGRAM_START_TIME", isis_time(production.jaxa_started, 0) + "Z"),
        ("PRODUCER_ID", _q("LISM")),
        ("PRODUCT_SET_ID", _q(mode.product_set)),
        ("PRODUCT_VERSION_ID", _q("01")),
        ("REGISTERED_PRODUCT", _q("Y")),
        ("ILLUMINATION_CONDITION", _q(scene.illumination)),
        ("LEVEL2A_FILE_NAME", _q(_level2a_name(scene))),
        ("SPICE_METAKERNEL_FILE_NAME", _q(_metakernel(scene))),
        ("MISSION_PHASE_NAME", _q(mission_phase(scene.start))),
        ("REVOLUTION_NUMBER", str(scene.orbit)),
        ("STRIP_SEQUENCE_NUMBER", str(scene.strip)),
        ("SCENE_SEQUENCE_NUMBER", str(scene.scene_number)),
        ("UPPER_LEFT_DAYTIME_FLAG", _q("Day")),
        ("UPPER_RIGHT_DAYTIME_FLAG", _q("Day")),
        ("LOWER_LEFT_DAYTIME_FLAG", _q("Day")),
        ("LOWER_RIGHT_DAYTIME_FLAG", _q("Day")),
        ("OBSERVATION_MODE_ID", _q(mode.observation_mode)),
        ("SENSOR_DESCRIPTION", _q(SENSOR_DESCRIPTION)),
        ("SENSOR_DESCRIPTION2", _q(SENSOR_DESCRIPTION2)),
        ("DETECTOR_STATUS", status),
        ("EXPOSURE_MODE_ID", _q(scene.exposure)),
        ("LINE_EXPOSURE_DURATION", f"{EXPOSURE_MS[scene.exposure]:.6f} <ms>"),
        ("SPACECRAFT_CLOCK_START_COUNT", f"{sclk0 + 0.0019:.4f} <s>"),
        ("SPACECRAFT_CLOCK_STOP_COUNT", f"{sclk1 + 0.0020:.4f} <s>"),
        ("CORRECTED_SC_CLOCK_START_COUNT", f"{sclk0:.6f} <s>"),
        ("CORRECTED_SC_CLOCK_STOP_COUNT", f"{sclk1:.6f} <s>"),
        ("CORRECTED_START_TIME", _pds_time(start)),
        ("CORRECTED_STOP_TIME", _pds_time(stop)),
        ("LINE_SAMPLING_INTERVAL", "6.500000 <ms>"),
        ("CORRECTED_SAMPLING_INTERVAL", f"{scene.line_interval * 1000:.6f} <ms>"),
        ("UPPER_LEFT_LATITUDE", _deg(ul[0])),
        ("UPPER_LEFT_LONGITUDE", _deg(ul[1])),
        ("UPPER_RIGHT_LATITUDE", _deg(ur[0])),
        ("UPPER_RIGHT_LONGITUDE", _deg(ur[1])),
        ("LOWER_LEFT_LATITUDE", _deg(ll[0])),
        ("LOWER_LEFT_LONGITUDE", _deg(ll[1])),
        ("LOWER_RIGHT_LATITUDE", _deg(lr[0])),
        ("LOWER_RIGHT_LONGITUDE", _deg(lr[1])),
        ("LOCATION_FLAG", _q("A")),
        ("ROLL_CANT", _q("NO")),
        ("SCENE_CENTER_LATITUDE", _deg(mean_lat)),
        ("SCENE_CENTER_LONGITUDE", _deg(mean_lon)),
        ("INCIDENCE_ANGLE", f"{scene.incidence:.3f} <deg>"),
        ("EMISSION_ANGLE", f"{scene.emission:.3f} <deg>"),
        ("PHASE_ANGLE", f"{scene.phase:.3f} <deg>"),
        ("SOLAR_AZIMUTH_ANGLE", f"{(scene.sun_azimuth + 9.9) % 360.0:.3f} <deg>"),
        ("FOCAL_PLANE_TEMPERATURE", f"{temp + 0.26:.2f} <degC>"),
        ("TELESCOPE_TEMPERATURE", f"{temp:.2f} <degC>"),
        ("SATELLITE_MOVING_DIRECTION", _q("+1" if scene.ascending else "-1")),
        ("FIRST_SAMPLED_LINE_POSITION", _q("UPPERMOST")),
        ("FIRST_DETECTOR_ELEM_POSITION", _q("LEFT")),
        ("A_AXIS_RADIUS", "1737.400 <km>"),
        ("B_AXIS_RADIUS", "1737.400 <km>"),
        ("C_AXIS_RADIUS", "1737.400 <km>"),
        ("DEFECT_PIXEL_POSITION", _q("N/A")),
        ("SWATH_MODE_ID", _q(mode.swath)),
        ("FIRST_PIXEL_NUMBER", str(first)),
        ("LAST_PIXEL_NUMBER", str(first + scene.samples - 1 - (2 if half else 0))),
        ("SPACECRAFT_ALTITUDE", f"{scene.altitude_km:.3f} <km>"),
        ("SPACECRAFT_GROUND_SPEED", f"{scene.footprint.line_m / 6.5:.3f} <km/s>"),
        ("TC1_TELESCOPE_TEMPERATURE", f"{temp - 0.15:.2f} <degC>"),
        ("TC2_TELESCOPE_TEMPERATURE", f"{temp - 0.15:.2f} <degC>"),
        ("DPU_TEMPERATURE", f"{production.dpu_temperature:.2f} <degC>"),
        ("TM_TEMPERATURE", f"{temp - 1.0:.2f} <degC>"),
        ("TM_RADIATOR_TEMPERATURE", f"{production.dpu_temperature + 1.3:.2f} <degC>"),
        ("Q_TABLE_ID", _q("SP_SPT_A" if half else "N/A")),
        ("HUFFMAN_TABLE_ID", _q("DCTSPT_A" if half else "N/A")),
        ("DATA_COMPRESSION_PERCENT_MEAN", "1.2" if half else "100.0"),
        ("DATA_COMPRESSION_PERCENT_MAX", "1.6" if half else "100.0"),
        ("DATA_COMPRESSION_PERCENT_MIN", "0.9" if half else "100.0"),
    ]
    image = Block("OBJECT", "IMAGE")
    image.add("COMPRESSION_TYPE", _q("DCT_DECOMPRESSED" if half else "N/A"))
    image.add("COMPRESSION_PERCENT", "1.0" if half else "100.0")
    image.add("NOMINAL_LINE_NUMBER", str(NOMINAL_SCENE_LINES))
    image.add("NOMINAL_OVERLAP_LINE_NUMBER", str(SCENE_LINES - NOMINAL_SCENE_LINES))
    image.add("OVERLAP_LINE_NUMBER", str(SCENE_LINES - NOMINAL_SCENE_LINES))
    image.add("LINES", str(scene.lines)).add("LINE_SAMPLES", str(scene.samples))
    image.add("SAMPLE_TYPE", _q("MSB_INTEGER")).add("SAMPLE_BITS", "16")
    image.add("IMAGE_VALUE_TYPE", _q("RADIANCE")).add("UNIT", _q("W/m**2/micron/sr"))
    image.add("SCALING_FACTOR", "1.30000e-02").add("OFFSET", "0.00000e+00")
    image.add("MIN_FOR_STATISTICAL_EVALUATION", "0").add("MAX_FOR_STATISTICAL_EVALUATION", "32767")
    image.add("SCENE_MAXIMUM_DN", str(int(stats["maximum"]) - 2))
    image.add("SCENE_MINIMUM_DN", str(int(stats["minimum"]) + 1))
    image.add("SCENE_AVERAGE_DN", f"{stats['mean']:.1f}")
    image.add("SCENE_STDEV_DN", f"{stats['stddev'] * 0.995:.1f}")
    image.add("SCENE_MODE_DN", str(int(stats["mode"])))
    image.add("SHADOWED_AREA_MINIMUM", "0").add("SHADOWED_AREA_MAXIMUM", "0")
    image.add("SHADOWED_AREA_PERCENTAGE", "0")
    image.add("INVALID_TYPE", '("SATURATION", "MINUS", "DUMMY_DEFECT", "OTHER")')
    image.add("INVALID_VALUE", "(-20000, -21000, -22000, -23000)")
    image.add("INVALID_PIXELS", "(0, 0, 0, 0)")
    processing = Block("OBJECT", "PROCESSING_PARAMETERS")
    processing.add("DARK_FILE_NAME", _q(dark)).add("FLAT_FILE_NAME", _q(flat))
    processing.add("EFFIC_FILE_NAME", _q(f"TC{cam}_EFF_PRFLT_N_N_v01.csv"))
    processing.add("NONLIN_FILE_NAME", _q(f"TC{cam}_NLT_PRFLT_N_N_v01.csv"))
    processing.add("RAD_CNV_COEF", "3.790009 <W/m**2/micron/sr>")
    processing.add("L2A_DEAD_PIXEL_THRESHOLD", "30").add("L2A_SATURATION_THRESHOLD", "1023")
    processing.add("DARK_VALID_MINIMUM", "-5")
    processing.add("RADIANCE_SATURATION_THRESHOLD", "425.971000 <W/m**2/micron/sr>")
    return render_pds3([*top, image, processing])


def _orbit_state(scene: Scene, t: datetime) -> tuple[np.ndarray, np.ndarray]:
    """Spacecraft J2000 position (km) and velocity (km/s) relative to the Moon at UTC ``t``."""

    def position(when: datetime) -> np.ndarray:
        dt = (when - scene.center_time).total_seconds()
        rate = scene.footprint.line_m / scene.line_interval / MOON_RADIUS_M  # rad/s over ground
        heading = (0.0 if scene.ascending else 180.0) + math.degrees(scene.footprint.heading)
        lat, lon = destination(*scene.subspacecraft, heading, math.degrees(rate * dt))
        r = MOON_RADIUS_M / 1000.0 + scene.altitude_km
        body = np.array(
            [
                r * math.cos(math.radians(lat)) * math.cos(math.radians(lon)),
                r * math.cos(math.radians(lat)) * math.sin(math.radians(lon)),
                r * math.sin(math.radians(lat)),
            ]
        )
        return moon_rotation(ephemeris_time(when)).T @ body

    here = position(t)
    velocity = position(t + timedelta(seconds=0.5)) - position(t - timedelta(seconds=0.5))
    return here, velocity


def _sun_state(scene: Scene, et: float) -> tuple[np.ndarray, np.ndarray]:
    """Sun position (km) and velocity (km/s) relative to the Moon in J2000."""
    lat, lon = scene.subsolar
    au = 1.4959787e8 * (1.0 + 0.0167 * math.cos(math.radians(solar_longitude(scene.start) - 283.0)))
    p, lam = math.radians(lat), math.radians(lon)
    body = au * np.array([math.cos(p) * math.cos(lam), math.cos(p) * math.sin(lam), math.sin(p)])
    pos = moon_rotation(et).T @ body
    ecliptic_pole = np.array([0.0, -0.3977772, 0.9174821])
    return pos, np.cross(1.99098e-7 * ecliptic_pole, pos)


def isd_json(scene: Scene) -> str:
    """``<id>.isd.json``: USGSCSM line-scanner ISD as ALE generates it from the ISIS cube."""
    cam = scene.camera
    et0 = ephemeris_time(scene.start)
    et1 = ephemeris_time(scene.end)
    interval = scene.line_interval
    n_ck = 3 + round(scene.lines / 330)
    ck_times = np.linspace(et0, et1, n_ck)
    constant = constant_rotation(cam)
    quats, avs, positions, velocities = [], [], [], []
    for et in ck_times:
        when = scene.start + timedelta(seconds=float(et - et0))
        pos, vel = _orbit_state(scene, when)
        nadir = -pos / np.linalg.norm(pos)
        along = vel - np.dot(vel, nadir) * nadir
        along /= np.linalg.norm(along)
        frame = np.vstack([along, np.cross(nadir, along), nadir])  # J2000 -> spacecraft
        quats.append(quaternion(frame))
        avs.append([float(v) for v in np.cross(pos, vel) / np.dot(pos, pos)])
    for et in np.linspace(et0, et1, 3):
        pos, vel = _orbit_state(scene, scene.start + timedelta(seconds=float(et - et0)))
        positions.append([float(v) for v in pos])
        velocities.append([float(v) for v in vel])
    body_q, body_av = [], []
    spin = 2.0 * math.pi / (27.321661 * 86400.0)
    for et in (et0, et1):
        rot = moon_rotation(et)
        body_q.append(quaternion(rot))
        body_av.append([float(v) for v in spin * rot[2]])
    sun_pos, sun_vel = [], []
    for et in (et0, et1):
        p, v = _sun_state(scene, et)
        sun_pos.append([float(x) for x in p])
        sun_vel.append([float(x) for x in v])
    half = scene.mode == "spsupport"
    ins = f"INS{NAIF_FRAME[cam]}"
    f2p = 1.0 / PIXEL_PITCH_MM
    isd = {
        "isis_camera_version": 2,
        "image_lines": scene.lines,
        "image_samples": scene.samples,
        "name_platform": "SELENE",
        "name_sensor": f"Terrain Camera {cam}",
        "reference_height": {"maxheight": 1000, "minheight": -1000, "unit": "m"},
        "name_model": "USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL",
        "interpolation_method": "lagrange",
        "line_scan_rate": [[0.5, -scene.lines / 2 * interval, interval]],
        "starting_ephemeris_time": et0,
        "center_ephemeris_time": et0 + scene.lines / 2 * interval,
        "radii": {"semimajor": 1737.4, "semiminor": 1737.4, "unit": "km"},
        "body_rotation": {
            "time_dependent_frames": [31006, 1],
            "ck_table_start_time": et0,
            "ck_table_end_time": et1,
            "ck_table_original_size": 2,
            "ephemeris_times": [et0, et1],
            "quaternions": body_q,
            "angular_velocities": body_av,
            "constant_frames": [31001, 31007, 31006],
            "constant_rotation": list(_BODY_CONSTANT_ROTATION),
            "reference_frame": 1,
        },
        "instrument_pointing": {
            "time_dependent_frames": [-131000, 1],
            "ck_table_start_time": et0,
            "ck_table_end_time": et1,
            "ck_table_original_size": scene.lines + 1,
            "ephemeris_times": [float(t) for t in ck_times],
            "quaternions": quats,
            "angular_velocities": avs,
            "reference_frame": 1,
            "constant_frames": [NAIF_CK[cam], -131320, -131000],
            "constant_rotation": [float(v) for v in constant.ravel()],
        },
        "naif_keywords": {
            "BODY301_RADII": [1737.4, 1737.4, 1737.4],
            "BODY_FRAME_CODE": 31001,
            "BODY_CODE": 301,
            f"{ins}_PIXEL_SAMPLES": 4096.0,
            f"{ins}_BORESIGHT_SAMPLE": 2047.5,
            f"{ins}_BORESIGHT": [*BORESIGHT[cam], FOCAL_LENGTH_MM[cam]],
            f"{ins}_PIXEL_SIZE": PIXEL_PITCH_MM,
            f"{ins}_FOCAL_LENGTH": FOCAL_LENGTH_MM[cam],
            f"{ins}_FOV_SHAPE": "RECTANGLE",
            f"{ins}_PIXEL_LINES": 1.0,
            f"{ins}_F_NUMBER": 3.97 if cam == 1 else 3.98,
            f"{ins}_TRANSX": [0.0, 0.0, -PIXEL_PITCH_MM],
            f"{ins}_TRANSY": [0.0, -PIXEL_PITCH_MM, 0.0],
            f"{ins}_DISTORTION_COEF_X": list(DISTORTION_X[cam]),
            f"{ins}_DISTORTION_COEF_Y": list(DISTORTION_Y[cam]),
            f"{ins}_FOV_FRAME": f"LISM_TC{cam}_HEAD",
            f"{ins}_ITRANSL": [0.0, -142.857142857, 0.0],
            f"{ins}_LT_SURFACE_CORRECT": False,
            f"{ins}_ITRANSS": [0.0, 0.0, -142.857142857],
            f"{ins}_BORESIGHT_LINE": 0.5,
            f"{ins}_SWAP_OBSERVER_TARGET": True,
            f"{ins}_LIGHTTIME_CORRECTION": "NONE",
            f"{ins}_PIXEL_PITCH": PIXEL_PITCH_MM,
            f"{ins}_CENTER": [2048.5, 1.0],
            "BODY301_POLE_RA": [269.9949, 0.0031, 0.0],
            "BODY301_POLE_DEC": [66.5392, 0.013, 0.0],
            "BODY301_PM": [38.3213, 13.17635815, -1.4e-12],
            "BODY301_LONG_AXIS": 0.0,
        },
        "detector_sample_summing": 1,
        "detector_line_summing": 1,
        "focal_length_model": {"focal_length": FOCAL_LENGTH_MM[cam]},
        "detector_center": {"line": 0.0, "sample": 2047.5},
        "focal2pixel_lines": [0, f2p, 0],
        "focal2pixel_samples": [0, 0, -f2p],
        "optical_distortion": {
            "kaguyalism": {
                "x": list(DISTORTION_X[cam]),
                "y": list(DISTORTION_Y[cam]),
                "boresight_x": BORESIGHT[cam][0],
                "boresight_y": BORESIGHT[cam][1],
            }
        },
        "starting_detector_line": 1,
        "starting_detector_sample": (1172 if half else 1) - 0.5,
        "instrument_position": {
            "spk_table_start_time": et0,
            "spk_table_end_time": et1,
            "spk_table_original_size": 3,
            "ephemeris_times": [float(t) for t in np.linspace(et0, et1, 3)],
            "positions": positions,
            "velocities": velocities,
            "reference_frame": 1,
        },
        "sun_position": {
            "spk_table_start_time": et0,
            "spk_table_end_time": et1,
            "spk_table_original_size": 2,
            "ephemeris_times": [et0, et1],
            "positions": sun_pos,
            "velocities": sun_vel,
            "reference_frame": 1,
        },
    }
    return json.dumps(isd, indent=2) + "\n"


def provenance_text(scene: Scene, production: Production, map_gsd: float) -> str:
    """``provenance.txt``: the processing chain from the JAXA product to the ARD files."""
    pid = scene.product_id
    run = production.isis_run
    steps = [
        ("kaguyatc2isis", f"from={pid}.lbl to={pid}.cub"),
        (
            "spiceinit",
            f"from={pid}.cub web=no attach=yes cksmithed=yes spksmithed=yes shape=user "
            f"model={_KERNEL_SHAPE}",
        ),
        ("spicefit", f"from={pid}.cub"),
        (
            "footprintinit",
            f"from={pid}.cub linc={scene.footprint.increment()} "
            f"sinc={scene.footprint.increment()} maxemission=89 maxincidence=89",
        ),
        (
            "caminfo",
            f"from={pid}.cub to={pid}.caminfo.pvl isislabel=no originallabel=no "
            "statistics=yes camstats=no polygon=yes",
        ),
        ("isd_generate", f"{pid}.cub --out {pid}.isd.json"),
        (
            "cam2map",
            f"from={pid}.cub to={pid}.l2.cub map=equirectangular_clon180.map "
            f"pixres=mpp resolution={map_gsd:.6f} defaultrange=camera",
        ),
        ("isis2std", f"from={pid}.l2.cub to={pid}.jpg format=jpeg quality=85"),
        (
            "gdal_translate",
            f"-of COG -co COMPRESS=DEFLATE -co PREDICTOR=2 -a_nodata -32768 {pid}.l2.cub {pid}.tif",
        ),
    ]
    lines = [
        "Kaguya (SELENE) Terrain Camera uncontrolled observation - analysis ready data provenance",
        f"Product: {pid}",
        f"Source: JAXA {_MODES[scene.mode].data_set_id}, {pid}.img / {pid}.lbl (DARTS/ISAS)",
        f"Processed: {isis_time(run, 0)}Z by USGS Astrogeology Science Center, ISIS 7.2.0, GDAL 3.7",
        "Target: MOON (IAU 2015, sphere R = 1737400 m), projection Equirectangular clon = 180",
        "",
    ]
    for index, (program, args) in enumerate(steps):
        stamp = isis_time(run - timedelta(seconds=40 - 4 * index), 0)
        lines.append(f"{stamp} {program} {args}")
    return "\n".join(lines) + "\n"
