"""The Harmony API routes: thin handlers over :class:`eoaccess.harmony.JobService`.

Routes (the shapes harmony-py sends and reads): ``GET /capabilities``; ``GET``/``POST``
``/{collection}/ogc-api-coverages/1.0.0/collections/{variables}/coverage/rangeset`` (query,
multipart or urlencoded); ``GET /jobs``, ``POST /jobs/status``, ``GET /jobs/{id}``,
``GET /jobs/{id}/pause|resume|cancel``; ``GET /cloud-access``; ``GET /stac/{id}/`` and
``/stac/{id}/{n}`` (a STAC catalog of a job's outputs); ``GET``/``HEAD
/service-results/{id}/{n}/{file}`` (the outputs, with Range). Job JSON is rendered here from
the service's records; links are absolute URLs of the request's origin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.harmony import GranuleRecord, JobRecord, JobRequest, JobService
from eoaccess.harmony._model import ACTIVE, PAUSED, PREVIEWING
from eoaccess.harmony._params import parse_shape
from eoaccess.harmony._state import stamp
from eoaccess.server.files import clean_archive_path, file_response, media_type, open_archive
from eoaccess.server.hrefs import Hrefs
from eoaccess.server.stac import JSONResponse

RESULTS_ROUTE = "service-results"
RANGESET = "ogc-api-coverages/1.0.0/collections/{variables}/coverage/rangeset"
JSON_TYPE = "application/json"
LINK_TYPES = ("https", "http", "s3")


def _int(request: Request, name: str, default: int, top: int | None = None) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or int(text) < 1 or (top is not None and int(text) > top):
        bound = f" and at most {top}" if top is not None else ""
        raise InvalidInputError(f"{name} must be an integer of at least 1{bound}, not {text!r}")
    return int(text)


def _link_type(request: Request) -> str:
    value = request.query_params.get("linktype", "https").lower()
    if value not in LINK_TYPES:
        raise InvalidInputError(f"linktype must be https or s3, not {value!r}")
    return value


class Renderer:
    """Job JSON, job lists and result catalogs for one request's origin."""

    def __init__(self, service: JobService, request: Request) -> None:
        self.service = service
        self.hrefs = Hrefs.from_request(request)
        self.link_type = _link_type(request)

    def data_href(self, granule: GranuleRecord) -> str:
        path = str((granule.output or {})["path"])
        if self.link_type == "s3":
            if not self.service.target.is_s3:
                raise InvalidInputError("results are kept in a local folder: use linktype=https")
            return self.service.target.s3_url(path)
        return self.hrefs.url(RESULTS_ROUTE, *path.split("/"))

    def data_link(self, granule: GranuleRecord) -> dict[str, Any]:
        output = granule.output or {}
        return {
            "href": self.data_href(granule),
            "title": output.get("name"),
            "type": output.get("type"),
            "rel": "data",
            "bbox": output.get("bbox"),
            "temporal": {"start": output.get("start"), "end": output.get("end")},
        }

    def request_url(self, job: JobRecord) -> str:
        items = JobRequest.from_json(job.request).query_items()
        path = self.hrefs.url(job.collection) + "/" + RANGESET.format(variables="parameter_vars")
        return f"{path}?{urlencode(items)}"

    def job_url(self, job: JobRecord, **query: Any) -> str:
        query = {"linktype": self.link_type, **query} if self.link_type != "https" else query
        base = self.hrefs.url("jobs", job.job_id)
        return f"{base}?{urlencode(query)}" if query else base

    def job(self, job: JobRecord, page: int = 1, limit: int | None = None) -> dict[str, Any]:
        limit = limit or self.service.settings.page_limit
        outputs, total = self.service.outputs(job, (page - 1) * limit, limit)
        links: list[dict[str, Any]] = []
        if total:
            links.append(
                {
                    "href": self.hrefs.url("stac", job.job_id) + "/",
                    "title": "STAC catalog",
                    "rel": "stac-catalog-json",
                    "type": JSON_TYPE,
                }
            )
        links += [self.data_link(g) for g in outputs]
        links += self._control_links(job)
        links += self._page_links(job, page, limit, total)
        body: dict[str, Any] = {
            "username": job.owner,
            "status": job.status,
            "message": job.message,
            "progress": job.progress,
            "createdAt": stamp(job.created),
            "updatedAt": stamp(job.updated),
            "dataExpiration": stamp(job.expires),
            "links": links,
            "request": self.request_url(job),
            "numInputGranules": job.num_granules,
            "jobID": job.job_id,
            "labels": list(job.labels),
        }
        errors = self.service.errors(job)
        if errors:
            body["errors"] = [
                {"url": self.hrefs.asset_href(g.href), "message": g.error} for g in errors
            ]
        return body

    def _control_links(self, job: JobRecord) -> list[dict[str, Any]]:
        actions: list[tuple[str, str]] = []
        if job.status in ACTIVE:
            actions.append(("pause", "Pauses the job"))
        if job.status in (PAUSED, PREVIEWING):
            actions.append(("resume", "Resumes the job"))
        if job.status in ACTIVE or job.status == PAUSED:
            actions.append(("cancel", "Cancels the job"))
        return [
            {
                "href": self.hrefs.url("jobs", job.job_id, action),
                "title": title,
                "rel": {"pause": "pauser", "resume": "resumer", "cancel": "canceler"}[action],
                "type": JSON_TYPE,
            }
            for action, title in actions
        ]

    def _page_links(
        self, job: JobRecord, page: int, limit: int, total: int
    ) -> list[dict[str, Any]]:
        last = max(1, -(-total // limit))
        pages = [("self", page, "The current page")]
        if page > 1:
            pages += [("first", 1, "The first page"), ("prev", page - 1, "The previous page")]
        if page < last:
            pages += [("next", page + 1, "The next page"), ("last", last, "The last page")]
        return [
            {
                "href": self.job_url(job, page=number, limit=limit),
                "title": title,
                "rel": rel,
                "type": JSON_TYPE,
            }
            for rel, number, title in pages
        ]

    def job_summary(self, job: JobRecord) -> dict[str, Any]:
        body = self.job(job, 1, 1)
        body["links"] = [
            {"href": self.job_url(job), "title": "Job Status", "rel": "self", "type": JSON_TYPE}
        ]
        return body

    def catalog(self, job: JobRecord) -> dict[str, Any]:
        outputs, _ = self.service.outputs(job, 0, self.service.settings.max_granules)
        root = self.hrefs.url("stac", job.job_id) + "/"
        return {
            "stac_version": "1.0.0",
            "id": job.job_id,
            "type": "Catalog",
            "title": f"Outputs of job {job.job_id}",
            "description": f"Subsets of {job.collection} made by eoaccess",
            "links": [
                {"rel": "root", "href": root, "type": JSON_TYPE},
                {"rel": "self", "href": root, "type": JSON_TYPE},
            ]
            + [
                {
                    "rel": "item",
                    "href": self.hrefs.url("stac", job.job_id, str(g.index)),
                    "type": JSON_TYPE,
                    "title": (g.output or {}).get("name"),
                }
                for g in outputs
            ],
        }

    def item(self, job: JobRecord, granule: GranuleRecord) -> dict[str, Any]:
        output = granule.output or {}
        bbox = output.get("bbox")
        west, south, east, north = bbox if bbox else (None,) * 4
        geometry = (
            {
                "type": "Polygon",
                "coordinates": [
                    [[west, south], [east, south], [east, north], [west, north], [west, south]]
                ],
            }
            if bbox
            else None
        )
        root = self.hrefs.url("stac", job.job_id) + "/"
        return {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": f"{job.job_id}-{granule.index}",
            "geometry": geometry,
            "bbox": bbox,
            "properties": {
                "datetime": None if output.get("start") else output.get("end"),
                "start_datetime": output.get("start"),
                "end_datetime": output.get("end"),
            },
            "assets": {
                "data": {
                    "href": self.data_href(granule),
                    "title": output.get("name"),
                    "type": output.get("type"),
                    "roles": ["data"],
                }
            },
            "links": [
                {"rel": "root", "href": root, "type": JSON_TYPE},
                {"rel": "parent", "href": root, "type": JSON_TYPE},
                {
                    "rel": "self",
                    "href": self.hrefs.url("stac", job.job_id, str(granule.index)),
                    "type": JSON_TYPE,
                },
            ],
        }


async def _request_params(
    request: Request,
) -> tuple[list[tuple[str, str]], dict[str, Any] | None]:
    """Query parameters plus form fields (multipart or urlencoded), and the shapefile part."""
    params = list(request.query_params.multi_items())
    shape = None
    if request.method == "POST":
        form = await request.form()
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key == "shapefile":
                    shape = parse_shape(await value.read(), value.content_type)
                continue
            params.append((key, str(value)))
    return params, shape


def harmony_router(service: JobService) -> APIRouter:
    """The Harmony routes over ``service``."""
    router = APIRouter(tags=["Harmony"])

    def owner(request: Request) -> str:
        return service.auth.owner(request.headers.get("authorization"))

    @router.get("/capabilities", include_in_schema=False)
    def capabilities(request: Request) -> Response:
        owner(request)
        query = request.query_params
        body = service.capabilities(
            query.get("shortname"),
            query.get("collectionid"),
            query.get("version"),
            Hrefs.from_request(request).url("capabilities"),
        )
        return JSONResponse(body)

    async def rangeset(collection: str, variables: str, request: Request) -> Response:
        user = owner(request)
        params, shape = await _request_params(request)
        job = service.submit(
            user, collection, variables, params, shape, request.headers.get("idempotency-key")
        )
        return JSONResponse(Renderer(service, request).job(job))

    router.add_api_route(
        "/{collection}/" + RANGESET,
        rangeset,
        methods=["GET", "POST"],
        include_in_schema=False,
    )

    @router.get("/jobs", include_in_schema=False)
    def jobs(request: Request) -> Response:
        user = owner(request)
        page = _int(request, "page", 1)
        limit = _int(request, "limit", 10, service.settings.page_limit)
        found, total = service.jobs(user, request.query_params.get("label"), page, limit)
        render = Renderer(service, request)
        base = render.hrefs.url("jobs")
        links = [{"href": f"{base}?{urlencode({'page': page, 'limit': limit})}", "rel": "self"}]
        if page * limit < total:
            links.append(
                {"href": f"{base}?{urlencode({'page': page + 1, 'limit': limit})}", "rel": "next"}
            )
        if page > 1:
            links.append(
                {"href": f"{base}?{urlencode({'page': page - 1, 'limit': limit})}", "rel": "prev"}
            )
        return JSONResponse(
            {
                "count": total,
                "jobs": [render.job_summary(j) for j in found],
                "links": [dict(link, type=JSON_TYPE) for link in links],
            }
        )

    @router.post("/jobs/status", include_in_schema=False)
    async def job_statuses(request: Request) -> Response:
        user = owner(request)
        try:
            body = await request.json()
        except ValueError:
            raise InvalidInputError('the body must be JSON like {"jobIDs": ["…"]}') from None
        ids = body.get("jobIDs") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise InvalidInputError('the body must be JSON like {"jobIDs": ["…"]}')
        return JSONResponse(service.statuses(user, ids))

    @router.get("/jobs/{job_id}", include_in_schema=False)
    def job_status(job_id: str, request: Request) -> Response:
        job = service.job(owner(request), job_id)
        page = _int(request, "page", 1)
        limit = _int(request, "limit", service.settings.page_limit, service.settings.page_limit)
        return JSONResponse(Renderer(service, request).job(job, page, limit))

    def job_action(job_id: str, action: str, request: Request) -> Response:
        job = service.change(owner(request), job_id, action)
        return JSONResponse(Renderer(service, request).job(job))

    router.add_api_route(
        "/jobs/{job_id}/{action}", job_action, methods=["GET", "POST"], include_in_schema=False
    )

    @router.get("/cloud-access", include_in_schema=False)
    def cloud_access(request: Request) -> Response:
        owner(request)
        return JSONResponse(service.cloud_access())

    @router.get("/stac/{job_id}", include_in_schema=False)
    @router.get("/stac/{job_id}/", include_in_schema=False)
    def results_catalog(job_id: str, request: Request) -> Response:
        job = service.job(owner(request), job_id)
        return JSONResponse(Renderer(service, request).catalog(job))

    @router.get("/stac/{job_id}/{index}", include_in_schema=False)
    def results_item(job_id: str, index: str, request: Request) -> Response:
        user = owner(request)
        if not index.isdigit():
            raise NotFoundError(f"job {job_id} has no output {index!r}")
        granule = service.output(user, job_id, int(index))
        return JSONResponse(Renderer(service, request).item(service.job(user, job_id), granule))

    files = open_archive(service.target.location, endpoint=service.target.endpoint)

    def result_file(job_id: str, path: str, request: Request) -> Response:
        service.check_results_available(service.job(owner(request), job_id))
        relative = clean_archive_path(f"{job_id}/{path}")
        info = files.stat(relative)
        if info.is_dir:
            raise NotFoundError(f"no such result file: {path}")
        return file_response(
            request,
            info.size,
            info.etag,
            info.modified,
            media_type(info.name),
            lambda start, end: files.read(relative, start, end),
        )

    for method in ("GET", "HEAD"):
        router.add_api_route(
            f"/{RESULTS_ROUTE}/{{job_id}}/{{path:path}}",
            result_file,
            methods=[method],
            name=f"harmony_results_{method.lower()}",
            include_in_schema=False,
        )
    return router
