"""Rally's records of one object as they are now, learned cheaply: what a person typed since
crmsync last wrote, and what crmsync's own writes left there.

The first look lists every record of the object once (an empty tenant: one request); after
that, only what changed since the last look (`updatedSince`, 100 records a request): the
records crmsync wrote last time and those people edited. So an update never costs a GET of
its own: one list request per 100 records written or changed in Rally. A look starts from
Rally's own clock (the Date of its answers), less a margin, so no change made while a listing
pages through the tenant is missed. A dry run looks too, and keeps what it saw in memory only.

The exception is a step that only updates records: after a big import, the listing since the
last look holds every record the import wrote (a million records: 10,000 requests), where
the step needs a few. When the listing proves longer than the records to update, those are
fetched one by one instead (a GET each), and the last look's time stays as it was, so the
next look that lists still lists everything since then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from crmsync.api import RallyClient
from crmsync.api.answers import PAGE_LIMIT
from crmsync.api.paging import cancel_all
from crmsync.errors import MalformedAnswerError
from crmsync.schema import RallyObject
from crmsync.schema.fields import format_timestamp, parse_timestamp
from crmsync.state import StepState

FETCH_AT_ONCE = 500  # records fetched one by one: asked for this many at a time
# Rally's clock can only be read to the second (the Date header), and a change made while the
# listing runs must be listed again next time: look again from this long before.
LOOK_MARGIN = timedelta(seconds=5)
Record = dict[str, Any]


def match_key(obj: RallyObject, record: Mapping[str, Any]) -> str | None:
    """The record's upsert key as the id map stores it (lower case), or None."""
    value = record.get(obj.match_key) if obj.match_key else None
    return str(value).strip().lower() if value else None


def check_record(obj: RallyObject, record: Mapping[str, Any]) -> None:
    """MalformedAnswerError for a record without an id, or without a field Rally always
    holds (`always_held`): an update merged with it would take the field as emptied by a
    person and wipe it (a contact's email)."""
    record_id = record.get("id")
    if not isinstance(record_id, str) or not record_id:
        raise MalformedAnswerError(f"Rally answered with a record of {obj.name} without an id")
    missing = [name for name in obj.always_held if record.get(name) is None]
    if missing:
        raise MalformedAnswerError(
            f"Rally answered with {obj.name} record {record_id} without its "
            f"{', '.join(missing)}, which Rally always holds: nothing is written from such "
            "an answer, so no value is wiped"
        )


class Mirror:
    """Rally's records of one object for one step; see the module docstring."""

    def __init__(self, obj: RallyObject, state: StepState) -> None:
        self.obj = obj
        self._state = state
        # Seen in this run, kept in memory by a dry run only (it writes no state): a real
        # run finds them in the state database, and a first look at a tenant of a million
        # records held a million dicts here.
        self._fresh: dict[str, Record] = {}
        self._looked = False
        self._newest: datetime | None = None  # the latest updatedAt this look listed

    async def look(self, client: RallyClient, *, only: Sequence[str] | None = None) -> None:
        """List what changed in Rally since the last look (everything, the first time).

        `only`: the ids of every record the step will write, when it writes no other (it
        creates none). They are fetched one by one instead when the listing is longer than
        they are many (see the module docstring)."""
        if self._looked:
            return
        self._looked = True
        mark = self._state.seen_since(self.obj.name)
        since = datetime.fromisoformat(mark.replace("Z", "+00:00")) if mark else None
        started = client.local_time()
        offset = 0
        if only is not None and since is not None:
            first = await client.list_page(self.obj, limit=PAGE_LIMIT, updated_since=since)
            self._keep(first, listed=True)
            offset = len(first)
            if len(first) >= PAGE_LIMIT:
                client.page_size.proven = True
            elif client.page_size.ends(first):  # that was the whole listing
                self._listed(client, started, since)
                return
            if await self._longer_than(client, since, PAGE_LIMIT * (len(only) + 1)):
                await self._fetch(client, only)
                return  # not listed: the next look lists from the same time
        batch: list[Record] = []
        async for record in client.iter_records(self.obj, updated_since=since, offset=offset):
            batch.append(record)
            if len(batch) == PAGE_LIMIT:
                self._keep(batch, listed=True)
                batch = []
        self._keep(batch, listed=True)
        self._listed(client, started, since)

    async def _longer_than(self, client: RallyClient, since: datetime, count: int) -> bool:
        """Whether more than `count` records changed since `since` (one request)."""
        past = await client.list_page(
            self.obj, limit=1, offset=count, updated_since=since, fields=["id"]
        )
        return bool(past)

    async def _fetch(self, client: RallyClient, rally_ids: Sequence[str]) -> None:
        """Each record of `rally_ids` as Rally holds it now (one gone is left to the write,
        which finds it gone as it would after a listing)."""
        wanted = list(dict.fromkeys(rally_ids))
        for start in range(0, len(wanted), FETCH_AT_ONCE):
            chunk = wanted[start : start + FETCH_AT_ONCE]
            asked = [asyncio.ensure_future(client.get(self.obj, i)) for i in chunk]
            try:
                found = await asyncio.gather(*asked)
            except BaseException:  # the first failure is the look's; the others stop
                await cancel_all(asked)
                raise
            self._keep([record for record in found if record is not None])

    def _listed(self, client: RallyClient, started: float, since: datetime | None) -> None:
        """Everything changed since the last look is seen: the next look starts here, on
        the records' own clock where it is behind the Date header's (a Rally whose Date ran
        10 s ahead made the next look miss what this run wrote in its first seconds), and
        where this look listed nothing, where the last one started."""
        looked_at = client.server_clock.at_least(started)
        if looked_at is None:
            return
        if self._newest is not None:
            looked_at = min(looked_at, self._newest)
        elif since is not None:
            return
        self._state.listed_at(self.obj.name, format_timestamp(looked_at - LOOK_MARGIN))

    def _keep(self, records: list[Record], *, listed: bool = False) -> None:
        for record in records:
            check_record(self.obj, record)
            if listed and (moment := parse_timestamp(record.get("updatedAt"))) is not None:
                self._newest = moment if self._newest is None else max(self._newest, moment)
        if self._state.dry_run:
            for record in records:
                if isinstance(record.get("id"), str):
                    self._fresh[record["id"]] = record
        self._state.keep_seen(self.obj.name, [(match_key(self.obj, r), r) for r in records])

    def get(self, rally_ids: Iterable[str]) -> dict[str, Record]:
        """id -> the record as last seen, for the ids ever seen."""
        wanted = list(rally_ids)
        found = {i: self._fresh[i] for i in wanted if i in self._fresh}
        missing = [i for i in wanted if i not in found]
        if missing:
            found.update(self._state.seen(self.obj.name, missing))
        return found

    def holds_any(self) -> bool:
        """Whether any record of the object was ever seen (a first load's tenant may be
        empty: then no key needs looking up)."""
        return bool(self._fresh) or self._state.has_seen(self.obj.name)

    def ids_of(self, keys: Iterable[str]) -> dict[str, str]:
        """match key (lower case) -> id of a seen record that has it."""
        wanted = set(keys)
        found = self._state.seen_ids(self.obj.name, wanted)
        for rally_id, record in self._fresh.items():
            key = match_key(self.obj, record)
            if key in wanted:
                found[key] = rally_id
        return found

    def saw(self, record: Mapping[str, Any]) -> None:
        """A record as a write's answer showed it."""
        self._keep([dict(record)])

    def gone(self, rally_ids: Iterable[str]) -> None:
        ids = list(rally_ids)
        for rally_id in ids:
            self._fresh.pop(rally_id, None)
        self._state.forget_seen(self.obj.name, ids)
