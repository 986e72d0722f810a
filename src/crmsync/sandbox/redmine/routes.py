"""The Redmine sandbox's endpoints: list and show contacts as JSON or XML, and its stats.

The middleware has already checked the key and put the answer's format ("json"/"xml") in
`request.state.format`. Unknown ids and projects are 404 with an empty body, invalid filters 422
with `{"errors": [...]}`, like Redmine.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.errors import HTTP_NO_CONTENT, HTTP_NOT_FOUND, HTTP_UNPROCESSABLE
from crmsync.sandbox.redmine.query import QueryError, parse_query
from crmsync.sandbox.redmine.render import (
    contact_json,
    contact_xml,
    contacts_xml,
    errors_xml,
    list_meta,
    xml_bytes,
)
from crmsync.sandbox.redmine.store import RedmineStore, UnknownProjectError
from crmsync.sandbox.stats import SERVED_BY, RequestStats

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"
INCLUDE_NOTES = "notes"
INCLUDE_CONTACTS = "contacts"


def _answer(request: Request, body: Any, *, xml: bytes | None = None) -> Response:
    if request.state.format == "xml":
        return Response(xml, media_type=XML_TYPE)
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text.encode(), media_type=JSON_TYPE)


def _not_found() -> Response:
    return Response(status_code=HTTP_NOT_FOUND)


def _invalid(request: Request, message: str) -> Response:
    if request.state.format == "xml":
        return Response(errors_xml([message]), status_code=HTTP_UNPROCESSABLE, media_type=XML_TYPE)
    return JSONResponse({"errors": [message]}, status_code=HTTP_UNPROCESSABLE)


def build_routes(store: RedmineStore, stats: RequestStats) -> list[BaseRoute]:
    async def list_contacts(request: Request) -> Response:
        try:
            query = parse_query(request.query_params, project=request.path_params.get("project"))
            contacts, total = store.search(query)
        except QueryError as exc:
            return _invalid(request, str(exc))
        except UnknownProjectError:
            return _not_found()
        meta = (
            None if query.nometa else list_meta(total=total, offset=query.offset, limit=query.limit)
        )
        if request.state.format == "xml":
            return _answer(
                request, None, xml=contacts_xml([contact_xml(c) for c in contacts], meta=meta)
            )
        return _answer(request, {"contacts": [contact_json(c) for c in contacts], **(meta or {})})

    async def show_contact(request: Request) -> Response:
        contact = store.get(request.path_params["id"])
        if contact is None:
            return _not_found()
        include = {part.strip() for part in request.query_params.get("include", "").split(",")}
        notes = store.notes(contact.id) if INCLUDE_NOTES in include else None
        people = None
        if INCLUDE_CONTACTS in include and contact.is_company:
            people = store.people_of(contact)
        if request.state.format == "xml":
            elem = contact_xml(contact, show=True, notes=notes, people=people)
            return _answer(request, None, xml=xml_bytes(elem))
        body = contact_json(contact, show=True, notes=notes, people=people)
        return _answer(request, {"contact": body})

    async def show_stats(request: Request) -> Response:
        return JSONResponse(stats.snapshot(store.counts()), headers=SERVED_BY)

    async def reset_stats(request: Request) -> Response:
        stats.clear()
        return Response(status_code=HTTP_NO_CONTENT)

    return [
        Route("/_sandbox/stats", show_stats, methods=["GET"]),
        Route("/_sandbox/reset", reset_stats, methods=["POST"]),
        Route("/contacts.{format}", list_contacts, methods=["GET"]),
        Route("/contacts", list_contacts, methods=["GET"]),
        Route("/projects/{project}/contacts.{format}", list_contacts, methods=["GET"]),
        Route("/projects/{project}/contacts", list_contacts, methods=["GET"]),
        Route("/contacts/{id:int}.{format}", show_contact, methods=["GET"]),
        Route("/contacts/{id:int}", show_contact, methods=["GET"]),
    ]


async def http_error(request: Request, exc: Exception) -> Response:
    """Router 404/405 (and anything else unexpected): an empty answer with the status."""
    status = getattr(exc, "status_code", 500)
    headers = getattr(exc, "headers", None)
    return Response(status_code=status, headers=headers)
