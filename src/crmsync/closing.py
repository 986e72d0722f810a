"""`with` for the classes whose `close` lets go of what they hold (files on disk, threads)."""

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
