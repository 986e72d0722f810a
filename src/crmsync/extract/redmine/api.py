"""Read contacts (or their notes) from a live Redmine CRM through its REST API.

Contacts: `GET /contacts.json?sort=id&offset=..&limit=..` page by page, in id order so the walk
is stable, until a page comes back shorter than the limit the server says it applied. Not until
`total_count`: Redmine's count ignores `search`, so it over-counts a searched list. A contact
already seen (the pages shifted under an insert) is skipped, and each page overlaps the last by
one contact, so a shift under a deletion is seen and read again (`_walk`); a full page of
nothing new means the server ignores `offset`, and stops the walk with an error instead of
looping.

Notes: Redmine CRM has no notes list, so after the walk every contact is read again with
`GET /contacts/:id.json?include=notes`: one request per contact (10,000 contacts, 10,000
requests), `concurrency` of them in flight.

`_source` is the URL path the row came from (`/contacts.json`, or `/contacts/12.json` for a
note), never the host or the query; `_row` the contact's (or note's) 1-based position in the walk.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx

from crmsync.api.redmine import RedmineClient, SleepFn
from crmsync.api.settings import DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_DEADLINE_S
from crmsync.errors import ConfigError, NotFoundError, SourceError
from crmsync.extract.redmine.frame import Entity, FrameBuilder, columns_of, contact_row, note_row
from crmsync.extract.redmine.model import Contact, Note
from crmsync.extract.redmine.parse import Record, RecordError, contact_from_json, note_from_json
from crmsync.extract.result import Extracted

log = logging.getLogger(__name__)

LIST_PATH = "/contacts.json"
SHOW_PATH = "/contacts/{}.json"
MAX_PAGE_SIZE = 100  # Redmine caps `limit` at 100
DEFAULT_PAGE_SIZE = MAX_PAGE_SIZE
DEFAULT_CONCURRENCY = 4
# The walk's own parameters: a filter may not set them.
RESERVED_PARAMS = frozenset({"offset", "limit", "page", "sort", "key", "format", "include"})


def read_redmine_api(
    base_url: str,
    api_key: str,
    *,
    entity: Entity = "contacts",
    filters: Mapping[str, str] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    updated_since: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    max_retries: int = DEFAULT_MAX_RETRIES,
    sleep: SleepFn = time.sleep,
    allow_insecure_http: bool = False,
    request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S,
) -> Extracted:
    """Every contact (or every note of every contact) the key may see, as the Redmine frame.

    `base_url` is the Redmine root (`https://redmine.example.com`, or with its sub-path);
    `filters` are list parameters (`project_id`, `assigned_to_id`, `tags`, `search`,
    `is_company`, ...); `updated_since` adds `updated_on=>=<value>` (ISO 8601, e.g.
    `2025-01-01T00:00:00Z`). Raises AuthError when the key is refused, SourceError when the API
    cannot be read (after retries), ConfigError for unusable arguments.
    """
    columns_of(entity)
    params = _list_params(filters, updated_since)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ConfigError(f"page size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
    if concurrency < 1:
        raise ConfigError(f"concurrency must be at least 1, not {concurrency}")
    with RedmineClient(
        base_url,
        api_key,
        transport=transport,
        max_retries=max_retries,
        request_deadline_s=request_deadline_s,
        sleep=sleep,
        connections=concurrency,
        allow_insecure_http=allow_insecure_http,
    ) as client:
        records = list(_walk(client, params, page_size))
        if entity == "contacts":
            builder = FrameBuilder("contacts")
            source = client.source_of(LIST_PATH)
            for position, raw, contact in records:
                if isinstance(contact, RecordError):
                    error = client.redact(str(contact))
                    builder.reject(source=source, position=position, error=error, raw=raw)
                else:
                    builder.add(contact_row(contact), source=source, position=position)
            return builder.build()
        return _read_notes(client, records, concurrency)


def _list_params(filters: Mapping[str, str] | None, updated_since: str | None) -> dict[str, str]:
    params = {str(name): str(value) for name, value in (filters or {}).items()}
    taken = sorted(RESERVED_PARAMS & params.keys())
    if taken:
        raise ConfigError(
            f"Redmine filters may not set {', '.join(taken)}: the reader pages itself"
        )
    if updated_since is not None:
        if "updated_on" in params:
            raise ConfigError("give updated_since or an updated_on filter, not both")
        params["updated_on"] = f">={updated_since}"
    return params


def _walk(client: RedmineClient, params: dict[str, str], page_size: int) -> Iterator[Record]:
    """Every contact of the list in id order, with its position, raw JSON and parse result.

    Each page after the first starts one place early, on the last contact read: a contact
    deleted meanwhile moves every later one a place up, and without that overlap the one
    moved across the page boundary was never read (nor by a later incremental run, whose
    watermark passed it). When the overlap shows such a shift, the walk steps a page back
    and reads on from there (what it saw already is skipped)."""
    offset = 0
    position = 0
    seen: set[int] = set()
    highest: int | None = None  # the largest id read: a page after it starts at it or before
    stepped_back = False
    while True:
        start = max(0, offset - 1) if seen else offset
        query: dict[str, str | int] = {**params, "sort": "id", "offset": start, "limit": page_size}
        items, applied = client.get(LIST_PATH, query, _list_page)
        limit = applied if applied is not None and 0 < applied <= page_size else page_size
        first = items[0].get("id") if items and isinstance(items[0], dict) else None
        if start > 0 and isinstance(first, int) and highest is not None and first > highest:
            offset = max(0, start - limit)  # shifted under a deletion: read that stretch again
            stepped_back = True
            continue
        fresh = 0
        for item in items:
            record_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(record_id, int):
                if record_id in seen:
                    continue
                seen.add(record_id)
                highest = record_id if highest is None else max(highest, record_id)
            fresh += 1
            position += 1
            raw = client.redact(json.dumps(item, ensure_ascii=False))
            try:
                yield position, raw, contact_from_json(item)
            except RecordError as exc:
                yield position, raw, exc
        if len(items) < limit:
            return
        if fresh == 0 and not stepped_back:
            raise SourceError(
                f"the page at offset {start} held only contacts already read: the server "
                "seems to ignore offset, so the walk stops here instead of looping",
                source=client.source_of(LIST_PATH),
            )
        stepped_back = False
        offset = start + len(items)


def _list_page(body: Any) -> tuple[list[Any], int | None]:
    """The contacts of a list answer and the limit the server applied (None with nometa)."""
    if not isinstance(body, dict) or not isinstance(body.get("contacts"), list):
        raise ValueError('expected {"contacts": [...]}')
    limit = body.get("limit")
    return body["contacts"], limit if isinstance(limit, int) else None


def _show_notes(body: Any) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("contact"), dict):
        raise ValueError('expected {"contact": {...}}')
    notes = body["contact"].get("notes")
    if notes is None:
        return []
    if not isinstance(notes, list):
        raise ValueError("notes is not an array")
    return notes


def _read_notes(client: RedmineClient, records: list[Record], concurrency: int) -> Extracted:
    contacts = [contact for _, _, contact in records if isinstance(contact, Contact)]
    log.info(
        "reading notes: one request per contact (%d requests, %d at a time)",
        len(contacts),
        concurrency,
    )
    builder = FrameBuilder("notes")
    position = 0
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="redmine-notes")
    try:
        futures: dict[int, Future[list[Any]]] = {
            contact.id: pool.submit(_fetch_notes, client, contact.id) for contact in contacts
        }
        for _, raw, contact in records:
            if isinstance(contact, RecordError):
                position += 1
                builder.reject(
                    source=client.source_of(LIST_PATH),
                    position=position,
                    error=client.redact(str(contact)),
                    raw=raw,
                )
                continue
            source = client.source_of(SHOW_PATH.format(contact.id))
            try:
                items = futures[contact.id].result()
            except NotFoundError:
                position += 1
                builder.reject(
                    source=source,
                    position=position,
                    raw=raw,
                    error=f"contact {contact.id} was gone (HTTP 404) when its notes were read",
                )
                continue
            for item in items:
                position += 1
                try:
                    note: Note = note_from_json(item)
                except RecordError as exc:
                    raw_note = client.redact(json.dumps(item, ensure_ascii=False))
                    error = client.redact(str(exc))
                    builder.reject(source=source, position=position, error=error, raw=raw_note)
                    continue
                builder.add(note_row(contact, note), source=source, position=position)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return builder.build()


def _fetch_notes(client: RedmineClient, contact_id: int) -> list[Any]:
    return client.get(SHOW_PATH.format(contact_id), {"include": "notes"}, _show_notes)
