"""What the record endpoints do, independent of HTTP: validate, dedupe, stamp, store, answer.

Bodies are validated with crmsync.schema's Create models (the one definition of the rules) and
answered through its Response models, so the sandbox and the client can never disagree about a
field. Documents are stored in the response's camelCase shape with the server's own fields
(id, tenantId, timestamps, fullName, completedAt) already filled in.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import GenericAlias
from typing import Any, get_args

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import to_json

from crmsync.sandbox.errors import HTTP_BAD_REQUEST, HTTP_NOT_FOUND, HTTP_UNPROCESSABLE, ApiError
from crmsync.sandbox.listing import ListQuery
from crmsync.sandbox.store import DuplicateKeyError, Store, StoredRow
from crmsync.sandbox.validation import describe, parse_json, parse_object
from crmsync.schema import (
    MAX_BULK,
    OBJECTS,
    BulkError,
    BulkResult,
    RallyObject,
    UpsertResult,
)
from crmsync.schema.fields import format_timestamp

# Rally knows fields by their camelCase names only: "first_name" is an unknown field on the
# wire, although the models accept it from Python code (populate_by_name).
WIRE_NAMES_ONLY: dict[str, Any] = {"by_alias": True, "by_name": False}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COMPLETED = "completed"

Doc = dict[str, Any]


def _wall_clock_us() -> int:
    return time.time_ns() // 1000


def stamp(us: int) -> str:
    """Microseconds since the epoch as Rally writes a timestamp."""
    return format_timestamp(_EPOCH + timedelta(microseconds=us))


def _number(value: Decimal) -> int | float:
    """A decimal (annualRevenue) as a JSON number, without a fraction when integral."""
    return int(value) if value == value.to_integral_value() else float(value)


def _mentions(annotation: object, target: type) -> bool:
    return annotation is target or any(_mentions(arg, target) for arg in get_args(annotation))


# Wire names of Decimal fields: to_json would write them as strings, Rally writes numbers.
_DECIMAL_FIELDS = {
    name: tuple(
        info.alias or field
        for field, info in spec.create.model_fields.items()
        if _mentions(info.annotation, Decimal)
    )
    for name, spec in OBJECTS.items()
}


def _derive_contact(doc: Doc, previous: Doc | None, now: str) -> None:
    doc["fullName"] = f"{doc['firstName']} {doc['lastName']}"
    # Not part of the create body: kept from the stored record, Rally's defaults otherwise.
    doc["isUnsubscribed"] = previous.get("isUnsubscribed", False) if previous else False
    doc["lastContactedAt"] = previous.get("lastContactedAt") if previous else None


def _derive_activity(doc: Doc, previous: Doc | None, now: str) -> None:
    if doc["status"] != _COMPLETED:
        doc["completedAt"] = None
    elif previous is not None and previous.get("status") == _COMPLETED:
        doc["completedAt"] = previous.get("completedAt") or now
    else:
        doc["completedAt"] = now


def _derive_nothing(doc: Doc, previous: Doc | None, now: str) -> None:
    return None


_DERIVE: dict[str, Callable[[Doc, Doc | None, str], None]] = {
    "contacts": _derive_contact,
    "companies": _derive_nothing,
    "activities": _derive_activity,
}
# The snake_case attribute behind each object's match key (a wire name in RallyObject).
_MATCH_FIELD = {
    name: next(
        field for field, info in spec.create.model_fields.items() if info.alias == spec.match_key
    )
    for name, spec in OBJECTS.items()
    if spec.match_key is not None
}
_SINGULAR = {"contacts": "contact", "companies": "company", "activities": "activity"}


class RecordService:
    """The operations behind /api/v1/{object}; every method works within one tenant."""

    def __init__(self, store: Store, clock: Callable[[], int] = _wall_clock_us) -> None:
        self._store = store
        self._clock = clock
        self._last_us = 0
        self._stamped = (0, stamp(0))
        # list[model] of a model known only at run time, so no static type to check it by
        self._bulk_adapters: dict[str, TypeAdapter[Any]] = {
            name: TypeAdapter(_list_of(spec.create)) for name, spec in OBJECTS.items()
        }
        self._response_adapters: dict[str, TypeAdapter[Any]] = {
            name: TypeAdapter(_list_of(spec.response)) for name, spec in OBJECTS.items()
        }

    # ---- reads ---------------------------------------------------------------------------

    def get(self, tenant: str, obj: RallyObject, record_id: str) -> Doc:
        doc = self._store.get(tenant, obj.name, record_id)
        if doc is None:
            raise _not_found(obj, record_id)
        return _respond(obj, doc)

    def list_records(
        self, tenant: str, obj: RallyObject, query: ListQuery, *, stored: bool = False
    ) -> list[Doc]:
        """A page of records as Rally answers them; `stored`: as the sandbox stores them,
        with the fields Rally's answers do not show (an inspect read of a test, never the
        API's answer)."""
        docs = self._store.list(
            tenant, obj.name, limit=query.limit, offset=query.offset, since_us=query.since_us
        )
        if stored:
            return docs
        adapter = self._response_adapters[obj.name]
        dumped: list[Doc] = adapter.dump_python(
            adapter.validate_python(docs), by_alias=True, mode="json"
        )
        names = query.fields if query.fields is not None else obj.response_fields
        return [{name: answer.get(name) for name in names} for answer in dumped]

    # ---- writes --------------------------------------------------------------------------

    def create(self, tenant: str, obj: RallyObject, body: bytes) -> Doc:
        model = _validate_one(obj, body)
        key = _match_key(obj, model)
        if key is not None:
            existing = self._store.find_by_key(tenant, obj.name, key)
            if existing is not None:
                raise ApiError(HTTP_UNPROCESSABLE, _exists_message(obj, existing["id"]))
        doc, row = self._build_one(tenant, obj, model, previous=None)
        self._insert(tenant, obj, [row])
        return _respond(obj, doc)

    def replace(self, tenant: str, obj: RallyObject, record_id: str, body: bytes) -> Doc:
        """PUT /{id}: a full create body replaces the fields; id and createdAt stay."""
        previous = self._store.get(tenant, obj.name, record_id)
        if previous is None:
            raise _not_found(obj, record_id)
        model = _validate_one(obj, body)
        key = _match_key(obj, model)
        if key is not None:
            holder = self._store.find_by_key(tenant, obj.name, key)
            if holder is not None and holder["id"] != record_id:
                raise ApiError(HTTP_UNPROCESSABLE, _exists_message(obj, holder["id"]))
        doc, row = self._build_one(tenant, obj, model, previous=previous)
        self._replace(tenant, obj, row)
        return _respond(obj, doc)

    def delete(self, tenant: str, obj: RallyObject, record_id: str) -> None:
        if not self._store.delete(tenant, obj.name, record_id):
            raise _not_found(obj, record_id)

    def upsert(self, tenant: str, obj: RallyObject, body: bytes) -> tuple[Doc, bool]:
        """Create, or replace the record with the same match key. True when created."""
        if not obj.has_upsert:
            raise ApiError(HTTP_NOT_FOUND, f"{obj.name} have no upsert endpoint")
        model = _validate_one(obj, body)
        key = _match_key(obj, model)
        if key is None:
            raise ApiError(HTTP_UNPROCESSABLE, f"{obj.match_key}: required for upsert")
        previous = self._store.find_by_key(tenant, obj.name, key)
        doc, row = self._build_one(tenant, obj, model, previous=previous)
        if previous is None:
            self._insert(tenant, obj, [row])
        else:
            self._replace(tenant, obj, row)
        result = UpsertResult(action="created" if previous is None else "updated", id=doc["id"])
        return result.model_dump(mode="json"), previous is None

    def bulk_create(self, tenant: str, obj: RallyObject, body: bytes) -> Doc:
        """POST /bulk: each item succeeds or fails at its own index; successes in one commit."""
        items = parse_json(body)
        if not isinstance(items, list):
            raise ApiError(HTTP_BAD_REQUEST, "bulk body must be a JSON array of records")
        if not 1 <= len(items) <= MAX_BULK:
            raise ApiError(
                HTTP_BAD_REQUEST,
                f"a bulk request takes 1 to {MAX_BULK} records (at most {MAX_BULK}),"
                f" got {len(items)}",
            )
        models, errors = self._validate_items(obj, items)
        keys = [None if model is None else _match_key(obj, model) for model in models]
        if obj.match_key is not None:
            self._refuse_duplicates(tenant, obj, models, keys, errors)
        valid = [index for index, model in enumerate(models) if model is not None]
        # One serializer call for the whole batch, one timestamp for all its records.
        dumped = self._bulk_adapters[obj.name].dump_python(
            [models[index] for index in valid], by_alias=True
        )
        now_us = self._now_us()
        rows = [
            self._build(tenant, obj, fields, keys[index], previous=None, now_us=now_us)[1]
            for index, fields in zip(valid, dumped, strict=True)
        ]
        self._insert(tenant, obj, rows)
        created_ids = [row.id for row in rows]
        result = BulkResult(
            created=len(rows),
            failed=len(errors),
            created_ids=created_ids,
            errors=[BulkError(index=i, error=errors[i]) for i in sorted(errors)],
        )
        return result.model_dump(by_alias=True, mode="json")

    # ---- helpers -------------------------------------------------------------------------

    def _validate_items(
        self, obj: RallyObject, items: list[Any]
    ) -> tuple[list[BaseModel | None], dict[int, str]]:
        """Validate the whole array at once; only when that fails, item by item."""
        try:
            adapter = self._bulk_adapters[obj.name]
            return list(adapter.validate_python(items, **WIRE_NAMES_ONLY)), {}
        except ValidationError:
            pass
        models: list[BaseModel | None] = []
        errors: dict[int, str] = {}
        for index, item in enumerate(items):
            try:
                models.append(obj.create.model_validate(item, **WIRE_NAMES_ONLY))
            except ValidationError as exc:
                models.append(None)
                errors[index] = describe(exc)
        return models, errors

    def _refuse_duplicates(
        self,
        tenant: str,
        obj: RallyObject,
        models: list[BaseModel | None],
        keys: list[str | None],
        errors: dict[int, str],
    ) -> None:
        """Fail items whose key exists in the tenant or repeats an earlier item (in place)."""
        wanted = sorted({key for key in keys if key is not None})
        existing = self._store.existing_keys(tenant, obj.name, wanted)
        first_index: dict[str, int] = {}
        for index, key in enumerate(keys):
            if key is None:
                continue
            if key in existing:
                errors[index] = _exists_message(obj, existing[key])
                models[index] = None
            elif key in first_index:
                errors[index] = (
                    f"{obj.match_key}: duplicate of the record at index {first_index[key]}"
                    " in this batch (compared case-insensitively)"
                )
                models[index] = None
            else:
                first_index[key] = index

    def _build(
        self,
        tenant: str,
        obj: RallyObject,
        fields: Doc,
        key: str | None,
        *,
        previous: Doc | None,
        now_us: int | None = None,
    ) -> tuple[Doc, StoredRow]:
        """The stored document: the create body's fields plus the server's own."""
        now_us = self._now_us() if now_us is None else now_us
        if now_us != self._stamped[0]:  # a bulk shares one timestamp: format it once
            self._stamped = (now_us, stamp(now_us))
        now = self._stamped[1]
        record_id = previous["id"] if previous is not None else str(uuid.uuid4())
        doc: Doc = {"id": record_id, "tenantId": tenant, **fields}
        _DERIVE[obj.name](doc, previous, now)
        doc["createdAt"] = previous["createdAt"] if previous is not None else now
        doc["updatedAt"] = now
        for name in _DECIMAL_FIELDS[obj.name]:
            if isinstance(doc[name], Decimal):
                doc[name] = _number(doc[name])
        return doc, StoredRow(record_id, key, now_us, to_json(doc).decode())

    def _build_one(
        self, tenant: str, obj: RallyObject, model: BaseModel, *, previous: Doc | None
    ) -> tuple[Doc, StoredRow]:
        fields = model.model_dump(by_alias=True)
        return self._build(tenant, obj, fields, _match_key(obj, model), previous=previous)

    def _insert(self, tenant: str, obj: RallyObject, rows: list[StoredRow]) -> None:
        try:
            self._store.insert_many(tenant, obj.name, rows)
        except DuplicateKeyError:
            raise ApiError(HTTP_UNPROCESSABLE, _exists_message(obj, None)) from None

    def _replace(self, tenant: str, obj: RallyObject, row: StoredRow) -> None:
        try:
            found = self._store.replace(tenant, obj.name, row)
        except DuplicateKeyError:
            raise ApiError(HTTP_UNPROCESSABLE, _exists_message(obj, None)) from None
        if not found:
            raise _not_found(obj, row.id)

    def _now_us(self) -> int:
        """Strictly increasing, so a later write always sorts after an earlier one."""
        self._last_us = max(self._clock(), self._last_us + 1)
        return self._last_us


def _validate_one(obj: RallyObject, body: bytes) -> BaseModel:
    data = parse_object(body)
    try:
        return obj.create.model_validate(data, **WIRE_NAMES_ONLY)
    except ValidationError as exc:
        raise ApiError(HTTP_UNPROCESSABLE, describe(exc)) from None


def _match_key(obj: RallyObject, model: BaseModel) -> str | None:
    """The lowercased upsert key (email, domain), None when absent or blank."""
    if obj.match_key is None:
        return None
    value = getattr(model, _MATCH_FIELD[obj.name])
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()


def _respond(obj: RallyObject, doc: Doc) -> Doc:
    """The record as Rally's documents describe its answer: every documented field, and no
    other (a field written but not documented in the answer is stored, never shown)."""
    answer: Doc = obj.response.model_validate(doc).model_dump(by_alias=True, mode="json")
    return {name: answer.get(name) for name in obj.response_fields}


def _exists_message(obj: RallyObject, existing_id: str | None) -> str:
    which = f" (id {existing_id})" if existing_id else ""
    return (
        f"{obj.match_key}: a {_SINGULAR[obj.name]} with this {obj.match_key} already exists"
        f"{which}; match is case-insensitive, use PUT /api/v1/{obj.name}/upsert to update it"
    )


def _not_found(obj: RallyObject, record_id: str) -> ApiError:
    return ApiError(HTTP_NOT_FOUND, f"no {_SINGULAR[obj.name]} with id {record_id}")


def _list_of(model: type[BaseModel]) -> Any:
    """`list[model]` for a model chosen at run time."""
    return GenericAlias(list, (model,))
