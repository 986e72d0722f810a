"""A listing read page by page, its pages asked for ahead as it proves long.

A page answers in a latency, so 50,000 records one page at a time took 500 latencies. Asking
for many pages at once wastes those past the end of a short listing (the usual look at what
changed holds a page or two). So one page is in flight for the first `pages_per_step` full
pages, then one more per `pages_per_step` full pages, up to `pages_in_flight`: what is asked
for past the end stays under an eighth of the pages read (at most `pages_in_flight - 1`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from crmsync.api.answers import PAGE_LIMIT
from crmsync.errors import MalformedAnswerError

PAGES_IN_FLIGHT = 8  # the most pages of one listing read ahead
PAGES_PER_STEP = 8  # full pages a listing proves before each further page in flight
# The most pages one listing reads: 20 million records, twice the largest tenant planned for.
# A server that answers every offset with a full page of new records never ends otherwise.
MAX_PAGES = 200_000
# Page sizes servers cap a listing at when they do not give what is asked (PageSize).
CAP_SIZES = frozenset({20, 25, 50})

Page = list[dict[str, Any]]


@dataclass
class PageSize:
    """The records a page of this server holds. PAGE_LIMIT are asked for, and the documents
    give no smaller cap, but a server may keep one (50 records a page): a short page is then
    no end, and the next offset is not PAGE_LIMIT on (a listing cut at 50 records made a
    nightly merge into records it never saw). Learned once per client: a full page proves
    PAGE_LIMIT; the first short page the size of a usual cap (CAP_SIZES: 50 is the usual
    default) costs one look at the offset after it, whose records, if any, prove that cap.
    Other short pages end their listing (a cap of 37 goes unseen)."""

    size: int = PAGE_LIMIT
    proven: bool = False  # the size is known, or was looked for once

    def ends(self, page: Page) -> bool:
        """Whether `page`, answered after the full pages before it, ends its listing; else
        the offset after it is looked at."""
        if not page or len(page) >= self.size:
            return not page
        return self.proven or len(page) not in CAP_SIZES


async def read_ahead(
    page_at: Callable[[int], Awaitable[Page]],
    *,
    offset: int = 0,
    pages_per_step: int = PAGES_PER_STEP,
    pages_in_flight: int = PAGES_IN_FLIGHT,
    sizes: PageSize | None = None,
) -> AsyncGenerator[dict[str, Any], None]:
    """Every record of the pages `page_at(offset)` answers (`sizes`: how many a page holds),
    from `offset` on until a page that ends the listing. Pages still in flight are cancelled
    when the listing ends, or when its reader closes it (`contextlib.aclosing`)."""
    size = sizes or PageSize()
    window, full, asked = 1, 0, offset
    seen: set[str] = set()
    pending: deque[asyncio.Future[Page]] = deque()
    try:
        while True:
            while len(pending) < window:
                pending.append(asyncio.ensure_future(page_at(asked)))
                asked += size.size
            at = asked - len(pending) * size.size  # the offset of the page taken
            page = await pending.popleft()
            seen = _checked(page, seen, at, size.size)
            for record in page:
                yield record
            if len(page) >= PAGE_LIMIT:
                size.proven = True
            if len(page) < size.size:
                if size.ends(page):
                    return
                # a short page of a server not yet known to answer PAGE_LIMIT: its cap, or
                # the end; the offset right after it tells
                await cancel_all(pending)
                pending.clear()
                after = at + len(page)
                more = await page_at(after)
                size.proven = True  # looked for once: a longer listing would have shown it
                if not more:
                    return
                size.size = len(page)
                ready: asyncio.Future[Page] = asyncio.get_running_loop().create_future()
                ready.set_result(more)
                pending.append(ready)
                asked = after + size.size
                window = 1
                continue
            full += 1
            if full >= MAX_PAGES:
                raise MalformedAnswerError(
                    f"a listing ran past {MAX_PAGES:,} full pages: the server never ends it"
                )
            window = min(pages_in_flight, 1 + full // pages_per_step)
    finally:
        await cancel_all(pending)


def _checked(page: Page, before: set[str], offset: int, size: int = PAGE_LIMIT) -> set[str]:
    """The ids of `page` (at `offset`), after checking it does not repeat itself or the page
    before: a server that ignores `offset` answers every offset with the same page, and the
    listing would never end. (A record updated while it is listed moves to the end, so a
    true listing may skip one, never repeat a page.)"""
    ids = [record.get("id") for record in page]
    named = {record_id for record_id in ids if isinstance(record_id, str)}
    repeats = len(named) < sum(isinstance(record_id, str) for record_id in ids)
    if repeats or (len(page) == size and named and named <= before):
        raise MalformedAnswerError(
            f"the page at offset {offset:,} repeats records already listed: the server "
            "does not page by offset"
        )
    return named


async def cancel_all(tasks: Collection[asyncio.Future[Any]]) -> None:
    """Cancel `tasks` and wait until each has ended (their failures are not raised again)."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
