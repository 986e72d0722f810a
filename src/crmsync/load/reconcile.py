"""Finding out what an ambiguous bulk write did, without re-sending it blindly.

A bulk that timed out, lost its connection or got a 5xx may or may not have been committed.
Rally's list has no filter by email or domain, so records are matched by
content: list what changed since just before the batch was sent, with only the fields that were
sent, and match each sent record to a listed one by a fingerprint of those values. Values are
normalized the way a server may rewrite them (timestamps re-formatted, numbers re-typed, match
keys compared case-insensitively), so a committed record is recognized in its stored form.

Records that carry their match key (email, domain) are matched by it alone: the listing then
asks for the id and the key only.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from crmsync.api.rally import RallyClient
from crmsync.errors import RequestRefused, TransientError
from crmsync.schema import OBJECTS, RallyObject
from crmsync.schema.fields import format_timestamp, parse_timestamp

ID_FIELD = "id"
UPDATED_FIELD = "updatedAt"
CREATION_STAMPS = ("createdAt", UPDATED_FIELD)
# Pages of a key search asked for before the one being read is done (after a full first
# page): one page wasted at most, for a search that takes half the time. Not while requests
# wait for turns under a rate limit: a page not needed then costs a turn a bulk could have
# had (20,000 contacts under faults at 20 requests/s, eight seeds: 67.4% of the limit on
# average, against 63.6% with pages ahead). Once none waits (the bulks are sent, and a search
# pages through what they stored since a bulk long retried: 44 pages, one at a time, took
# 11 s of a 35 s run), pages ahead take only turns nobody wanted.
PAGES_AHEAD = 2
# How far before Rally's time a bulk left (as the client estimates it: never late) a listing
# starts: room for a tenant whose servers' clocks differ a little.
RECONCILE_MARGIN = timedelta(seconds=0.5)
# The same for a search of keys: a key it misses is searched for again from RECONCILE_MARGIN
# before, and a key never found costs a failed row, never a duplicate, so it can start later.
KEY_MARGIN = timedelta(seconds=0.1)
# Where a search for keys looks first: within this of Rally's time when a failed answer came.
# A server answers a write it committed right after the commit (a 5xx, a cut answer), so the
# bulk's records are listed just before it: a page or two, where the window since the bulk
# left holds every bulk then in flight. The whole window is searched after, if need be.
PROBE_MARGIN = timedelta(seconds=0.1)
# Without any Date from the server yet, the local clock minus this (it may be skewed).
NO_SERVER_DATE_MARGIN = timedelta(minutes=5)
# Fields a server may store in another case than it was sent: the upsert keys.
CASE_INSENSITIVE_FIELDS = frozenset({"email", "domain"})
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def normalize(value: Any, field: str = "") -> Any:
    """The canonical form of one value, so a sent value equals its stored echo."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            return int(number)
        return repr(number)
    if isinstance(value, datetime):
        return format_timestamp(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, str):
        text = value.strip()
        if _TIMESTAMP.match(text):
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                return text
            return normalize(moment)
        return text.casefold() if field in CASE_INSENSITIVE_FIELDS else text
    if isinstance(value, Mapping):
        return {str(k): normalize(v, str(k)) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [normalize(item, field) for item in value]
    return str(value)


def fingerprint(record: Mapping[str, Any], fields: Sequence[str]) -> str:
    """A stable text for the values of `fields` in `record` (missing counts as null)."""
    values = [normalize(record.get(name), name) for name in fields]
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


def listing_fields(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The fields to ask the list for: everything any record sent, and the id."""
    names = sorted({name for record in records for name in record if name != ID_FIELD})
    return [ID_FIELD, *names]


def match_listed(
    sent: Sequence[Mapping[str, Any]],
    listed: Iterable[Mapping[str, Any]],
    *,
    exclude_ids: Collection[str] = frozenset(),
) -> list[str | None]:
    """For each sent record, the id of a distinct listed record with the same values, or None.

    Each sent record is compared on the fields it sent (a server default for a field it left
    out is no difference). Listed ids in `exclude_ids` (already owned by another record of
    this load) are never matched, and no listed record matches twice.
    """
    candidates = [r for r in listed if isinstance(r.get(ID_FIELD), str)]
    candidates = [r for r in candidates if r[ID_FIELD] not in exclude_ids]
    by_fields: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for position, record in enumerate(sent):
        by_fields[tuple(sorted(name for name in record if name != ID_FIELD))].append(position)
    result: list[str | None] = [None] * len(sent)
    used: set[str] = set()
    for fields, positions in by_fields.items():
        ids_by_print: dict[str, list[str]] = defaultdict(list)
        for record in candidates:
            ids_by_print[fingerprint(record, fields)].append(record[ID_FIELD])
        for position in positions:
            pool = ids_by_print.get(fingerprint(sent[position], fields), [])
            while pool:
                record_id = pool.pop(0)
                if record_id not in used:
                    used.add(record_id)
                    result[position] = record_id
                    break
    return result


def match_keys(
    sent: Sequence[Mapping[str, Any]],
    listed: Iterable[Mapping[str, Any]],
    key: str,
    *,
    exclude_ids: Collection[str] = frozenset(),
) -> list[str | None]:
    """For each sent record, the id of the listed record with its match key (compared
    without case), or None."""
    by_key: dict[Any, str] = {}
    for record in listed:
        record_id = record.get(ID_FIELD)
        value = record.get(key)
        if isinstance(record_id, str) and value and record_id not in exclude_ids:
            by_key[normalize(value, key)] = record_id
    return [by_key.get(normalize(record.get(key), key)) for record in sent]


async def listing_start(
    client: RallyClient, obj: RallyObject, sent_at: float, margin: timedelta = RECONCILE_MARGIN
) -> datetime:
    """Where a reconciliation listing starts: Rally's time when the batch left (at local
    `sent_at`), less `margin`. Read from the Date of any answer, even a later one (without
    one yet, a cheap list asks for it), and from the records' clock once it is read."""
    await read_records_clock(client)
    server_time = client.server_clock.at_least(sent_at)
    if server_time is None:
        await client.check_auth(obj)
        server_time = client.server_clock.at_least(sent_at)
    if server_time is None:  # a server that sends no Date: the local clock, with room
        return datetime.now(UTC) - NO_SERVER_DATE_MARGIN
    return server_time - margin


async def read_records_clock(client: RallyClient) -> None:
    """The clock that stamps records, read once from a record a write of this client created
    (one GET): a Rally whose records' stamps ran 2 s behind its Date headers had a listing
    since the Date clock miss what an ambiguous bulk committed, and its records sent again.
    A read that fails leaves the Date headers' clock alone."""
    clock = client.server_clock
    async with clock.reading:
        created = clock.to_read()
        if created is None:
            return
        try:
            record = await client.get(OBJECTS[created.obj], created.record_id)
        except (TransientError, RequestRefused):
            clock.unread(created)
            return
        stamps = [parse_timestamp(record.get(name)) for name in CREATION_STAMPS] if record else []
        # the earlier: a record changed since it was created has a later updatedAt
        known = [stamp for stamp in stamps if stamp is not None]
        if known:
            clock.note_record(min(known), created)


Window = tuple[datetime, datetime | None]  # (since, until): until None is no end


async def find_keys(
    client: RallyClient,
    obj: RallyObject,
    since: datetime,
    key: str,
    wanted: Collection[str],
    *,
    exclude_ids: Collection[str] = frozenset(),
    until: datetime | None = None,
    wide_since: datetime | None = None,
    probes: Sequence[Window] = (),
) -> dict[str, str]:
    """normalized key -> id of the records stored since `since` that carry one of `wanted`
    (normalized keys).

    What a bulk wrote is listed right after `since`, so pages stop as soon as every wanted key
    is found, and at a record stored after `until` (when the wanted keys were certainly
    stored). The `probes` (parts of since..until) are searched first; keys not found are
    looked for from `wide_since` to `since` last.
    """
    missing = set(wanted)
    found: dict[str, str] = {}
    scan = _KeyScan(key, missing, found, exclude_ids)
    for start, end in _windows(since, until, wide_since, probes):
        if not missing:
            break
        await scan.run(client, obj, start, until=end)
    return found


def _windows(
    since: datetime,
    until: datetime | None,
    wide_since: datetime | None,
    probes: Sequence[Window],
) -> list[Window]:
    """The windows a search for keys goes through, in turn: the probes (cut to since..until),
    since..until, then wide_since..since. A probe that misses costs its pages only; the
    whole window is searched again rather than in pieces around the probes, which would
    cost a page per piece for a key that is not there."""
    windows: list[Window] = []
    for probe_since, probe_until in probes:
        start = max(probe_since, since)
        end = probe_until if until is None or probe_until is None else min(probe_until, until)
        if end is None or start < end:
            windows.append((start, end))
    windows.append((since, until))
    if wide_since is not None and wide_since < since:
        windows.append((wide_since, since))
    return windows


async def find_refused_keys(
    client: RallyClient,
    obj: RallyObject,
    key: str,
    wanted: Collection[str],
    sent_at: float,
    answered: float,
    exclude_ids: Collection[str],
    failed_at: Sequence[float] = (),
) -> dict[str, str]:
    """find_keys for the keys a re-sent bulk (answered at local `answered`) refused, whose
    first bulk left at local `sent_at`: stored since it left, and before the re-send was
    answered (a key is refused only once it is stored). Searched first around each failed
    answer of the bulk (at local `failed_at`), where a commit usually lies."""
    await read_records_clock(client)
    by = client.server_clock.at_most(answered)
    probes: list[Window] = []
    for moment in failed_at:
        failed = client.server_clock.stamped_at(moment)
        if failed is not None:
            probes.append((failed - PROBE_MARGIN, failed + PROBE_MARGIN))
    return await find_keys(
        client,
        obj,
        await listing_start(client, obj, sent_at, KEY_MARGIN),
        key,
        wanted,
        exclude_ids=exclude_ids,
        until=None if by is None else by + RECONCILE_MARGIN,
        wide_since=await listing_start(client, obj, sent_at),
        probes=probes,
    )


class _KeyScan:
    """One search for keys through a listing: what is still missing, what was found."""

    def __init__(
        self,
        key: str,
        missing: set[str],
        found: dict[str, str],
        exclude_ids: Collection[str],
    ) -> None:
        self.key, self.missing, self.found, self.exclude_ids = key, missing, found, exclude_ids

    async def run(
        self,
        client: RallyClient,
        obj: RallyObject,
        since: datetime,
        *,
        until: datetime | None,
    ) -> None:
        """Page through the listing since `since` until every key is found or a record was
        stored after `until`. After a full first page, the page after the next one is asked
        for while the next one is read: a search's pages are on the path of the load's end."""
        listing = client.iter_records(
            obj,
            updated_since=since,
            fields=[ID_FIELD, self.key, UPDATED_FIELD],
            urgent=True,
            pages_per_step=1,
            pages_in_flight=PAGES_AHEAD if client.pacer.idle else 1,
        )
        async with contextlib.aclosing(listing) as records:  # pages ahead cancelled on return
            async for record in records:
                if self._take(record, until):
                    return

    def _take(self, record: Mapping[str, Any], until: datetime | None) -> bool:
        """Take one listed record's key if it is wanted; True when the search is over."""
        if not self.missing or _later(record, until):
            return True
        record_id, value = record.get(ID_FIELD), record.get(self.key)
        if not (isinstance(record_id, str) and value) or record_id in self.exclude_ids:
            return False
        normalized = normalize(value, self.key)
        if normalized in self.missing:
            self.found[normalized] = record_id
            self.missing.discard(normalized)
        return not self.missing


def _later(record: Mapping[str, Any], until: datetime | None) -> bool:
    """Stored after `until`: the rest of a listing ordered by updatedAt is later still."""
    moment = parse_timestamp(record.get(UPDATED_FIELD))
    return until is not None and moment is not None and moment > until


async def list_since(
    client: RallyClient, obj: RallyObject, since: datetime, fields: Sequence[str]
) -> list[dict[str, Any]]:
    """Every record updated since `since`, with `fields` (or all fields, if those are refused)."""
    try:
        listed = client.iter_records(obj, updated_since=since, fields=fields, urgent=True)
        return [r async for r in listed]
    except RequestRefused as exc:
        if exc.status != HTTPStatus.BAD_REQUEST:
            raise
    # A server that does not know one of the field names: ask for whole records instead.
    return [r async for r in client.iter_records(obj, updated_since=since, urgent=True)]
