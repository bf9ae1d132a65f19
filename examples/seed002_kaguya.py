"""Seed 002: Kaguya scenes in a bbox with incidence angles from their PVL sidecars, an rclone
list and the images.

Usage: python seed002_kaguya.py SOURCE OUT_DIR   (SOURCE: server URL or archive folder)
"""

import sys
from pathlib import Path

import eoaccess
from eoaccess.transfer import export_list

source, out = sys.argv[1], Path(sys.argv[2])
kinds = ("monoscopic", "stereoscopic", "spsupport")
result = eoaccess.open_catalog(source).search(
    collections=[f"kaguya_terrain_camera_{k}_uncontrolled_observations" for k in kinds],
    bbox=(3.0, 4.0, 5.0, 6.0),
    enrich="caminfo_pvl:Caminfo.Geometry.IncidenceAngle=incidence_angle",
    where="incidence_angle < 70",
)
scenes = result.to_geodataframe()[["id", "collection", "start_datetime", "incidence_angle"]]
print(scenes.to_string(index=False))

out.mkdir(parents=True, exist_ok=True)
scenes.to_csv(out / "scenes.csv", index=False)
(out / "rclone-files.txt").write_text(export_list(result, "rclone", dest="data", assets=["image"]))
downloaded = eoaccess.download(result, dest=out / "data", assets=["image"])
downloaded.raise_for_failures()
print(downloaded.summary())
