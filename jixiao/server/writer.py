"""Group commit: the rows of many concurrent uploads are written in one transaction.

Each upload waits until the transaction holding its rows is committed, so an id is never answered before
it is durable; under load one commit (one fsync) serves many uploads instead of one each. The group is
written without savepoints (each is a round trip to the database); when one upload of it fails, the
group is rolled back and each upload written again alone.
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import queue
import threading
from typing import Any, Callable

log = logging.getLogger("jixiao.server.writer")
# ``db.info[BEFORE_COMMIT][name] = hook``: ``hook(db)`` runs once, after every item of the group: what the
# items gathered is written in one statement for the group instead of one per item
BEFORE_COMMIT = "jx_before_commit"


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

    def submit(self, fn: Callable[[Any], Any], order: int = 0, finish: Callable[[], Any] | None = None) -> cf.Future:
        """Run ``fn(db)`` inside the next shared transaction; the future resolves after the commit.

        ``finish()`` runs once every item of the group ran, just before the commit: what must not happen for
        an item whose group is rolled back (the uploads' files entering the store)."""
        fut: cf.Future = cf.Future()
        self.q.put((order, fn, finish, fut))
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
            items.sort(key=lambda item: item[0])
            self._write([(fn, finish, fut) for _, fn, finish, fut in items
                         if fut.set_running_or_notify_cancel()])  # not those whose request is gone

    def _write(self, items: list) -> None:
        """All items in one transaction; when one of them fails, each is written again in its own, so that
        one upload's failure (its quota, a lost race) leaves the others' rows in."""
        if not items:
            return
        values: list[Any] = []
        try:
            with self.Session.begin() as db:
                for fn, _, _ in items:
                    values.append(fn(db))
                for hook in db.info.pop(BEFORE_COMMIT, {}).values():
                    hook(db)
                for _, finish, _ in items:
                    if finish is not None:
                        finish()
        except Exception as e:  # noqa: BLE001 - an item (or the commit) failed: nobody's rows are in
            if len(items) > 1:
                for item in items:
                    self._write([item])
                return
            if len(values) == len(items):  # the commit itself failed, not the upload
                log.exception("group commit")
            items[0][2].set_exception(e)
            return
        for (_, _, fut), value in zip(items, values):
            fut.set_result(value)
