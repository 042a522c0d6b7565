"""Group commit: the rows of many concurrent uploads are written in one transaction.

Each upload waits until the transaction holding its rows is committed, so an id is never answered before
it is durable; under load one commit (one fsync) serves many uploads instead of one each. The group is
written without savepoints (each is a round trip to the database); when one upload of it fails, the
group is rolled back and each upload written again alone. Items of one kind (``together``) are written by
one call for the group: a group's uploads are a few statements in all, not a few each.
"""
from __future__ import annotations

import concurrent.futures as cf
from dataclasses import dataclass
import logging
import queue
import threading
from typing import Any, Callable

log = logging.getLogger("jixiao.server.writer")
# ``together(db, items) -> outcomes``: writes a group's items of one kind in a few statements for them all;
# an outcome is the item's answer, or the exception it is refused with (its rows not written, the rest kept)
Together = Callable[[Any, list], list]


class GroupWriter:
    """``threads`` writers each take the next group from one queue: one for SQLite, whose writes are one at a
    time anyway; several for PostgreSQL, where a group's round trips would otherwise wait on each other.
    A group's items run in the order of their ``order`` key (the unit), so that concurrent groups take the
    units' row locks in one order and never wait on each other in a cycle."""

    def __init__(self, Session, batch: int = 64, threads: int = 1):  # noqa: N803
        self.Session, self.batch = Session, batch
        self.q: queue.Queue = queue.Queue()
        self.threads = [threading.Thread(target=self._loop, name="jixiao-writer", daemon=True)
                        for _ in range(max(1, threads))]
        for t in self.threads:
            t.start()

    def submit(self, item: Any, order: int = 0, finish: Callable[[], Any] | None = None,
               together: Together | None = None) -> cf.Future:
        """Write ``item`` inside the next shared transaction; the future resolves after the commit.

        Without ``together``, ``item`` is a function: ``item(db)`` runs and its value is the answer (raising,
        it fails the group, which is then written again item by item). With it, the group's items that name
        the same ``together`` are written by one ``together(db, items)``. ``finish()`` runs once every item
        of the group was written, just before the commit, for the items not refused: what must not happen
        for an item whose rows are not committed (the uploads' files entering the store)."""
        fut: cf.Future = cf.Future()
        self.q.put((order, _Item(item, finish, fut, together)))
        return fut

    def close(self) -> None:
        for _ in self.threads:
            self.q.put(None)
        for t in self.threads:
            t.join(timeout=30)

    def _loop(self) -> None:
        while True:
            first = self.q.get()
            if first is None:
                return
            items = [first]
            while len(items) < self.batch:
                try:
                    nxt = self.q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self.q.put(None)
                    break
                items.append(nxt)
            items.sort(key=lambda pair: pair[0])
            self._write([it for _, it in items if it.fut.set_running_or_notify_cancel()])  # not those gone

    def _write(self, items: list[_Item]) -> None:
        """All items in one transaction; when one of them fails, each is written again in its own, so that
        one upload's failure (a lost race, a fault) leaves the others' rows in."""
        if not items:
            return
        outcomes: list[Any] = []
        try:
            with self.Session.begin() as db:
                outcomes = _outcomes(db, items)
                for it, outcome in zip(items, outcomes):
                    if it.finish is not None and not isinstance(outcome, BaseException):
                        it.finish()
        except Exception as e:  # noqa: BLE001 - an item (or the commit) failed: nobody's rows are in
            if len(items) > 1:
                for it in items:
                    self._write([it])
                return
            if outcomes:  # the commit itself failed, not the item
                log.exception("group commit")
            items[0].fut.set_exception(e)
            return
        for it, outcome in zip(items, outcomes):
            if isinstance(outcome, BaseException):
                it.fut.set_exception(outcome)
            else:
                it.fut.set_result(outcome)


@dataclass
class _Item:
    item: Any
    finish: Callable[[], Any] | None
    fut: cf.Future
    together: Together | None


def _outcomes(db, items: list[_Item]) -> list[Any]:  # noqa: ANN001
    """Each item's outcome, in the items' order: those of one ``together`` written by one call, the others
    one by one."""
    out: list[Any] = [None] * len(items)
    kinds: dict[Together, list[int]] = {}
    for i, it in enumerate(items):
        if it.together is None:
            out[i] = it.item(db)
        else:
            kinds.setdefault(it.together, []).append(i)
    for together, idx in kinds.items():
        got = together(db, [items[i].item for i in idx])
        assert len(got) == len(idx), "together answers each item"
        for i, outcome in zip(idx, got):
            out[i] = outcome
    return out
