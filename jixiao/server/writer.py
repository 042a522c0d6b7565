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


class GroupWriter:
    def __init__(self, Session, batch: int = 64):  # noqa: N803
        self.Session, self.batch = Session, batch
        self.q: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name="jixiao-writer", daemon=True)
        self.thread.start()

    def submit(self, fn: Callable[[Any], Any]) -> cf.Future:
        """Run ``fn(db)`` inside the next shared transaction; the future resolves after the commit."""
        fut: cf.Future = cf.Future()
        self.q.put((fn, fut))
        return fut

    def close(self) -> None:
        self.q.put(None)
        self.thread.join(timeout=30)

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
            self._write([(fn, fut) for fn, fut in items if fut.set_running_or_notify_cancel()])  # not the gone

    def _write(self, items: list) -> None:
        """All items in one transaction; when one of them fails, each is written again in its own, so that
        one upload's failure (its quota, a lost race) leaves the others' rows in."""
        if not items:
            return
        values: list[Any] = []
        try:
            with self.Session.begin() as db:
                for fn, _ in items:
                    values.append(fn(db))
        except Exception as e:  # noqa: BLE001 - an item (or the commit) failed: nobody's rows are in
            if len(items) > 1:
                for item in items:
                    self._write([item])
                return
            if len(values) == len(items):  # the commit itself failed, not the upload
                log.exception("group commit")
            items[0][1].set_exception(e)
            return
        for (_, fut), value in zip(items, values):
            fut.set_result(value)
