"""The ledger of one load: an outcome owed to each item from the moment it is admitted, given
exactly once, and the Rally ids outcomes name, owned from then on (a reconciliation listing
never claims them for another record).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from crmsync.load.outcomes import OutcomeStatus, RecordOutcome

OutcomeFn = Callable[[RecordOutcome], None]


@dataclass(frozen=True, slots=True, eq=False)
class Item:
    pos: int  # position in the caller's items: where the outcome goes
    key: int  # the caller's key, passed back untouched
    payload: dict[str, Any]


class Ledger:
    """Outcomes by position, as items arrive. With `on_outcome`, each goes to it as soon as it
    is given and is not kept (a million-row load held a million outcome objects for nobody):
    `finish` then returns none, though it still checks that every item got one."""

    def __init__(self, on_outcome: OutcomeFn | None) -> None:
        self._given = bytearray()  # by position, as items arrive: 1 once its outcome is given
        self._outcomes: list[RecordOutcome | None] = []  # kept without on_outcome
        self._owned_ids: set[str] = set()
        self._on_outcome = on_outcome

    def admit(self, item: tuple[int, dict[str, Any]]) -> Item:
        """Give an incoming (key, payload) its position; its outcome is owed from now on."""
        self._given.append(0)
        if self._on_outcome is None:
            self._outcomes.append(None)
        return Item(len(self._given) - 1, item[0], item[1])

    def finish(self) -> list[RecordOutcome]:
        lost = self._given.find(0)
        if lost >= 0:  # a bug: loud beats a silently lost row
            raise AssertionError(f"load stage lost item {lost}")
        return [outcome for outcome in self._outcomes if outcome is not None]

    def _settle(
        self,
        item: Item,
        status: OutcomeStatus,
        rally_id: str | None,
        *,
        error: str | None = None,
        http_status: int | None = None,
        reconciled: bool = False,
    ) -> None:
        if self._given[item.pos]:
            raise AssertionError(f"load stage gave item {item.pos} two outcomes")
        self._given[item.pos] = 1
        outcome = RecordOutcome(
            key=item.key,
            status=status,
            rally_id=rally_id,
            error=error,
            http_status=http_status,
            reconciled=reconciled,
        )
        if self._on_outcome is None:
            self._outcomes[item.pos] = outcome
        if rally_id is not None:
            self._owned_ids.add(rally_id)
        if self._on_outcome is not None:
            self._on_outcome(outcome)

    def _fail(
        self, item: Item, reason: str, http_status: int | None, *, reconciled: bool = False
    ) -> None:
        self._settle(
            item, "failed", None, error=reason, http_status=http_status, reconciled=reconciled
        )

    def _fail_all(
        self, batch: Iterable[Item], reason: str, http_status: int | None, *, reconciled: bool
    ) -> None:
        for item in batch:
            self._fail(item, reason, http_status, reconciled=reconciled)
