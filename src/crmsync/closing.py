"""`with` for the classes that let go of what they hold on leaving the block: `Held` for locks
taken on entering it, `Closing` for those whose `close` lets go (files on disk, threads)."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Held:
    """A `with` block takes it (`acquire`) and lets it go (`release`), however it ends."""

    def acquire(self) -> Self:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class Closing(Held):
    """Held from its making: a `with` block closes it, however the block ends."""

    def close(self) -> None:
        raise NotImplementedError

    def acquire(self) -> Self:
        return self

    def release(self) -> None:
        self.close()
