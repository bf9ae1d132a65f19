"""Seed 003: count a Kaguya collection, search it with a polygon, download every asset into
collection/item folders.

Usage: python seed003_kaguya.py SOURCE OUT_DIR   (SOURCE: server URL or archive folder)
"""

import sys

import eoaccess

source, out = sys.argv[1], sys.argv[2]
collection = "kaguya_terrain_camera_monoscopic_uncontrolled_observations"
polygon = {"type": "Polygon", "coordinates": [[[0, 0], [2.5, 0], [2.5, 2.5], [0, 2.5], [0, 0]]]}

catalog = eoaccess.open_catalog(source)
for found in catalog.collections():
    print(found["id"], "-", found.get("title", ""))
total = catalog.search(collections=[collection]).matched()
result = catalog.search(collections=[collection], intersects=polygon)
print(f"{collection}: {total} items, {result.matched()} intersect the polygon")

downloaded = eoaccess.download(result, dest=out)  # {collection}/{item}/{file}, verified
downloaded.raise_for_failures()
print(downloaded.summary())
