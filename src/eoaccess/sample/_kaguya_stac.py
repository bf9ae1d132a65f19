"""STAC JSON of the Kaguya TC sample: items shaped like the USGS Astrogeology ARD items,
their three collections and the root catalog (a self-contained static catalog, relative hrefs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from eoaccess.sample._kaguya_labels import ring_centroid
from eoaccess.sample._kaguya_plan import MODES
from eoaccess.sample._kaguya_pvl import isis_double
from eoaccess.sample._kaguya_scene import Mode, Scene

STAC_VERSION = "1.0.0"
ITEM_EXTENSIONS = [
    "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
    "https://stac-extensions.github.io/datacube/v1.0.0/schema.json",
    "https://stac-extensions.github.io/view/v1.0.0/schema.json",
    "https://raw.githubusercontent.com/thareUSGS/ssys/main/json-schema/schema.json",
    "https://stac-extensions.github.io/raster/v1.0.0/schema.json",
]
COLLECTION_EXTENSIONS = [
    "https://raw.githubusercontent.com/thareUSGS/ssys/main/json-schema/schema.json",
    "https://stac-extensions.github.io/item-assets/v1.0.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
    "https://stac-extensions.github.io/view/v1.0.0/schema.json",
    "https://stac-extensions.github.io/raster/v1.0.0/schema.json",
]
MISSION = "Selenological and Engineering Explorer (SELENE)"
INSTRUMENT = "Kaguya/SELENE Terrain Camera (TC)"
ITEM_DESCRIPTION = (
    "This is a Kaguya (SELENE) Terrain Camera (TC) observation acquired and released by the "
    "Japanese Aerospace Exploration Agency (JAXA)."
)
# The IAU 2015 Moon sphere, equirectangular, clon = 180 (IAU_2015:30115), exactly as the USGS
# items write it: WKT2 with the spaces stripped, and the PROJJSON PROJ produces.
WKT2 = (
    'PROJCRS["Moon(2015)-Sphere/Ocentric/Equirectangular,clon=180",BASEGEODCRS["Moon(2015)-'
    'Sphere/Ocentric",DATUM["Moon(2015)-Sphere",ELLIPSOID["Moon(2015)-Sphere",1737400,0,'
    'LENGTHUNIT["metre",1]]],PRIMEM["ReferenceMeridian",0,ANGLEUNIT["degree",0.0174532925199433]]],'
    'CONVERSION["Equirectangular,clon=180",METHOD["EquidistantCylindrical",ID["EPSG",1028]],'
    'PARAMETER["Latitudeof1ststandardparallel",0,ANGLEUNIT["degree",0.0174532925199433],'
    'ID["EPSG",8823]],PARAMETER["Longitudeofnaturalorigin",180,ANGLEUNIT["degree",'
    '0.0174532925199433],ID["EPSG",8802]],PARAMETER["Falseeasting",0,LENGTHUNIT["metre",1],'
    'ID["EPSG",8806]],PARAMETER["Falsenorthing",0,LENGTHUNIT["metre",1],ID["EPSG",8807]]],'
    'CS[Cartesian,2],AXIS["(E)",east,ORDER[1],LENGTHUNIT["metre",1]],AXIS["(N)",north,ORDER[2],'
    'LENGTHUNIT["metre",1]],ID["IAU",30115,2015]]'
)


def _parameter(name: str, value: float, unit: str, code: int) -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit, "id": {"authority": "EPSG", "code": code}}


def _axis(name: str, abbreviation: str, direction: str, unit: str) -> dict[str, str]:
    return {"name": name, "abbreviation": abbreviation, "direction": direction, "unit": unit}


PROJJSON: dict[str, Any] = {
    "$schema": "https://proj.org/schemas/v0.7/projjson.schema.json",
    "type": "ProjectedCRS",
    "name": "Moon (2015) - Sphere / Ocentric / Equirectangular, clon = 180",
    "base_crs": {
        "name": "Moon (2015) - Sphere / Ocentric",
        "datum": {
            "type": "GeodeticReferenceFrame",
            "name": "Moon (2015) - Sphere",
            "ellipsoid": {"name": "Moon (2015) - Sphere", "radius": 1737400},
            "prime_meridian": {"name": "Reference Meridian", "longitude": 0},
        },
        "coordinate_system": {
            "subtype": "ellipsoidal",
            "axis": [
                _axis("Geodetic latitude", "Lat", "north", "degree"),
                _axis("Geodetic longitude", "Lon", "east", "degree"),
            ],
        },
        "id": {"authority": "IAU", "code": 30100, "version": 2015},
        "remarks": "Source of IAU Coordinate systems: https://doi.org/10.1007/s10569-017-9805-5",
    },
    "conversion": {
        "name": "Equirectangular, clon = 180",
        "method": {"name": "Equidistant Cylindrical", "id": {"authority": "EPSG", "code": 1028}},
        "parameters": [
            _parameter("Latitude of 1st standard parallel", 0, "degree", 8823),
            _parameter("Longitude of natural origin", 180, "degree", 8802),
            _parameter("False easting", 0, "metre", 8806),
            _parameter("False northing", 0, "metre", 8807),
        ],
    },
    "coordinate_system": {
        "subtype": "Cartesian",
        "axis": [
            _axis("Easting", "E", "east", "metre"),
            _axis("Northing", "N", "north", "metre"),
        ],
    },
    "id": {"authority": "IAU", "code": 30115, "version": 2015},
}


COLLECTION_INFO: dict[Mode, dict[str, str]] = {
    "monoscopic": {
        "title": "Kaguya Terrain Camera Monoscopic Uncontrolled Observations",
        "path": "moon/kaguya/terrain_camera/monoscopic/uncontrolled",
        "what": "monoscopic observations (JAXA TC_s_Level2B0 products, one camera at a time)",
    },
    "stereoscopic": {
        "title": "Kaguya Terrain Camera Stereoscopic Uncontrolled Observations",
        "path": "moon/kaguya/terrain_camera/stereoscopic/uncontrolled",
        "what": "stereoscopic observations (JAXA TC_w_Level2B0 products: TC1 looking ~15 deg "
        "forward and TC2 ~15 deg backward over the same ground)",
    },
    "spsupport": {
        "title": "Kaguya Terrain Camera Spectral Profiler Support Uncontrolled Observations",
        "path": "moon/kaguya/terrain_camera/spsupport/uncontrolled",
        "what": "half-swath observations acquired in support of the Spectral Profiler "
        "(JAXA TC_SPsupport_Level2B0 products)",
    },
}
ASSET_INFO: dict[str, tuple[str, str, str, list[str]]] = {
    # key: (file suffix, media type, title, roles), in the real items' order
    "thumbnail": (".jpg", "image/jpeg", "Image Thumbnail", ["thumbnail"]),
    "image": (
        ".tif",
        "image/tiff; application=geotiff; profile=cloud-optimized",
        "Uncontrolled Image",
        ["data"],
    ),
    "provenance": ("provenance.txt", "text/plain", "Provenance", ["metadata"]),
    "isis_label": (".isis.lbl", "text/plain", "ISIS Label", ["metadata"]),
    "pds_label": (".lbl", "text/plain", "JAXA PDS3 Label", ["metadata"]),
    "caminfo_pvl": (".caminfo.pvl", "text/plain", "CamInfo Output", ["metadata"]),
    "usgscsm_isd": (".isd.json", "text/plain", "USGSCSM ISD", ["metadata"]),
}
PROVIDERS = [
    {
        "name": "Japan Aerospace Exploration Agency (JAXA)",
        "roles": ["producer", "licensor"],
        "url": "https://darts.isas.jaxa.jp/planet/pdap/selene/",
    },
    {
        "name": "USGS Astrogeology Science Center",
        "roles": ["processor", "host"],
        "url": "https://www.usgs.gov/centers/astrogeology-science-center",
    },
]


def collection_id(mode: Mode) -> str:
    return f"kaguya_terrain_camera_{mode}_uncontrolled_observations"


def asset_filename(key: str, item_id: str) -> str:
    suffix = ASSET_INFO[key][0]
    return suffix if key == "provenance" else item_id + suffix


def pvl_float(value: float) -> float:
    """A float rounded to the 14 significant digits the PVL sidecars carry."""
    return float(isis_double(value))


def stac_time(value: datetime, decimals: int = 6) -> str:
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{value.microsecond:06d}"[: len(text) + 1 + decimals] + "Z"


def item_dict(
    scene: Scene,
    ring: tuple[np.ndarray, np.ndarray],
    grid_transform: list[float],
    shape: tuple[int, int],
    stats: dict[str, float],
    created: datetime,
    updated: datetime,
    depth: int,
) -> dict[str, Any]:
    """The STAC item of ``scene``; ``depth`` is its directory depth below the catalog root."""
    lon360, lat = ring
    lon = np.where(lon360 > 180.0, lon360 - 360.0, lon360)
    coords = [[float(x), float(y)] for x, y in zip(lon, lat, strict=True)]
    bbox = [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]
    c_lon, c_lat = ring_centroid(lon, lat)
    gsd = grid_transform[1]
    up = "../" * depth
    cid = collection_id(scene.mode)
    properties: dict[str, Any] = {
        "start_datetime": stac_time(scene.start),
        "end_datetime": stac_time(scene.end),
        "title": scene.product_id,
        "description": ITEM_DESCRIPTION,
        "missions": [MISSION],
        "instruments": [INSTRUMENT],
        "gsd": gsd,
        "license": "CC0-1.0",
        "proj:epsg": None,
        "proj:wkt2": WKT2,
        "proj:projjson": PROJJSON,
        "proj:bbox": bbox,
        "proj:centroid": {"lat": c_lat, "lon": c_lon},
        "proj:shape": [shape[0], shape[1]],
        "proj:transform": grid_transform,
        "cube:dimensions": {
            "x": {"type": "spatial", "axis": "x", "extent": [bbox[0], bbox[2]]},
            "y": {"type": "spatial", "axis": "y", "extent": [bbox[1], bbox[3]]},
        },
        "view:off_nadir": pvl_float(scene.emission),
        "view:azimuth": pvl_float(scene.north_azimuth),
        "view:sun_azimuth": pvl_float(scene.sun_azimuth),
        # USGS fills view:sun_elevation from caminfo LocalTime (hours); kept as published.
        "view:sun_elevation": pvl_float(scene.local_time),
        "ssys:targets": ["Moon"],
        "datetime": stac_time(scene.start),
        "created": stac_time(created, 3),
        "updated": stac_time(updated, 3),
    }
    assets: dict[str, Any] = {}
    for key, (_, media, title, roles) in ASSET_INFO.items():
        asset: dict[str, Any] = {
            "href": "./" + asset_filename(key, scene.product_id),
            "type": media,
            "title": title,
        }
        if key == "image":
            asset["raster:bands"] = [
                {
                    "nodata": -32768,
                    "data_type": "int16",
                    "spatial_resolution": gsd,
                    "statistics": {
                        "minimum": stats["minimum"],
                        "maximum": stats["maximum"],
                        "mean": pvl_float(stats["mean"]),
                        "stddev": pvl_float(stats["stddev"]),
                        "valid_percent": stats["valid_percent"],
                    },
                    "unit": "",
                    "scale": 0.013,
                    "offset": 0,
                }
            ]
        asset["roles"] = roles
        assets[key] = asset
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "id": scene.product_id,
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": [coords]},
        "links": [
            {"rel": "root", "type": "application/json", "href": f"{up}catalog.json"},
            {"rel": "parent", "type": "application/json", "href": f"{up}{cid}/collection.json"},
            {"rel": "collection", "type": "application/json", "href": f"{up}{cid}/collection.json"},
        ],
        "assets": assets,
        "bbox": bbox,
        "stac_extensions": ITEM_EXTENSIONS,
        "collection": cid,
    }


def _range(values: list[float]) -> dict[str, float]:
    return {"minimum": min(values), "maximum": max(values)}


def collection_dict(
    mode: Mode, items: list[dict[str, Any]], item_hrefs: list[str]
) -> dict[str, Any]:
    """The collection of one observing mode, with extents and summaries over its ``items``."""
    info = COLLECTION_INFO[mode]
    boxes = np.array([it["bbox"] for it in items])
    starts = sorted(it["properties"]["start_datetime"] for it in items)
    ends = sorted(it["properties"]["end_datetime"] for it in items)

    def prop(name: str) -> list[float]:
        return [it["properties"][name] for it in items]

    item_assets: dict[str, Any] = {}
    for key, (_, media, title, roles) in ASSET_INFO.items():
        entry: dict[str, Any] = {"type": media, "title": title, "roles": roles}
        if key == "image":
            entry["raster:bands"] = [
                {"nodata": -32768, "data_type": "int16", "unit": "", "scale": 0.013, "offset": 0}
            ]
        item_assets[key] = entry
    description = (
        f"Kaguya (SELENE) Terrain Camera (TC) {info['what']}, map projected without photogrammetric "
        "control by the USGS Astrogeology Science Center as analysis ready data. The TC was a "
        "pushbroom stereo imager (10 m/pixel from the 100 km primary-mission orbit, finer from the "
        "lower extended-mission orbits) operated from 2007-11 to 2009-06. Each observation provides "
        "a cloud optimized GeoTIFF in radiance (DN x 0.013 W/m**2/micron/sr), its ISIS and JAXA "
        "labels, ISIS caminfo geometry and a USGSCSM image support data file."
    )
    return {
        "type": "Collection",
        "id": collection_id(mode),
        "stac_version": STAC_VERSION,
        "stac_extensions": COLLECTION_EXTENSIONS,
        "title": info["title"],
        "description": description,
        "keywords": ["Moon", "Kaguya", "SELENE", "Terrain Camera", "uncontrolled", mode],
        "license": "CC0-1.0",
        "providers": PROVIDERS,
        "extent": {
            "spatial": {
                "bbox": [
                    [
                        float(boxes[:, 0].min()),
                        float(boxes[:, 1].min()),
                        float(boxes[:, 2].max()),
                        float(boxes[:, 3].max()),
                    ]
                ]
            },
            "temporal": {"interval": [[starts[0], ends[-1]]]},
        },
        "summaries": {
            "ssys:targets": ["Moon"],
            "missions": [MISSION],
            "instruments": [INSTRUMENT],
            "gsd": _range(prop("gsd")),
            "view:off_nadir": _range(prop("view:off_nadir")),
            "view:azimuth": _range(prop("view:azimuth")),
            "view:sun_azimuth": _range(prop("view:sun_azimuth")),
            "view:sun_elevation": _range(prop("view:sun_elevation")),
        },
        "item_assets": item_assets,
        "links": [
            {"rel": "root", "type": "application/json", "href": "../catalog.json"},
            {"rel": "parent", "type": "application/json", "href": "../catalog.json"},
            *({"rel": "item", "type": "application/geo+json", "href": href} for href in item_hrefs),
        ],
    }


def catalog_dict(collections: list[dict[str, Any]]) -> dict[str, Any]:
    """Root catalog linking the three collections."""
    return {
        "type": "Catalog",
        "id": "usgs_astrogeology_kaguya_terrain_camera",
        "stac_version": STAC_VERSION,
        "title": "Kaguya Terrain Camera analysis ready data (USGS Astrogeology, sample)",
        "description": (
            "Static catalog of Kaguya/SELENE Terrain Camera uncontrolled observations of the Moon "
            "laid out like the USGS Astrogeology analysis ready data bucket "
            "(moon/kaguya/terrain_camera/<mode>/uncontrolled/<id>/)."
        ),
        "links": [
            {"rel": "root", "type": "application/json", "href": "./catalog.json"},
            *(
                {
                    "rel": "child",
                    "type": "application/json",
                    "title": c["title"],
                    "href": f"./{c['id']}/collection.json",
                }
                for c in collections
            ),
        ],
    }


__all__ = ["MODES", "PROJJSON", "WKT2", "catalog_dict", "collection_dict", "item_dict"]
