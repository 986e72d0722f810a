"""`with` for the classes that let go of what they hold on leaving the block: `Closing` for
those whose `close` does (files on disk, threads), `Held` for locks taken on entering it."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Closing:
    """A `with` block closes it, however the block ends."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


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
