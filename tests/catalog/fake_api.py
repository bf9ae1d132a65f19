"""A small STAC API with scripted pages, served by uvicorn on loopback, for the failure modes
a real server should not have: a failing second page, a malformed item, a refusal."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def fake_item(n: int) -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": f"item-{n:03d}",
        "collection": "fake",
        "geometry": {"type": "Point", "coordinates": [n % 180, 0]},
        "bbox": [n % 180, 0, n % 180, 0],
        "properties": {"datetime": f"2020-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z"},
        "assets": {"data": {"href": f"https://example.invalid/{n}.tif"}},
        "links": [],
    }


@dataclass
class Script:
    """What the fake API answers; tests change it and read what was asked."""

    pages: int = 3
    per_page: int = 2
    failing_page: int | None = None
    failing_status: int = 500
    malformed_page: int | None = None
    refuse: str | None = None
    requested: list[int] = field(default_factory=list)
    page_events: dict[int, threading.Event] = field(default_factory=dict)

    def event(self, page: int) -> threading.Event:
        return self.page_events.setdefault(page, threading.Event())


def create_fake_api(script: Script) -> Starlette:
    async def landing(request: Request) -> JSONResponse:
        base = str(request.base_url)
        return JSONResponse(
            {
                "type": "Catalog",
                "id": "fake",
                "stac_version": "1.0.0",
                "description": "scripted",
                "conformsTo": [
                    "https://api.stacspec.org/v1.0.0/core",
                    "https://api.stacspec.org/v1.0.0/item-search",
                ],
                "links": [{"rel": "search", "href": f"{base}search", "method": "POST"}],
            }
        )

    async def search(request: Request) -> Response:
        body = await request.json()
        page = int(body.get("token") or 1)
        script.requested.append(page)
        script.event(page).set()
        if script.refuse is not None:
            return JSONResponse({"code": "BadRequest", "description": script.refuse}, 400)
        if page == script.failing_page:
            return JSONResponse({"description": "database unavailable"}, script.failing_status)
        first = (page - 1) * script.per_page
        features: list[Any] = [fake_item(n) for n in range(first, first + script.per_page)]
        if page == script.malformed_page:
            features[1] = {"type": "Feature", "id": "broken", "geometry": None}
        links = []
        if page < script.pages:
            links.append(
                {
                    "rel": "next",
                    "href": f"{request.base_url}search",
                    "method": "POST",
                    "body": {"token": str(page + 1)},
                    "merge": True,
                }
            )
        return JSONResponse(
            {
                "type": "FeatureCollection",
                "features": features,
                "links": links,
                "numberMatched": script.pages * script.per_page,
            }
        )

    async def html(request: Request) -> Response:
        return Response("<html>hello</html>", media_type="text/html")

    return Starlette(
        routes=[
            Route("/", landing),
            Route("/search", search, methods=["POST"]),
            Route("/web/", html),
        ]
    )
