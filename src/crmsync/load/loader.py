"""load_records: batches, concurrency, 4xx splitting and reconciliation of ambiguous writes.

Every item ends in exactly one RecordOutcome. A bulk refused as a whole (400, 413, 422) is split
in halves until the refused records are isolated. A bulk whose fate is unknown (5xx, lost
answer, an answer that does not add up) is never simply re-sent: what Rally stored since just
before it left is listed (from Rally's own clock), its records are found there (by their match
key, else by their content), and only those not found are sent again, in one bulk: a few
requests, not one per record. What cannot be established is failed with an error saying its
state in Rally is unknown, never counted as created.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from http import HTTPStatus
from typing import Any

from crmsync.api import departures
from crmsync.api.rally import RallyClient
from crmsync.api.server_clock import Created
from crmsync.errors import (
    AmbiguousError,
    ConfigError,
    RequestRefused,
    RetryableError,
    TransientError,
)
from crmsync.load.ledger import Item, Ledger, OutcomeFn
from crmsync.load.outcomes import LoadResult, LoadSettings
from crmsync.load.reconcile import (
    find_refused_keys,
    list_since,
    listing_fields,
    listing_start,
    match_listed,
    normalize,
)
from crmsync.load.workers import batches, drain, gather
from crmsync.schema import BulkResult, RallyObject

logger = logging.getLogger(__name__)

# Units of work (batches or single upserts) open at once, per request the client may ever allow
# in flight (max_concurrency: its cap adapts up to that): a unit waiting out a Retry-After must
# not leave the quota unused, nor too few units a grown cap unused.
WORKERS_PER_SLOT = 2
SPLIT_STATUSES = frozenset({400, 413, 422})  # the request as a whole was refused: split it
UNKNOWN_STATE = "state in Rally unknown"

ProgressFn = Callable[[int, int], None]
UnsentFn = Callable[[list[int]], None]


async def load_records(
    client: RallyClient,
    obj: RallyObject,
    items: Iterable[tuple[int, dict[str, Any]]],
    settings: LoadSettings,
    *,
    on_progress: ProgressFn | None = None,
    on_outcome: OutcomeFn | None = None,
    on_unsent: UnsentFn | None = None,
) -> LoadResult:
    """Send `items` (key, camelCase payload) to Rally; one outcome per item, any order.

    `items` is consumed lazily, a batch at a time as requests go out, so a caller can stream
    a million payloads without holding them all. `on_progress(records_done, batches_done)`
    follows the batches; `on_outcome` sees each outcome as soon as it is settled, so a caller
    interrupted mid-load still knows what was created (the outcomes are then its to keep:
    LoadResult.outcomes is empty); `on_unsent(keys)` sees the keys of a batch cancelled
    before any request of it left (an interrupt): Rally never saw them. Raises AuthError
    when the key is refused, FatalHTTPError when the endpoint does not exist, ConfigError
    for upsert mode on an object without upsert. Cancellation propagates.
    """
    if settings.mode == "upsert" and not obj.has_upsert:
        raise ConfigError(f"Rally has no upsert for {obj.name}; use mode 'bulk'")
    run = _Run(client, obj, settings, on_progress, on_outcome, on_unsent)
    size = settings.batch_size if settings.mode == "bulk" else 1
    before = client.stats.snapshot()
    await drain(
        batches(map(run.admit, items), size),
        run.process,
        workers=settings.max_concurrency * WORKERS_PER_SLOT,
    )
    after = client.stats
    return LoadResult(
        outcomes=run.finish(),
        requests=after.requests - before.requests,
        retries=after.retries - before.retries,
        rate_limited=after.rate_limited - before.rate_limited,
    )


class _Run(Ledger):
    """The state of one load_records call: its ledger of outcomes, bulks awaiting answers."""

    def __init__(
        self,
        client: RallyClient,
        obj: RallyObject,
        settings: LoadSettings,
        on_progress: ProgressFn | None,
        on_outcome: OutcomeFn | None,
        on_unsent: UnsentFn | None = None,
    ) -> None:
        super().__init__(on_outcome)
        self._on_unsent = on_unsent
        self.client = client
        self.obj = obj
        self.settings = settings
        # Bulks whose answer has not been applied yet: what their records are is unknown,
        # so a reconciliation listing must not claim records they may have created.
        self._unanswered: set[asyncio.Event] = set()
        self._on_progress = on_progress
        self._records_done = 0
        self._units_done = 0

    async def process(self, unit: list[Item]) -> None:
        departures.forget()  # the unit's first request is sent from this task, if at all
        try:
            if self.settings.mode == "bulk":
                await self._bulk(unit, depth=0, reconciled=False)
            else:
                await self._upsert(unit[0])
        except asyncio.CancelledError:
            if departures.last_left() is None and self._on_unsent is not None:
                self._on_unsent([item.key for item in unit])  # it waited for its turn
            raise
        self._records_done += len(unit)
        self._units_done += 1
        if self._on_progress is not None:
            self._on_progress(self._records_done, self._units_done)

    # -- bulk ------------------------------------------------------------------------------------

    async def _bulk(
        self,
        batch: list[Item],
        *,
        depth: int,
        reconciled: bool,
        first_sent: float | None = None,
        failed_at: tuple[float, ...] = (),
    ) -> None:
        """Send one bulk. `first_sent` marks a re-send of keyed records whose first bulk's
        fate is unknown (sent at that time; the failed answers so far came at `failed_at`):
        a refusal may then mean "your first bulk created me", and is looked up before it
        stands. A bulk left when the client sent it (after its wait for the rate limit), not
        when it was queued."""
        if depth:  # a re-send after an ambiguous answer: a retry, as the client's own are
            self.client.stats.retries += 1
        try:
            result = await self._post(batch)
        except AmbiguousError as exc:
            failed = (*failed_at, self.client.local_time())
            sent_at = self.client.last_sent_at() if first_sent is None else first_sent
            logger.warning("%s: %d records, reconciling", exc, len(batch))
            if exc.retry_after:
                await self.client.pause(min(exc.retry_after, self.settings.max_backoff_s))
            await self._reconcile(batch, sent_at, str(exc), depth=depth, failed_at=failed)
        except RetryableError as exc:
            reason = f"not loaded, nothing was written; gave up: {exc}"
            self._fail_all(batch, reason, exc.status, reconciled=reconciled)
        except RequestRefused as exc:
            await self._refused(batch, exc, depth=depth, reconciled=reconciled)
        else:
            await self._apply(
                batch,
                result,
                self.client.last_sent_at() if first_sent is None else first_sent,
                depth=depth,
                reconciled=reconciled,
                resent=first_sent is not None,
                failed_at=failed_at,
            )

    async def _post(self, batch: list[Item]) -> BulkResult:
        """POST the bulk, known to be unanswered until it returns or raises. A waiting
        reconciliation resumes only after the caller's next await, and _apply settles a
        consistent answer before its first: the batch's ids are owned by then."""
        answered = asyncio.Event()
        self._unanswered.add(answered)
        try:
            return await self.client.bulk_create(self.obj, [item.payload for item in batch])
        finally:
            self._unanswered.discard(answered)
            answered.set()

    async def _refused(
        self, batch: list[Item], exc: RequestRefused, *, depth: int, reconciled: bool
    ) -> None:
        """A whole bulk refused: split it to isolate the refused records, or fail it."""
        if exc.status == HTTPStatus.NOT_FOUND:
            raise exc
        if exc.status not in SPLIT_STATUSES:
            self._fail_all(batch, str(exc), exc.status, reconciled=reconciled)
        elif len(batch) == 1:
            self._fail(batch[0], exc.detail, exc.status, reconciled=reconciled)
        else:
            middle = len(batch) // 2
            await gather(
                self._bulk(half, depth=depth, reconciled=reconciled)
                for half in (batch[:middle], batch[middle:])
            )

    async def _apply(
        self,
        batch: list[Item],
        result: BulkResult,
        sent_at: float,
        *,
        depth: int,
        reconciled: bool,
        resent: bool = False,
        failed_at: tuple[float, ...] = (),
    ) -> None:
        """Map errors[].index and createdIds back to items; reconcile an answer that does not
        add up rather than guess."""
        answered = self.client.local_time()
        errors: dict[int, str] = {}
        consistent = True
        for error in result.errors:
            if not 0 <= error.index < len(batch) or error.index in errors:
                consistent = False
                continue
            errors[error.index] = error.error
        if resent and errors:  # refused because the first bulk created them? Look them up.
            refused = [(batch[index], message) for index, message in errors.items()]
            await self._find_refused(refused, sent_at, answered, failed_at)
        else:
            for index, message in errors.items():
                self._fail(batch[index], message, None, reconciled=reconciled)
        succeeded = [item for index, item in enumerate(batch) if index not in errors]
        distinct = len(set(result.created_ids)) == len(result.created_ids)  # one id, one record
        if consistent and distinct and len(result.created_ids) == len(succeeded):
            if result.created_ids:  # the records' clock, should a listing need it
                created = Created(self.obj.name, result.created_ids[0], sent_at, answered)
                self.client.server_clock.created(created)
            for item, rally_id in zip(succeeded, result.created_ids, strict=True):
                self._settle(item, "created", rally_id, reconciled=reconciled)
            return
        cause = (
            f"the bulk answer does not add up: {len(batch)} records, {len(result.errors)} "
            f"errors, {len(result.created_ids)} created ids"
        )
        logger.warning("POST %s/bulk: %s; reconciling", self.obj.name, cause)
        if succeeded:
            await self._reconcile(succeeded, sent_at, cause, depth=depth, failed_at=(answered,))

    # -- reconciliation --------------------------------------------------------------------------

    async def _reconcile(
        self,
        batch: list[Item],
        sent_at: float,
        cause: str,
        *,
        depth: int,
        failed_at: tuple[float, ...] = (),
    ) -> None:
        if depth >= self.settings.max_retries:
            reason = f"{UNKNOWN_STATE}: {cause}; gave up after {depth} re-sends"
            self._fail_all(batch, reason, None, reconciled=True)
            return
        key = self.obj.match_key
        keyed: list[Item] = []
        unkeyed: list[Item] = []
        for item in batch:
            (keyed if key is not None and item.payload.get(key) else unkeyed).append(item)
        jobs: list[Coroutine[Any, Any, None]] = []
        if keyed:  # sent again as they are: Rally refuses a key it has, so none is doubled
            resend = self._bulk(
                keyed, depth=depth + 1, reconciled=True, first_sent=sent_at, failed_at=failed_at
            )
            jobs.append(resend)
        if unkeyed:
            jobs.append(self._check_by_listing(unkeyed, sent_at, cause, depth=depth))
        await gather(jobs)

    async def _records_clock_known(self) -> None:
        """Before a listing: when nothing has told the clock Rally stamps records on yet,
        the answers of the bulks in flight, one of which names a record to read it from (a
        listing on the Date headers' clock alone missed what a Rally stamping records 2 s
        behind it had committed)."""
        if not self.client.server_clock.knows_records:
            await self._answers_in_flight()

    async def _answers_in_flight(self) -> None:
        """Wait for the answers of the bulks in flight now: what they created is then owned
        (no listing claims it for another record)."""
        outstanding = [event.wait() for event in self._unanswered]
        if outstanding:
            await asyncio.gather(*outstanding)

    async def _find_refused(
        self,
        refused: list[tuple[Item, str]],
        sent_at: float,
        answered: float,
        failed_at: tuple[float, ...],
    ) -> None:
        """Keyed records a re-sent bulk (answered at `answered`) refused: those Rally stored
        since the first bulk left are that bulk's (created); the refusal of the others stands.
        Looked for first just before each failed answer (`failed_at`)."""
        key = self.obj.match_key
        assert key is not None
        wanted = {normalize(item.payload[key], key) for item, _ in refused}
        await self._records_clock_known()
        try:
            found = await find_refused_keys(
                self.client, self.obj, key, wanted, sent_at, answered, self._owned_ids, failed_at
            )
        except (TransientError, RequestRefused) as exc:
            if isinstance(exc, RequestRefused) and exc.status == HTTPStatus.NOT_FOUND:
                raise
            for item, message in refused:
                reason = f"{UNKNOWN_STATE}: {message}; listing to check failed: {exc}"
                self._fail(item, reason, exc.status, reconciled=True)
            return
        for item, message in refused:
            rally_id = found.get(normalize(item.payload[key], key))
            if rally_id is None:
                self._fail(item, message, None, reconciled=True)
            else:
                self._settle(item, "created", rally_id, reconciled=True)

    async def _check_by_listing(
        self, batch: list[Item], sent_at: float, cause: str, *, depth: int
    ) -> None:
        """Claim the listed records that match what was sent; send again only the rest, in
        one bulk."""
        payloads = [item.payload for item in batch]
        await self._records_clock_known()
        try:
            since = await listing_start(self.client, self.obj, sent_at)
            listed = await list_since(self.client, self.obj, since, listing_fields(payloads))
        except (TransientError, RequestRefused) as exc:
            if isinstance(exc, RequestRefused) and exc.status == HTTPStatus.NOT_FOUND:
                raise
            reason = f"{UNKNOWN_STATE}: {cause}; listing to check failed: {exc}"
            self._fail_all(batch, reason, exc.status, reconciled=True)
            return
        # A bulk still in flight may have created some of the listed records: identical
        # content (two equal activities) would let us claim its record and leave our own
        # orphaned. Wait for every answer outstanding now; their ids are then owned.
        await self._answers_in_flight()
        # Matching and claiming happen with no await in between: no other batch can claim
        # the same listed record meanwhile.
        found = match_listed(payloads, listed, exclude_ids=self._owned_ids)
        missing: list[Item] = []
        for item, rally_id in zip(batch, found, strict=True):
            if rally_id is None:
                missing.append(item)
            else:
                self._settle(item, "created", rally_id, reconciled=True)
        logger.info(
            "%s: %d of %d records found committed, %d sent again",
            self.obj.name,
            len(batch) - len(missing),
            len(batch),
            len(missing),
        )
        if missing:
            await self._bulk(missing, depth=depth + 1, reconciled=True)

    # -- upsert mode -----------------------------------------------------------------------------

    async def _upsert(self, item: Item) -> None:
        sent_at = self.client.local_time()
        try:
            result = await self.client.upsert(self.obj, item.payload)
        except RequestRefused as exc:
            if exc.status == HTTPStatus.NOT_FOUND:
                raise
            self._fail(item, exc.detail, exc.status)
        except AmbiguousError as exc:
            if self.obj.match_key and item.payload.get(self.obj.match_key):
                self._fail(item, f"{UNKNOWN_STATE}: {exc}", exc.status, reconciled=True)
            else:  # no key, so the upsert was not idempotent: look before sending again
                await self._reconcile([item], sent_at, str(exc), depth=0)
        except RetryableError as exc:
            self._fail(item, f"not loaded, nothing was written; gave up: {exc}", exc.status)
        else:
            if result.action == "created":
                created = Created(self.obj.name, result.id, sent_at, self.client.local_time())
                self.client.server_clock.created(created)
            self._settle(item, result.action, result.id)
