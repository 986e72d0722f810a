"""HTTP endpoints: thin adapters from Starlette requests to RecordService and back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.errors import HTTP_CREATED, HTTP_INTERNAL, HTTP_NO_CONTENT, HTTP_OK, ApiError
from crmsync.sandbox.faults import FaultInjector, RateLimiter
from crmsync.sandbox.listing import parse_list_query
from crmsync.sandbox.middleware import INSPECT_HEADER
from crmsync.sandbox.records import RecordService
from crmsync.sandbox.stats import SERVED_BY, RequestStats
from crmsync.sandbox.store import Store
from crmsync.schema import OBJECTS, RallyObject

Endpoint = Callable[[Request], Awaitable[Response]]


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _answering_errors(handler: Endpoint) -> Endpoint:
    """Turn ApiError into its `{"error": ...}` answer."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc.status, exc.message)

    return endpoint


def _object_routes(service: RecordService, obj: RallyObject) -> list[BaseRoute]:
    base = f"/api/v1/{obj.name}"

    async def collection(request: Request) -> Response:
        tenant = request.state.tenant
        if request.method == "POST":
            created = service.create(tenant, obj, await request.body())
            return JSONResponse(created, status_code=HTTP_CREATED)
        query = parse_list_query(obj, request.query_params)
        stored = request.headers.get(INSPECT_HEADER.decode()) is not None
        return JSONResponse(service.list_records(tenant, obj, query, stored=stored))

    async def bulk(request: Request) -> Response:
        result = service.bulk_create(request.state.tenant, obj, await request.body())
        return JSONResponse(result)

    async def upsert(request: Request) -> Response:
        result, created = service.upsert(request.state.tenant, obj, await request.body())
        return JSONResponse(result, status_code=HTTP_CREATED if created else HTTP_OK)

    async def item(request: Request) -> Response:
        tenant = request.state.tenant
        record_id: str = request.path_params["id"]
        if request.method == "GET":
            return JSONResponse(service.get(tenant, obj, record_id))
        if request.method == "PUT":
            body = await request.body()
            return JSONResponse(service.replace(tenant, obj, record_id, body))
        service.delete(tenant, obj, record_id)
        return Response(status_code=HTTP_NO_CONTENT)

    # bulk and upsert before {id}, which would otherwise take them for ids.
    return [
        Route(base, _answering_errors(collection), methods=["GET", "POST"]),
        Route(f"{base}/bulk", _answering_errors(bulk), methods=["POST"]),
        Route(f"{base}/upsert", _answering_errors(upsert), methods=["PUT"]),
        Route(f"{base}/{{id}}", _answering_errors(item), methods=["GET", "PUT", "DELETE"]),
    ]


def _sandbox_routes(
    store: Store, stats: RequestStats, faults: FaultInjector, limiter: RateLimiter | None
) -> list[BaseRoute]:
    async def show_stats(request: Request) -> Response:
        snapshot = stats.snapshot(store.counts(OBJECTS))
        snapshot["faults"] = faults.injected()
        return JSONResponse(snapshot, headers=SERVED_BY)

    async def reset(request: Request) -> Response:
        store.clear()
        stats.clear()
        faults.reset()
        if limiter is not None:
            limiter.clear()
        return Response(status_code=HTTP_NO_CONTENT)

    return [
        Route("/_sandbox/stats", show_stats, methods=["GET"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
    ]


def build_routes(
    service: RecordService,
    store: Store,
    stats: RequestStats,
    faults: FaultInjector,
    limiter: RateLimiter | None,
) -> list[BaseRoute]:
    routes = _sandbox_routes(store, stats, faults, limiter)
    for obj in OBJECTS.values():
        routes.extend(_object_routes(service, obj))
    return routes


async def http_error(request: Request, exc: Exception) -> Response:
    """Router 404/405 (and any HTTPException) as JSON like every other error."""
    if not isinstance(exc, HTTPException):
        return await server_error(request, exc)
    message = f"{exc.detail}: {request.method} {request.url.path}"
    response = error_response(exc.status_code, message)
    if exc.headers:  # 405 carries Allow
        response.headers.update(exc.headers)
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    return error_response(HTTP_INTERNAL, "internal server error")
