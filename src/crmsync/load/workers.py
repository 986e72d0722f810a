"""Running units of work together: a pull-based pool of workers, and a gather that raises the
first failure itself (not an ExceptionGroup), so a caller catches AuthError as AuthError."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

T = TypeVar("T")
U = TypeVar("U")


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of up to `size` items, pulled from `items` only when a worker needs the next."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


async def drain(
    units: Iterable[U],
    work: Callable[[U], Coroutine[Any, Any, None]],
    *,
    workers: int,
) -> None:
    """Run `work` over `units` with at most `workers` at a time; each worker pulls the next
    unit when it is free, so `units` may be a generator (it never runs inside an await)."""
    queue: Iterator[U] = iter(units)

    async def worker() -> None:
        for unit in queue:
            await work(unit)

    await gather(worker() for _ in range(workers))


async def gather(coros: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run coroutines together; on a failure cancel the rest and raise that error itself
    (not an ExceptionGroup), so callers catch AuthError as AuthError."""
    error: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as group:
            for coro in coros:
                group.create_task(coro)
    except BaseExceptionGroup as failures:
        error = first_leaf(failures)
    if error is not None:
        raise error


def first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return first_leaf(first) if isinstance(first, BaseExceptionGroup) else first
